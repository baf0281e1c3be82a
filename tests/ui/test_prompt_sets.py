"""The ready-made prompt sets the studio offers, and how a typed prompt list is split."""

from __future__ import annotations

from ui.prompt_sets import example_sets, parse_prompts


def test_ready_made_prompt_sets():
    sets = example_sets()
    assert sets and all(a and b for a, b in sets.values())
    assert parse_prompts(" one \n\n two\n") == ["one", "two"]
