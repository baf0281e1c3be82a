"""The acceptance suite, run unchanged on a tiny random model of every MoE architecture the engine has a
routing spec for (the ``arch`` fixture; ``test_families`` checks that is every one the installed
transformers ships that is not listed as unsupported): capture is the router's own choice and
transformers' own router logits, and every steering control does what it says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from studio.moe.engine import MoEEngine
from studio.moe.profile import LayerSteering, ModelIdentity, ProfileError, StageSteering, SteeringProfile
from studio.moe.routing import distribution
from studio.moe.trace import NO_EXPERT, RoutingTrace

PROMPT = [5, 17, 42, 9, 77, 23, 61, 8, 100, 3]
BATCH = [PROMPT, [11, 12, 13, 14], [90, 91, 92, 93, 94, 95, 96]]
NEW_TOKENS = 6


@pytest.fixture
def engine(arch: str, tiny_model) -> Iterator[MoEEngine]:
    with MoEEngine.from_model(tiny_model(arch), name=f"tiny-{arch}") as engine:
        yield engine


def every_layer(engine: MoEEngine, **steer) -> StageSteering:
    return StageSteering(layers={i: LayerSteering(**steer) for i in range(len(engine.layers))})


def most_used(trace: RoutingTrace, layer: int, n: int) -> list[int]:
    return trace.layers[layer].usage().argsort(descending=True, stable=True)[:n].tolist()


def router_choices(engine: MoEEngine, prompt: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per MoE layer, what its router itself returned on a plain forward over ``prompt``: (experts [N, k],
    weights [N, k]). Read by a hook of the test's own, registered after the engine's."""
    seen: dict[int, tuple] = {}
    handles = [
        layer.router.register_forward_hook(lambda _m, _a, out, i=layer.index: seen.setdefault(i, out))
        for layer in engine.layers
    ]
    try:
        with torch.inference_mode():
            engine.model(torch.tensor([prompt]))
    finally:
        for handle in handles:
            handle.remove()
    order = engine.spec.output
    choices = []
    for index in range(len(engine.layers)):
        out = seen[index]
        if "dense" in order:  # Llama 4: [N, E] weights, zero off the chosen experts
            dense = out[order.index("dense")]
            experts = dense.topk(engine.info.top_k, dim=-1).indices
            choices.append((experts, dense.gather(1, experts)))
        else:
            choices.append((out[order.index("indices")], out[order.index("weights")]))
    return choices


def dense_weights(selected: torch.Tensor, weights: torch.Tensor, n: int) -> torch.Tensor:
    """[N, E] each token's weight per expert (0 where not chosen): the same choice in any slot order."""
    return torch.zeros(selected.shape[0], n).scatter(1, selected, weights.float())


def test_capture_equals_the_routers_own_choice_and_transformers_router_logits(engine: MoEEngine):
    choices = router_choices(engine, PROMPT)
    with torch.inference_mode():
        reported = getattr(engine.model(torch.tensor([PROMPT]), output_router_logits=True), "router_logits", None)
    trace = engine.forward_trace([PROMPT])
    n = engine.info.num_experts
    assert len(trace.layers) == len(choices) == len(engine.info.moe_layers)
    for layer, (experts, weights) in zip(trace.layers, choices, strict=True):
        assert torch.equal(layer.selected.sort(dim=-1).values, experts.sort(dim=-1).values)
        torch.testing.assert_close(
            dense_weights(layer.selected, layer.weights, n), dense_weights(experts, weights, n), rtol=0, atol=0
        )
        assert layer.weights.shape == (len(PROMPT), engine.info.top_k)
    if reported:  # what transformers records (Gemma 4 and Beam record none): the distribution traced
        assert len(reported) == len(trace.layers)
        for layer, logits in zip(trace.layers, reported, strict=True):
            torch.testing.assert_close(layer.probs, distribution(engine.spec, logits), rtol=0, atol=1e-6)


def test_rerouting_to_the_same_experts_gives_the_routers_own_weights(engine: MoEEngine):
    """The engine's recomputation of each architecture's routing (selection scores, correction bias,
    groups, renormalisation, scaling) is the router's: a bias too small to change any choice re-routes
    every layer and changes nothing."""
    unsteered = engine.forward_trace(BATCH)
    n = engine.info.num_experts
    nudge = {
        i: LayerSteering(bias={int(unsteered.layers[i].usage(n).argmin()): -1e-6}) for i in range(len(engine.layers))
    }
    steering = StageSteering(layers=nudge)
    with engine.steer(steering) as run:
        assert all(plan.reroute for plan in run.plans.values())
        rerouted = engine.forward_trace(BATCH)
    for before, after in zip(unsteered.layers, rerouted.layers, strict=True):
        assert torch.equal(before.selected.sort(dim=-1).values, after.selected.sort(dim=-1).values)
        torch.testing.assert_close(
            dense_weights(after.selected, after.weights, n),
            dense_weights(before.selected, before.weights, n),
            rtol=1e-5,  # a softmax of the chosen logits is the renormalised softmax, to float32 rounding
            atol=1e-6,
        )


