"""Expert attribution: the three scores on hand-made routing traces, then on real tiny MoE models where
one expert is wired to fire only on a marker token."""

from __future__ import annotations

import math

import pytest
import torch

from studio.moe.attribution import (
    MAX_PROMPT_CHARS,
    MAX_PROMPTS,
    AttributionError,
    Counts,
    Marked,
    attribute,
    count_marked,
    score_sets,
    suggest_profile,
)
from studio.moe.profile import ModelIdentity
from studio.moe.trace import LayerTrace, RoutingTrace

MODEL = ModelIdentity(name="hand-made", moe_layers=[1], experts_per_layer=4, top_k=1)


def trace(prompts: list[list[int]]) -> RoutingTrace:
    """One MoE layer, top-1, weight 1: ``prompts`` lists each prompt's selected expert per token."""
    chosen = torch.tensor([e for p in prompts for e in p])  # [T]
    sequence = torch.tensor([i for i, p in enumerate(prompts) for _ in p])
    layer = LayerTrace(
        moe_layer=0,
        decoder_layer=1,
        selected=chosen[:, None],
        weights=torch.ones(len(chosen), 1),
        probs=torch.full((len(chosen), 4), 0.25),
    )
    return RoutingTrace(
        token_ids=chosen + 10, sequence=sequence, is_prompt=torch.ones_like(chosen, dtype=torch.bool), layers=[layer]
    )


def tally(sequences: list[Marked]) -> Counts:
    """Counts of one traced batch of hand-made sequences (their ids: the expert each token selects)."""
    c = Counts.empty(1, 4)
    c.add(trace([list(s.ids) for s in sequences]), sequences)
    return c


def counts(
    a: list[list[int]], b: list[list[int]], a_targets: list[bool] | None = None, b_targets: list[bool] | None = None
) -> Counts:
    """A's and B's prompts, each its own sequence; ``*_targets``: one bool per token of the set, in order
    (default: every token)."""

    def split(prompts: list[list[int]], targets: list[bool] | None) -> list[list[bool]]:
        flat = iter(targets if targets is not None else [True] * sum(map(len, prompts)))
        return [[next(flat) for _ in p] for p in prompts]

    return tally(
        [Marked(p, a=m) for p, m in zip(a, split(a, a_targets), strict=True)]
        + [Marked(p, b=m) for p, m in zip(b, split(b, b_targets), strict=True)]
    )


# A selects expert 0 half the time; B never does; nobody selects expert 3.
A = [[0, 0, 1], [2]]
B = [[1, 1], [2, 2]]


def scores(method):
    result = score_sets(counts(A, B), method, MODEL)
    return {r.expert: r.score for r in result.rows}, result


def test_risk_difference_is_the_gap_in_selection_frequency():
    by_expert, result = scores("risk-diff")
    assert by_expert == pytest.approx({0: 0.5, 1: 0.25 - 0.5, 2: 0.25 - 0.5, 3: 0.0})
    assert [r.expert for r in result.rows] == [0, 3, 1, 2]  # A's experts first, B's last; ties by expert
    top = result.rows[0]
    assert (top.p_a, top.p_b, top.count_a, top.count_b, top.decoder_layer) == (0.5, 0.0, 2, 0, 1)


def test_ftri_contrasts_the_mean_weight_per_target_token():
    by_expert, _ = scores("ftri")
    # A's 4 tokens give expert 0 weight 2 in all (0.5 a token); B's give it 0.
    assert by_expert == pytest.approx({0: 0.5, 1: 0.25 - 0.5, 2: 0.25 - 0.5, 3: 0.0})


def test_ftri_does_not_favour_longer_prompts():
    """The same routing twice as long is the same behaviour: every score 0 (summed per prompt, A's
    experts would all score higher)."""
    doubled = [p + p for p in A]
    result = score_sets(counts(doubled, A), "ftri", MODEL)
    assert [r.score for r in result.rows] == [0.0] * 4


def test_npmi_of_expert_and_a_tokens_with_minus_one_when_never_together():
    by_expert, result = scores("npmi")
    n, p_t = 8, 4 / 8
    assert by_expert[0] == pytest.approx(math.log((2 / n) / ((2 / n) * p_t)) / -math.log(2 / n))
    assert by_expert[1] == pytest.approx(math.log((1 / n) / ((3 / n) * p_t)) / -math.log(1 / n))
    assert by_expert[3] == -1.0
    assert all(-1.0 <= r.score <= 1.0 for r in result.rows)


