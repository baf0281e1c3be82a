"""A one-token decode step for Qwen3-MoE (the bundled model's class), and the step the engine picks.

``Qwen3MoeDecodeStep`` computes transformers' one-token step from the model's own parameters in fewer
ops (q/k/v in one matmul, heads normed and rotated together, key/value buffers that grow by doubling),
with logits bit-identical to the model's forward (tested). Everything MoE goes through the model's own
modules (``mlp.gate``, then its experts forward), so the engine's router hooks steer and capture as in
any forward. Any other architecture or setting (sliding window, attention biases, scaled rotary
embeddings, a dtype other than float32, attention other than sdpa, weights sharded by a parallel plan)
decodes with ``ForwardStep``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import PreTrainedModel
from transformers.integrations.moe import ALL_EXPERTS_FUNCTIONS
from transformers.models.qwen3_moe.modeling_qwen3_moe import (
    Qwen3MoeForCausalLM,
    Qwen3MoeMLP,
    Qwen3MoeSparseMoeBlock,
)

from studio.moe.distributed import is_sharded
from studio.moe.greedy import DecodeStep, ForwardStep

# q/k/v weights (elements, all layers) up to which they are stacked into one matmul at each generation:
# the bundled model has 0.8M; a hub model's (a 30B has ~500M) would cost more to copy than it saves
FUSE_LIMIT = 16 * 2**20


def decode_step(model: PreTrainedModel) -> DecodeStep:
    """The fastest step that computes exactly what ``model``'s forward computes."""
    return Qwen3MoeDecodeStep(model) if Qwen3MoeDecodeStep.supports(model) else ForwardStep(model)


def _projections(attention: nn.Module) -> tuple[Tensor, Tensor, Tensor]:
    """The q, k and v projection weights, in the order they are stacked."""
    return attention.q_proj.weight, attention.k_proj.weight, attention.v_proj.weight


