"""Expert attribution: which experts does a behaviour use?

Two prompt sets go through the model - A shows the behaviour, B is the contrast - and every (MoE layer,
expert) gets a score from their routing. Three scores from the literature, all computed from the same
counts (``Counts``: one ``SetCounts`` per set and nPMI's population), so the methods differ only in the
last formula:

- ``risk-diff`` (SteerMoE): p_A(e selected) - p_B(e selected) over the target tokens of each set.
- ``ftri`` (MoTE): the routing weight the expert gets per target token (0 where it is not picked), averaged
  over each set's target tokens, A minus B. It sees how much an expert contributes, not only whether it
  was picked. (MoTE sums over a prompt's tokens and averages over prompts; that favours the set with the
  longer prompts - a set against itself with every text doubled would score nearly every expert
  positive - so the sum is normalised by the target tokens.)
- ``npmi`` (RICE): normalised pointwise mutual information between "e selected" and "the token is one of
  A's target tokens", over every token of the sequences counted, each once: log(p(e,t) / (p(e) p(t))) /
  -log p(e,t), in [-1, 1]; an expert never selected on A's target tokens (p(e,t) = 0) scores -1.

``attribute`` compares two lists of prompts, whose target tokens are every token unless ``targets``
narrows them (a token-id predicate, or strings whose tokens count). ``count_marked`` takes token
sequences marked position by position instead (the tokens where a decision is written), each sequence in
A, in B or in both - B may be built from A's rows plus contrast rows, at other positions - and counts
every sequence once, so nPMI's population holds each token once; ``score_sets`` scores the counts. The
table ranks experts by signed score: the experts behaviour A leans on come first, B's last. It feeds
``suggest_profile``: the top experts turned off (to suppress the behaviour) or forced on (to provoke it).

Limits (refused with an ``AttributionError`` before the model runs): at most ``MAX_PROMPTS`` prompts
per set and ``MAX_PROMPT_CHARS`` characters per text prompt (``check_prompt_set``, also what the CLI
and the studio check as they read a set), and no sequence longer than the model's context (its
``max_position_embeddings``), counted in tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from pydantic import BaseModel

from components_db.refusal import Refusal
from studio.moe.profile import LayerSteering, ModelIdentity, Stage, StageSteering, SteeringProfile
from studio.moe.prompt_limits import over_context, too_long
from studio.moe.trace import RoutingTrace

if TYPE_CHECKING:
    from studio.moe.engine import MoEEngine, Prompt

Method = Literal["risk-diff", "ftri", "npmi"]
METHODS: tuple[Method, ...] = ("risk-diff", "ftri", "npmi")
TokenPredicate = Callable[[int], bool]
MAX_PROMPTS = 256  # per set: a set's routing is a mean over its tokens; more prompts only take longer
MAX_PROMPT_CHARS = 4000  # per text prompt: requests are a few hundred characters


class AttributionError(Refusal, ValueError):
    """Prompt sets that cannot be compared (empty, or without target tokens where the method needs them)."""


@dataclass
class SetCounts:
    """One prompt set's target tokens (L MoE layers, E experts): what risk difference and fTRI read."""

    prompts: int  # sequences in the set
    targets: int  # their target tokens
    selected_targets: torch.Tensor  # [L, E] target tokens that selected the expert
    weight_targets: torch.Tensor  # [L, E] float64: routing weight the expert got, summed over target tokens

    @classmethod
    def empty(cls, num_layers: int, num_experts: int) -> SetCounts:
        return cls(
            0,
            0,
            torch.zeros(num_layers, num_experts, dtype=torch.long),
            torch.zeros(num_layers, num_experts, dtype=torch.float64),
        )

    def add(self, prompts: int, selected: torch.Tensor, weights: torch.Tensor, is_target: torch.Tensor) -> None:
        """Count ``prompts`` sequences of a traced batch: ``selected`` [L, T, E] bool and ``weights``
        [L, T, E] over the batch's tokens, ``is_target`` [T] bool (False outside this set's sequences)."""
        self.prompts += prompts
        self.targets += int(is_target.sum())
        self.selected_targets += selected[:, is_target].sum(dim=1)
        self.weight_targets += weights[:, is_target].sum(dim=1)

    @property
    def frequency(self) -> torch.Tensor:
        """[L, E] share of the target tokens that selected the expert."""
        return self.selected_targets.double() / max(self.targets, 1)

    @property
    def mean_weight(self) -> torch.Tensor:
        """[L, E] routing weight the expert got per target token (0 where it was not selected)."""
        return self.weight_targets / max(self.targets, 1)


