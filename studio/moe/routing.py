"""Routing math: a steering section compiled to per-layer tensors once, and the re-computation of a
router's choice under it, written per scoring family from ``RoutingSpec``.

Steering semantics (the same on every architecture):
- selection runs on the architecture's own selection scores - logits for softmax routers (softmax is
  monotone), sigmoid + correction bias for sigmoid routers - plus the user's additive bias; off experts
  are excluded (re-route), forced experts always make the cut, group limits hold where possible;
- the weights of whatever was selected come from the UNBIASED scores with the architecture's own
  normalisation, so forcing or biasing an expert never inflates its weight;
- in re-route mode the off experts are out of the distribution the weights come from too, as in
  SteerMoE (a softmax over the remaining experts): where the router does not renormalise its top-k
  (OLMoE, Qwen2-MoE with ``norm_topk_prob=False``) and in PhiMoE's ``sparsemixer``, the chosen experts
  get the off experts' probability mass instead of losing it;
- ``scale`` then multiplies an expert's weight; in drop mode an off expert stays selectable but its
  weight is zeroed, with no replacement and no renormalisation. An expert whose weight is zeroed (off in
  drop mode, or scaled by 0) contributes nothing, so traces do not report it as selected (``dropped``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from studio.moe.profile import LayerSteering, Mode, ProfileError, StageSteering
from studio.moe.specs import MoEInfo, RoutingSpec, attribute

FORCED = 1e4  # added to a forced expert's selection score: above any real score
OUT_OF_GROUP = 1e3  # taken from experts outside the chosen groups: below any in-group expert


@dataclass(frozen=True)
class LayerPlan:
    """One MoE layer's steering as tensors (E = experts)."""

    top_k: int  # experts chosen per token
    reroute: bool  # selection must be recomputed (bias, force, off in re-route mode, or a new k)
    offset: Tensor  # [E] float32: bias, +FORCED for forced, -inf for off (re-route mode)
    excluded: Tensor | None  # [E] bool: off experts in re-route mode, left out of the weights too; None if none
    multiplier: Tensor | None  # [E] float32: scale, and 0 for off experts in drop mode; None if all 1
    dropped: Tensor | None  # [E] bool: experts whose weight is zeroed (multiplier 0); None if none
    shared_off: bool


def compile_plans(steering: StageSteering, mode: Mode, info: MoEInfo) -> dict[int, LayerPlan]:
    """Plans for the steered MoE layers (unsteered layers are absent: their hooks do nothing)."""
    return {index: _plan(index, steer, mode, info) for index, steer in steering.layers.items() if not steer.is_empty}


def _plan(index: int, steer: LayerSteering, mode: Mode, info: MoEInfo) -> LayerPlan:
    n = info.num_experts
    if info.fixed_top_k and steer.top_k not in (None, info.top_k):  # what the profile cannot know of the model
        raise ProfileError(
            f"MoE layer {index}: {info.architecture} always routes to {info.top_k} experts; top_k {steer.top_k} "
            "cannot be applied"
        )
    native_k = info.top_k  # every MoE layer's router picks this many (``describe`` checks)
    top_k = steer.top_k or native_k
    enabled = n - len(steer.off) if mode == "reroute" else n  # >= 1 and >= the forced: SteeringProfile.problems
    if top_k > enabled:
        warnings.warn(
            f"MoE layer {index}: top_k {top_k} > the {enabled} experts left enabled; clamped to {enabled}",
            RuntimeWarning,
            stacklevel=4,
        )
        top_k = enabled

    offset = torch.zeros(n)
    for expert, bias in steer.bias.items():
        offset[expert] += bias
    offset[steer.force] += FORCED
    excluded = None
    if mode == "reroute" and steer.off:
        offset[steer.off] = float("-inf")
        excluded = torch.zeros(n, dtype=torch.bool)
        excluded[steer.off] = True

    multiplier = torch.ones(n)
    for expert, scale in steer.scale.items():
        multiplier[expert] = scale
    if mode == "drop":
        multiplier[steer.off] = 0.0
    dropped = multiplier == 0
    return LayerPlan(
        top_k=top_k,
        reroute=bool(offset.any()) or top_k != native_k,
        offset=offset,
        excluded=excluded,
        multiplier=None if bool((multiplier == 1).all()) else multiplier,
        dropped=dropped if bool(dropped.any()) else None,
        shared_off=steer.shared_off,
    )


def distribution(spec: RoutingSpec, logits: Tensor) -> Tensor:
    """[N, E] float32: the full router distribution (what traces report as ``probs``)."""
    logits = logits.float()
    if spec.logits_are_probs:
        return logits
    return logits.softmax(dim=-1) if spec.scoring == "softmax" else logits.sigmoid()


