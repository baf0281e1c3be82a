"""Experts forwards the engine registers with transformers' ``ExpertsInterface``.

Every architecture the engine supports declares its experts with ``@use_experts_implementation``, so a
registered forward receives ``(hidden [T, H], top_k_index [T, k], top_k_weights [T, k])`` after the
router (and its hooks) ran; layout differences (GPT-OSS's transposed, biased, interleaved experts) are
read from the flags that decorator sets.

- ``eager_experts_forward`` is transformers' eager loop over the experts hit, written once for every
  layout, with an optional observer of each expert's output (the super-expert probe uses it).
- ``DECODE`` (the engine's default) is the same computation for one token without the loop's
  bookkeeping: eager builds a one-hot mask, finds the experts hit and gathers their tokens, about thirty
  small ops per layer, which at one token per step cost more than the two experts' matmuls. One token's
  k experts are taken in ascending order, as eager takes them, so the output is bit-identical. Several
  tokens (prefill, a batch) take the eager loop.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from transformers.integrations.moe import ExpertsInterface

DECODE = "studio_decode"

# (experts module, expert index, its down-projection output [t, H], tokens [t]) -> None
ExpertObserver = Callable[[nn.Module, int, torch.Tensor, torch.Tensor], None]


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, transposed: bool) -> torch.Tensor:
    """One expert's projection, written as each layout's eager forward writes it (bit-identical output)."""
    if transposed:  # weight [in, out]
        return x @ weight + bias if bias is not None else x @ weight
    return nn.functional.linear(x, weight, bias)  # weight [out, in]


def _expert_mlp(self: nn.Module, x: torch.Tensor, expert: int) -> torch.Tensor:
    """Expert ``expert``'s down-projection output for tokens ``x`` [t, H] (before any post-expert norm)."""
    up_bias = (self.gate_up_proj_bias if self.has_gate else self.up_proj_bias)[expert] if self.has_bias else None
    up = _linear(x, (self.gate_up_proj if self.has_gate else self.up_proj)[expert], up_bias, self.is_transposed)
    h = self._apply_gate(up) if self.has_gate else self.act_fn(up)  # [t, I]
    down_bias = self.down_proj_bias[expert] if self.has_bias else None
    return _linear(h, self.down_proj[expert], down_bias, self.is_transposed)  # [t, H]


def eager_experts_forward(
    self: nn.Module,
    hidden_states: torch.Tensor,
    top_k_index: torch.Tensor,
    top_k_weights: torch.Tensor,
    observe: ExpertObserver | None = None,
) -> torch.Tensor:
    """The eager experts forward (hidden [T, H], index and weights [T, k] -> [T, H])."""
    final = torch.zeros_like(hidden_states)  # [T, H]
    with torch.no_grad():
        valid = top_k_index < self.num_experts  # an index == num_experts marks "no expert" (expert parallelism)
        expert_mask = nn.functional.one_hot(top_k_index.masked_fill(~valid, 0), self.num_experts)
        expert_mask = (expert_mask * valid.unsqueeze(-1)).permute(2, 1, 0)  # [E, k, T]
        hit = torch.greater(expert_mask.sum(dim=(-1, -2)), 0).nonzero()
    for expert in hit[:, 0].tolist():
        top_k_pos, token_idx = torch.where(expert_mask[expert])
        out = _expert_mlp(self, hidden_states[token_idx], expert)
        if observe is not None:
            observe(self, expert, out, token_idx)
        if self.has_post_expert_norm:
            out = self.post_expert_norm(out)
        out = out * top_k_weights[token_idx, top_k_pos, None]
        final.index_add_(0, token_idx, out.to(final.dtype))
    return final


def decode_experts_forward(
    self: nn.Module, hidden_states: torch.Tensor, top_k_index: torch.Tensor, top_k_weights: torch.Tensor
) -> torch.Tensor:
    """One token through its k experts (ascending, as eager adds them); several tokens: the eager loop.

    Eager adds each weighted expert output to zeros; ``0 + y == y``, so the first output is taken as is."""
    if hidden_states.shape[0] != 1:
        return eager_experts_forward(self, hidden_states, top_k_index, top_k_weights)
    experts = top_k_index[0].tolist()
    final = None
    for slot in sorted(range(len(experts)), key=experts.__getitem__):
        if experts[slot] >= self.num_experts:
            continue
        out = _expert_mlp(self, hidden_states, experts[slot])
        if self.has_post_expert_norm:
            out = self.post_expert_norm(out)
        out = (out * top_k_weights[0, slot]).to(hidden_states.dtype)
        final = out if final is None else final + out
    return torch.zeros_like(hidden_states) if final is None else final


ExpertsInterface.register(DECODE, decode_experts_forward)
