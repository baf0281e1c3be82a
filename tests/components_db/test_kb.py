"""The knowledge base: incremental compilation of the curated data, and the user's own parts."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from components_db import KnowledgeBase, KnowledgeBaseError, Part
from components_db.embeddings import DIM
from components_db.home import HOME_ENV, default_home
from components_db.kb import BUILTIN_FILE, USER_FILE
from components_db.store import PartStore, part_body, to_blob


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


def test_default_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    assert default_home() == tmp_path
    monkeypatch.delenv(HOME_ENV)
    assert default_home().parts[-3:] == (".local", "share", "moe-circuit-studio")


def test_open_compiles_the_catalog_into_the_home(kb, built_home, catalog_parts):
    assert (built_home / BUILTIN_FILE).is_file() and (built_home / USER_FILE).is_file()
    assert {p.id for p in kb.parts()} >= {p.id for p in catalog_parts}
    for part in catalog_parts:
        assert kb.get(part.id) == part
        assert kb.source_of(part.id) == "builtin"
    assert kb.get("no-such-part") is None and kb.source_of("no-such-part") is None


def test_only_new_or_changed_parts_are_embedded(tmp_path, catalog_parts, counting):
    parts = catalog_parts[:6]
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
    assert {s.part.id for s in PartStore(tmp_path / BUILTIN_FILE).load().parts} == {p.id for p in parts[:5]}


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


def test_a_user_part_shadowed_by_new_curated_data_is_hidden(home, catalog_parts, embedder):
    kb = KnowledgeBase.open(home)
    kb.add(user_part())
    newer = [*catalog_parts, user_part(id="shipped-fork", aliases=["soil fork"])]
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


def store_unreadable_row(home: Path, part: Part) -> None:
    """A row as the version before issue 13 stored a part with NaN in it: the NaN became JSON null."""
    body = json.loads(part_body(part)) | {"spice": {"kind": "module", "params": {"r_coil_ohm": None}}}
    PartStore(home / USER_FILE)  # the file and its tables
    with sqlite3.connect(home / USER_FILE) as connection:
        connection.execute(
            "INSERT INTO parts VALUES (?, ?, 'stale', 'stale', ?)",
            (part.id, json.dumps(body), to_blob(np.ones(DIM, dtype=np.float32))),
        )
    connection.close()


def test_an_unreadable_user_row_is_left_out_named_and_removable(home, embedder):
    kb = KnowledgeBase.open(home)
    kb.add(user_part(id="good-fork", aliases=[]))
    store_unreadable_row(home, user_part())

    reopened = KnowledgeBase.open(home)  # failed with a pydantic ValidationError before
    assert reopened.get("garden-soil-fork") is None and reopened.get("good-fork") is not None
    assert reopened.get("dht22") is not None and reopened.search("dht22", top=1)[0].part_id == "dht22"
    assert reopened.conflicts == [
        "your part garden-soil-fork cannot be read (a value in it is no longer accepted) and is left out; "
        "run `circuit-studio parts remove garden-soil-fork`, then add it again"
    ]
    with pytest.raises(KnowledgeBaseError, match="already one of your parts but cannot be read"):
        reopened.add(user_part())
    reopened.remove("garden-soil-fork")
    assert KnowledgeBase.open(home).conflicts == []
    reopened.add(user_part())
    assert KnowledgeBase.open(home).get("garden-soil-fork") == user_part()


def test_an_unreadable_user_row_can_be_replaced_by_an_update(home, embedder):
    store_unreadable_row(home, user_part())
    kb = KnowledgeBase.open(home)
    kb.update(user_part(name="Garden soil fork, fixed"))
    assert kb.conflicts == [] and kb.get("garden-soil-fork").name == "Garden soil fork, fixed"


@pytest.mark.parametrize(
    ("first", "second", "reads"),
    [
        ("dur-b11-0", "dur-b1-10", "durb110"),
        ("hc-sr-04x", "hcsr04-x", "hcsr04x"),
    ],
)
def test_ids_that_read_the_same_without_dashes_clash_with_an_exact_message(home, embedder, first, second, reads):
    """Search compares names without case or dashes (people type DURB110 or dur b1-10), so one would
    hide the other; the refusal says exactly that instead of claiming the name is taken."""
    kb = KnowledgeBase.open(home)
    kb.add(user_part(id=first, aliases=[]))
    expected = (
        f"part {second}: '{second}' already names your part {first}: names are compared without case, spaces "
        f"or dashes, as people type part numbers, so '{second}' and '{first}' both read '{reads}'; choose another"
    )
    with pytest.raises(KnowledgeBaseError) as caught:
        kb.add(user_part(id=second, aliases=[]))
    assert str(caught.value) == expected
    assert kb.search(reads, top=1)[0].part_id == first


def test_parts_of_one_file_that_read_the_same_clash(home, embedder):
    kb = KnowledgeBase.open(home)
    with pytest.raises(KnowledgeBaseError, match="'dur-b1-10' already names the part dur-b11-0 in the same file"):
        kb.add_all([user_part(id="dur-b11-0", aliases=[]), user_part(id="dur-b1-10", aliases=[])])
    assert kb.get("dur-b11-0") is None


RACER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from components_db import KnowledgeBase, KnowledgeBaseError, Part

    for line in sys.stdin:  # one trial per line: a home and a part, both opened before "go"
        home, entry = json.loads(line)
        kb = KnowledgeBase.open(Path(home))
        kb.search("warm up the encoder", top=1)
        print("ready", flush=True)
        assert sys.stdin.readline().strip() == "go"
        try:
            kb.add(Part.model_validate(entry))
            print(json.dumps("added"), flush=True)
        except KnowledgeBaseError as exc:
            print(json.dumps(str(exc)), flush=True)
    """
)
TRIALS = 4


