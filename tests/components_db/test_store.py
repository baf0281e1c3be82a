"""The SQLite store: round trips, and writes that are all-or-nothing even when the process dies."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from components_db.embeddings import DIM
from components_db.store import PartStore, StoreError, content_hash


def vector(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def test_round_trip_keeps_part_hash_and_embedding(tmp_path, catalog_parts):
    store = PartStore(tmp_path / "parts.sqlite")
    with store.transaction() as tx:
        for i, part in enumerate(catalog_parts[:5]):
            tx.put(part, f"key-{i}", vector(i))
    loaded = store.load().parts
    assert [s.part for s in loaded] == sorted(catalog_parts[:5], key=lambda p: p.id)
    by_id = {s.part.id: s for s in loaded}
    for i, part in enumerate(catalog_parts[:5]):
        assert by_id[part.id].content_hash == content_hash(part)
        assert by_id[part.id].embedding_key == f"key-{i}"
        np.testing.assert_array_equal(by_id[part.id].embedding, vector(i))
    assert store.states()[catalog_parts[0].id].content_hash == content_hash(catalog_parts[0])


def test_exception_inside_a_transaction_rolls_it_back(tmp_path, catalog_parts):
    store = PartStore(tmp_path / "parts.sqlite")
    with store.transaction() as tx:
        tx.put(catalog_parts[0], "k", vector(0))
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.delete(catalog_parts[0].id)
        tx.put(catalog_parts[1], "k", vector(1))
        raise RuntimeError("boom")
    assert [s.part.id for s in store.load().parts] == [catalog_parts[0].id]


def test_other_schema_version_is_refused(tmp_path):
    path = tmp_path / "parts.sqlite"
    PartStore(path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    connection.close()
    with pytest.raises(StoreError, match="schema version 99"):
        PartStore(path)


CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import numpy as np
    from components_db.catalog import load_catalog
    from components_db.store import PartStore

    store = PartStore(Path(sys.argv[1]))
    part = load_catalog()[0]
    with store.transaction() as tx:
        tx.delete(part.id)
        for i in range(int(sys.argv[3])):
            tx.put(part.model_copy(update={"id": f"copy-{i}"}), "k", np.ones(384, dtype=np.float32))
        print("writing", flush=True)
        if sys.argv[2] == "exit":
            os._exit(1)
        while True:
            tx.put(part.model_copy(update={"id": f"more-{i}"}), "k", np.ones(384, dtype=np.float32))
            i += 1
    """
)


@pytest.mark.parametrize("death", ["exit", "kill"])
def test_a_process_dying_mid_write_leaves_the_old_content(tmp_path, catalog_parts, death):
    path = tmp_path / "parts.sqlite"
    store = PartStore(path)
    with store.transaction() as tx:
        tx.put(catalog_parts[0], "old", vector(7))
    before = [(s.part, s.content_hash, s.embedding.tobytes()) for s in store.load().parts]

    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), death, "2000"], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"  # the transaction is open and has written rows
    if death == "kill":
        child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    child.stdout.close()
    assert child.returncode != 0

    reopened = PartStore(path)
    assert [(s.part, s.content_hash, s.embedding.tobytes()) for s in reopened.load().parts] == before
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
