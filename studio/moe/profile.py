"""Steering profiles: which experts to turn off, force on, bias or re-weight, per pipeline stage and
MoE layer. A profile is a versioned JSON file tied to one model shape (DESIGN.md, "Data contracts").

Layer keys are MoE-layer indices (0 .. n_moe_layers-1, dense layers skipped); ``ModelIdentity.moe_layers``
maps them back to decoder layers. A stage section ``"*"`` applies to every stage; a named stage's
section is merged on top of it.

Numbers are bounded (non-finite ones are refused everywhere): a bias is within +-``BIAS_LIMIT`` (below
the margin by which the router ranks forced experts first) and a scale within 0..``SCALE_LIMIT``.
Profile files are read with ``components_db.documents`` (a regular UTF-8 file of at most
``MAX_PROFILE_BYTES``, JSON with unique keys and bounded nesting): every refusal is one ``ProfileError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from components_db.documents import DocumentError, parse_json, read_text
from components_db.refusal import Refusal

PROFILE_VERSION = 1
Stage = Literal["identify", "reason", "synthesize", "repair", "*"]
Mode = Literal["reroute", "drop"]
STAGES: tuple[str, ...] = ("identify", "reason", "synthesize", "repair")
BIAS_LIMIT = 100.0  # |selection-logit bias|; routing.FORCED (1e4) and OUT_OF_GROUP (1e3) stay above it
SCALE_LIMIT = 100.0  # routing-weight multiplier, 0 (the expert contributes nothing) .. this
MAX_PROFILE_BYTES = 1_000_000
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
Bias = Annotated[float, Field(ge=-BIAS_LIMIT, le=BIAS_LIMIT)]
Scale = Annotated[float, Field(ge=0.0, le=SCALE_LIMIT)]


class ProfileError(Refusal, ValueError):
    """A profile that cannot be read, or that was made for another model shape."""


class LayerSteering(BaseModel):
    """What to do to one MoE layer's router. Expert ids are 0-based indices into that layer's experts."""

    model_config = STRICT

    off: list[int] = Field(default_factory=list)  # never selected (re-route) / weight zeroed (drop)
    force: list[int] = Field(default_factory=list)  # always selected; weights still from unbiased scores
    bias: dict[int, Bias] = Field(default_factory=dict)  # additive selection-logit bias
    scale: dict[int, Scale] = Field(default_factory=dict)  # multiplies the expert's routing weight
    top_k: int | None = Field(default=None, ge=1)  # experts per token in this layer (None: model default)
    shared_off: bool = False  # switch off the layer's shared expert(s), where the model has any

    @field_validator("off", "force")
    @classmethod
    def _as_set(cls, experts: list[int]) -> list[int]:
        return sorted(set(experts))

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
    model_config = STRICT

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

    model_config = STRICT

    name: str
    moe_layers: list[Annotated[int, Field(ge=0)]] = Field(min_length=1)  # decoder-layer index of each MoE layer
    experts_per_layer: int = Field(ge=1)
    top_k: int | None = None


class SteeringProfile(BaseModel):
    model_config = STRICT

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
                    raise ValueError(f"stage {stage!r}: {missing_layer(self.model, layer)}")
                experts = set(steer.off) | set(steer.force) | set(steer.bias) | set(steer.scale)
                bad = sorted(e for e in experts if not 0 <= e < n_experts)
                if bad:
                    raise ValueError(f"stage {stage!r}, layer {layer}: expert(s) {bad} out of range 0..{n_experts - 1}")
                if steer.top_k is not None and steer.top_k > n_experts:
                    raise ValueError(f"stage {stage!r}, layer {layer}: top_k {steer.top_k} > {n_experts} experts")
        return self

    def for_stage(self, stage: str) -> StageSteering:
        """The steering one pipeline stage runs under: the ``*`` section with the stage's own on top. The
        repair rounds re-decode synthesis: without a ``repair`` section of their own they run under
        ``synthesize``'s."""
        base = self.stages.get("*", StageSteering())
        if stage == "repair" and "repair" not in self.stages:
            stage = "synthesize"
        own = self.stages.get(stage, StageSteering()) if stage != "*" else StageSteering()
        return base.merged(own)

    def check_model(self, identity: ModelIdentity) -> None:
        """Refuse a profile this model cannot run: made for another shape, or steering its router cannot
        honour (``problems``). The one check the CLI, the pipeline, the engine and the studio make."""
        self._check_shape(identity)
        found = self.problems(identity.top_k or identity.experts_per_layer)
        if found:
            raise ProfileError(f"profile {self.name!r} cannot be applied: " + "; ".join(found))

    def problems(self, top_k: int) -> list[str]:
        """What the router would refuse, per layer of the stages as they run (the ``*`` section merged in),
        e.g. "reason, layer 0: every expert is off; ..."; ``top_k`` is the model's own experts per token."""
        stages_of: dict[str, list[str]] = {}
        for stage in STAGES:
            for layer, steer in self.for_stage(stage).layers.items():
                for problem in self._unroutable(layer, steer, steer.top_k or top_k):
                    stages_of.setdefault(problem, []).append(stage)
        return [
            f"{'every stage' if len(stages) == len(STAGES) else ', '.join(stages)}, {problem}"
            for problem, stages in stages_of.items()
        ]

    def _unroutable(self, layer: int, steer: LayerSteering, k: int) -> list[str]:
        n = self.model.experts_per_layer
        enabled = n - len(steer.off) if self.mode == "reroute" else n
        found = []
        if enabled == 0:
            found.append(f"layer {layer}: every expert is off; leave at least one on")
        if len(steer.force) > min(k, enabled):
            found.append(
                f"layer {layer}: {len(steer.force)} experts forced on but only {k} are chosen per token; "
                "raise the layer's top-k or force fewer"
            )
        return found

    def _check_shape(self, identity: ModelIdentity) -> None:
        mine = self.model
        if mine.moe_layers != identity.moe_layers or mine.experts_per_layer != identity.experts_per_layer:
            raise ProfileError(
                f"profile {self.name!r} was made for {mine.name} ({len(mine.moe_layers)} MoE layers x "
                f"{mine.experts_per_layer} experts); this model, {identity.name}, has "
                f"{len(identity.moe_layers)} MoE layers x {identity.experts_per_layer} experts"
            )

    def merged(self, other: SteeringProfile) -> SteeringProfile:
        """Both profiles' steering together (``other`` wins on conflicts); both must fit the same model."""
        other._check_shape(self.model)
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
            return cls.from_json(read_text(path, MAX_PROFILE_BYTES, "steering profile"))
        except DocumentError as exc:  # names the file already
            raise ProfileError(str(exc)) from None
        except ProfileError as exc:
            raise ProfileError(f"{path}: {exc}") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> SteeringProfile:
        try:
            data = parse_json(text)
        except DocumentError as exc:
            raise ProfileError(f"not a steering profile: {exc}") from None
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


def missing_layer(model: ModelIdentity, layer: int) -> str:
    """Why MoE-layer index ``layer`` is not one of ``model``'s, naming what its layers are."""
    n = len(model.moe_layers)
    decoder = ", ".join(map(str, model.moe_layers[:8])) + (", ..." if n > 8 else "")
    return (
        f"MoE layer {layer} does not exist: the profile's model {model.name} has {n} MoE layers, "
        f"0..{n - 1} (decoder layers {decoder})"
    )