def test_a_sequence_in_both_sets_is_one_sequence_and_npmi_counts_its_tokens_once():
    """B built from A's rows (at other positions) plus contrast rows: 8 tokens, not A's 4 twice plus 4."""
    both = tally(
        [
            Marked([0, 0, 1], a=[True, False, True], b=[False, True, False]),
            Marked([2], a=[False], b=[True]),
            Marked([1, 1], b=[True, True]),
            Marked([2, 2], b=[True, True]),
        ]
    )
    assert (both.tokens, both.a.prompts, both.a.targets, both.b.prompts, both.b.targets) == (8, 2, 2, 4, 6)
    npmi = {r.expert: r.score for r in score_sets(both, "npmi", MODEL).rows}
    n, p_t = 8, 2 / 8  # A's targets: one token of expert 0 (of its 2), one of expert 1 (of its 3)
    assert npmi[0] == pytest.approx(math.log((1 / n) / ((2 / n) * p_t)) / -math.log(1 / n))
    assert npmi[1] == pytest.approx(math.log((1 / n) / ((3 / n) * p_t)) / -math.log(1 / n))
    assert npmi[2] == npmi[3] == -1.0
    # each set's frequencies are those of its own target tokens, as if counted apart
    rows = sorted(score_sets(both, "risk-diff", MODEL).rows, key=lambda r: r.expert)
    assert [r.p_a for r in rows] == pytest.approx([0.5, 0.5, 0.0, 0.0])
    assert [r.p_b for r in rows] == pytest.approx([1 / 6, 2 / 6, 3 / 6, 0.0])


def test_target_tokens_narrow_what_is_counted():
    a = counts(A, B, [True, False, False, True])  # A's targets: expert 0 once, expert 2 once
    result = score_sets(a, "risk-diff", MODEL)
    assert result.target_tokens_a == 2
    assert {r.expert: r.p_a for r in result.rows} == {0: 0.5, 1: 0.0, 2: 0.5, 3: 0.0}


def test_sets_without_targets_are_refused():
    with pytest.raises(AttributionError, match="set A has no target tokens"):
        score_sets(counts(A, B, [False] * 4), "npmi", MODEL)
    no_b_targets = counts(A, B, b_targets=[False] * 4)
    with pytest.raises(AttributionError, match="set B has no target tokens"):
        score_sets(no_b_targets, "risk-diff", MODEL)
    with pytest.raises(AttributionError, match="set B has no target tokens: fTRI"):
        score_sets(no_b_targets, "ftri", MODEL)
    score_sets(no_b_targets, "npmi", MODEL)  # nPMI only needs A's targets ...
    with pytest.raises(AttributionError, match="nPMI needs tokens that are not"):  # ... and tokens outside them
        score_sets(tally([Marked([0, 1], a=[True, True], b=[False, False])]), "npmi", MODEL)


def test_suggested_profile_acts_on_a_experts_and_leaves_layers_routable():
    # Scores 0.5, 0.25, 0.25 for experts 0-2 (A's), -1 for expert 3 (B's).
    result = score_sets(counts(A, [[3, 3], [3, 3]]), "risk-diff", MODEL)

    off = suggest_profile(result, 1, "off")
    assert off.model == MODEL
    assert off.for_stage("reason").layers[0].off == [0]
    assert suggest_profile(result, 4, "off").stages["*"].layers[0].off == [0, 1, 2]  # B's expert is not A's
    # Top-1: at most one expert forced per layer. Top-2: at least two of four left enabled.
    assert suggest_profile(result, 2, "force", "synthesize").stages["synthesize"].layers[0].force == [0]
    top_2 = result.model_copy(update={"model": MODEL.model_copy(update={"top_k": 2})})
    assert suggest_profile(top_2, 3, "off").stages["*"].layers[0].off == [0, 1]


# --- real models: one expert wired to fire on a marker token only -------------------------------------

MARKER, EXPERT = 77, 3
FLAG, ONE = 0, 1  # residual-stream coordinates reserved for the wiring


