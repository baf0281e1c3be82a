"""Collects what the router hooks saw during one model call and turns it into a ``RoutingTrace``.

Routers see tokens flattened: a forward over a ``[B, S]`` batch gives ``B*S`` rows per MoE layer; a
``generate`` call gives the prompt's rows at prefill, then one row per decode step. The hooks append
chunks - as they come, with no computation, since this runs at every decode step - and ``trace``
stitches them, drops padding rows, marks the slots of experts that contributed nothing (weight zeroed:
``NO_EXPERT``) and turns the logits into the router distribution in one go.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from studio.moe.routing import distribution
from studio.moe.specs import MoELayer, RoutingSpec
from studio.moe.trace import NO_EXPERT, LayerTrace, RoutingTrace


class Recorder:
    def __init__(self, spec: RoutingSpec, layers: Sequence[MoELayer]) -> None:
        self._spec = spec
        self._layers = layers
        # per MoE layer: chunks of (selected [n, k] long, weights [n, k], router logits [n, E], dropped
        # [E] bool or None: the experts whose weight the steering zeroed)
        self._chunks: list[list[tuple[Tensor, Tensor, Tensor, Tensor | None]]] = [[] for _ in layers]

    def add(self, moe_layer: int, selected: Tensor, weights: Tensor, logits: Tensor, dropped: Tensor | None) -> None:
        self._chunks[moe_layer].append((selected, weights, logits, dropped))

    def trace(self, token_ids: Tensor, sequence: Tensor, is_prompt: Tensor, keep: Tensor | None = None) -> RoutingTrace:
        """The routing of the ``R`` rows the model processed, in call order; ``keep`` [R] bool drops
        padding. ``token_ids``, ``sequence`` and ``is_prompt`` describe the kept rows."""
        layers = []
        for layer, chunks in zip(self._layers, self._chunks, strict=True):
            selected = torch.cat([s if d is None else s.masked_fill(d[s], NO_EXPERT) for s, _, _, d in chunks])
            weights = torch.cat([w for _, w, _, _ in chunks])
            logits = torch.cat([g for _, _, g, _ in chunks])
            if keep is not None:
                selected, weights, logits = selected[keep], weights[keep], logits[keep]
            if selected.shape[0] != token_ids.shape[0]:
                raise RuntimeError(
                    f"MoE layer {layer.index} routed {selected.shape[0]} tokens, expected {token_ids.shape[0]}"
                )
            probs = distribution(self._spec, logits)
            layers.append(LayerTrace(layer.index, layer.decoder_layer, selected, weights.float(), probs))
        return RoutingTrace(token_ids=token_ids, sequence=sequence, is_prompt=is_prompt, layers=layers)


def concatenate(traces: Sequence[RoutingTrace]) -> RoutingTrace | None:
    """One trace of several calls, sequence after sequence (sequence ids renumbered)."""
    if not traces:
        return None
    offsets, total = [], 0
    for trace in traces:
        offsets.append(total)
        total += int(trace.sequence.max()) + 1 if trace.num_tokens else 0
    first = traces[0]
    return RoutingTrace(
        token_ids=torch.cat([t.token_ids for t in traces]),
        sequence=torch.cat([t.sequence + off for t, off in zip(traces, offsets, strict=True)]),
        is_prompt=torch.cat([t.is_prompt for t in traces]),
        layers=[
            LayerTrace(
                layer.moe_layer,
                layer.decoder_layer,
                torch.cat([t.layers[i].selected for t in traces]),
                torch.cat([t.layers[i].weights for t in traces]),
                torch.cat([t.layers[i].probs for t in traces]),
            )
            for i, layer in enumerate(first.layers)
        ],
    )
