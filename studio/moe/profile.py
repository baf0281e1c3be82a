"""Steering profiles: which experts to turn off, force on, bias or re-weight, per pipeline stage and
MoE layer. A profile is a versioned JSON file tied to one model shape (DESIGN.md, "Data contracts").

Layer keys are MoE-layer indices (0 .. n_moe_layers-1, dense layers skipped); ``ModelIdentity.moe_layers``
maps them back to decoder layers. A stage section ``"*"`` applies to every stage; a named stage's
section is merged on top of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PROFILE_VERSION = 1
Stage = Literal["identify", "reason", "synthesize", "*"]
Mode = Literal["reroute", "drop"]
STAGES: tuple[str, ...] = ("identify", "reason", "synthesize")


class ProfileError(ValueError):
    """A profile that cannot be read, or that was made for another model shape."""


class LayerSteering(BaseModel):
    """What to do to one MoE layer's router. Expert ids are 0-based indices into that layer's experts."""

    model_config = ConfigDict(extra="forbid")

    off: list[int] = Field(default_factory=list)  # never selected (re-route) / weight zeroed (drop)
    force: list[int] = Field(default_factory=list)  # always selected; weights still from unbiased scores
    bias: dict[int, float] = Field(default_factory=dict)  # additive selection-logit bias
    scale: dict[int, float] = Field(default_factory=dict)  # multiplies the expert's routing weight
    top_k: int | None = Field(default=None, ge=1)  # experts per token in this layer (None: model default)
    shared_off: bool = False  # switch off the layer's shared expert(s), where the model has any

    @model_validator(mode="after")
    def _coherent(self) -> LayerSteering:
        both = sorted(set(self.off) & set(self.force))
        if both:
            raise ValueError(f"expert(s) {both} are both off and forced on")
        return self

    @property
    def is_empty(self) -> bool:
        return self == LayerSteering()

    def merged(self, over: LayerSteering) -> LayerSteering:
        """``over`` wins: its off/force sets are added (an expert forced in one is no longer off), its
        biases, scales, top-k and shared switch replace ours."""
        force = sorted(set(self.force) - set(over.off) | set(over.force))
        off = sorted(set(self.off) - set(over.force) | set(over.off))
        return LayerSteering(
            off=off,
            force=force,
            bias={**self.bias, **over.bias},
            scale={**self.scale, **over.scale},
            top_k=over.top_k if over.top_k is not None else self.top_k,
            shared_off=self.shared_off or over.shared_off,
        )


class StageSteering(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layers: dict[int, LayerSteering] = Field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return all(layer.is_empty for layer in self.layers.values())

    def merged(self, over: StageSteering) -> StageSteering:
        keys = sorted(set(self.layers) | set(over.layers))
        empty = LayerSteering()
        return StageSteering(layers={k: self.layers.get(k, empty).merged(over.layers.get(k, empty)) for k in keys})


class ModelIdentity(BaseModel):
    """The model shape a profile was made for."""

    model_config = ConfigDict(extra="forbid")

    name: str
    moe_layers: list[int]  # decoder-layer index of each MoE layer, in order
    experts_per_layer: int = Field(ge=1)
    top_k: int | None = None


class SteeringProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = PROFILE_VERSION
    name: str = "unnamed"
    description: str = ""
    behaviour: str | None = None  # the design behaviour it is meant to change (studio.behaviours)
    model: ModelIdentity
    mode: Mode = "reroute"
    stages: dict[Stage, StageSteering] = Field(default_factory=dict)

    @field_validator("behaviour")
    @classmethod
    def _known_behaviour(cls, name: str | None) -> str | None:
        from studio.behaviours import BEHAVIOUR_NAMES  # the registry imports the ERC: only when a profile names one

        if name is not None and name not in BEHAVIOUR_NAMES:
            raise ValueError(f"behaviour {name!r} is not one of {', '.join(BEHAVIOUR_NAMES)}")
        return name

    @model_validator(mode="after")
    def _fits_its_model(self) -> SteeringProfile:
        n_layers, n_experts = len(self.model.moe_layers), self.model.experts_per_layer
        for stage, section in self.stages.items():
            for layer, steer in section.layers.items():
                if not 0 <= layer < n_layers:
                    raise ValueError(f"stage {stage!r}: MoE layer {layer} does not exist (the model has {n_layers})")
                experts = set(steer.off) | set(steer.force) | set(steer.bias) | set(steer.scale)
                bad = sorted(e for e in experts if not 0 <= e < n_experts)
                if bad:
                    raise ValueError(f"stage {stage!r}, layer {layer}: expert(s) {bad} out of range 0..{n_experts - 1}")
                if steer.top_k is not None and steer.top_k > n_experts:
                    raise ValueError(f"stage {stage!r}, layer {layer}: top_k {steer.top_k} > {n_experts} experts")
        return self

    def for_stage(self, stage: str) -> StageSteering:
        """The steering one pipeline stage runs under: the ``*`` section with the stage's own on top."""
        base = self.stages.get("*", StageSteering())
        own = self.stages.get(stage, StageSteering()) if stage != "*" else StageSteering()
        return base.merged(own)

    def check_model(self, identity: ModelIdentity) -> None:
        """Refuse a profile made for another model shape, saying what differs."""
        mine = self.model
        if mine.moe_layers != identity.moe_layers or mine.experts_per_layer != identity.experts_per_layer:
            raise ProfileError(
                f"profile {self.name!r} was made for {mine.name} ({len(mine.moe_layers)} MoE layers x "
                f"{mine.experts_per_layer} experts); this model, {identity.name}, has "
                f"{len(identity.moe_layers)} MoE layers x {identity.experts_per_layer} experts"
            )

    def merged(self, other: SteeringProfile) -> SteeringProfile:
        """Both profiles' steering together (``other`` wins on conflicts); both must fit the same model."""
        other.check_model(self.model)
        stages = {
            s: self.stages.get(s, StageSteering()).merged(other.stages.get(s, StageSteering()))
            for s in sorted(set(self.stages) | set(other.stages))
        }
        return self.model_copy(update={"name": f"{self.name}+{other.name}", "stages": stages, "mode": other.mode})

    def save(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=2, exclude_defaults=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> SteeringProfile:
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ProfileError(f"{path}: {exc.strerror}") from None

    @classmethod
    def from_json(cls, text: str) -> SteeringProfile:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError(f"not a steering profile: invalid JSON ({exc})") from None
        if isinstance(data, dict) and data.get("version", PROFILE_VERSION) != PROFILE_VERSION:
            raise ProfileError(f"profile version {data.get('version')!r} is not supported (expected {PROFILE_VERSION})")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            reasons = "; ".join(
                f"{'.'.join(str(x) for x in e['loc']) or 'profile'}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            raise ProfileError(f"not a valid steering profile: {reasons}") from None