@torch.no_grad()
def wire_marker_expert(model) -> None:
    """Make expert ``EXPERT`` of every MoE layer fire on ``MARKER`` tokens and on nothing else.

    Two residual coordinates are reserved: FLAG is 10 for the marker and 0 otherwise, ONE is 1 for
    every other token. No attention or MLP output writes to them (their output rows are zeroed), so
    each layer's router sees them as the embedding set them. The router row of EXPERT reads
    100 * FLAG - 100 * ONE: a huge logit on the marker, a hugely negative one elsewhere."""
    embeddings = model.get_input_embeddings().weight  # [V, H]
    embeddings[:, FLAG], embeddings[:, ONE] = 0.0, 1.0
    embeddings[MARKER, FLAG], embeddings[MARKER, ONE] = 10.0, 0.0
    for name, weight in model.named_parameters():
        if name.endswith(("o_proj.weight", "down_proj.weight")):  # [H, in]: attention and dense-MLP outputs
            weight[[FLAG, ONE]] = 0.0
        elif name.endswith("experts.down_proj"):  # [E, H, I]
            weight[:, [FLAG, ONE]] = 0.0
    for name, router in model.named_modules():
        if name.endswith("mlp.gate"):
            router.weight[:, [FLAG, ONE]] = 0.0  # [E, H]
            router.weight[EXPERT, FLAG], router.weight[EXPERT, ONE] = 100.0, -100.0


def contrast_sets(n: int = 6, length: int = 8) -> tuple[list[list[int]], list[list[int]]]:
    """A: random prompts whose every other token is the marker; B: the same prompts without it."""
    generator = torch.Generator().manual_seed(3)
    b = torch.randint(2, 128, (n, length), generator=generator)
    b[b == MARKER] = 5
    a = b.clone()
    a[:, ::2] = MARKER
    return a.tolist(), b.tolist()


@pytest.mark.parametrize("arch", ["qwen3_moe", "mixtral"])
def test_every_method_ranks_the_marker_expert_first(arch, tiny_model):
    from studio.moe.engine import MoEEngine

    model = tiny_model(arch)
    wire_marker_expert(model)
    set_a, set_b = contrast_sets()
    with MoEEngine.from_model(model, name=f"tiny-{arch}") as engine:
        # The wiring holds: the expert is selected on every marker token and on no other token.
        trace = engine.forward_trace(set_a + set_b)
        is_marker = trace.token_ids == MARKER
        for layer in trace.layers:
            fired = (layer.selected == EXPERT).any(dim=-1)
            assert torch.equal(fired, is_marker)

        results = [
            attribute(engine, set_a, set_b, "risk-diff"),
            attribute(engine, set_a, set_b, "ftri", batch_size=4),
            attribute(engine, set_a, set_b, "npmi", targets=lambda t: t == MARKER),
        ]
    n_layers = len(engine.info.moe_layers)
    for result in results:
        # First in every MoE layer, so the top n_layers rows overall are that expert, layer by layer.
        assert {r.expert for r in result.best_per_layer().values()} == {EXPERT}
        assert [(r.layer, r.expert) for r in result.top(n_layers)] == [(i, EXPERT) for i in range(n_layers)]
        assert result.rows[n_layers].score < min(r.score for r in result.top(n_layers))
    risk, fused, nmi = results
    assert risk.rows[0].p_a == pytest.approx(0.5) and risk.rows[0].p_b == 0.0  # half of A's tokens are markers
    assert fused.rows[0].score > 0.4  # ... and give the expert nearly all their weight
    assert nmi.rows[0].score == pytest.approx(1.0)  # the expert and A's marker tokens always co-occur

    profile = suggest_profile(risk, n_layers, "off")
    assert all(layer.off == [EXPERT] for layer in profile.stages["*"].layers.values())


@pytest.mark.parametrize("arch", ["qwen3_moe", "olmoe"])
def test_ftri_of_a_set_against_itself_doubled_is_about_zero(arch, tiny_model):
    """A set against the same prompts each written twice: the routing per token hardly changes (the
    second copy sees the first in its context), so no expert scores clearly positive. The marker
    expert's genuine difference scores ~0.5 (half of A's tokens give it weight ~1)."""
    from studio.moe.engine import MoEEngine

    _, prompts = contrast_sets()
    with MoEEngine.from_model(tiny_model(arch), name=f"tiny-{arch}") as engine:
        result = attribute(engine, [p + p for p in prompts], prompts, "ftri")
    assert max(abs(r.score) for r in result.rows) < 0.05


def test_marked_positions_count_only_where_they_are_marked(tiny_model):
    from studio.moe.engine import MoEEngine

    model = tiny_model("qwen3_moe")
    wire_marker_expert(model)
    set_a, set_b = contrast_sets()
    with MoEEngine.from_model(model, name="tiny") as engine:
        # A: only the marker tokens of A's prompts; B: everything else, of A's prompts and B's
        sequences = [Marked(ids, a=[t == MARKER for t in ids], b=[t != MARKER for t in ids]) for ids in set_a]
        sequences += [Marked(ids, b=[True] * len(ids)) for ids in set_b]
        counts = count_marked(engine, sequences, batch_size=4)
        with pytest.raises(AttributionError, match="3 tokens has 2 target marks"):
            count_marked(engine, [Marked([1, 2, 3], b=[True, False])])
        with pytest.raises(AttributionError, match="in neither set"):
            count_marked(engine, [Marked([1, 2, 3])])
    a, b = counts.a, counts.b
    assert a.prompts == len(set_a) and a.targets == sum(t == MARKER for ids in set_a for t in ids)
    assert b.prompts == len(set_a) + len(set_b) and counts.tokens == a.targets + b.targets
    result = score_sets(counts, "risk-diff", engine.info.identity())
    top = result.rows[0]
    assert (top.expert, top.p_a, top.p_b) == (EXPERT, 1.0, 0.0)  # every marked A token, no marked B token


