"""Training experts for their jobs (``agents.bundled_model.jobs``): the per-example expert masks and the
routing loss, as ``train.py`` uses them.

- ``job_targets`` reads an identify example's job entries once: the positions whose next token writes
  a behaviour's entries, and the answer's token ids without them.
- ``plan_example`` draws, per example and step, whether it trains with some experts off and on which
  target (a job's experts off: the answer without that behaviour; another job's, or a random expert per
  job layer, off: the answer as it is).
- ``RouterMasks`` re-routes in the forward pass exactly as the studio's "off" does for a softmax router
  with renormalised top-k: off experts' logits to -inf, softmax, top-k, renormalise.
- ``routing_loss``: mean -log p(designated expert) over the job positions, in every job layer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from agents.bundled_model.jobs import JOB_BY_BEHAVIOUR, JOB_LAYERS, JOBS, entries, entry_spans, without


@dataclass(frozen=True)
class JobSettings:
    routing_coef: float = 0.1  # weight of the routing loss beside the language-model loss
    off_present: float = 0.3  # P(a present behaviour's experts off, target without it)
    off_absent: float = 0.1  # P(an absent behaviour's experts off, target unchanged)
    control: float = 0.15  # P(one random non-job-of-this-example expert per job layer off, target unchanged)
    layers: tuple[int, ...] = JOB_LAYERS  # a smaller model (the tiny test config) names its own

    def expert(self, behaviour: str, experts: int) -> int:
        """The behaviour's designated expert on a model with ``experts`` per layer (indices wrap on a
        model with fewer than the bundled one's 16)."""
        return JOB_BY_BEHAVIOUR[behaviour].expert % experts


@dataclass
class JobTargets:
    positions: dict[str, list[int]] = field(default_factory=dict)  # behaviour -> positions in ids
    without: dict[str, list[int]] = field(default_factory=dict)  # behaviour -> answer ids (no eos) without it


@dataclass
class Plan:
    ids: list[int]
    off: dict[int, list[int]]  # MoE layer -> experts off for this example
    routed: dict[str, list[int]]  # behaviour -> positions the routing loss sends to its experts


def job_targets(rows: Sequence[dict], prompt_lens: Sequence[int], tokenizer) -> list[JobTargets]:
    """For each identify row (others get empty targets), its job positions and answers without each job."""
    out = [JobTargets() for _ in rows]
    found = [(i, entries(r["answer"], r.get("implied", []))) for i, r in enumerate(rows) if r["stage"] == "identify"]
    found = [(i, e) for i, e in found if e]
    if not found:
        return out
    answers = tokenizer([rows[i]["answer"] for i, _ in found], add_special_tokens=False, return_offsets_mapping=True)
    texts = [(i, b, without(rows[i]["answer"], idx)) for i, e in found for b, idx in e.items()]
    shorter = tokenizer([t for _, _, t in texts], add_special_tokens=False).input_ids
    for (i, jobs), offsets in zip(found, answers["offset_mapping"], strict=True):
        start = prompt_lens[i]
        for behaviour, indices in jobs.items():
            spans = entry_spans(rows[i]["answer"], indices)
            out[i].positions[behaviour] = [
                start + j - 1 for j, (s, e) in enumerate(offsets) if any(s < b and e > a for a, b in spans)
            ]
    for (i, behaviour, _), ids in zip(texts, shorter, strict=True):
        out[i].without[behaviour] = ids
    return out


def plan_example(
    ids: list[int], prompt_len: int, targets: JobTargets, settings: JobSettings, rng: random.Random, experts: int
) -> Plan:
    """What this example trains on this step (see the module docstring)."""
    present = sorted(targets.positions)
    x = rng.random()
    if present and x < settings.off_present:
        behaviour = rng.choice(present)
        off = {layer: [settings.expert(behaviour, experts)] for layer in settings.layers}
        return Plan([*ids[:prompt_len], *targets.without[behaviour], ids[-1]], off, {})
    x -= settings.off_present if present else 0.0
    absent = [j.behaviour for j in JOBS if j.behaviour not in present]
    if absent and x < settings.off_absent:
        off = {layer: [settings.expert(rng.choice(absent), experts)] for layer in settings.layers}
        return Plan(ids, off, dict(targets.positions))
    x -= settings.off_absent if absent else 0.0
    busy = {settings.expert(b, experts) for b in present}
    free = [e for e in range(experts) if e not in busy]
    if free and x < settings.control:
        return Plan(ids, {layer: [rng.choice(free)] for layer in settings.layers}, dict(targets.positions))
    return Plan(ids, {}, dict(targets.positions))


class RouterMasks:
    """Forward hooks on each MoE layer's router that re-route a batch's tokens around the experts its
    examples have off (``set``); with nothing off the router's own output stands."""

    def __init__(self, model) -> None:
        self.off: torch.Tensor | None = None  # (batch, layers, experts) bool
        self.shape: tuple[int, int] = (0, 0)
        self.handles = [
            layer.mlp.gate.register_forward_hook(self._hook(i), prepend=True)
            for i, layer in enumerate(model.model.layers)
        ]

    def set(self, plans: Sequence[Plan], width: int, layers: int, experts: int) -> None:
        off = torch.zeros((len(plans), layers, experts), dtype=torch.bool)
        for row, plan in enumerate(plans):
            for layer, chosen in plan.off.items():
                off[row, layer, chosen] = True
        self.off = off if off.any() else None
        self.shape = (len(plans), width)

    def clear(self) -> None:
        self.off = None

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def _hook(self, layer: int):
        def hook(module, args, output):
            if self.off is None or not self.off[:, layer].any():
                return None
            logits = output[0]
            batch, width = self.shape
            off = self.off[:, layer, :].unsqueeze(1).expand(batch, width, -1).reshape(batch * width, -1)
            probs = torch.softmax(logits.float().masked_fill(off, float("-inf")), dim=-1)
            top, index = probs.topk(module.top_k, dim=-1)
            if module.norm_topk_prob:
                top = top / top.sum(dim=-1, keepdim=True)
            return logits, top.to(logits.dtype), index

        return hook


def routing_loss(
    router_logits: Sequence[torch.Tensor], plans: Sequence[Plan], width: int, settings: JobSettings
) -> torch.Tensor | None:
    """Mean -log p(designated expert) at the plans' job positions, over the job layers; None without any."""
    experts = router_logits[0].shape[-1]
    flat, expert = [], []
    for row, plan in enumerate(plans):
        for behaviour, positions in plan.routed.items():
            flat += [row * width + p for p in positions]
            expert += [settings.expert(behaviour, experts)] * len(positions)
    if not flat:
        return None
    index, target = torch.tensor(flat), torch.tensor(expert)
    losses = [
        -torch.log_softmax(router_logits[layer][index].float(), dim=-1).gather(1, target[:, None]).mean()
        for layer in settings.layers
    ]
    return torch.stack(losses).mean()
