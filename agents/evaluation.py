"""How well a system turns the benchmark requests into designs: per-prompt metrics, their aggregates,
and the rule-based reference baseline the pipeline is compared with.

    prompts = load_benchmark(prompt_file("test"))
    baseline = ReferenceBaseline(kb)
    results = [score(p, baseline.run(p.prompt), kb) for p in prompts]
    summary = summarise("reference", results)

A system's answer to one request is an ``Outcome``: what it identified, what it reported out of
knowledge, its design and that design's checks, its timings. ``Outcome.from_report`` reads one from
a pipeline run; ``ReferenceBaseline.run`` makes one without any language model.

Part identification is scored as multisets of knowledge-base ids with quantities against the prompt's
``expected_parts``. The expected parts are the parts a correct design must contain, not every
resistor (benchmarks/prompts/README.md), so an identified *supporting* part that was not expected is
no false positive: what the reference designer places by itself (``is_supporting``: resistors,
capacitors, diodes, transistors, the level shifter, and the power category: supplies, batteries,
regulators, converters). Any other unexpected part (a board, a module, a sensor, an LED, an id the
knowledge base lacks) is one. A supporting part that *was* expected is scored like any other.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.checks import CheckReport, check_design
from agents.identify import MAX_UNKNOWN
from agents.parts_list import MAX_QUANTITY, PartRequest, PartsList
from agents.pinouts import OutOfKnowledge, lookup_pinouts, names_match
from agents.reference import ReferenceDesignError, design_from_parts
from agents.reference.levels import SHIFTER
from agents.reference.loads import is_resistive_sensor
from agents.request import RequestError, clean_request
from agents.run_report import RunReport, Status
from components_db import KnowledgeBase, Part
from components_db.documents import DocumentError, parse_json, read_lines
from components_db.retrieval import compact
from components_db.schema import SUPPORT_SYMBOLS, Category
from studio.circuit.design import Design
from studio.circuit.resolve import PartLookup, resolve
from studio.intent import RequestReader, RequestReading
from studio.intent.check import NOT_UNDERSTOOD

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "prompts"
MAX_BENCHMARK_BYTES = 20_000_000  # the shipped splits are ~100 kB each
Split = Literal["dev", "test", "wild"]
SPLITS: tuple[Split, ...] = ("dev", "test", "wild")
Difficulty = Literal["easy", "medium", "hard"]
# the wild split adds wordings the corpus generator does not produce: goal-only stories, questions with
# their context, several requests in one, misspellings, parts named by what they do
Style = Literal["imperative", "question", "terse", "story", "context", "multi", "misspelled", "functional"]
Domain = Literal["embedded", "power", "analog"]


# -- the benchmark -------------------------------------------------------------------------------


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


class BenchmarkError(ValueError):
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


# -- what a system answered ----------------------------------------------------------------------


class Outcome(BaseModel):
    """One system's answer to one request, whatever the system."""

    status: Status
    error: str | None = None
    parts: PartsList | None = None  # what it identified
    out_of_knowledge: list[OutOfKnowledge] = Field(default_factory=list)
    design: Design | None = None
    check: CheckReport | None = None
    stage_seconds: dict[str, float] = Field(default_factory=dict)
    seconds: float = 0.0
    tokens: int = 0  # generated by a language model

    @classmethod
    def from_report(cls, report: RunReport) -> Outcome:
        return cls(
            status=report.status,
            error=report.error,
            parts=report.parts,
            out_of_knowledge=report.out_of_knowledge,
            design=report.design,
            check=report.check,
            stage_seconds={s.stage: s.seconds for s in report.stages},
            seconds=report.total_seconds,
            tokens=sum(len(s.generation.token_ids) for s in report.stages if s.generation is not None),
        )


# -- per-prompt metrics --------------------------------------------------------------------------


def is_supporting(part: Part | None) -> bool:
    """A part the reference designer adds by itself (see the module docstring); unknown ids are not."""
    if part is None:
        return False
    small_part = part.symbol in SUPPORT_SYMBOLS and not is_resistive_sensor(part)
    return small_part or part.id == SHIFTER or part.category is Category.POWER


