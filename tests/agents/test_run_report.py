"""The run report's routing summaries: usage and per-token experts leave out what steering dropped."""

from __future__ import annotations

import torch

from agents.run_report import summarise, token_routing
from studio.moe.trace import NO_EXPERT, LayerTrace, RoutingTrace


def test_a_dropped_expert_is_neither_counted_nor_listed():
    # three tokens, top-2 of 4 experts; the first token is the prompt's
    selected = torch.tensor([[0, 1], [2, NO_EXPERT], [NO_EXPERT, NO_EXPERT]])
    weights = torch.tensor([[0.6, 0.4], [0.7, 0.0], [0.0, 0.0]])
    layer = LayerTrace(0, 0, selected, weights, torch.full((3, 4), 0.25))
    trace = RoutingTrace(torch.tensor([5, 6, 7]), torch.zeros(3, dtype=torch.long), torch.ones(3, dtype=torch.bool))
    trace.layers = [layer]

    summary = summarise(trace, prompt_tokens=1, num_experts=4)
    assert summary.tokens == 3 and summary.usage == [[1, 1, 1, 0]]
    routing = token_routing(trace, prompt_tokens=1, pieces=["a", "b", "c"])
    assert routing.experts == [[[0, 1]], [[2]], [[]]]
    assert routing.weights == [[[0.6, 0.4]], [[0.7]], [[]]]
