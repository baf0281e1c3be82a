"""The benchmark files in benchmarks/prompts/ (their README documents the fields): the prompt schema,
the shipped splits and the reader that refuses a bad line by file and line."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from components_db.documents import DocumentError, parse_json, read_lines
from components_db.refusal import Refusal

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "prompts"
MAX_BENCHMARK_BYTES = 20_000_000  # the shipped splits are ~100 kB each
Split = Literal["dev", "test", "wild"]
SPLITS: tuple[Split, ...] = ("dev", "test", "wild")
Difficulty = Literal["easy", "medium", "hard"]
# the wild split adds wordings the corpus generator does not produce: goal-only stories, questions with
# their context, several requests in one, misspellings, parts named by what they do
Style = Literal["imperative", "question", "terse", "story", "context", "multi", "misspelled", "functional"]
Domain = Literal["embedded", "power", "analog"]


class ExpectedPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    part: str  # knowledge-base id
    quantity: int = Field(default=1, ge=1)
    alternatives: list[str] = Field(
        default_factory=list
    )  # other ids that do the job as well (a part named by function)

    @property
    def ids(self) -> list[str]:
        return [self.part, *self.alternatives]


class BenchmarkPrompt(BaseModel):
    """One line of a benchmark file in benchmarks/prompts/ (its README documents the fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    difficulty: Difficulty
    style: Style
    domain: Domain
    expected_parts: list[ExpectedPart] = Field(min_length=1)
    in_kb: bool = True
    missing: str | None = None  # with in_kb false: the part the knowledge base lacks, as the prompt names it


class BenchmarkError(Refusal, ValueError):
    """A prompt file that cannot be used; the message names the file and line."""


def prompt_file(split: Split) -> Path:
    """The shipped benchmark file of a split: ``dev`` (tune on it), ``test`` (report it, never tune on
    it), ``wild`` (hand-written in wording the corpus generator does not produce; report only)."""
    return PROMPTS_DIR / f"{split}.jsonl"


def load_benchmark(path: Path) -> list[BenchmarkPrompt]:
    try:
        lines = read_lines(path, MAX_BENCHMARK_BYTES, "benchmark prompt file")
    except DocumentError as exc:
        raise BenchmarkError(str(exc)) from None
    prompts = []
    for number, line in lines:
        try:
            prompts.append(BenchmarkPrompt.model_validate(parse_json(line)))
        except DocumentError as exc:
            raise BenchmarkError(f"{path}:{number}: not a benchmark prompt: {exc}") from None
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())
            raise BenchmarkError(f"{path}:{number}: not a benchmark prompt: {reasons}") from None
    if not prompts:
        raise BenchmarkError(f"{path}: no prompts (the file is empty)")
    ids = Counter(p.id for p in prompts)
    if repeated := sorted(i for i, n in ids.items() if n > 1):
        raise BenchmarkError(f"{path}: repeated prompt id(s): {', '.join(repeated)}")
    return prompts