class PartScore(BaseModel):
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_parts(expected: Iterable[ExpectedPart], identified: PartsList | None, kb: PartLookup) -> PartScore:
    """Multiset match by id (an expected part is met by its id or one of its alternatives, the id first);
    an unexpected supporting part (or extra quantity of one) is not counted."""
    got: Counter[str] = Counter()
    for request in identified.parts if identified else []:
        got[request.part] += request.quantity
    tp = fn = 0
    for item in expected:
        need = item.quantity
        for part in item.ids:
            taken = min(need, got[part])
            got[part] -= taken
            need -= taken
        tp += item.quantity - need
        fn += need
    fp = sum(n for part, n in got.items() if not is_supporting(kb.get(part)))
    return PartScore(true_positives=tp, false_positives=fp, false_negatives=fn)


class PromptResult(BaseModel):
    """One row of results.csv: a system's metrics on one prompt."""

    id: str
    system: str
    difficulty: Difficulty
    style: Style
    domain: Domain
    in_kb: bool
    status: Status
    error: str = ""
    expected: str  # "esp32-devkit-v1, servo-sg90 x4"
    identified: str
    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float
    recall: float
    f1: float
    design_valid: bool  # a design was produced and every part and pin in it is in the knowledge base
    erc_pass: bool  # pass@1: no fatal and no major violation
    intent_score: float  # share of the request's checked requirements the design meets; 0 without a design
    intent_met: bool  # every one of them (nothing missing, substituted or out of knowledge)
    right: bool  # what a user would accept: the ERC passes and the intent is met
    structural: float  # ERC scores; 0 without a design
    electrical: float
    violations: int
    missing: str = ""  # with in_kb false: the part the knowledge base lacks
    ook_detected: bool | None = None  # with in_kb false: was it reported out of knowledge
    false_ook: bool  # an in-KB prompt got an out-of-knowledge report
    seconds: float
    tokens: int
    stage_seconds: dict[str, float] = Field(default_factory=dict)


def score(prompt: BenchmarkPrompt, outcome: Outcome, kb: PartLookup, system: str = "pipeline") -> PromptResult:
    parts = score_parts(prompt.expected_parts, outcome.parts, kb)
    erc = outcome.check.erc if outcome.check is not None else None
    valid = outcome.design is not None and not resolve(outcome.design, kb).unresolved
    detected = None
    if not prompt.in_kb:
        missing = prompt.missing or ""
        detected = any(names_match(missing, o.name) for o in outcome.out_of_knowledge)
    identified = [(r.part, r.quantity) for r in outcome.parts.parts] if outcome.parts else []
    intent = outcome.check.intent if outcome.check is not None else None
    erc_pass = valid and erc is not None and erc.passed
    intent_met = valid and intent is not None and intent.met
    return PromptResult(
        id=prompt.id,
        system=system,
        difficulty=prompt.difficulty,
        style=prompt.style,
        domain=prompt.domain,
        in_kb=prompt.in_kb,
        status=outcome.status,
        error=outcome.error or "",
        expected=_listing((e.part, e.quantity) for e in prompt.expected_parts),
        identified=_listing(identified),
        true_positives=parts.true_positives,
        false_positives=parts.false_positives,
        false_negatives=parts.false_negatives,
        precision=round(parts.precision, 4),
        recall=round(parts.recall, 4),
        f1=round(parts.f1, 4),
        design_valid=valid,
        erc_pass=erc_pass,
        intent_score=intent.score if valid and intent is not None else 0.0,
        intent_met=intent_met,
        right=erc_pass and intent_met,
        structural=erc.structural_score if erc else 0.0,
        electrical=erc.electrical_score if erc else 0.0,
        violations=len(erc.violations) if erc else 0,
        missing=prompt.missing or "",
        ook_detected=detected,
        false_ook=prompt.in_kb and bool(outcome.out_of_knowledge),
        seconds=round(outcome.seconds, 3),
        tokens=outcome.tokens,
        stage_seconds={k: round(v, 3) for k, v in outcome.stage_seconds.items()},
    )


def _listing(items: Iterable[tuple[str, int]]) -> str:
    return ", ".join(part + (f" x{n}" if n > 1 else "") for part, n in items)


# -- aggregates ----------------------------------------------------------------------------------