def test_steered_capture_leaves_transformers_logits_raw(engine: MoEEngine):
    """Our hook runs before transformers' recorder and never edits the logits it reports."""
    with torch.inference_mode():
        vanilla = engine.model(torch.tensor([PROMPT]), output_router_logits=True).router_logits[0]
        with engine.steer(every_layer(engine, off=[0])):
            steered = engine.model(torch.tensor([PROMPT]), output_router_logits=True).router_logits[0]
    assert torch.equal(vanilla, steered)


def test_generate_trace_covers_prompt_and_generated_tokens(engine: MoEEngine):
    with engine.steer() as run:
        gen = engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
    trace = gen.trace
    assert len(gen.token_ids) == NEW_TOKENS
    assert trace.token_ids.tolist() == PROMPT + gen.token_ids[:-1]
    assert trace.is_prompt.tolist() == [True] * len(PROMPT) + [False] * (NEW_TOKENS - 1)
    assert run.trace.num_tokens == trace.num_tokens
    # the prompt part of the trace is what a plain forward over the prompt routes
    forward = engine.forward_trace([PROMPT])
    for during, alone in zip(trace.layers, forward.layers, strict=True):
        assert torch.equal(during.selected[: len(PROMPT)], alone.selected)
        torch.testing.assert_close(during.probs[: len(PROMPT)], alone.probs, rtol=0, atol=1e-6)


def test_off_expert_is_never_selected(engine: MoEEngine):
    unsteered = engine.forward_trace(BATCH)
    off = {i: most_used(unsteered, i, 2) for i in range(len(engine.layers))}
    steering = StageSteering(layers={i: LayerSteering(off=experts) for i, experts in off.items()})
    with engine.steer(steering) as run:
        engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
        engine.forward_trace(BATCH)
    for layer in run.trace.layers:
        assert layer.selected.shape[1] == engine.info.top_k
        assert not torch.isin(layer.selected, torch.tensor(off[layer.moe_layer])).any()
        assert torch.isfinite(layer.weights).all() and (layer.weights > 0).all()


def test_forced_expert_is_always_selected(engine: MoEEngine):
    unsteered = engine.forward_trace(BATCH)
    rare = {i: int(unsteered.layers[i].usage().argmin()) for i in range(len(engine.layers))}
    steering = StageSteering(layers={i: LayerSteering(force=[e]) for i, e in rare.items()})
    with engine.steer(steering) as run:
        engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
        engine.forward_trace(BATCH)
    for layer in run.trace.layers:
        assert (layer.selected == rare[layer.moe_layer]).any(dim=-1).all()
        assert torch.isfinite(layer.weights).all()


def test_per_layer_top_k_is_obeyed(engine: MoEEngine):
    steering = StageSteering(layers={0: LayerSteering(top_k=3), len(engine.layers) - 1: LayerSteering(top_k=1)})
    if engine.info.fixed_top_k:
        with pytest.raises(ProfileError, match="always routes to 2 experts"):  # one line in the CLI
            engine.steer(steering).__enter__()
        return
    with engine.steer(steering) as run:
        engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
    first, last = run.trace.layers[0], run.trace.layers[-1]
    assert first.selected.shape[1] == 3 and last.selected.shape[1] == 1
    assert all(len(set(row)) == 3 for row in first.selected.tolist())


def test_drop_mode_zeroes_the_weight_without_replacement(engine: MoEEngine):
    unsteered = engine.forward_trace([PROMPT]).layers[0]
    expert = most_used(engine.forward_trace([PROMPT]), 0, 1)[0]
    with engine.steer(StageSteering(layers={0: LayerSteering(off=[expert])}), mode="drop"):
        dropped = engine.forward_trace([PROMPT]).layers[0]
    hit = unsteered.selected == expert
    assert hit.any()
    # no replacement: the dropped expert's slot holds no expert (it contributed nothing), the others stay
    assert torch.equal(dropped.selected, unsteered.selected.masked_fill(hit, NO_EXPERT))
    assert (dropped.weights[hit] == 0).all()
    torch.testing.assert_close(dropped.weights[~hit], unsteered.weights[~hit])  # others untouched


