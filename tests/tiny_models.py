"""Tiny random MoE causal LMs, one per architecture transformers 5 ships, built offline from their
configs (no download). Shared by the MoE engine, attribution and CLI tests.

Every model is small (hidden 32, 2-3 decoder layers, 4-8 experts, vocab 128) and deterministic for a
given seed. Where an architecture can mix dense and MoE layers, the tiny model does, so the
decoder-layer <-> MoE-layer mapping is exercised. ``initializer_range`` is raised from 0.02 so the
routers make clear-cut choices and steering visibly changes the output.

Use ``ARCHITECTURES`` / ``tiny_model`` directly, or the ``arch`` fixture (parametrised over every
architecture) with the ``tiny_model`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import transformers
from transformers import PreTrainedModel

VOCAB = 128
_COMMON: dict[str, Any] = {
    "vocab_size": VOCAB,
    "hidden_size": 32,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 256,
    "initializer_range": 0.2,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": None,  # never stop early: generation lengths stay fixed in tests
    "tie_word_embeddings": False,
}

# config class name, CausalLM class name, architecture-specific settings
_CONFIGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "mixtral": (
        "MixtralConfig",
        "MixtralForCausalLM",
        {"num_hidden_layers": 2, "intermediate_size": 32, "num_local_experts": 4, "num_experts_per_tok": 2},
    ),
    "qwen2_moe": (
        "Qwen2MoeConfig",
        "Qwen2MoeForCausalLM",
        {
            "num_hidden_layers": 3,
            "intermediate_size": 32,
            "moe_intermediate_size": 16,
            "shared_expert_intermediate_size": 32,
            "num_experts": 6,
            "num_experts_per_tok": 2,
            "mlp_only_layers": [1],  # decoder layer 1 is dense
        },
    ),
    "qwen3_moe": (
        "Qwen3MoeConfig",
        "Qwen3MoeForCausalLM",
        {
            "num_hidden_layers": 3,
            "head_dim": 8,
            "intermediate_size": 32,
            "moe_intermediate_size": 16,
            "num_experts": 8,
            "num_experts_per_tok": 2,
            "norm_topk_prob": True,
            "mlp_only_layers": [0],  # decoder layer 0 is dense
        },
    ),
    "olmoe": (
        "OlmoeConfig",
        "OlmoeForCausalLM",
        {"num_hidden_layers": 2, "intermediate_size": 16, "num_experts": 8, "num_experts_per_tok": 2},
    ),
    "deepseek_v3": (
        "DeepseekV3Config",
        "DeepseekV3ForCausalLM",
        {
            "num_hidden_layers": 3,
            "first_k_dense_replace": 1,  # decoder layer 0 is dense
            "intermediate_size": 32,
            "moe_intermediate_size": 16,
            "n_routed_experts": 8,
            "n_shared_experts": 1,
            "num_experts_per_tok": 2,
            "n_group": 2,
            "topk_group": 1,
            "routed_scaling_factor": 2.5,
            "norm_topk_prob": True,
            "num_key_value_heads": 4,  # multi-head latent attention: one KV head per query head
            "q_lora_rank": None,
            "kv_lora_rank": 16,
            "qk_rope_head_dim": 4,
            "qk_nope_head_dim": 4,
            "v_head_dim": 8,
            "rope_interleave": False,
        },
    ),
    "gpt_oss": (
        "GptOssConfig",
        "GptOssForCausalLM",
        {
            "num_hidden_layers": 2,
            "head_dim": 8,
            "intermediate_size": 16,
            "num_local_experts": 4,
            "num_experts_per_tok": 2,
            "sliding_window": 16,
            "layer_types": ["sliding_attention", "full_attention"],
            "rope_parameters": {"rope_type": "default", "rope_theta": 150000.0},  # no YaRN at this size
        },
    ),
    "granitemoe": (
        "GraniteMoeConfig",
        "GraniteMoeForCausalLM",
        {"num_hidden_layers": 2, "intermediate_size": 16, "num_local_experts": 4, "num_experts_per_tok": 2},
    ),
    "phimoe": (
        "PhimoeConfig",
        "PhimoeForCausalLM",
        {"num_hidden_layers": 2, "intermediate_size": 16, "num_local_experts": 4, "num_experts_per_tok": 2},
    ),
    "lfm2_moe": (
        "Lfm2MoeConfig",
        "Lfm2MoeForCausalLM",
        {
            "num_hidden_layers": 3,
            "num_dense_layers": 1,  # decoder layer 0 is dense
            "intermediate_size": 32,
            "moe_intermediate_size": 16,
            "num_experts": 8,
            "num_experts_per_tok": 2,
            "layer_types": ["conv", "full_attention", "conv"],
        },
    ),
}

ARCHITECTURES: tuple[str, ...] = tuple(_CONFIGS)


def tiny_config(arch: str, **overrides: Any) -> transformers.PretrainedConfig:
    config_name, _, settings = _CONFIGS[arch]
    return getattr(transformers, config_name)(**{**_COMMON, **settings, **overrides})


def tiny_model(arch: str, seed: int = 0, **overrides: Any) -> PreTrainedModel:
    """A freshly initialised tiny ``arch`` causal LM in eval mode; same seed, same weights.

    Routers whose scores carry a selection-only correction bias (DeepSeek-V3, LFM2-MoE) get a
    non-zero one, so tests see the bias steer selection but not the weights."""
    _, model_name, _ = _CONFIGS[arch]
    torch.manual_seed(seed)
    model = getattr(transformers, model_name)(tiny_config(arch, **overrides)).eval()
    generator = torch.Generator().manual_seed(seed)
    for name, buffer in model.named_buffers():
        if name.endswith(("e_score_correction_bias", "expert_bias")):
            buffer.copy_(0.05 * torch.randn(buffer.shape, generator=generator))
    return model


@pytest.fixture(params=ARCHITECTURES)
def arch(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(name="tiny_model")
def tiny_model_fixture() -> Callable[..., PreTrainedModel]:
    return tiny_model
