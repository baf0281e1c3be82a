"""Scoring a system's answers against the benchmark: per-prompt metrics (``score``), their means
(``aggregate``) and the summaries by difficulty, style and domain (``summarise``).

Part identification is scored as multisets of knowledge-base ids with quantities against the prompt's
``expected_parts``. The expected parts are the parts a correct design must contain, not every
resistor (benchmarks/prompts/README.md), so an identified *supporting* part that was not expected is
no false positive: what the reference designer places by itself (``is_supporting``: resistors,
capacitors, diodes, transistors, the level shifter, and the power category: supplies, batteries,
regulators, converters). Any other unexpected part (a board, a module, a sensor, an LED, an id the
knowledge base lacks) is one. A supporting part that *was* expected is scored like any other.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from typing import get_args

from pydantic import BaseModel, Field

from agents.evaluation.benchmark import BenchmarkPrompt, Difficulty, Domain, ExpectedPart, Style
from agents.evaluation.outcome import Outcome
from agents.parts_list import PartsList
from agents.pinouts import names_match
from agents.reference.designer import is_supporting
from agents.run_report import Status
from studio.circuit.resolve import PartLookup, resolve


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
    erc_pass: bool  # pass@1: the first synthesis has no fatal and no major violation
    erc_pass_repaired: bool  # the same after the repair rounds
    intent_score: float  # share of the request's checked requirements the design meets; 0 without a design
    intent_met: bool  # every one of them (nothing missing, substituted or out of knowledge)
    right_at_1: bool  # the first synthesis is right (ERC pass@1 and intent met)
    right: bool  # after repair, what a user would accept: ERC pass and intent met (out of knowledge: a stop naming it)
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
    first = outcome.first_check or outcome.check
    first_right = valid and first is not None and first.right
    stopped_right = bool(detected) and outcome.status == "out_of_knowledge"  # a request naming a part the KB
    # lacks is answered right by a stop that names it
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
        erc_pass=valid and first is not None and first.passed,
        erc_pass_repaired=erc_pass,
        intent_score=intent.score if valid and intent is not None else 0.0,
        intent_met=intent_met,
        right_at_1=first_right if prompt.in_kb else stopped_right,
        right=(erc_pass and intent_met) if prompt.in_kb else stopped_right,
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
    erc_pass: float  # pass@1
    erc_pass_repaired: float
    intent_score: float
    right_rate_at_1: float  # the first synthesis right
    right_rate: float  # ERC pass and intent met, after repair
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
        erc_pass_repaired=_mean(r.erc_pass_repaired for r in results),
        right_rate_at_1=_mean(r.right_at_1 for r in results),
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