class Aggregate(BaseModel):
    """Means over a set of prompts (per-prompt precision/recall/F1 averaged; rates are fractions)."""

    prompts: int
    precision: float
    recall: float
    f1: float
    validity: float
    erc_pass: float
    intent_score: float
    right_rate: float  # ERC pass and intent met
    structural: float
    electrical: float
    ook_prompts: int  # prompts naming a part the knowledge base lacks
    ook_recall: float | None  # of those, the fraction whose missing part was reported
    false_ook_rate: float | None  # of the in-KB prompts, the fraction with an out-of-knowledge report
    stopped: int  # runs whose status is not ok (stopped, cancelled, invalid)
    seconds_p50: float
    seconds_p95: float
    tokens_mean: float


def aggregate(results: list[PromptResult]) -> Aggregate:
    if not results:
        raise ValueError("no results to aggregate")
    ook = [r.ook_detected for r in results if r.ook_detected is not None]
    in_kb = [r.false_ook for r in results if r.in_kb]
    seconds = [r.seconds for r in results]
    return Aggregate(
        prompts=len(results),
        precision=_mean(r.precision for r in results),
        recall=_mean(r.recall for r in results),
        f1=_mean(r.f1 for r in results),
        validity=_mean(r.design_valid for r in results),
        erc_pass=_mean(r.erc_pass for r in results),
        intent_score=_mean(r.intent_score for r in results),
        right_rate=_mean(r.right for r in results),
        structural=_mean(r.structural for r in results),
        electrical=_mean(r.electrical for r in results),
        ook_prompts=len(ook),
        ook_recall=_mean(ook) if ook else None,
        false_ook_rate=_mean(in_kb) if in_kb else None,
        stopped=sum(r.status != "ok" for r in results),
        seconds_p50=round(percentile(seconds, 0.5), 3),
        seconds_p95=round(percentile(seconds, 0.95), 3),
        tokens_mean=_mean(r.tokens for r in results),
    )


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q`` quantile (0..1), interpolated linearly between the nearest ranks (numpy's default)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _mean(values: Iterable[float]) -> float:
    return round(statistics.fmean(values), 4)


class Summary(BaseModel):
    system: str
    overall: Aggregate
    f1_in_kb: float | None  # mean F1 on the prompts whose parts are all in the knowledge base
    by_difficulty: dict[str, Aggregate]
    by_style: dict[str, Aggregate]
    by_domain: dict[str, Aggregate]


def summarise(system: str, results: list[PromptResult]) -> Summary:
    def by(field: str, order: tuple[str, ...]) -> dict[str, Aggregate]:
        groups = {value: [r for r in results if getattr(r, field) == value] for value in order}
        return {value: aggregate(members) for value, members in groups.items() if members}

    in_kb = [r.f1 for r in results if r.in_kb]
    return Summary(
        system=system,
        overall=aggregate(results),
        f1_in_kb=_mean(in_kb) if in_kb else None,
        by_difficulty=by("difficulty", get_args(Difficulty)),
        by_style=by("style", get_args(Style)),
        by_domain=by("domain", get_args(Domain)),
    )


def summaries(results: list[PromptResult]) -> dict[str, Summary]:
    """Per system, in the order the systems first appear."""
    systems = dict.fromkeys(r.system for r in results)
    return {name: summarise(name, [r for r in results if r.system == name]) for name in systems}


class EvaluationSummary(BaseModel):
    """What was evaluated, and each system's aggregates (the CLI's summary.json)."""

    prompts_file: str
    prompts: int
    model: str | None  # None: the baseline alone
    profile: str | None
    systems: dict[str, Summary]


# -- the reference baseline ----------------------------------------------------------------------

# The best retrieval hit of a clause that names no part is taken when it scores at least this. Mean F1
# of the baseline on the 112 benchmark prompts (dev and test together) by threshold: 0.30 0.964, 0.35 0.971, 0.40 0.970,
# 0.45 0.965, 0.50 and above 0.956 (= no retrieval hits at all). 0.40 is the high end of the plateau:
# its 8 hits are 7 expected parts and one defensible extra (a "push switch" -> push-button); from 0.35
# down, goal words pull in wrong parts ("Read temperature" -> lm35, "Measure current" -> ina219).
SEMANTIC_THRESHOLD = 0.40
# clauses: split at punctuation, conjunctions and the prepositions that join parts ("a DHT22 on an ESP32")
_CLAUSE = re.compile(
    r"[,;:+()]|\b(?:and|with|plus|then|that|which|while|to|from|on|for|through|via|into|over|in|by)\b", re.IGNORECASE
)


class ReferenceBaseline:
    """Parts found by rules in the request, wired by the reference designer, checked like the pipeline.

    Identification: the parts the request names, with their counts, and the part numbers the knowledge
    base lacks (reported out of knowledge), as the intent check reads them (``studio.intent.reading``:
    names, near-misses of part numbers, counts); then, for each clause that names no part, the best
    retrieval hit scoring at least ``SEMANTIC_THRESHOLD``. It never sees the expected parts.
    """

    def __init__(self, kb: KnowledgeBase, *, threshold: float = SEMANTIC_THRESHOLD, run_spice: bool = True) -> None:
        self.kb = kb
        self.threshold = threshold
        self.run_spice = run_spice
        self.reader = RequestReader(kb)

    def run(self, request: str) -> Outcome:
        started = time.perf_counter()
        try:
            text = clean_request(request).text
        except RequestError as exc:
            return Outcome(status="invalid", error=str(exc))
        stages: dict[str, float] = {}
        with _timed(stages, "identify"):
            reading = self.reader.read(text)
            if not reading.understood:
                return Outcome(status="not_understood", error=NOT_UNDERSTOOD, seconds=time.perf_counter() - started)
            parts = self._identify(reading)
        with _timed(stages, "pinouts"):
            pinouts = lookup_pinouts(parts, self.kb)
        status: Status = "ok"
        error = design = check = None
        if not pinouts.bill:
            status, error = "stopped", "no known part was found in the request"
        else:
            with _timed(stages, "design"):
                try:
                    design = design_from_parts(parts, self.kb, title=text[:120]).design
                except ReferenceDesignError as exc:
                    status, error = "stopped", str(exc)
        if design is not None:
            with _timed(stages, "check"):
                check = check_design(resolve(design, self.kb), run_spice=self.run_spice, reading=reading)
        return Outcome(
            status=status,
            error=error,
            parts=parts,
            out_of_knowledge=pinouts.out_of_knowledge,
            design=design,
            check=check,
            stage_seconds=stages,
            seconds=time.perf_counter() - started,
        )

    def identify(self, request: str) -> PartsList:
        return self._identify(self.reader.read(request))

    def _identify(self, reading: RequestReading) -> PartsList:
        request = reading.request
        found = {p.part: p.quantity for p in reading.parts}
        unknown = [u.name for u in reading.unknown]
        for part_id in self._retrieved(request, unknown):
            found.setdefault(part_id, 1)
        requests = [PartRequest(part=part, quantity=min(n, MAX_QUANTITY)) for part, n in found.items()]
        return PartsList(parts=requests, unknown=unknown[:MAX_UNKNOWN])

    def _retrieved(self, request: str, unknown: list[str]) -> list[str]:
        """The best retrieval hit of each clause that names no part, known or unknown, if good enough."""
        found = []
        for clause in _clauses(request):
            if any(compact(u) in compact(clause) for u in unknown) or self.reader.names_a_part(clause):
                continue
            hits = self.kb.search(clause, top=1)
            if hits and hits[0].score >= self.threshold:
                found.append(hits[0].part_id)
        return found


@contextmanager
def _timed(stages: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    stages[stage] = time.perf_counter() - start


def _clauses(request: str) -> list[str]:
    pieces = (c.strip(" .!?") for c in _CLAUSE.split(request))
    return [c for c in pieces if len(c) >= 3]


# -- running a system over the prompts -----------------------------------------------------------


def evaluate(
    prompts: Iterable[BenchmarkPrompt],
    systems: dict[str, Callable[[str], Outcome]],
    kb: PartLookup,
    on_result: Callable[[BenchmarkPrompt, list[PromptResult]], None] | None = None,
) -> list[PromptResult]:
    """Every prompt through every system, in prompt order; ``on_result`` sees each prompt's rows."""
    results = []
    for prompt in prompts:
        rows = [score(prompt, run(prompt.prompt), kb, system=name) for name, run in systems.items()]
        results += rows
        if on_result is not None:
            on_result(prompt, rows)
    return results
