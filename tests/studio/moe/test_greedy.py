"""The engine's greedy loop keeps ``model.generate``'s contract, and the Qwen3-MoE decode step computes
the model's forward bit for bit, steered and captured like it."""

from __future__ import annotations

import pytest
import torch
from transformers import LogitsProcessor, StoppingCriteria

from studio.moe import fast_decode
from studio.moe.engine import MoEEngine
from studio.moe.experts_forward import DECODE
from studio.moe.fast_decode import Qwen3MoeDecodeStep, decode_step
from studio.moe.greedy import ForwardStep, end_of_sequence_ids, greedy_decode
from studio.moe.profile import LayerSteering, StageSteering

PROMPT = [1, 5, 9, 33, 70, 12, 4]
NEW_TOKENS = 12


class BanToken(LogitsProcessor):
    def __init__(self, token: int) -> None:
        self.token = token
        self.lengths: list[int] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        self.lengths.append(input_ids.shape[1])
        scores = scores.clone()
        scores[:, self.token] = float("-inf")
        return scores


class StopAfter(StoppingCriteria):
    def __init__(self, length: int) -> None:
        self.length = length

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: object) -> torch.BoolTensor:
        return torch.tensor([input_ids.shape[1] >= self.length])


class FavourToken(LogitsProcessor):
    def __init__(self, token: int) -> None:
        self.token = token

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores = scores.clone()
        scores[:, self.token] += 100.0  # a masked (-inf) score stays masked
        return scores


def reference(model, **settings) -> list[int]:
    ids = torch.tensor([PROMPT])
    with torch.inference_mode():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, pad_token_id=0, **settings)
    return out[0, len(PROMPT) :].tolist()


def decode(model, max_new_tokens: int, **settings) -> list[int]:
    with torch.inference_mode():
        return greedy_decode(decode_step(model), PROMPT, max_new_tokens, **settings)


def test_the_loop_generates_what_generate_does_on_every_architecture(arch, tiny_model):
    model = tiny_model(arch)
    expected = reference(model, max_new_tokens=NEW_TOKENS)
    assert decode(model, NEW_TOKENS) == expected
    with torch.inference_mode():
        assert greedy_decode(ForwardStep(model), PROMPT, NEW_TOKENS) == expected


def test_processors_and_criteria_see_what_generate_shows_them(tiny_model):
    model = tiny_model("mixtral")
    banned = reference(model, max_new_tokens=NEW_TOKENS)[0]
    ours, theirs = BanToken(banned), BanToken(banned)
    got = decode(model, NEW_TOKENS, logits_processors=[ours], stopping_criteria=[StopAfter(len(PROMPT) + 5)])
    expected = reference(
        model, max_new_tokens=NEW_TOKENS, logits_processor=[theirs], stopping_criteria=[StopAfter(len(PROMPT) + 5)]
    )
    assert got == expected and len(got) == 5 and banned not in got
    assert ours.lengths == theirs.lengths == list(range(len(PROMPT), len(PROMPT) + 5))


def test_an_end_of_sequence_token_ends_the_generation_and_is_kept_unless_too_early(tiny_model):
    model = tiny_model("olmoe")
    free = decode(model, NEW_TOKENS)
    eos = free[3]  # the model's own fourth token, declared its end of sequence
    first = free.index(eos)
    assert decode(model, NEW_TOKENS, eos_ids=[eos]) == free[: first + 1]
    late = decode(model, NEW_TOKENS, eos_ids=[eos], min_new_tokens=first + 2)
    assert late[: first + 1] != free[: first + 1] and eos not in late[: first + 2]
    model.generation_config.eos_token_id = eos
    assert end_of_sequence_ids(model) == [eos]
    assert reference(model, max_new_tokens=NEW_TOKENS, min_new_tokens=first + 2) == late


def test_min_new_tokens_holds_off_the_end_of_sequence_exactly_that_long(tiny_model):
    model = tiny_model("mixtral")
    model.generation_config.eos_token_id = 7
    settings = {"min_new_tokens": 3, "logits_processor": [FavourToken(7)]}
    got = decode(model, NEW_TOKENS, eos_ids=[7], min_new_tokens=3, logits_processors=[FavourToken(7)])
    assert got == reference(model, max_new_tokens=NEW_TOKENS, **settings)
    assert len(got) == 4 and got[-1] == 7 and 7 not in got[:3]