def sequential_refusal(tmp_path: Path, home: Path, first: Part, second: Part) -> str:
    """The message ``second`` gets when added after ``first`` in one process."""
    folder = tmp_path / f"sequential-{first.name}-{first.id}"
    folder.mkdir()
    shutil.copy(home / BUILTIN_FILE, folder / BUILTIN_FILE)
    kb = KnowledgeBase.open(folder)
    kb.add(first)
    with pytest.raises(KnowledgeBaseError) as caught:
        kb.add(second)
    return str(caught.value)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({}, {"name": "Garden soil fork, another version"}),  # the same id
        ({"id": "fork-a"}, {"id": "fork-b"}),  # the same alias, "soil fork"
    ],
    ids=["same-id", "same-alias"],
)
def test_concurrent_adds_in_two_processes_are_serialised(tmp_path, home, embedder, first, second):
    """Two processes open the knowledge base, then add at the same moment: before, both succeeded and
    one part was silently overwritten (or two parts shared an alias); now the second is refused with
    the message it gets when run after the first, and the first's version is what is stored."""
    parts = [user_part(**first), user_part(**second)]
    refusal_after = [
        sequential_refusal(tmp_path, home, parts[0], parts[1]),
        sequential_refusal(tmp_path, home, parts[1], parts[0]),
    ]
    racers = [
        subprocess.Popen([sys.executable, "-c", RACER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in parts
    ]
    try:
        for trial in range(TRIALS):
            trial_home = tmp_path / f"trial-{trial}"
            trial_home.mkdir()
            shutil.copy(home / BUILTIN_FILE, trial_home / BUILTIN_FILE)
            for racer, part in zip(racers, parts, strict=True):
                racer.stdin.write(json.dumps([str(trial_home), part.model_dump(mode="json")]) + "\n")
                racer.stdin.flush()
            assert [racer.stdout.readline().strip() for racer in racers] == ["ready", "ready"]
            for racer in racers:
                racer.stdin.write("go\n")
                racer.stdin.flush()
            outcomes = [json.loads(racer.stdout.readline()) for racer in racers]
            assert "added" in outcomes, outcomes
            winner = outcomes.index("added")
            assert outcomes[1 - winner] == refusal_after[winner]
            assert [s.part for s in PartStore(trial_home / USER_FILE).load().parts] == [parts[winner]]
    finally:
        for racer in racers:
            racer.stdin.close()
            racer.wait(timeout=60)
            racer.stdout.close()
