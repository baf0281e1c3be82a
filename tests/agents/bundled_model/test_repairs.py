"""Repair-round rows (agents.bundled_model.corpus.repairs): breaks the checks catch, prompts the orchestrator
would build, answers that give back the teacher's design."""

from __future__ import annotations

import json
import random

import pytest

from agents.bundled_model.corpus.bounds import BUNDLED_BOUNDS
from agents.bundled_model.corpus.examples import build_examples, draft_requests
from agents.bundled_model.corpus.repairs import BREAKS, break_design, check_broken, repair_case, repair_example
from agents.pinouts import lookup_pinouts
from agents.reason import reason_input
from agents.repair import RepairInput, needs_repair, repair_plan, repair_prompt, serious
from agents.synthesize import SynthesizeInput, design_from_text, grammar_for
from agents.teacher import teach
from tests.agents.bundled_model.conftest import core_of

CORES = [
    ["raspberry-pi-pico", "oled-ssd1306-i2c", "bme280"],
    ["esp32-devkit-v1", "dht22", "fan-12v"],
    ["arduino-uno", "led-red", "push-button*2"],
    ["arduino-nano", "l298n-module", "dc-motor-6v*2"],
    ["esp32-devkit-v1", "74hc595", "led-green*8"],
]


@pytest.fixture(scope="module")
def examples(catalog_lookup):
    return [teach("Wire " + ", ".join(ids), core_of(ids), [], catalog_lookup) for ids in CORES]


@pytest.mark.parametrize("kind", sorted(BREAKS))
def test_every_break_is_caught_on_the_pins_it_broke(catalog_lookup, examples, kind):
    broken_any = False
    for example in examples:
        for seed in range(3):
            broken = break_design(example.design, kind, catalog_lookup, random.Random(seed))
            if broken is None:
                continue
            broken_any = True
            before = {n.name: set(n.pins) for n in example.design.nets}
            after = {n.name: set(n.pins) for n in broken.nets}
            touched = {
                p for name in before.keys() | after.keys() for p in before.get(name, set()) ^ after.get(name, set())
            }
            check = check_broken(broken, catalog_lookup)
            found = serious(check)
            assert found, (kind, example.request)
            # a serious finding is on a pin the break moved, or on a net that changed
            changed = {name for name in after if after[name] != before.get(name)}
            assert any(touched & set(v.pins) or v.net in changed for v in found), (kind, [v.rule for v in found])
    assert broken_any, kind


def _orchestrator_prompt(example, broken, kb):
    """The repair prompt as agents.orchestrator's ``_repair`` builds it (round 1), from the public functions."""
    pinouts = lookup_pinouts(example.parts, kb)
    reason = reason_input(example.request, pinouts, "compact")
    synth_in = SynthesizeInput(request=example.request, parts=reason.parts, plan=example.plan)
    check = check_broken(broken, kb)
    assert needs_repair(check)
    plan = repair_plan(broken, check)
    given = RepairInput(
        request=synth_in.request,
        parts=synth_in.parts,
        plan=synth_in.plan,
        findings="\n".join(plan.findings),
        kept=plan.kept,
        forbidden_pairs=plan.forbidden_pairs,
        required_pins=plan.required_pins,
        round=1,
    )
    grammar = grammar_for(pinouts, BUNDLED_BOUNDS, plan.kept, working=True).model_copy(
        update={"forbidden_pairs": plan.forbidden_pairs, "required_pins": plan.required_pins}
    )
    return repair_prompt(given, grammar.prefix), grammar


def _cases(examples, kb):
    cases = []
    for example in examples:
        for kind in BREAKS:
            for seed in range(3):
                case = repair_case(example, kind, kb, random.Random(seed))
                if case is not None:
                    cases.append((example, case))
    return cases


def test_the_prompt_is_the_orchestrators_and_the_answer_gives_the_teachers_design(catalog_lookup, examples):
    cases = _cases(examples, catalog_lookup)
    assert len({case.kind for _, case in cases}) >= 3
    for example, case in cases:
        prompt, grammar = _orchestrator_prompt(example, case.broken, catalog_lookup)
        assert case.prompt == prompt
        assert prompt.endswith(grammar.prefix)
        repaired = design_from_text(case.answer, grammar, title=None)
        assert [p.model_dump() for p in repaired.parts] == [p.model_dump() for p in example.design.parts]
        assert {(n.name, tuple(n.pins)) for n in repaired.nets} == {
            (n.name, tuple(n.pins)) for n in example.design.nets
        }
        assert len(repaired.nets) == len(example.design.nets)
        # the decoder's exclusions hold for the answer
        for a, b in grammar.forbidden_pairs:
            assert not any(a in n.pins and b in n.pins for n in repaired.nets)
        assert set(grammar.required_pins) <= {p for n in repaired.nets for p in n.pins}


def test_repair_rows_are_deterministic_under_a_seed(catalog_lookup, examples):
    first = [repair_example(e, catalog_lookup, random.Random(7)) for e in examples]
    again = [repair_example(e, catalog_lookup, random.Random(7)) for e in examples]
    assert first == again
    assert any(found is not None for found in first)
    drafts = list(draft_requests(catalog_lookup, 8, seed=2, identify_per_project=1))

    def repair_rows():
        return [
            r
            for r in build_examples(catalog_lookup, drafts, "train", _NoRetrieval(), repairs=1.0)
            if r["stage"] == "repair"
        ]

    rows = repair_rows()
    assert rows and rows == repair_rows()
    none = [r for r in build_examples(catalog_lookup, drafts, "train", _NoRetrieval(), repairs=0.0)]
    assert not [r for r in none if r["stage"] == "repair"]


class _NoRetrieval:
    """Candidates without the embedding model (the repair rows do not use them)."""

    def candidates(self, requests):
        return [[] for _ in requests]


def test_the_corpus_command_writes_repair_rows(kb, tmp_path):
    from ui.cli.train import write_corpus

    out = tmp_path / "corpus.jsonl"
    counts = write_corpus(out, 12, 2, seed=1, say=lambda _: None, repairs=1.0, kb=kb)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    repairs = [r for r in rows if r["stage"] == "repair"]
    assert repairs and counts.get("train/repair", 0) + counts.get("heldout/repair", 0) == len(repairs)
    assert all(r["answer"].endswith("]}") and r["break"] in BREAKS for r in repairs)
