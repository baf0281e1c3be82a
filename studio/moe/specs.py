"""Where each transformers 5 MoE architecture keeps its router, and how that router turns logits into a
choice of experts and their weights. The steering engine reads these specs instead of special-casing
models, so supporting a new architecture is one entry here (verified against transformers 5.23).

Every router is called with the flattened hidden states ``[N, H]`` and returns three tensors - the raw
logits ``[N, E]``, the top-k weights ``[N, k]`` and the top-k expert indices ``[N, k]`` - in an
architecture-specific order. Routers read ``self.top_k`` at forward time; their weight is ``[E, H]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict
from torch import nn
from transformers import PreTrainedModel

from components_db.refusal import Refusal
from studio.moe.profile import ModelIdentity

Scoring = Literal["softmax", "sigmoid"]
Weighting = Literal["softmax", "softmax_of_topk", "sigmoid", "sparsemixer"]
Output = Literal["logits", "weights", "indices"]


class UnsupportedModel(Refusal, ValueError):
    """A model the engine cannot steer: no routing spec for its architecture, or no MoE layer found."""


@dataclass(frozen=True)
class RoutingSpec:
    """How one architecture routes (``E`` experts, ``k`` chosen per token)."""

    model_type: str  # config.model_type
    block: str  # decoder-layer attribute holding the MoE block (a dense layer has no router there)
    router: str  # MoE-block attribute holding the router
    scoring: Scoring  # the full distribution over E: softmax or sigmoid of the logits
    weighting: Weighting  # how the chosen experts' weights are computed
    always_renormalise: bool = False  # top-k weights renormalised to 1 regardless of ``norm_topk_prob``
    renormalise_eps: float = 0.0  # added to the denominator when renormalising
    correction_bias_attr: str | None = None  # router buffer added to the scores for selection only
    correction_bias_arg: int | None = None  # ... or the router's positional argument carrying it
    grouped: bool = False  # group-limited choice (``n_group`` / ``topk_group`` on the router)
    shared: tuple[str, ...] = ()  # MoE-block attributes of always-on shared experts
    output: tuple[Output, Output, Output] = ("logits", "weights", "indices")  # the router's return order
    fixed_top_k: int | None = None  # the router ignores ``top_k`` and always picks this many

    @property
    def selects_on_logits(self) -> bool:
        """Softmax routers choose on logits (softmax is monotone); sigmoid routers on sigmoid + bias."""
        return self.scoring == "softmax"


SPECS: dict[str, RoutingSpec] = {
    spec.model_type: spec
    for spec in (
        RoutingSpec("mixtral", "mlp", "gate", "softmax", "softmax", always_renormalise=True),
        RoutingSpec("qwen2_moe", "mlp", "gate", "softmax", "softmax", shared=("shared_expert",)),
        RoutingSpec("qwen3_moe", "mlp", "gate", "softmax", "softmax"),
        RoutingSpec("olmoe", "mlp", "gate", "softmax", "softmax"),
        RoutingSpec(
            "deepseek_v3",
            "mlp",
            "gate",
            "sigmoid",
            "sigmoid",
            renormalise_eps=1e-20,
            correction_bias_attr="e_score_correction_bias",
            grouped=True,
            shared=("shared_experts",),
        ),
        RoutingSpec("gpt_oss", "mlp", "router", "softmax", "softmax_of_topk"),
        RoutingSpec("granitemoe", "block_sparse_moe", "router", "softmax", "softmax_of_topk"),
        RoutingSpec("phimoe", "mlp", "router", "softmax", "sparsemixer", fixed_top_k=2),
        RoutingSpec(
            "lfm2_moe", "feed_forward", "gate", "sigmoid", "sigmoid", renormalise_eps=1e-6, correction_bias_arg=1
        ),
    )
}


class MoEInfo(BaseModel):
    """The facts about a loaded MoE model that steering, profiles and the UI need."""

    model_config = ConfigDict(frozen=True)

    name: str
    architecture: str  # config.model_type
    num_layers: int  # decoder layers, dense ones included
    moe_layers: list[int]  # decoder-layer index of each MoE layer, in order
    num_experts: int  # routed experts per MoE layer
    top_k: int  # experts chosen per token by default
    shared_experts: int  # always-on shared experts per MoE layer (0 if none)
    fixed_top_k: bool  # the router cannot change k (PhiMoE)

    def identity(self) -> ModelIdentity:
        return ModelIdentity(
            name=self.name, moe_layers=list(self.moe_layers), experts_per_layer=self.num_experts, top_k=self.top_k
        )


@dataclass(frozen=True)
class MoELayer:
    """One MoE layer of a loaded model: where it sits and its modules."""

    index: int  # MoE-layer index (dense layers skipped)
    decoder_layer: int
    router: nn.Module
    shared: tuple[nn.Module, ...]


def spec_for(model: PreTrainedModel) -> RoutingSpec:
    model_type = model.config.model_type
    if model_type not in SPECS:
        raise UnsupportedModel(
            f"no MoE routing spec for architecture {model_type!r}; supported: {', '.join(sorted(SPECS))}"
        )
    return SPECS[model_type]


def find_moe_layers(model: PreTrainedModel, spec: RoutingSpec) -> list[MoELayer]:
    """The MoE layers in decoder order; a decoder layer whose block has no router is dense and skipped."""
    found = []
    for decoder_index, decoder_layer in enumerate(model.base_model.layers):
        block = getattr(decoder_layer, spec.block, None)
        router = getattr(block, spec.router, None)
        if router is None:
            continue
        shared = tuple(getattr(block, name) for name in spec.shared if getattr(block, name, None) is not None)
        found.append(MoELayer(len(found), decoder_index, router, shared))
    if not found:
        raise UnsupportedModel(f"{model.config.model_type} model has no MoE layer (no '{spec.block}.{spec.router}')")
    return found


def describe(model: PreTrainedModel, name: str, spec: RoutingSpec, layers: list[MoELayer]) -> MoEInfo:
    first = layers[0].router
    experts = {int(layer.router.weight.shape[0]) for layer in layers}
    if len(experts) != 1:
        raise UnsupportedModel(f"MoE layers of {name} have different expert counts {sorted(experts)}")
    return MoEInfo(
        name=name,
        architecture=spec.model_type,
        num_layers=len(model.base_model.layers),
        moe_layers=[layer.decoder_layer for layer in layers],
        num_experts=experts.pop(),
        top_k=spec.fixed_top_k or int(first.top_k),
        shared_experts=_shared_count(model, spec),
        fixed_top_k=spec.fixed_top_k is not None,
    )


def _shared_count(model: PreTrainedModel, spec: RoutingSpec) -> int:
    if not spec.shared:
        return 0
    return int(getattr(model.config, "n_shared_experts", 1) or 0)