@dataclass(frozen=True)
class Marked:
    """A token sequence and its target positions in each set: ``a`` and ``b`` hold one bool per token, or
    are None when the sequence is not in that set. A sequence in both sets is counted once."""

    ids: Sequence[int]
    a: Sequence[bool] | None = None
    b: Sequence[bool] | None = None


@dataclass
class Counts:
    """Sufficient statistics of two prompt sets' routing: every method is a function of these, and they
    add up batch after batch. ``tokens`` and ``selected`` are nPMI's population: every token of every
    sequence counted, once, whichever sets it is in."""

    a: SetCounts
    b: SetCounts
    tokens: int
    selected: torch.Tensor  # [L, E] tokens that selected the expert

    @classmethod
    def empty(cls, num_layers: int, num_experts: int) -> Counts:
        return cls(
            SetCounts.empty(num_layers, num_experts),
            SetCounts.empty(num_layers, num_experts),
            0,
            torch.zeros(num_layers, num_experts, dtype=torch.long),
        )

    def add(self, trace: RoutingTrace, sequences: Sequence[Marked]) -> None:
        """Count one traced batch of ``sequences`` (the trace's tokens are theirs, sequence after sequence)."""
        if sum(len(s.ids) for s in sequences) != trace.num_tokens:
            raise AttributionError(f"{len(sequences)} sequences do not hold the trace's {trace.num_tokens} tokens")
        num_experts = self.selected.shape[1]
        selected = trace.selected_mask(num_experts)  # [L, T, E]
        weights = trace.expert_weights(num_experts).double()  # [L, T, E]
        self.tokens += trace.num_tokens
        self.selected += selected.sum(dim=1)
        for counts, marks in ((self.a, [s.a for s in sequences]), (self.b, [s.b for s in sequences])):
            in_set = sum(m is not None for m in marks)
            counts.add(in_set, selected, weights, _target_mask(sequences, marks))


def _target_mask(sequences: Sequence[Marked], marks: Sequence[Sequence[bool] | None]) -> torch.Tensor:
    """[T] bool over the sequences' tokens: each sequence's ``marks``, all False where it has none."""
    flat = [False] * sum(len(s.ids) for s in sequences)
    start = 0
    for sequence, mask in zip(sequences, marks, strict=True):
        if mask is not None:
            flat[start : start + len(sequence.ids)] = [bool(m) for m in mask]
        start += len(sequence.ids)
    return torch.tensor(flat, dtype=torch.bool)


class ExpertScore(BaseModel):
    layer: int  # MoE-layer index
    decoder_layer: int
    expert: int
    score: float
    method: Method
    p_a: float  # share of A's target tokens that selected the expert
    p_b: float
    count_a: int  # A's target tokens that selected the expert
    count_b: int


class AttributionResult(BaseModel):
    method: Method
    model: ModelIdentity
    prompts_a: int
    prompts_b: int
    target_tokens_a: int
    target_tokens_b: int
    rows: list[ExpertScore]  # every (layer, expert), most tied to A first (score descending; ties: layer, expert)

    def top(self, n: int) -> list[ExpertScore]:
        return self.rows[:n]

    def best_per_layer(self) -> dict[int, ExpertScore]:
        """The highest-ranked expert of each MoE layer."""
        best: dict[int, ExpertScore] = {}
        for row in self.rows:
            best.setdefault(row.layer, row)
        return best

    def format_table(self, n: int) -> str:
        lines = [
            f"{self.method} attribution, {self.model.name}: A {self.prompts_a} prompts / {self.target_tokens_a} "
            f"target tokens, B {self.prompts_b} prompts / {self.target_tokens_b} target tokens",
            f"{'rank':>4} {'layer':>5} {'decoder':>7} {'expert':>6} {'score':>8} {'p_A':>6} {'p_B':>6} "
            f"{'n_A':>5} {'n_B':>5}",
        ]
        lines += [
            f"{i:>4} {r.layer:>5} {r.decoder_layer:>7} {r.expert:>6} {r.score:>8.4f} {r.p_a:>6.3f} {r.p_b:>6.3f} "
            f"{r.count_a:>5} {r.count_b:>5}"
            for i, r in enumerate(self.top(n), start=1)
        ]
        return "\n".join(lines)


