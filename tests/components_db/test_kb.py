"""The knowledge base: incremental compilation of the curated data, and the user's own parts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from components_db import KnowledgeBase, KnowledgeBaseError, Part
from components_db.catalog import load_catalog
from components_db.kb import BUILTIN_FILE, HOME_ENV, USER_FILE, default_home
from components_db.store import PartStore


def user_part(**changes) -> Part:
    entry = {
        "id": "garden-soil-fork",
        "name": "Garden soil fork",
        "aliases": ["soil fork"],
        "category": "sensor",
        "description": "Resistive two-prong soil moisture probe with an LM393 comparator board and analog output.",
        "supply": {"min_v": 3.3, "max_v": 5.0},
        "pins": [
            {"number": "1", "name": "VCC", "type": "power_in", "roles": ["POWER_IN"]},
            {"number": "2", "name": "GND", "type": "power_in", "roles": ["GROUND"]},
            {"number": "3", "name": "AO", "type": "output", "roles": ["ANALOG_OUT"]},
        ],
    }
    entry.update(changes)
    return Part.model_validate(entry)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_default_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    assert default_home() == tmp_path
    monkeypatch.delenv(HOME_ENV)
    assert default_home().parts[-3:] == (".local", "share", "moe-circuit-studio")


def test_open_compiles_the_catalog_into_the_home(kb, built_home, catalog):
    assert (built_home / BUILTIN_FILE).is_file() and (built_home / USER_FILE).is_file()
    assert {p.id for p in kb.parts()} >= {p.id for p in catalog}
    for part in catalog:
        assert kb.get(part.id) == part
        assert kb.source_of(part.id) == "builtin"
    assert kb.get("no-such-part") is None and kb.source_of("no-such-part") is None


def test_only_new_or_changed_parts_are_embedded(tmp_path, catalog, counting):
    parts = catalog[:6]
    KnowledgeBase.open(tmp_path, catalog=parts, encoder=counting)
    assert len(counting.texts) == len(parts)

    counting.texts.clear()
    KnowledgeBase.open(tmp_path, catalog=parts, encoder=counting)
    assert counting.texts == []  # unchanged data: nothing re-embedded

    described = parts[0].model_copy(update={"description": parts[0].description + " Now with a new sentence."})
    repinned = parts[1].model_copy(update={"current_draw_ma": 123.0})  # not part of the retrieval text
    kb = KnowledgeBase.open(tmp_path, catalog=[described, repinned, *parts[2:5]], encoder=counting)
    assert len(counting.texts) == 1 and "Now with a new sentence." in counting.texts[0]
    assert kb.get(described.id) == described
    assert kb.get(repinned.id).current_draw_ma == 123.0
    assert kb.get(parts[5].id) is None  # dropped from the curated data, dropped from the database
    assert {s.part.id for s in PartStore(tmp_path / BUILTIN_FILE).load()} == {p.id for p in parts[:5]}


def test_user_parts_survive_a_restart(home, counting):
    kb = KnowledgeBase.open(home, encoder=counting)
    assert counting.texts == []  # the copied kb.sqlite is up to date
    kb.add(user_part())
    assert len(counting.texts) == 1
    assert kb.get("garden-soil-fork").name == "Garden soil fork"
    assert kb.source_of("garden-soil-fork") == "user"

    again = KnowledgeBase.open(home)
    assert again.get("garden-soil-fork") == user_part()
    assert again.search("soil fork", top=1)[0].part_id == "garden-soil-fork"
    assert [p.id for p in again.parts()][-1] == "garden-soil-fork"


def test_update_and_remove_a_user_part(home, embedder):
    kb = KnowledgeBase.open(home)
    kb.add(user_part())
    kb.update(user_part(name="Garden soil fork v2"))
    assert KnowledgeBase.open(home).get("garden-soil-fork").name == "Garden soil fork v2"
    kb.remove("garden-soil-fork")
    assert kb.get("garden-soil-fork") is None
    assert KnowledgeBase.open(home).get("garden-soil-fork") is None


def test_shipped_parts_cannot_be_changed(kb, home, embedder):
    writable = KnowledgeBase.open(home)
    shipped = kb.parts()[0]
    with pytest.raises(KnowledgeBaseError, match=f"{shipped.id}.*shipped part"):
        writable.remove(shipped.id)
    with pytest.raises(KnowledgeBaseError, match="shipped part"):
        writable.update(shipped)
    with pytest.raises(KnowledgeBaseError, match="not one of your parts"):
        writable.update(user_part())
    with pytest.raises(KnowledgeBaseError, match="not one of your parts"):
        writable.remove("garden-soil-fork")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "dht22"}, r"'dht22' already names the shipped part dht22 \(DHT22"),
        ({"aliases": ["AM2302"]}, r"'AM2302' already names the shipped part dht22"),
        ({"aliases": ["DHT 22"]}, r"'DHT 22' already names the shipped part dht22"),
        ({"id": "am2302"}, r"'am2302' already names the shipped part dht22"),
    ],
)
def test_a_clash_with_a_shipped_part_is_refused_and_named(home, embedder, changes, message):
    kb = KnowledgeBase.open(home)
    with pytest.raises(KnowledgeBaseError, match=message):
        kb.add(user_part(**changes))
    assert kb.source_of(user_part(**changes).id) != "user"
    assert KnowledgeBase.open(home).parts() == kb.parts()


def test_clashes_between_user_parts_are_refused(home, embedder):
    kb = KnowledgeBase.open(home)
    kb.add(user_part())
    with pytest.raises(KnowledgeBaseError, match="already one of your parts"):
        kb.add(user_part())
    with pytest.raises(KnowledgeBaseError, match="'Soil Fork' already names your part garden-soil-fork"):
        kb.add(user_part(id="other-fork", aliases=["Soil Fork"]))
    with pytest.raises(KnowledgeBaseError, match="used by both"):
        kb.add_all([user_part(id="fork-a", aliases=["fork x"]), user_part(id="fork-b", aliases=["fork x"])])
    assert kb.get("fork-a") is None  # all or nothing
    kb.update(user_part(aliases=["soil fork", "wet fork"]))  # a part does not clash with itself


def test_a_user_part_shadowed_by_new_curated_data_is_hidden(home, catalog, embedder):
    kb = KnowledgeBase.open(home)
    kb.add(user_part())
    newer = [*catalog, user_part(id="shipped-fork", aliases=["soil fork"])]
    reopened = KnowledgeBase.open(home, catalog=newer)
    assert reopened.get("garden-soil-fork") is None
    assert reopened.conflicts == ["your part garden-soil-fork is hidden: 'soil fork' names shipped part shipped-fork"]


def test_concurrent_searches_agree_with_sequential_ones(kb):
    queries = ["temperature sensor", "wifi board", "motor", "battery", "light", "regulator", "button", "diode"]
    expected = {q: kb.search(q, top=3) for q in queries}
    results: dict[str, list] = {}

    def worker(query: str) -> None:
        results[query] = kb.search(query, top=3)

    threads = [threading.Thread(target=worker, args=(q,)) for q in queries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected


def test_opening_an_up_to_date_knowledge_base_does_not_load_the_model(home):
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from components_db import KnowledgeBase
        kb = KnowledgeBase.open(Path({str(home)!r}))
        assert kb.get("dht22") is not None
        print("sentence_transformers" in sys.modules, "torch" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["False", "False"]