def test_npmi_matches_a_brute_force_count_of_each_token_once(tiny_model):
    """Experiments-style sets on a random tiny model: A's targets at random positions of some rows, B's at
    the other positions of those rows and everywhere in contrast rows. The reference counts, token by
    token, every row once."""
    from studio.moe.engine import MoEEngine

    generator = torch.Generator().manual_seed(5)
    rows = torch.randint(2, 128, (6, 9), generator=generator).tolist()
    picks = (torch.rand(3, 9, generator=generator) < 0.4).tolist()
    sequences = [Marked(ids, a=m, b=[not x for x in m]) for ids, m in zip(rows[:3], picks, strict=True)]
    sequences += [Marked(ids, b=[True] * len(ids)) for ids in rows[3:]]
    with MoEEngine.from_model(tiny_model("qwen3_moe"), name="tiny") as engine:
        counts = count_marked(engine, sequences, batch_size=2)
        traces = [engine.forward_trace(rows[i : i + 2]) for i in range(0, len(rows), 2)]  # the same batches
        identity, experts = engine.info.identity(), engine.info.num_experts
    npmi = {(r.layer, r.expert): r.score for r in score_sets(counts, "npmi", identity).rows}
    risk = {(r.layer, r.expert): r.score for r in score_sets(counts, "risk-diff", identity).rows}

    is_a = [m for s in sequences for m in (s.a or [False] * len(s.ids))]
    is_b = [m for s in sequences for m in s.b]
    n, n_a, n_b = len(is_a), sum(is_a), sum(is_b)
    assert (counts.tokens, counts.a.targets, counts.b.targets) == (n, n_a, n_b) == (54, sum(map(sum, picks)), 54 - n_a)
    for layer in range(len(identity.moe_layers)):
        chosen = [e for t in traces for e in t.layers[layer].selected.tolist()]  # per token, its k experts
        for expert in range(experts):
            hit = [expert in c for c in chosen]
            both = sum(h and a for h, a in zip(hit, is_a, strict=True))
            expected = math.log(both * n / (sum(hit) * n_a)) / -math.log(both / n) if both else -1.0
            assert npmi[layer, expert] == pytest.approx(expected, abs=1e-12)
            in_b = sum(h and b for h, b in zip(hit, is_b, strict=True))
            assert risk[layer, expert] == pytest.approx(both / n_a - in_b / n_b, abs=1e-12)


# -- issue 13, failure 8: prompt sets have documented limits, refused before the model runs ------------


def test_prompt_sets_beyond_the_limits_are_refused_before_the_model_runs(tiny_model):
    from studio.moe.engine import MoEEngine

    model = tiny_model("qwen3_moe")  # 256 positions
    calls = []
    model.register_forward_hook(lambda *_: calls.append(1))
    fine = [[2, 3, 4]]
    with MoEEngine.from_model(model, name="tiny") as engine:
        with pytest.raises(AttributionError, match=f"set A has {MAX_PROMPTS + 1} prompts; at most {MAX_PROMPTS}"):
            attribute(engine, fine * (MAX_PROMPTS + 1), fine, "risk-diff")
        with pytest.raises(AttributionError, match="set B, prompt 2: 4001 characters; a prompt has at most 4000"):
            attribute(engine, fine, [[2], "x" * (MAX_PROMPT_CHARS + 1)], "risk-diff")
        with pytest.raises(AttributionError, match="set B, prompt 1 is 257 tokens; tiny reads at most 256"):
            attribute(engine, fine, [[5] * 257], "risk-diff")
        with pytest.raises(AttributionError, match="sequence 2 is 300 tokens; tiny reads at most 256"):
            count_marked(engine, [Marked([2, 3], a=[True, True]), Marked([4] * 300, b=[True] * 300)])
        assert calls == []  # refused before any forward pass
        attribute(engine, fine * MAX_PROMPTS, [[5] * 256], "risk-diff")  # at the limits: accepted
    assert calls