def risk_difference(counts: Counts) -> torch.Tensor:
    """[L, E] p_A(e selected) - p_B(e selected) over each set's target tokens."""
    return counts.a.frequency - counts.b.frequency


def ftri(counts: Counts) -> torch.Tensor:
    """[L, E] the expert's mean routing weight per target token of A, minus the same over B's."""
    return counts.a.mean_weight - counts.b.mean_weight


def npmi(counts: Counts) -> torch.Tensor:
    """[L, E] nPMI of "e selected" and "token is an A target" over every token counted, once.

    p(e,t) <= p(t) < 1 (``score_sets`` refuses a population of A's targets only), so the denominator is
    positive wherever p(e,t) > 0."""
    n = counts.tokens
    p_et = counts.a.selected_targets.double() / n
    p_e = counts.selected.double() / n
    p_t = counts.a.targets / n
    score = torch.log(p_et / (p_e * p_t)) / -torch.log(p_et)
    return torch.where(p_et > 0, score, torch.full_like(score, -1.0))


SCORES: dict[Method, Callable[[Counts], torch.Tensor]] = {
    "risk-diff": risk_difference,
    "ftri": ftri,
    "npmi": npmi,
}


def score_sets(counts: Counts, method: Method, model: ModelIdentity) -> AttributionResult:
    """Score and rank every (MoE layer, expert) of two counted prompt sets."""
    a, b = counts.a, counts.b
    if a.prompts == 0 or b.prompts == 0:
        raise AttributionError("both prompt sets need at least one prompt")
    if a.targets == 0:
        raise AttributionError("set A has no target tokens: nothing to attribute")
    if method in ("risk-diff", "ftri") and b.targets == 0:
        what = "risk difference" if method == "risk-diff" else "fTRI"
        raise AttributionError(f"set B has no target tokens: {what} needs target tokens in both sets")
    if method == "npmi" and a.targets == counts.tokens:
        raise AttributionError("every token is one of A's targets: nPMI needs tokens that are not")
    scores = SCORES[method](counts)  # [L, E]
    p_a, p_b = a.frequency, b.frequency
    rows = [
        ExpertScore(
            layer=layer,
            decoder_layer=model.moe_layers[layer],
            expert=expert,
            score=float(scores[layer, expert]),
            method=method,
            p_a=float(p_a[layer, expert]),
            p_b=float(p_b[layer, expert]),
            count_a=int(a.selected_targets[layer, expert]),
            count_b=int(b.selected_targets[layer, expert]),
        )
        for layer in range(scores.shape[0])
        for expert in range(scores.shape[1])
    ]
    rows.sort(key=lambda r: (-r.score, r.layer, r.expert))
    return AttributionResult(
        method=method,
        model=model,
        prompts_a=a.prompts,
        prompts_b=b.prompts,
        target_tokens_a=a.targets,
        target_tokens_b=b.targets,
        rows=rows,
    )


def target_predicate(targets: TokenPredicate | Sequence[str] | None, engine: MoEEngine) -> TokenPredicate:
    """Which token ids count: all (None), those of ``targets``' strings, or a caller's predicate."""
    if targets is None:
        return lambda _: True
    if callable(targets):
        return targets
    if engine.tokenizer is None:
        raise AttributionError("target strings need a tokenizer; pass a token-id predicate instead")
    ids = {i for text in targets for i in engine.tokenizer(text, add_special_tokens=False)["input_ids"]}
    return ids.__contains__


def check_prompt_set(prompts: Sequence[Prompt], name: str) -> None:
    """Refuse an empty set, more than ``MAX_PROMPTS`` prompts, or a text prompt over ``MAX_PROMPT_CHARS``."""
    if not prompts:
        raise AttributionError(f"set {name} is empty: both prompt sets need prompts")
    if len(prompts) > MAX_PROMPTS:
        raise AttributionError(f"set {name} has {len(prompts)} prompts; at most {MAX_PROMPTS} are compared")
    if problem := too_long(prompts, MAX_PROMPT_CHARS):
        raise AttributionError(f"set {name}, {problem}")


