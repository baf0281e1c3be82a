"""The parts view's Add, Save and Remove handlers on a real knowledge base in a temporary home: each
answers with a readable message and does what the message says (issue 13, failures 1, 9, 10)."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from components_db import KnowledgeBase
from components_db.kb import BUILTIN_FILE
from tests.components_db.test_kb import store_unreadable_row, user_part
from tests.ui.cli.test_parts import GOOD
from ui.parts_view import remove_part, save_parts


@pytest.fixture
def kb(tmp_path, built_home, embedder) -> KnowledgeBase:
    shutil.copy(built_home / BUILTIN_FILE, tmp_path / BUILTIN_FILE)
    return KnowledgeBase.open(tmp_path)


def saved_ids(home) -> set[str]:
    """The user's garden parts as a fresh process would read them."""
    return {p.id for p in KnowledgeBase.open(home).parts() if p.id.startswith("garden")}


def test_add_and_remove_say_what_they_did_while_an_unreadable_part_is_stored(kb, tmp_path):
    """Before, reading the database back after the write failed on the bad row: "Something went wrong",
    yet the part was saved (and Remove: the same, yet deleted)."""
    store_unreadable_row(tmp_path, user_part(id="old-nan-part", aliases=[]))
    shown, picker = save_parts(kb, yaml.safe_dump(GOOD), replace=False)
    assert "Added garden-soil-fork." in shown and "Something went wrong" not in shown
    assert "your part old-nan-part cannot be read" in shown and "parts remove old-nan-part" in shown
    assert "garden-soil-fork" in picker["choices"] and picker["value"] == "garden-soil-fork"
    assert saved_ids(tmp_path) == {"garden-soil-fork"}

    shown, picker = remove_part(kb, "garden-soil-fork")
    assert "Removed garden-soil-fork." in shown and "garden-soil-fork" not in picker["choices"]
    assert saved_ids(tmp_path) == set()
    assert "Removed old-nan-part." in remove_part(kb, "old-nan-part")[0]
    assert kb.conflicts == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (yaml.safe_dump(GOOD) + "current_draw_ma: .nan\n", "a number at current_draw_ma is nan"),
        (yaml.safe_dump(GOOD) + "spice: {kind: led, params: {vf_v: 1000}}\n", "vf_v = 1000 is outside 1..10"),
        (yaml.safe_dump(GOOD) + "default_value: nan\n", "field default_value: value &#x27;nan&#x27;"),
        (yaml.safe_dump(GOOD) + "name: Given twice\n", "the editor: the key &#x27;name&#x27; is given twice"),
        ("[" * 100_000, "nested deeper than 32 levels"),
        ("", "expected a list of parts"),
        (yaml.safe_dump({**GOOD, "name": "Evil \x1b[2J"}), "field name: must be one line without control"),
    ],
)
def test_add_refuses_what_a_part_file_refuses_and_saves_nothing(kb, tmp_path, text, reason):
    shown, picker = save_parts(kb, text, replace=False)
    assert reason in shown and 'class="msg msg-error"' in shown and "Something went wrong" not in shown
    assert picker["__type__"] == "update" and "choices" not in picker  # gr.skip(): the picker is left alone
    assert saved_ids(tmp_path) == set()


def test_save_changes_is_all_or_none(kb):
    save_parts(kb, yaml.safe_dump(GOOD), replace=False)
    both = [{**GOOD, "name": "Changed"}, {**GOOD, "id": "garden-other", "aliases": []}]
    shown, _ = save_parts(kb, yaml.safe_dump(json.loads(json.dumps(both))), replace=True)  # no YAML anchors
    assert "part &#x27;garden-other&#x27; is not one of your parts; add it instead" in shown
    assert kb.get("garden-soil-fork").name == GOOD["name"]  # the first was not saved either


def test_remove_without_a_part_or_of_a_shipped_part_is_refused(kb):
    assert "Show one of your parts first" in remove_part(kb, None)[0]
    assert "is a shipped part and cannot be removed" in remove_part(kb, "dht22")[0]
    assert kb.get("dht22") is not None
