"""The benchmark prompt files: well-formed, spread over difficulty, style and domain, real part ids.

dev and test are the two halves of the hand-written benchmark (tune on dev, report test); wild is written
in wordings the corpus generator does not make; behaviours/ holds the steering harness's request sets."""

from __future__ import annotations

from collections import Counter

import pytest

from agents.evaluation.benchmark import PROMPTS_DIR, SPLITS, BenchmarkPrompt, load_benchmark, prompt_file
from components_db.catalog import load_catalog

FILES = [prompt_file(split) for split in SPLITS if prompt_file(split).is_file()]
FILES += sorted((PROMPTS_DIR / "behaviours").glob("*.jsonl"))


@pytest.fixture(scope="module")
def every() -> dict[str, list[BenchmarkPrompt]]:
    return {path.name: load_benchmark(path) for path in FILES}


def test_dev_and_test_hold_the_whole_benchmark(every):
    benchmark = every["dev.jsonl"] + every["test.jsonl"]
    assert len(every["dev.jsonl"]) >= 50 and len(every["test.jsonl"]) >= 50
    assert sum(p.in_kb for p in benchmark) >= 80
    out = [p for p in benchmark if not p.in_kb]
    assert len(out) >= 8 and {p.id for p in out} & {p.id for p in every["test.jsonl"]}
    for field, values in (
        ("difficulty", ("easy", "medium", "hard")),
        ("style", ("imperative", "question", "terse")),
        ("domain", ("embedded", "power", "analog")),
    ):
        counts = Counter(getattr(p, field) for p in benchmark if p.in_kb)
        for value in values:
            assert counts[value] >= 8, f"only {counts[value]} in-KB prompts with {field}={value}"


def test_out_of_knowledge_lines_name_the_missing_part(every):
    for name, prompts in every.items():
        assert all(p.missing for p in prompts if not p.in_kb), name
        assert all(p.missing is None for p in prompts if p.in_kb), name


def test_ids_and_prompts_unique_across_every_file(every):
    prompts = [p for ps in every.values() for p in ps]
    for values in ([p.id for p in prompts], [" ".join(p.prompt.lower().split()) for p in prompts]):
        duplicates = [v for v, n in Counter(values).items() if n > 1]
        assert not duplicates, duplicates


def test_expected_parts_exist(every):
    known = {p.id for p in load_catalog()}
    for name, prompts in every.items():
        for p in prompts:
            unknown = [i for e in p.expected_parts for i in e.ids if i not in known]
            assert not unknown, f"{name} {p.id}: {unknown} not in the catalog"
