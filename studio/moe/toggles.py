"""Edit a steering profile one switch at a time, the way the studio's expert grid does: an expert of
one MoE layer, in one stage section, is ``on`` (routed as the model likes), ``off`` or ``force`` (forced
on); each layer may have its own top-k; the profile has one mode. Every edit returns a new profile and
refuses a layer or expert that does not exist; whether the router can honour the result is the
profile's own check (``SteeringProfile.problems``, made by ``check_model`` wherever a profile runs).

    profile = empty_profile(engine.info.identity())
    profile = set_expert(profile, "reason", layer=0, expert=3, state="off")
    first_affected_stage(before, profile)   # "reason": the pipeline re-runs from there
"""

from __future__ import annotations

from typing import Literal, get_args

from components_db.refusal import Refusal
from studio.moe.profile import (
    STAGES,
    LayerSteering,
    Mode,
    ModelIdentity,
    Stage,
    StageSteering,
    SteeringProfile,
    missing_layer,
)

ExpertState = Literal["on", "off", "force"]
CYCLE: dict[ExpertState, ExpertState] = {"on": "off", "off": "force", "force": "on"}
SECTIONS: tuple[Stage, ...] = ("*", "identify", "reason", "synthesize")


class ToggleError(Refusal, ValueError):
    """A switch the router could not honour (every expert off, more experts forced than it picks)."""


def empty_profile(model: ModelIdentity, name: str = "my-profile") -> SteeringProfile:
    return SteeringProfile(name=name, description="made in the studio's expert grid", model=model)


def layer_steering(profile: SteeringProfile, stage: Stage, layer: int) -> LayerSteering:
    """What ``stage``'s own section says for ``layer`` (not merged with ``*``)."""
    _check_section(stage)
    section = profile.stages.get(stage)
    return section.layers.get(layer, LayerSteering()) if section else LayerSteering()


def expert_state(profile: SteeringProfile, stage: Stage, layer: int, expert: int) -> ExpertState:
    steer = layer_steering(profile, stage, layer)
    if expert in steer.off:
        return "off"
    return "force" if expert in steer.force else "on"


def grid(profile: SteeringProfile, stage: Stage) -> list[list[ExpertState]]:
    """[MoE layer][expert] states of one section."""
    model = profile.model
    return [
        [expert_state(profile, stage, layer, expert) for expert in range(model.experts_per_layer)]
        for layer in range(len(model.moe_layers))
    ]


def set_expert(profile: SteeringProfile, stage: Stage, layer: int, expert: int, state: ExpertState) -> SteeringProfile:
    """``profile`` with one expert of one section's layer switched to ``state``."""
    _check_position(profile, layer, expert)
    if state not in CYCLE:
        raise ToggleError(f"an expert is on, off or force, not {_shown(state)}")
    steer = layer_steering(profile, stage, layer)
    off = sorted(set(steer.off) - {expert} | ({expert} if state == "off" else set()))
    force = sorted(set(steer.force) - {expert} | ({expert} if state == "force" else set()))
    return _with_layer(profile, stage, layer, steer.model_copy(update={"off": off, "force": force}))


def set_top_k(profile: SteeringProfile, stage: Stage, layer: int | None, top_k: int | None) -> SteeringProfile:
    """Experts per token for one layer (``None``: every layer); ``top_k`` None restores the model's."""
    n = profile.model.experts_per_layer
    if top_k is not None and not 1 <= top_k <= n:
        raise ToggleError(f"top-k must be between 1 and {n} (the experts per layer)")
    layers = range(len(profile.model.moe_layers)) if layer is None else [layer]
    for index in layers:
        _check_position(profile, index, 0)
        steer = layer_steering(profile, stage, index)
        profile = _with_layer(profile, stage, index, steer.model_copy(update={"top_k": top_k}))
    return profile


def set_mode(profile: SteeringProfile, mode: Mode) -> SteeringProfile:
    if mode not in get_args(Mode):
        raise ToggleError(f"the mode is reroute or drop, not {_shown(mode)}")
    return profile.model_copy(update={"mode": mode})


def clear_section(profile: SteeringProfile, stage: Stage | None = None) -> SteeringProfile:
    """Remove one section's steering (``None``: every section)."""
    if stage is not None:
        _check_section(stage)
    stages = {} if stage is None else {s: v for s, v in profile.stages.items() if s != stage}
    return profile.model_copy(update={"stages": stages})


def first_affected_stage(before: SteeringProfile | None, after: SteeringProfile | None) -> str | None:
    """The first LLM stage whose effective steering differs between two profiles (None: none does), so
    a re-run knows where the cached results stop being valid."""
    for stage in STAGES:
        old, new = _effective(before, stage), _effective(after, stage)
        if old != new:
            return stage
    return None


def is_steering(profile: SteeringProfile | None) -> bool:
    return profile is not None and any(not profile.for_stage(stage).is_empty for stage in STAGES)


def summary(profile: SteeringProfile | None) -> list[str]:
    """One line per steered section and layer, e.g. "reason, layer 0: off 3, 5; forced 1; top-k 1"."""
    if profile is None:
        return []
    lines = []
    for stage in SECTIONS:
        section = profile.stages.get(stage)
        if section is None:
            continue
        for layer, steer in sorted(section.layers.items()):
            if steer.is_empty:
                continue
            parts = []
            if steer.off:
                parts.append("off " + ", ".join(map(str, steer.off)))
            if steer.force:
                parts.append("forced " + ", ".join(map(str, steer.force)))
            if steer.top_k is not None:
                parts.append(f"top-k {steer.top_k}")
            if steer.bias:
                parts.append("bias " + ", ".join(f"{e}:{b:+g}" for e, b in sorted(steer.bias.items())))
            if steer.scale:
                parts.append("scale " + ", ".join(f"{e}:{s:g}" for e, s in sorted(steer.scale.items())))
            if steer.shared_off:
                parts.append("shared expert off")
            label = "all stages" if stage == "*" else stage
            lines.append(f"{label}, layer {layer}: " + "; ".join(parts))
    return lines


def _effective(profile: SteeringProfile | None, stage: str) -> tuple[StageSteering, Mode] | None:
    if profile is None:
        return None
    section = profile.for_stage(stage)
    if section.is_empty:
        return None
    layers = {k: v for k, v in section.layers.items() if not v.is_empty}
    return StageSteering(layers=layers), profile.mode


def _with_layer(profile: SteeringProfile, stage: Stage, layer: int, steer: LayerSteering) -> SteeringProfile:
    section = profile.stages.get(stage, StageSteering())
    layers = {**section.layers, layer: steer}
    layers = {k: v for k, v in sorted(layers.items()) if not v.is_empty}
    stages = {**profile.stages, stage: StageSteering(layers=layers)}
    stages = {k: v for k, v in stages.items() if v.layers}
    return profile.model_copy(update={"stages": stages})


def _check_position(profile: SteeringProfile, layer: int, expert: int) -> None:
    layers, experts = len(profile.model.moe_layers), profile.model.experts_per_layer
    if not 0 <= layer < layers:
        raise ToggleError(missing_layer(profile.model, layer))
    if not 0 <= expert < experts:
        raise ToggleError(f"expert {expert} does not exist (layers have {experts})")


def _check_section(stage: object) -> None:
    if stage not in SECTIONS:
        raise ToggleError(f"the stage section is one of {', '.join(SECTIONS)}, not {_shown(stage)}")


def _shown(value: object) -> str:
    """A refused value as a message shows it: quoted, at most 40 characters."""
    return repr(str(value)[:40])
