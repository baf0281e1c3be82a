"""The run report: every stage's input, output, timing and routing, and the checks of the result
(DESIGN.md, "Data contracts"). Written as ``report.json`` by the CLI, shown and exported by the studio."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.checks import CheckReport
from agents.llm import Generated
from agents.parts_list import PartsList
from agents.pinouts import BillLine, OutOfKnowledge
from studio.circuit.design import Design
from studio.intent import RequestReading
from studio.moe.profile import SteeringProfile
from studio.moe.specs import MoEInfo
from studio.moe.trace import NO_EXPERT, RoutingTrace

REPORT_VERSION = 1
StageName = Literal["identify", "pinouts", "reason", "synthesize", "check", "repair", "render"]
STAGE_ORDER: tuple[StageName, ...] = ("identify", "pinouts", "reason", "synthesize", "check", "repair", "render")
Status = Literal["ok", "stopped", "cancelled", "invalid", "not_understood", "out_of_knowledge"]


class RoutingSummary(BaseModel):
    """Expert usage over the tokens a stage generated, per MoE layer."""

    tokens: int
    usage: list[list[int]]  # [moe layer][expert] tokens that selected the expert (a dropped one did not)
    entropy: list[float]  # [moe layer] entropy (nats) of that usage; log(E) is perfectly balanced


class TokenRouting(BaseModel):
    """Per generated token, the experts (and weights) of the forward step that produced it."""

    tokens: list[str]
    experts: list[list[list[int]]]  # [token][moe layer][k] (fewer where steering dropped an expert)
    weights: list[list[list[float]]]  # [token][moe layer][k]


class StageRecord(BaseModel):
    stage: StageName
    input: dict[str, Any] = Field(default_factory=dict)
    output: dict[str, Any] = Field(default_factory=dict)
    seconds: float
    cached: bool = False
    generation: Generated | None = None  # LLM stages
    routing: RoutingSummary | None = None
    token_routing: TokenRouting | None = None
    messages: list[str] = Field(default_factory=list)


class Suggestion(BaseModel):
    """The reference designer's wiring of the identified parts, beside (never instead of) the LLM's."""

    design: Design | None = None
    plan: str = ""
    check: CheckReport | None = None
    added: list[str] = Field(default_factory=list)
    error: str | None = None


class RunReport(BaseModel):
    version: int = REPORT_VERSION
    request: str  # as the pipeline read it (cleaned, truncated)
    model: MoEInfo
    profile: SteeringProfile | None = None
    status: Status = "ok"
    error: str | None = None  # why the run stopped, in words
    notices: list[str] = Field(default_factory=list)
    reading: RequestReading | None = None  # what the request names and states (the intent check's input)
    stages: list[StageRecord] = Field(default_factory=list)
    parts: PartsList | None = None
    bill: list[BillLine] = Field(default_factory=list)
    out_of_knowledge: list[OutOfKnowledge] = Field(default_factory=list)
    plan: str | None = None
    plan_departures: list[str] = Field(default_factory=list)  # where the design departs from the plan's nets, and why
    design: Design | None = None
    check: CheckReport | None = None  # of the design as it stands after the repair rounds
    first_check: CheckReport | None = None  # of the first synthesis (pass@1), before any repair round
    suggestion: Suggestion | None = None
    total_seconds: float = 0.0

    def stage(self, name: StageName) -> StageRecord | None:
        return next((s for s in self.stages if s.stage == name), None)

    @property
    def passed(self) -> bool:
        return self.check is not None and self.check.passed

    @property
    def right(self) -> bool:
        """The ERC passes and the design is what the request asked for (after the repair rounds)."""
        return self.check is not None and self.check.right

    @property
    def first(self) -> CheckReport | None:
        """The check of the first synthesis: pass@1, never replaced by a repair."""
        return self.first_check or self.check


def summarise(trace: RoutingTrace | None, prompt_tokens: int, num_experts: int) -> RoutingSummary | None:
    """Usage over the generated tokens: trace rows from the last prompt token on (each produced one)."""
    if trace is None:
        return None
    first = max(prompt_tokens - 1, 0)
    usage, entropy = [], []
    for layer in trace.layers:
        chosen = layer.selected[first:].reshape(-1)
        counts = chosen[chosen != NO_EXPERT].bincount(minlength=num_experts)  # a dropped expert did nothing
        p = counts.float() / counts.sum().clamp(min=1)
        usage.append(counts.tolist())
        entropy.append(round(float(-(p[p > 0] * p[p > 0].log()).sum()), 4))
    tokens = max(trace.num_tokens - first, 0)
    return RoutingSummary(tokens=tokens, usage=usage, entropy=entropy)


def token_routing(trace: RoutingTrace | None, prompt_tokens: int, pieces: list[str]) -> TokenRouting | None:
    """Routing per generated token (``pieces`` are their texts, in order)."""
    if trace is None or not trace.layers:
        return None
    first = max(prompt_tokens - 1, 0)
    rows = range(first, min(first + len(pieces), trace.num_tokens))
    slots = [
        [_contributing(layer.selected[row].tolist(), layer.weights[row].tolist()) for layer in trace.layers]
        for row in rows
    ]
    experts = [[[e for e, _ in layer] for layer in row] for row in slots]
    weights = [[[round(w, 4) for _, w in layer] for layer in row] for row in slots]
    return TokenRouting(tokens=pieces[: len(experts)], experts=experts, weights=weights)


def _contributing(experts: list[int], weights: list[float]) -> list[tuple[int, float]]:
    """A token's (expert, weight) slots in one layer, without the dropped ones (NO_EXPERT)."""
    return [(e, w) for e, w in zip(experts, weights, strict=True) if e != NO_EXPERT]