def test_a_dropped_expert_is_never_traced_as_selected_a_rerouted_one_is(engine: MoEEngine):
    """Drop mode: the experts turned off contributed nothing, so neither the trace nor its usage counts
    report them, in generation and in a forward; re-route mode records the experts that replaced them."""
    unsteered = engine.forward_trace(BATCH)
    off = {i: most_used(unsteered, i, 2) for i in range(len(engine.layers))}
    steering = StageSteering(layers={i: LayerSteering(off=experts) for i, experts in off.items()})
    with engine.steer(steering, mode="drop") as dropped:
        engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
        engine.forward_trace(BATCH)
    with engine.steer(steering, mode="reroute") as rerouted:
        engine.forward_trace(BATCH)
    n, k = engine.info.num_experts, engine.info.top_k
    for drop, reroute in zip(dropped.trace.layers, rerouted.trace.layers, strict=True):
        banned = torch.tensor(off[drop.moe_layer])
        assert not torch.isin(drop.selected, banned).any()
        assert (drop.usage(n)[banned] == 0).all()
        assert (drop.weights[drop.selected == NO_EXPERT] == 0).all()
        assert int(drop.usage().sum()) == int((drop.selected != NO_EXPERT).sum())
        assert not (reroute.selected == NO_EXPERT).any() and not torch.isin(reroute.selected, banned).any()
        assert int(reroute.usage().sum()) == unsteered.num_tokens * k  # every slot a real expert
    assert dropped.trace.selected_mask(n).sum() == sum(
        (lay.selected != NO_EXPERT).sum() for lay in dropped.trace.layers
    )
    # the first MoE layer routes the forward as unsteered: exactly the off experts' slots are empty in drop
    # mode, and in re-route mode hold the experts that replaced them
    before = unsteered.layers[0]
    was_off = torch.isin(before.selected, torch.tensor(off[0]))
    assert was_off.any()
    assert torch.equal(
        dropped.trace.layers[0].selected[-unsteered.num_tokens :], before.selected.masked_fill(was_off, NO_EXPERT)
    )
    replaced = was_off.any(dim=-1)
    kept = rerouted.trace.layers[0].selected
    for row in range(unsteered.num_tokens):
        if replaced[row]:  # k distinct experts, none of them off: the off ones were replaced
            assert len(set(kept[row].tolist())) == k
        else:  # a token that chose no off expert is routed as before
            assert sorted(kept[row].tolist()) == sorted(before.selected[row].tolist())


def test_mask_changes_output_and_clearing_restores_it(engine: MoEEngine):
    with engine.steer() as run:
        vanilla = engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
    half = engine.info.num_experts // 2
    mask = StageSteering(
        layers={i: LayerSteering(off=most_used(run.trace, i, half)) for i in range(len(engine.layers))}
    )
    with engine.steer(mask):
        steered = engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
    restored = engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
    assert steered.token_ids != vanilla.token_ids
    assert restored.token_ids == vanilla.token_ids


def test_shared_expert_off(engine: MoEEngine):
    if not engine.info.shared_experts:
        assert all(not layer.shared for layer in engine.layers)
        return
    vanilla = engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
    with engine.steer(every_layer(engine, shared_off=True)) as run:
        without = engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
    assert without.token_ids != vanilla.token_ids
    first = run.trace.layers[0]  # routing of the first MoE layer is upstream of any shared expert
    assert torch.equal(first.selected[: len(PROMPT)], engine.forward_trace([PROMPT]).layers[0].selected)


def test_profile_for_another_shape_is_refused(engine: MoEEngine):
    mine = engine.info.identity()
    other = ModelIdentity(name="other", moe_layers=[*mine.moe_layers, 99], experts_per_layer=mine.experts_per_layer)
    profile = SteeringProfile(model=other, stages={"*": StageSteering(layers={0: LayerSteering(off=[0])})})
    with pytest.raises(ProfileError, match="was made for other"):
        engine.steer(profile).__enter__()
    with pytest.raises(ValueError, match="out of range"):
        engine.steer(StageSteering(layers={0: LayerSteering(off=[engine.info.num_experts])})).__enter__()


def test_profile_round_trip_steers_the_same(engine: MoEEngine, tmp_path):
    profile = SteeringProfile(
        name="roundtrip",
        model=engine.info.identity(),
        stages={"*": StageSteering(layers={0: LayerSteering(off=[0], scale={1: 0.5})})},
    )
    profile.save(tmp_path / "p.json")
    loaded = SteeringProfile.load(tmp_path / "p.json")
    assert loaded == profile
    with engine.steer(profile):
        first = engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
    with engine.steer(loaded):
        again = engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
    assert first.token_ids == again.token_ids
    assert first.trace.layers[0].selected.ne(0).all()


def test_batch_trace_excludes_padding(engine: MoEEngine):
    batched = engine.forward_trace(BATCH)
    alone = [engine.forward_trace([prompt]) for prompt in BATCH]
    assert batched.token_ids.tolist() == [t for prompt in BATCH for t in prompt]
    assert batched.sequence.tolist() == [i for i, prompt in enumerate(BATCH) for _ in prompt]
    for layer_index, layer in enumerate(batched.layers):
        joined_probs = torch.cat([trace.layers[layer_index].probs for trace in alone])
        torch.testing.assert_close(layer.probs, joined_probs, rtol=1e-4, atol=1e-5)