def route(
    spec: RoutingSpec, router: nn.Module, args: tuple, logits: Tensor, plan: LayerPlan, weights_dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    """The router's choice recomputed under ``plan``: (indices [N, k] long, weights [N, k])."""
    logits = logits.float()  # [N, E]
    choice = (logits if spec.selection == "logits" else distribution(spec, logits)) + plan.offset
    correction = _correction_bias(spec, router, args)
    if correction is not None:
        choice = choice + correction
    if spec.grouped and _groups_apply(router):
        choice = _limit_to_groups(choice, int(router.num_group), int(router.topk_group), spec.group_score == "max")
    indices = choice.topk(plan.top_k, dim=-1).indices  # [N, k]
    weights = expert_weights(spec, router, logits, indices, plan.excluded)
    return indices, weights.to(weights_dtype)


def expert_weights(
    spec: RoutingSpec, router: nn.Module, logits: Tensor, indices: Tensor, excluded: Tensor | None = None
) -> Tensor:
    """[N, k] float32 weights of the experts in ``indices``, from the unbiased fp32 ``logits``, with the
    ``excluded`` experts ([E] bool: off, re-route mode) out of the distribution (their logits -inf).

    Runs on every decode step of every steered layer, so it takes the fewest ops: a softmax
    renormalised over the chosen experts is a softmax of their logits (the excluded never among them),
    and sigmoids, one per expert, are only taken of the chosen ones."""
    if spec.weighting == "sparsemixer":
        weights = _sparsemixer_weights(logits, indices, float(router.router_jitter_noise), excluded)
    elif spec.weighting == "sigmoid":
        weights = logits.gather(1, indices).sigmoid()
        if _renormalises(spec, router):
            weights = weights / (weights.sum(dim=-1, keepdim=True) + spec.renormalise_eps)
    elif spec.logits_are_probs:  # the reported "logits" are the softmax already
        weights = logits.gather(1, indices)
        if _renormalises(spec, router):
            weights = weights / weights.sum(dim=-1, keepdim=True)
        elif excluded is not None:  # the chosen share the excluded experts' mass
            weights = weights / logits.masked_fill(excluded, 0.0).sum(dim=-1, keepdim=True)
    elif spec.weighting == "softmax_of_topk" or _renormalises(spec, router):
        weights = logits.gather(1, indices).softmax(dim=-1)
    else:
        if excluded is not None:
            logits = logits.masked_fill(excluded, float("-inf"))
        weights = logits.softmax(dim=-1).gather(1, indices)
    return _scaled(spec, router, weights, indices)


def _renormalises(spec: RoutingSpec, router: nn.Module) -> bool:
    return spec.always_renormalise or bool(getattr(router, "norm_topk_prob", False))


def _scaled(spec: RoutingSpec, router: nn.Module, weights: Tensor, indices: Tensor) -> Tensor:
    """The router's own scaling of its weights: one factor for all (``scale_attr``), one per expert."""
    if spec.scale_attr is not None:
        scaling = attribute(router, spec.scale_attr, 1.0)
        if isinstance(scaling, Tensor) or float(scaling) != 1.0:
            weights = weights * scaling
    if spec.expert_scale_attr is not None:
        weights = weights * attribute(router, spec.expert_scale_attr)[indices].float()
    return weights


def rescale(weights: Tensor, indices: Tensor, multiplier: Tensor) -> Tensor:
    """Each chosen expert's weight times its multiplier (scale; 0 for an off expert in drop mode)."""
    return weights * multiplier[indices].to(weights.dtype)


def _correction_bias(spec: RoutingSpec, router: nn.Module, args: tuple) -> Tensor | None:
    if spec.correction_bias_attr is not None:
        return attribute(router, spec.correction_bias_attr)
    if spec.correction_bias_arg is not None and len(args) > spec.correction_bias_arg:
        return args[spec.correction_bias_arg]
    return None


def _groups_apply(router: nn.Module) -> bool:
    """Whether this router limits its choice to groups: it has more than one, and (DeepSeek-V2) its
    ``topk_method`` is not plain ``greedy``."""
    groups = getattr(router, "num_group", None)
    return groups is not None and int(groups) > 1 and getattr(router, "topk_method", None) != "greedy"


def _limit_to_groups(choice: Tensor, n_group: int, topk_group: int, by_best: bool) -> Tensor:
    """Group-limited routing (DeepSeek-V2/V3): groups ranked by the sum of their two best scores (or
    ``by_best``: their best), experts outside the ``topk_group`` best pushed below every in-group expert
    (not removed, so k can always be met by enabled experts; a forced expert stays above all)."""
    tokens, n_experts = choice.shape
    grouped = choice.view(tokens, n_group, n_experts // n_group)  # [N, G, E/G]
    group_scores = grouped.amax(dim=-1) if by_best else grouped.topk(2, dim=-1).values.sum(dim=-1)  # [N, G]
    chosen = torch.zeros_like(group_scores, dtype=torch.bool)
    chosen.scatter_(1, group_scores.topk(topk_group, dim=-1).indices, True)
    outside = ~chosen.repeat_interleave(n_experts // n_group, dim=1)  # [N, E]
    return choice - outside * OUT_OF_GROUP


def _sparsemixer_weights(logits: Tensor, indices: Tensor, jitter_eps: float, excluded: Tensor | None) -> Tensor:
    """PhiMoE's inference-time ``sparsemixer`` weights for any chosen experts: for the r-th choice, a
    softmax over the experts not yet chosen (nor ``excluded``) whose logits are within ``2 * jitter_eps``
    (relative) of the chosen one's. With the router's own choice this is exactly transformers'
    computation, and with experts excluded it is that computation on logits where theirs are -inf."""
    remaining = logits if excluded is None else logits.masked_fill(excluded, float("-inf"))
    weights = []
    for rank in range(indices.shape[1]):
        chosen = indices[:, rank : rank + 1]  # [N, 1]
        reference = logits.gather(1, chosen)
        factor = logits.abs().clamp(min=reference)
        too_far = (reference - logits) / factor > 2 * jitter_eps
        gates = remaining.masked_fill(too_far, float("-inf")).softmax(dim=-1)
        weights.append(gates.gather(1, chosen))
        remaining = remaining.scatter(1, chosen, float("-inf"))
    return torch.cat(weights, dim=1)