def _rms_norm(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    """Qwen3MoeRMSNorm's arithmetic for float32 input, op for op."""
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def _rotate_half_matrix(head_dim: int) -> Tensor:
    """R with ``x @ R == rotate_half(x)`` = cat(-x2, x1)."""
    half = head_dim // 2
    rotate = torch.zeros(head_dim, head_dim)
    rotate[torch.arange(half) + half, torch.arange(half)] = -1.0
    rotate[torch.arange(half), torch.arange(half) + half] = 1.0
    return rotate


@dataclass
class _Layer:
    attention: nn.Module
    input_norm: Tensor
    post_norm: Tensor
    qk_norm: Tensor  # [heads + kv heads, 1, head_dim]: q_norm's weight for query heads, k_norm's for key heads
    qkv: Tensor | None  # q, k and v projections stacked (one matmul), when small enough to copy per generation
    mlp: nn.Module  # a sparse block (router and experts called below) or a dense MLP
    experts: Callable[[Tensor, Tensor, Tensor], Tensor] | None  # the experts forward in use, bound to its module


def _experts_call(experts: nn.Module) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    """The registered experts forward the module would dispatch to, bound to it (skipping the dispatch
    wrapper's per-call config lookup); the module itself for eager or when it carries hooks."""
    forward = ALL_EXPERTS_FUNCTIONS.get_interface(experts.config._experts_implementation, None)
    if forward is None or experts._forward_hooks or experts._forward_pre_hooks:
        return experts
    return partial(forward, experts)


class Qwen3MoeDecodeStep:
    """``DecodeStep`` for a ``Qwen3MoeForCausalLM`` on float32 weights with sdpa attention."""

    @staticmethod
    def supports(model: PreTrainedModel) -> bool:
        config = model.config
        return (
            isinstance(model, Qwen3MoeForCausalLM)
            and model.dtype == torch.float32
            and config._attn_implementation == "sdpa"
            and not config.attention_bias
            and not (config.use_sliding_window and config.sliding_window)
            and config.rope_parameters.get("rope_type", "default") == "default"  # cos/sin fixed per position
            and all(isinstance(layer.mlp, Qwen3MoeSparseMoeBlock | Qwen3MoeMLP) for layer in model.model.layers)
            and not is_sharded(model)  # it reads whole weights; a parallel plan's forward does the collectives
        )

    def __init__(self, model: PreTrainedModel) -> None:
        config = model.config
        self._model = model
        self._heads, self._kv_heads = config.num_attention_heads, config.num_key_value_heads
        self._head_dim = config.head_dim
        self._eps = config.rms_norm_eps
        self._rotate = _rotate_half_matrix(self._head_dim)
        stacked = sum(w.numel() for layer in model.model.layers for w in _projections(layer.self_attn))
        fuse = stacked <= FUSE_LIMIT
        self._layers = [self._layer(layer, fuse) for layer in model.model.layers]
        # per layer [kv heads, capacity, head_dim], filled up to ``_length``; capacity doubles when full
        # (transformers' cache concatenates at every step: a copy of the whole cache per token and layer)
        self._keys: list[Tensor] = []
        self._values: list[Tensor] = []
        self._cos = self._sin = torch.empty(0)  # [capacity, head_dim]: the rotary module's, per position
        self._length = 0

    def _layer(self, layer: nn.Module, fuse: bool) -> _Layer:
        attention, sparse = layer.self_attn, isinstance(layer.mlp, Qwen3MoeSparseMoeBlock)
        return _Layer(
            attention=attention,
            input_norm=layer.input_layernorm.weight,
            post_norm=layer.post_attention_layernorm.weight,
            qk_norm=torch.cat(
                (attention.q_norm.weight.expand(self._heads, -1), attention.k_norm.weight.expand(self._kv_heads, -1))
            ).unsqueeze(1),
            qkv=torch.cat(_projections(attention)) if fuse else None,
            mlp=layer.mlp,
            experts=_experts_call(layer.mlp.experts) if sparse else None,
        )

    def prefill(self, prompt_ids: Tensor) -> Tensor:
        output = self._model(input_ids=prompt_ids, use_cache=True, logits_to_keep=1)
        self._keys = [layer.keys[0] for layer in output.cache.layers]
        self._values = [layer.values[0] for layer in output.cache.layers]
        self._length = prompt_ids.shape[1]
        self._grow()
        return output.logits[0, -1]

    def _grow(self) -> None:
        """Room for twice the tokens so far (at least 64): cache buffers and rotary table."""
        length = self._length
        capacity = max(64, 2 * length)
        for cache in (self._keys, self._values):
            for index, filled in enumerate(cache):
                cache[index] = filled.new_empty(filled.shape[0], capacity, filled.shape[2])
                cache[index][:, :length] = filled[:, :length]
        positions = torch.arange(capacity)[None]
        cos, sin = self._model.model.rotary_emb(self._keys[0], positions)  # [1, capacity, head_dim]
        self._cos, self._sin = cos[0], sin[0]

    def step(self, token: int) -> Tensor:
        if self._length == self._cos.shape[0]:
            self._grow()
        base = self._model.model
        hidden = base.embed_tokens.weight[token : token + 1]  # [1, hidden]
        cos, sin = self._cos[self._length], self._sin[self._length]  # [head_dim]
        for index, layer in enumerate(self._layers):
            hidden = hidden + self._attention(index, layer, _rms_norm(hidden, layer.input_norm, self._eps), cos, sin)
            hidden = hidden + self._mlp(layer, _rms_norm(hidden, layer.post_norm, self._eps))
        self._length += 1
        return self._model.lm_head(_rms_norm(hidden, base.norm.weight, self._eps))[0]

    def _attention(self, index: int, layer: _Layer, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
        attention, heads, kv_heads, head_dim = layer.attention, self._heads, self._kv_heads, self._head_dim
        if layer.qkv is not None:
            query_key, value = (
                F.linear(x, layer.qkv).view(heads + 2 * kv_heads, 1, head_dim).split((heads + kv_heads, kv_heads))
            )
        else:
            query = F.linear(x, attention.q_proj.weight).view(heads, 1, head_dim)
            key = F.linear(x, attention.k_proj.weight).view(kv_heads, 1, head_dim)
            query_key = torch.cat((query, key))
            value = F.linear(x, attention.v_proj.weight).view(kv_heads, 1, head_dim)
        query_key = _rms_norm(query_key, layer.qk_norm, self._eps)
        query_key = query_key * cos + (query_key @ self._rotate) * sin
        query, key = query_key.split((heads, kv_heads))
        length = self._length
        keys, values = self._keys[index], self._values[index]
        keys[:, length] = key[:, 0]
        values[:, length] = value[:, 0]
        out = F.scaled_dot_product_attention(
            query[None],
            keys[None, :, : length + 1],
            values[None, :, : length + 1],
            scale=attention.scaling,
            enable_gqa=True,
        )  # [1, heads, 1, head_dim]
        return F.linear(out.view(1, heads * head_dim), attention.o_proj.weight)

    @staticmethod
    def _mlp(layer: _Layer, x: Tensor) -> Tensor:
        if layer.experts is None:
            return layer.mlp(x)
        _, weights, selected = layer.mlp.gate(x)
        return layer.experts(x, selected, weights)