def test_qwen3_moe_decodes_with_its_fast_step_and_others_with_their_forward(arch, tiny_model):
    step = decode_step(tiny_model(arch))
    assert isinstance(step, Qwen3MoeDecodeStep if arch == "qwen3_moe" else ForwardStep)


@pytest.mark.parametrize(
    "overrides",
    [
        {"attention_bias": True},
        {"use_sliding_window": True, "sliding_window": 4},
        {"rope_parameters": {"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}},
    ],
)
def test_settings_the_fast_step_does_not_compute_take_the_forward(tiny_model, overrides):
    assert isinstance(decode_step(tiny_model("qwen3_moe", **overrides)), ForwardStep)


def test_a_half_precision_or_eager_attention_model_takes_the_forward(tiny_model):
    assert isinstance(decode_step(tiny_model("qwen3_moe").to(torch.bfloat16)), ForwardStep)
    assert isinstance(decode_step(tiny_model("qwen3_moe", attn_implementation="eager")), ForwardStep)


@pytest.mark.parametrize(
    ("overrides", "stacked"),
    [
        ({}, True),
        ({}, False),
        ({"norm_topk_prob": False, "mlp_only_layers": [], "head_dim": 16}, True),
        ({"num_key_value_heads": 4}, True),
    ],
)
def test_the_fast_step_gives_the_forward_logits_bit_for_bit(tiny_model, monkeypatch, overrides, stacked):
    """Long enough for the step's key/value buffers to grow past their first 64 positions; with the
    q/k/v projections stacked into one matmul and apart (as for a large model)."""
    if not stacked:
        monkeypatch.setattr(fast_decode, "FUSE_LIMIT", 0)
    model = tiny_model("qwen3_moe", **overrides)
    model.set_experts_implementation(DECODE)  # as the engine runs it: the step calls it directly
    fast, forward = Qwen3MoeDecodeStep(model), ForwardStep(model)
    with torch.inference_mode():
        prompt = torch.tensor([PROMPT])
        logits, expected = fast.prefill(prompt), forward.prefill(prompt)
        for _ in range(70):
            assert torch.equal(logits, expected)
            token = int(expected.argmax())
            logits, expected = fast.step(token), forward.step(token)
        assert torch.equal(logits, expected)


def test_the_fast_step_runs_the_experts_implementation_in_use_and_their_hooks(tiny_model):
    model = tiny_model("qwen3_moe")
    sparse = [layer.mlp.experts for layer in model.model.layers if hasattr(layer.mlp, "experts")]
    calls: list[int] = []
    sparse[0].register_forward_hook(lambda module, args, output: calls.append(args[0].shape[0]))
    expected = reference(model, max_new_tokens=NEW_TOKENS)  # the default experts forward (grouped_mm)
    assert decode(model, NEW_TOKENS) == expected
    model.set_experts_implementation(DECODE)
    calls.clear()
    assert decode(model, NEW_TOKENS) == expected
    assert calls == [len(PROMPT)] + [1] * (NEW_TOKENS - 1)  # prefill, then every step


def test_the_fast_step_is_steered_and_captured_like_the_forward(tiny_model):
    with MoEEngine.from_model(tiny_model("qwen3_moe"), name="tiny") as engine:
        layers = {i: LayerSteering(off=[0, 1, 2]) for i in range(len(engine.layers))}
        with engine.steer(StageSteering(layers=layers)):
            steered = engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
            again = engine.generate(PROMPT, max_new_tokens=NEW_TOKENS)
            assert isinstance(decode_step(engine.model), Qwen3MoeDecodeStep)
            replay = engine.forward_trace([PROMPT + steered.token_ids[:-1]])
        assert again.token_ids == steered.token_ids
        for captured, replayed in zip(steered.trace.layers, replay.layers, strict=True):
            assert torch.equal(captured.selected, replayed.selected)
            assert not torch.isin(captured.selected, torch.tensor([0, 1, 2])).any()
            torch.testing.assert_close(captured.probs, replayed.probs, rtol=0, atol=1e-6)
        assert engine.generate(PROMPT, max_new_tokens=NEW_TOKENS).token_ids != steered.token_ids


def test_generate_asks_for_at_least_one_token(tiny_model):
    with (
        MoEEngine.from_model(tiny_model("mixtral"), name="tiny") as engine,
        pytest.raises(ValueError, match="at least 1"),
    ):
        engine.generate(PROMPT, max_new_tokens=0)