def check_context(engine: MoEEngine, sequences: Sequence[Sequence[int]], name: str) -> None:
    """Refuse a token sequence longer than the model's context (``max_position_embeddings``)."""
    if problem := over_context(engine, sequences, name):
        raise AttributionError(problem)


def count_marked(engine: MoEEngine, sequences: Sequence[Marked], *, batch_size: int = 8) -> Counts:
    """Count the routing of token sequences whose target tokens are marked position by position, in one
    pass: each sequence once, in A, in B or in both (``Marked``). For a decision, mark the positions whose
    output writes it (A) and those that write comparable places (B)."""
    for sequence in sequences:
        if sequence.a is None and sequence.b is None:
            raise AttributionError("a sequence is in neither set: mark its targets in A, in B or in both")
        for marks in (sequence.a, sequence.b):
            if marks is not None and len(marks) != len(sequence.ids):
                raise AttributionError(f"a sequence of {len(sequence.ids)} tokens has {len(marks)} target marks")
    check_context(engine, [s.ids for s in sequences], "sequence")
    counts = Counts.empty(len(engine.info.moe_layers), engine.info.num_experts)
    _count(engine, counts, sequences, batch_size)
    return counts


def _count(engine: MoEEngine, counts: Counts, sequences: Sequence[Marked], batch_size: int) -> None:
    """Run ``sequences`` through the model in batches (padding excluded) and add their routing."""
    for start in range(0, len(sequences), batch_size):
        batch = sequences[start : start + batch_size]
        counts.add(engine.forward_trace([list(s.ids) for s in batch]), batch)


def attribute(
    engine: MoEEngine,
    set_a: Sequence[Prompt],
    set_b: Sequence[Prompt],
    method: Method,
    *,
    targets: TokenPredicate | Sequence[str] | None = None,
    batch_size: int = 8,
) -> AttributionResult:
    """Rank the experts by how much more behaviour A (``set_a``) uses them than contrast B (``set_b``).

    Runs under whatever steering is in force, so call it inside ``engine.steer(...)`` to attribute a
    steered model."""
    check_prompt_set(set_a, "A")
    check_prompt_set(set_b, "B")
    is_target = target_predicate(targets, engine)
    encoded_a, encoded_b = [engine.encode(p) for p in set_a], [engine.encode(p) for p in set_b]
    check_context(engine, encoded_a, "set A, prompt")
    check_context(engine, encoded_b, "set B, prompt")
    counts = Counts.empty(len(engine.info.moe_layers), engine.info.num_experts)
    for encoded, in_a in ((encoded_a, True), (encoded_b, False)):  # each set in its own batches
        marked = [[bool(is_target(t)) for t in ids] for ids in encoded]
        sequences = [Marked(ids, a=m) if in_a else Marked(ids, b=m) for ids, m in zip(encoded, marked, strict=True)]
        _count(engine, counts, sequences, batch_size)
    return score_sets(counts, method, engine.info.identity())


def suggest_profile(
    result: AttributionResult, n: int, action: Literal["off", "force"] = "off", stage: Stage = "*"
) -> SteeringProfile:
    """A profile acting on the ``n`` experts most tied to behaviour A (highest positive scores): turned
    off to suppress the behaviour, forced on to provoke it. (Swap the sets to act on B's experts.)

    Experts that would leave a layer unable to route are passed over for the next candidates: at most
    top-k experts forced per layer, at least top-k left enabled."""
    top_k = result.model.top_k or 1
    cap = top_k if action == "force" else result.model.experts_per_layer - top_k
    chosen: dict[int, list[int]] = {}
    for row in (r for r in result.rows if r.score > 0):
        if sum(map(len, chosen.values())) == n:
            break
        experts = chosen.setdefault(row.layer, [])
        if len(experts) < cap:
            experts.append(row.expert)
    layers = {
        layer: LayerSteering(off=sorted(experts)) if action == "off" else LayerSteering(force=sorted(experts))
        for layer, experts in sorted(chosen.items())
        if experts
    }
    return SteeringProfile(
        name=f"{result.method}-{action}-{n}",
        description=f"the top {n} experts of behaviour A by {result.method}, "
        f"{'turned off' if action == 'off' else 'forced on'}",
        model=result.model,
        stages={stage: StageSteering(layers=layers)},
    )
