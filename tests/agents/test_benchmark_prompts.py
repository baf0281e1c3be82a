"""The benchmark prompt set: well-formed, spread over difficulty, style and domain, real part ids."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from components_db.catalog import load_catalog

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "prompts" / "benchmark.jsonl"


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")
    part: str
    quantity: int = Field(ge=1)


class Prompt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    prompt: str = Field(min_length=5)
    difficulty: str = Field(pattern="^(easy|medium|hard)$")
    style: str = Field(pattern="^(imperative|question|terse)$")
    domain: str = Field(pattern="^(embedded|power|analog)$")
    expected_parts: list[Expected] = Field(min_length=1)
    in_kb: bool = True
    missing: str | None = None


@pytest.fixture(scope="module")
def prompts() -> list[Prompt]:
    lines = [line for line in BENCHMARK.read_text(encoding="utf-8").splitlines() if line.strip()]
    try:
        return [Prompt.model_validate(json.loads(line)) for line in lines]
    except ValidationError as exc:
        pytest.fail(f"benchmark line does not match the schema: {exc}")


def test_at_least_80_in_kb_prompts(prompts):
    assert sum(p.in_kb for p in prompts) >= 80
    out = [p for p in prompts if not p.in_kb]
    assert len(out) >= 8
    assert all(p.missing for p in out), "an out-of-knowledge prompt must name the missing item"
    assert all(p.missing is None for p in prompts if p.in_kb)


def test_ids_and_prompts_unique(prompts):
    for values in ([p.id for p in prompts], [p.prompt.strip().lower() for p in prompts]):
        duplicates = [v for v, n in Counter(values).items() if n > 1]
        assert not duplicates, duplicates


def test_expected_parts_exist():
    known = {p.id for p in load_catalog()}
    for line in BENCHMARK.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        unknown = [e["part"] for e in data["expected_parts"] if e["part"] not in known]
        assert not unknown, f"{data['id']}: {unknown} not in the catalog"


def test_spread(prompts):
    for field, values in (
        ("difficulty", ("easy", "medium", "hard")),
        ("style", ("imperative", "question", "terse")),
        ("domain", ("embedded", "power", "analog")),
    ):
        counts = Counter(getattr(p, field) for p in prompts if p.in_kb)
        for value in values:
            assert counts[value] >= 8, f"only {counts[value]} in-KB prompts with {field}={value}"
