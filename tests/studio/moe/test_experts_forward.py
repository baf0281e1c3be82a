"""The engine's experts forward: transformers' eager computation bit for bit, on every architecture."""

from __future__ import annotations

import torch

from studio.moe.engine import MoEEngine
from studio.moe.experts_forward import DECODE

PROMPT = torch.tensor([[1, 5, 9, 33, 70, 12, 4]])


def _greedy(model, implementation: str) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.set_experts_implementation(implementation)
    with torch.inference_mode():
        out = model.generate(
            PROMPT,
            attention_mask=torch.ones_like(PROMPT),
            max_new_tokens=12,
            min_new_tokens=12,
            do_sample=False,
            output_logits=True,
            return_dict_in_generate=True,
            pad_token_id=0,
        )
    return out.sequences, list(out.logits)


def test_decoding_gives_the_eager_logits_bit_for_bit(arch, tiny_model):
    model = tiny_model(arch)
    eager_ids, eager_logits = _greedy(model, "eager")
    ids, logits = _greedy(model, DECODE)
    assert torch.equal(ids, eager_ids)
    assert all(torch.equal(a, b) for a, b in zip(logits, eager_logits, strict=True))  # prefill and every step


def test_the_engine_runs_its_models_on_the_decode_forward(tiny_model):
    engine = MoEEngine.from_model(tiny_model("qwen3_moe"), name="tiny")
    assert set(engine.model.get_experts_implementation().values()) == {DECODE}
    engine.close()
