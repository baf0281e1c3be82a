"""What the router did: per MoE layer and per token, the selected experts, their weights and the full
router distribution. Captured during ``generate`` and forward passes (padding excluded) and read by
attribution, the studio's heatmaps and the run report."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

NO_EXPERT = -1  # a ``selected`` slot whose expert contributed nothing (its weight zeroed: dropped)


@dataclass
class LayerTrace:
    """One MoE layer over T tokens (k = the layer's top-k in force, E = its experts)."""

    moe_layer: int  # MoE-layer index (0-based; dense layers skipped)
    decoder_layer: int  # the decoder layer it sits in
    selected: torch.Tensor  # [T, k] long: expert ids chosen for each token; NO_EXPERT where a dropped one was
    weights: torch.Tensor  # [T, k] float32: their routing weights as the experts received them (0 if dropped)
    probs: torch.Tensor  # [T, E] float32: the full router distribution (softmax or sigmoid scores), unsteered

    def usage(self, num_experts: int | None = None) -> torch.Tensor:
        """[E] how many tokens selected each expert."""
        n = num_experts or self.probs.shape[-1]
        chosen = self.selected.reshape(-1)
        return torch.bincount(chosen[chosen != NO_EXPERT], minlength=n)

    def entropy(self) -> float:
        """Entropy (nats) of the expert-usage distribution: log(E) is perfectly balanced, 0 is one expert."""
        counts = self.usage().float()
        p = counts / counts.sum().clamp(min=1)
        return float(-(p[p > 0] * p[p > 0].log()).sum())


@dataclass
class RoutingTrace:
    """Routing of a batch of sequences; tokens are in sequence order, sequence after sequence."""

    token_ids: torch.Tensor  # [T] long
    sequence: torch.Tensor  # [T] long: which sequence of the batch each token belongs to
    is_prompt: torch.Tensor  # [T] bool: prompt token (True) or generated (False)
    layers: list[LayerTrace] = field(default_factory=list)

    @property
    def num_tokens(self) -> int:
        return int(self.token_ids.shape[0])

    def selected_mask(self, num_experts: int) -> torch.Tensor:
        """[L, T, E] bool: expert e selected for token t in MoE layer l."""
        masks = []
        for layer in self.layers:
            mask = torch.zeros(self.num_tokens, num_experts + 1, dtype=torch.bool)  # NO_EXPERT: the last column
            mask.scatter_(1, _slots(layer.selected, num_experts), True)
            masks.append(mask[:, :num_experts])
        return torch.stack(masks)

    def expert_weights(self, num_experts: int) -> torch.Tensor:
        """[L, T, E] float: routing weight each expert received for each token (0 where not selected)."""
        dense = []
        for layer in self.layers:
            w = torch.zeros(self.num_tokens, num_experts + 1, dtype=torch.float32)
            w.scatter_(1, _slots(layer.selected, num_experts), layer.weights.float())
            dense.append(w[:, :num_experts])
        return torch.stack(dense)


def _slots(selected: torch.Tensor, num_experts: int) -> torch.Tensor:
    """``selected`` with NO_EXPERT moved to column ``num_experts`` (a scatter target that is then cut off)."""
    return selected.masked_fill(selected == NO_EXPERT, num_experts)
