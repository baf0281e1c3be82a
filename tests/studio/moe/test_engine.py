"""The engine around the routers: loading, refusing what it cannot steer, hook lifetime, steering
semantics in detail (weights from unbiased scores, bias, scale, clamping, stages), traces."""

from __future__ import annotations

import warnings

import pytest
import torch
import transformers

from studio.moe.engine import MoEEngine
from studio.moe.experts_forward import DECODE
from studio.moe.profile import LayerSteering, StageSteering, SteeringProfile
from studio.moe.specs import SPECS, UnsupportedModel
from studio.moe.trace import NO_EXPERT

PROMPT = [5, 17, 42, 9, 77, 23, 61, 8, 100, 3]


@pytest.fixture
def qwen2(tiny_model):
    """Qwen2-MoE: softmax routing without renormalisation, a shared expert, a dense layer."""
    with MoEEngine.from_model(tiny_model("qwen2_moe"), name="tiny-qwen2") as engine:
        yield engine


def word_tokenizer() -> transformers.PreTrainedTokenizerFast:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {w: i for i, w in enumerate(["<pad>", "<s>", "a", "resistor", "led", "5", "V", "driver"])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return transformers.PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", bos_token="<s>")


def tiny_llama() -> transformers.PreTrainedModel:
    config = transformers.LlamaConfig(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2
    )
    return transformers.LlamaForCausalLM(config)


def test_info_maps_moe_layers_to_decoder_layers(qwen2: MoEEngine):
    info = qwen2.info
    assert info.moe_layers == [0, 2]  # decoder layer 1 is dense
    assert (info.num_layers, info.num_experts, info.top_k, info.shared_experts) == (3, 6, 2, 1)
    identity = info.identity()
    assert (identity.name, identity.moe_layers, identity.experts_per_layer) == ("tiny-qwen2", [0, 2], 6)


def test_load_from_a_local_checkpoint(tiny_model, tmp_path):
    tiny_model("qwen3_moe").save_pretrained(tmp_path / "bare")
    word_tokenizer().save_pretrained(tmp_path / "full")
    tiny_model("qwen3_moe").save_pretrained(tmp_path / "full")
    with MoEEngine.load(tmp_path / "full") as engine:
        assert engine.encode("a led driver") == [2, 4, 7]
    with MoEEngine.load(tmp_path / "bare") as engine:
        assert engine.info.architecture == "qwen3_moe" and engine.info.moe_layers == [1, 2]
        assert engine.model.config._experts_implementation == DECODE
        assert not engine.model.config.output_router_logits
        assert engine.tokenizer is None
        with engine.steer() as run:
            gen = engine.generate(PROMPT, max_new_tokens=3)
        assert len(gen.token_ids) == 3 and run.trace.num_tokens == len(PROMPT) + 2


def test_unsupported_architecture_is_refused_naming_the_supported_ones(tmp_path):
    model = tiny_llama()
    with pytest.raises(UnsupportedModel, match=r"'llama'.*deepseek_v3.*mixtral.*qwen3_moe"):
        MoEEngine.from_model(model)
    model.save_pretrained(tmp_path)
    with pytest.raises(UnsupportedModel, match="supported: " + ", ".join(sorted(SPECS))):
        MoEEngine.load(tmp_path)


def test_close_removes_every_hook(tiny_model):
    model = tiny_model("deepseek_v3")
    model.set_experts_implementation("eager")
    hooks_before = {name: len(m._forward_hooks) for name, m in model.named_modules()}
    vanilla = model.generate(torch.tensor([PROMPT]), max_new_tokens=4, do_sample=False)
    engine = MoEEngine.from_model(model)
    with pytest.raises(RuntimeError, match="already has an open MoEEngine"):
        MoEEngine.from_model(model)
    outside_block = model.generate(torch.tensor([PROMPT]), max_new_tokens=4, do_sample=False)
    engine.close()
    assert {name: len(m._forward_hooks) for name, m in model.named_modules()} == hooks_before
    after = model.generate(torch.tensor([PROMPT]), max_new_tokens=4, do_sample=False)
    assert torch.equal(outside_block, vanilla) and torch.equal(after, vanilla)
    MoEEngine.from_model(model).close()  # the model can be wrapped again


def test_forced_weight_comes_from_unbiased_scores(qwen2: MoEEngine):
    rare = int(qwen2.forward_trace([PROMPT]).layers[0].usage().argmin())
    with qwen2.steer(StageSteering(layers={0: LayerSteering(force=[rare])})):
        layer = qwen2.forward_trace([PROMPT]).layers[0]
    hit = layer.selected == rare
    assert hit.any(dim=-1).all()
    # no renormalisation in this model: each weight is the expert's plain softmax probability
    torch.testing.assert_close(layer.weights, layer.probs.gather(1, layer.selected))
    assert (layer.weights[hit] < 0.5).all()


def test_bias_steers_selection_only(qwen2: MoEEngine):
    favourite = int(qwen2.forward_trace([PROMPT]).layers[0].usage().argmax())
    with qwen2.steer(StageSteering(layers={0: LayerSteering(bias={favourite: -50.0})})):
        pushed_out = qwen2.forward_trace([PROMPT]).layers[0]
    assert not (pushed_out.selected == favourite).any()
    rare = int(qwen2.forward_trace([PROMPT]).layers[0].usage().argmin())
    with qwen2.steer(StageSteering(layers={0: LayerSteering(bias={rare: 50.0})})):
        pulled_in = qwen2.forward_trace([PROMPT]).layers[0]
    assert (pulled_in.selected == rare).any(dim=-1).all()
    torch.testing.assert_close(pulled_in.weights, pulled_in.probs.gather(1, pulled_in.selected))


def test_scale_multiplies_the_weight(qwen2: MoEEngine):
    unsteered = qwen2.forward_trace([PROMPT]).layers[0]
    expert = int(unsteered.usage().argmax())
    with qwen2.steer(StageSteering(layers={0: LayerSteering(scale={expert: 0.25})})):
        scaled = qwen2.forward_trace([PROMPT]).layers[0]
    assert torch.equal(scaled.selected, unsteered.selected)
    factor = torch.where(unsteered.selected == expert, 0.25, 1.0)
    torch.testing.assert_close(scaled.weights, unsteered.weights * factor)


def test_top_k_beyond_the_enabled_experts_is_clamped_with_a_warning(qwen2: MoEEngine):
    steering = StageSteering(layers={0: LayerSteering(off=[0, 1, 2, 3, 4], top_k=3)})
    with pytest.warns(RuntimeWarning, match="top_k 3 > the 1 experts left enabled; clamped to 1"):
        block = qwen2.steer(steering)
        run = block.__enter__()
    try:
        qwen2.generate(PROMPT, max_new_tokens=3)
    finally:
        block.__exit__(None, None, None)
    layer = run.trace.layers[0]
    assert layer.selected.shape[1] == 1 and (layer.selected == 5).all()
    assert torch.isfinite(layer.weights).all()


def test_impossible_steering_is_refused(qwen2: MoEEngine):
    with pytest.raises(ValueError, match="every expert is off"):
        qwen2.steer(StageSteering(layers={1: LayerSteering(off=list(range(6)))})).__enter__()
    with pytest.raises(ValueError, match="every stage, layer 0: 3 experts forced on but only 2 are chosen"):
        qwen2.steer(StageSteering(layers={0: LayerSteering(force=[0, 1, 2])})).__enter__()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with qwen2.steer(StageSteering(layers={0: LayerSteering(off=list(range(6)))}), mode="drop") as run:
            qwen2.forward_trace([PROMPT])  # drop mode: every weight zeroed, nothing re-routed
    assert (run.trace.layers[0].weights == 0).all() and (run.trace.layers[0].selected == NO_EXPERT).all()


def test_profile_stage_sections_and_mode(qwen2: MoEEngine):
    profile = SteeringProfile(
        model=qwen2.info.identity(),
        mode="drop",
        stages={
            "*": StageSteering(layers={0: LayerSteering(off=[1])}),
            "reason": StageSteering(layers={0: LayerSteering(off=[2])}),
        },
    )
    unsteered = qwen2.forward_trace([PROMPT]).layers[0]
    with qwen2.steer(profile, stage="reason", mode="reroute") as run:
        layer = qwen2.forward_trace([PROMPT]).layers[0]
    assert run.mode == "drop" and run.steering.layers[0].off == [1, 2]
    off = torch.isin(unsteered.selected, torch.tensor([1, 2]))
    assert off.any() and torch.equal(layer.selected, unsteered.selected.masked_fill(off, NO_EXPERT))
    assert (layer.weights[off] == 0).all()
    with qwen2.steer(profile, stage="identify") as run:
        assert run.steering.layers[0].off == [1]


def test_blocks_nest_and_restore(qwen2: MoEEngine):
    outer = StageSteering(layers={0: LayerSteering(off=[0])})
    inner = StageSteering(layers={0: LayerSteering(force=[0])})
    with qwen2.steer(outer) as outer_run:
        qwen2.forward_trace([PROMPT])
        with qwen2.steer(inner) as inner_run:
            qwen2.forward_trace([PROMPT])
        qwen2.forward_trace([PROMPT])
    assert outer_run.trace.num_tokens == 2 * len(PROMPT)
    assert not (outer_run.trace.layers[0].selected == 0).any()
    assert (inner_run.trace.layers[0].selected == 0).any(dim=-1).all()
    assert outer_run.trace.sequence.tolist() == [0] * len(PROMPT) + [1] * len(PROMPT)


def test_no_capture_means_no_trace(qwen2: MoEEngine):
    assert qwen2.generate(PROMPT, max_new_tokens=2).trace is None
    with qwen2.steer(capture=False) as run:
        assert qwen2.generate(PROMPT, max_new_tokens=2).trace is None
    assert run.trace is None


def test_usage_and_entropy_of_a_generation(qwen2: MoEEngine):
    with qwen2.steer() as run:
        qwen2.generate(PROMPT, max_new_tokens=5)
    layer = run.trace.layers[1]
    assert layer.decoder_layer == 2
    assert int(layer.usage().sum()) == run.trace.num_tokens * 2
    assert 0 < layer.entropy() <= torch.log(torch.tensor(6.0)).item() + 1e-6
    assert torch.allclose(layer.probs.sum(-1), torch.ones(run.trace.num_tokens))


def test_text_prompts_go_through_the_tokenizer(tiny_model):
    with MoEEngine.from_model(tiny_model("olmoe"), word_tokenizer()) as engine:
        with engine.steer() as run:
            gen = engine.generate("a 5 V led driver", max_new_tokens=3)
        assert gen.prompt_ids == [2, 5, 6, 4, 7]
        assert len(gen.token_ids) == 3  # the text is the generated tokens decoded, without the prompt
        assert gen.text == engine.tokenizer.decode(gen.token_ids, skip_special_tokens=True)
        assert run.trace.token_ids[:5].tolist() == [2, 5, 6, 4, 7]
        engine.tokenizer.chat_template = (
            "<s>{% for m in messages %}{{ m['content'] }}{% endfor %}{% if add_generation_prompt %} a{% endif %}"
        )
        assert engine.encode("led driver", chat=True) == [1, 4, 7, 2]


def test_group_limited_routing_still_meets_k_from_enabled_experts(tiny_model):
    """DeepSeek-V3 picks 1 of 2 groups of 4; with one expert left per group, k=2 takes one from each."""
    with MoEEngine.from_model(tiny_model("deepseek_v3")) as engine:
        steering = StageSteering(layers={0: LayerSteering(off=[0, 1, 2, 4, 5, 6])})
        with engine.steer(steering):
            layer = engine.forward_trace([PROMPT]).layers[0]
    assert (layer.selected.sort(dim=-1).values == torch.tensor([3, 7])).all()
    assert torch.isfinite(layer.weights).all() and (layer.weights > 0).all()


@pytest.mark.parametrize(
    ("arch", "overrides"),
    [("olmoe", {}), ("qwen2_moe", {}), ("qwen2_moe", {"norm_topk_prob": True}), ("phimoe", {})],
    ids=["olmoe", "qwen2_moe", "qwen2_moe-renormalised", "phimoe"],
)
def test_reroute_weights_are_the_router_on_logits_without_the_off_experts(tiny_model, arch, overrides):
    """Re-route mode as SteerMoE: the router's own computation on logits where the off experts' are
    -inf, so their probability mass goes to the experts left (OLMoE and Qwen2-MoE without
    renormalisation: a softmax over the enabled experts; PhiMoE: sparsemixer without them)."""
    from transformers.models.phimoe.modeling_phimoe import sparsemixer

    with MoEEngine.from_model(tiny_model(arch, **overrides), name=f"tiny-{arch}") as engine:
        router = engine.layers[0].router
        with torch.inference_mode():
            logits = engine.model(torch.tensor([PROMPT]), output_router_logits=True).router_logits[0].float()
        unsteered = engine.forward_trace([PROMPT]).layers[0]
        off = unsteered.usage().argsort(descending=True, stable=True)[:2].tolist()
        with engine.steer(StageSteering(layers={0: LayerSteering(off=off)})):
            steered = engine.forward_trace([PROMPT]).layers[0]  # the first MoE layer: its input is unsteered
        # a re-route without off experts (a bias too small to change the choice) is the router bit for bit
        rare = int(unsteered.usage().argmin())
        with engine.steer(StageSteering(layers={0: LayerSteering(bias={rare: -1e-3})})):
            biased = engine.forward_trace([PROMPT]).layers[0]
    renormalised = getattr(router, "norm_topk_prob", False)
    assert torch.equal(biased.selected, unsteered.selected)
    if renormalised:  # a softmax of the chosen logits: the router's renormalised softmax, to rounding
        torch.testing.assert_close(biased.weights, unsteered.weights, rtol=0, atol=1e-6)
    else:
        assert torch.equal(biased.weights, unsteered.weights)

    masked = logits.clone()
    masked[:, off] = float("-inf")
    if arch == "phimoe":
        weights, selected = sparsemixer(masked, jitter_eps=router.router_jitter_noise, training=False)
    else:
        weights, selected = masked.softmax(dim=-1).topk(engine.info.top_k, dim=-1)
        if renormalised:
            weights = weights / weights.sum(dim=-1, keepdim=True)
    rerouted = torch.isin(unsteered.selected, torch.tensor(off)).any(dim=-1)  # tokens that chose an off expert
    assert rerouted.any()
    assert torch.equal(steered.selected, selected)
    torch.testing.assert_close(steered.weights, weights, rtol=0, atol=1e-6)
    if arch != "phimoe" and not renormalised:  # more than their share of the full softmax: the off mass
        kept = logits.softmax(dim=-1).gather(1, steered.selected)
        assert (steered.weights[rerouted].sum(-1) > kept[rerouted].sum(-1) + 1e-3).all()


def test_a_vision_language_model_loads_whole_and_its_text_decoder_is_steered():
    """Qwen3-VL-MoE has no causal-LM class: the loader takes its image-text-to-text class, and the engine
    finds the MoE layers of its language model. (A saved tiny Qwen3-VL-MoE cannot be loaded back here:
    transformers 5.24's ``save_pretrained`` fails reverting its experts' weight conversion.)"""
    from studio.moe.loader import _auto_class
    from tests.fixtures.tiny_models import tiny_config

    model = _auto_class("qwen3_vl_moe").from_config(tiny_config("qwen3_vl_moe"))
    assert _auto_class("qwen3_moe") is transformers.AutoModelForCausalLM
    with MoEEngine.from_model(model) as engine:
        assert type(engine.model).__name__ == "Qwen3VLMoeForConditionalGeneration"
        assert engine.info.moe_layers == [1, 2] and engine.context_length == 256
        with engine.steer(StageSteering(layers={0: LayerSteering(off=[0])})) as run:
            engine.generate(PROMPT, max_new_tokens=3)
        assert not (run.trace.layers[0].selected == 0).any()


def test_an_unsupported_family_is_refused_by_the_loader_with_its_reason(tmp_path):
    config = transformers.JetMoeConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2)
    config.save_pretrained(tmp_path)
    with pytest.raises(UnsupportedModel, match="'jetmoe' is not supported: JetMoE's router returns"):
        MoEEngine.load(tmp_path)
