"""Where each transformers MoE architecture keeps its router, and how that router turns logits into a
choice of experts and their weights. The steering engine reads these specs instead of special-casing
models, so supporting a new architecture is one entry here; an architecture the engine cannot steer
is listed in ``UNSUPPORTED`` with the reason, which the refusal names. ``VERIFIED_TRANSFORMERS`` is the
transformers version the specs were read from and tested against (``tests/studio/moe/test_families.py``
checks it against the installed one and lists every MoE family that version ships).

Every router is called with the hidden states (flattened ``[N, H]`` or ``[B, S, H]``) and returns the
raw logits ``[N, E]``, the top-k weights ``[N, k]`` and the top-k expert indices ``[N, k]`` - in an
architecture-specific order - or, for Llama 4, dense ``[N, E]`` weights (zero off the chosen experts)
and the logits.

Vision-language and omni models: the text decoder's MoE layers (the decoder layers of
``model.language_model``) are the ones steered and traced - for every token, image tokens included. The
vision tower, the multimodal projector and any MoE outside the text decoder are not: a vision encoder's
own experts (Dots 3's), modality-isolated vision experts (Ernie 4.5-VL's), an omni model's talker
(speech) decoder and its code-to-wave model. Which vision-language families are steered so far, and why
the others are not yet, is in ``SPECS`` / ``UNSUPPORTED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Literal

from pydantic import BaseModel, ConfigDict
from torch import nn
from transformers import PreTrainedModel

from components_db.refusal import Refusal
from studio.moe.profile import ModelIdentity

VERIFIED_TRANSFORMERS = "5.24.0"  # the one place: the specs below were read from, and tested on, this version

Scoring = Literal["softmax", "sigmoid"]
Weighting = Literal["softmax", "softmax_of_topk", "sigmoid", "sparsemixer"]
Output = Literal["logits", "weights", "indices", "dense"]
Selection = Literal["logits", "scores"]
GroupScore = Literal["top2_sum", "max"]

# where the text decoder's layers sit, relative to the loaded model (causal LM, vision-language, omni thinker)
DECODER_LAYERS = ("model.layers", "model.language_model.layers", "language_model.layers", "thinker.model.layers")


class UnsupportedModel(Refusal, ValueError):
    """A model the engine cannot steer: no routing spec for its architecture, or no MoE layer found."""


@dataclass(frozen=True)
class RoutingSpec:
    """How one architecture routes (``E`` experts, ``k`` chosen per token). Attribute names may be
    dotted paths (``"moe_statics.e_score_correction_bias"``)."""

    model_type: str  # config.model_type
    block: str  # decoder-layer attribute holding the MoE block ("" : the decoder layer itself; dense layers have none)
    router: str  # MoE-block attribute holding the router
    scoring: Scoring  # the full distribution over E: softmax or sigmoid of the logits
    weighting: Weighting  # how the chosen experts' weights are computed
    always_renormalise: bool = False  # top-k weights renormalised to 1 regardless of ``norm_topk_prob``
    renormalise_eps: float = 0.0  # added to the denominator when renormalising
    select_on: Selection | None = None  # what top-k runs on; None: logits for softmax (monotone), scores for sigmoid
    correction_bias_attr: str | None = None  # router buffer added to the selection scores for selection only
    correction_bias_arg: int | None = None  # ... or the router's positional argument carrying it
    grouped: bool = False  # group-limited choice (``num_group`` / ``topk_group`` on the router)
    group_score: GroupScore = "top2_sum"  # how a group is ranked: its two best scores summed, or its best
    shared: tuple[str, ...] = ()  # MoE-block attributes of always-on shared experts
    layer_shared: tuple[str, ...] = ()  # ... or decoder-layer attributes (GraniteMoE-Shared's ``shared_mlp``)
    output: tuple[Output, ...] = ("logits", "weights", "indices")  # the router's return order
    fixed_top_k: int | None = None  # the router ignores ``top_k`` and always picks this many
    scale_attr: str | None = "routed_scaling_factor"  # router attribute multiplying every weight (absent: 1)
    expert_scale_attr: str | None = None  # router [E] parameter multiplying each chosen expert's weight (Gemma 4)
    logits_are_probs: bool = False  # the router reports its softmax, not its logits (Gemma 4)
    top_k_attr: str = "top_k"  # router attribute with the native k
    num_experts_attr: str = "num_experts"  # router attribute with E
    requires: tuple[tuple[str, object], ...] = ()  # text-config values the spec assumes; another value is refused

    @property
    def selection(self) -> Selection:
        return self.select_on or ("logits" if self.scoring == "softmax" else "scores")


def _spec(model_type: str, **settings: object) -> RoutingSpec:
    """A spec whose MoE block is the decoder layer's ``mlp`` and router its ``gate`` unless ``settings`` say."""
    return RoutingSpec(model_type=model_type, **{"block": "mlp", "router": "gate", **settings})


def _deepseek_v3(model_type: str, **changes: object) -> RoutingSpec:
    """DeepSeek-V3's router and its copies: sigmoid scores, a selection-only correction bias, group-limited
    top-k, renormalised (``norm_topk_prob``) and scaled (``routed_scaling_factor``) weights."""
    settings: dict = {
        "renormalise_eps": 1e-20,
        "correction_bias_attr": "e_score_correction_bias",
        "grouped": True,
        "shared": ("shared_experts",),
        **changes,
    }
    return _spec(model_type, scoring="sigmoid", weighting="sigmoid", **settings)


def _qwen(model_type: str, **changes: object) -> RoutingSpec:
    """Qwen2/3-MoE's router and its copies: top-k of the softmax, renormalised if ``norm_topk_prob``."""
    return _spec(model_type, scoring="softmax", weighting="softmax", **changes)


def _sigmoid_biased(model_type: str, **changes: object) -> RoutingSpec:
    """MiniMax-M2's router and its copies: sigmoid scores plus a selection-only bias, weights always
    renormalised."""
    settings: dict = {"always_renormalise": True, "correction_bias_attr": "e_score_correction_bias", **changes}
    return _spec(model_type, scoring="sigmoid", weighting="sigmoid", **settings)


def _granite(model_type: str, **changes: object) -> RoutingSpec:
    """GraniteMoE's router and its copies: top-k of the logits, a softmax over the chosen."""
    settings: dict = {"block": "block_sparse_moe", "router": "router", **changes}
    return _spec(model_type, scoring="softmax", weighting="softmax_of_topk", **settings)


QWEN_NEXT_SHARED = ("shared_expert",)  # gated by ``shared_expert_gate``: zeroing the expert zeroes its share

SPECS: dict[str, RoutingSpec] = {
    spec.model_type: spec
    for spec in (
        RoutingSpec("mixtral", "mlp", "gate", "softmax", "softmax", always_renormalise=True),
        RoutingSpec("minimax", "mlp", "gate", "softmax", "softmax", always_renormalise=True),
        _qwen("qwen2_moe", shared=("shared_expert",)),
        _qwen("qwen3_moe"),
        _qwen("olmoe"),
        _qwen("flex_olmo"),
        _qwen("mellum"),
        _qwen("qwen3_next", shared=QWEN_NEXT_SHARED),
        _qwen("qwen3_5_moe_text", always_renormalise=True, shared=QWEN_NEXT_SHARED),
        _qwen("qwen4_exp_text", shared=QWEN_NEXT_SHARED),
        _qwen("lara_mini", shared=("shared_expert",)),
        _qwen("qwen3_vl_moe", always_renormalise=True),
        _qwen("hunyuan_v1_moe", always_renormalise=True, shared=("shared_mlp",)),
        RoutingSpec("jamba", "feed_forward", "router", "softmax", "softmax"),
        RoutingSpec(
            "ernie4_5_moe",
            "mlp",
            "gate",
            "softmax",
            "softmax",
            always_renormalise=True,
            select_on="scores",
            correction_bias_attr="moe_statics.e_score_correction_bias",
            shared=("shared_experts",),
        ),
        _deepseek_v3("deepseek_v3"),
        _deepseek_v3("deepseek_v32"),
        _deepseek_v3("sarvam_mla"),
        _deepseek_v3("glm4_moe"),
        _deepseek_v3("sarvam_moe"),
        _deepseek_v3("glm4_moe_lite"),
        _deepseek_v3("glm_moe_dsa"),
        _deepseek_v3("dots1"),
        _deepseek_v3("dots3_note_text"),
        _deepseek_v3("exaone_moe"),
        _deepseek_v3("kimi_linear"),
        _deepseek_v3("bailing_hybrid"),
        _deepseek_v3("axk1"),
        _deepseek_v3("axk2"),
        _deepseek_v3("hy_v4"),
        _deepseek_v3("solar_open"),
        _deepseek_v3("mimo_v2_flash", shared=()),
        _deepseek_v3("nemotron_h", block="mixer"),
        _deepseek_v3("beam", shared=()),
        RoutingSpec(
            "deepseek_v2",
            "mlp",
            "gate",
            "softmax",
            "softmax",
            select_on="scores",
            grouped=True,
            group_score="max",
            shared=("shared_experts",),
        ),
        RoutingSpec(
            "mistral4",
            "mlp",
            "gate",
            "softmax",
            "softmax",
            select_on="scores",
            grouped=True,
            shared=("shared_experts",),
        ),
        RoutingSpec(
            "mistral_large4",
            "mlp",
            "gate",
            "softmax",
            "softmax",
            always_renormalise=True,
            select_on="scores",
            grouped=True,
            shared=("shared_experts",),
        ),
        _sigmoid_biased("minimax_m2", correction_bias_attr=None, correction_bias_arg=1),
        _sigmoid_biased("minimax_m3_vl", shared=("shared_experts",)),
        _sigmoid_biased("minimax_m3_vl_text", shared=("shared_experts",)),
        _sigmoid_biased("inkling2_text", renormalise_eps=1e-20, requires=(("scoring_func", "sigmoid"),)),
        _sigmoid_biased("laguna", shared=("shared_experts",)),
        _sigmoid_biased(
            "hy_v3",
            renormalise_eps=1e-20,
            correction_bias_attr=None,
            correction_bias_arg=1,
            scale_attr="router_scaling_factor",
            shared=("shared_experts",),
        ),
        _sigmoid_biased(
            "afmoe",
            renormalise_eps=1e-20,
            correction_bias_attr=None,
            correction_bias_arg=1,
            router="router",
            scale_attr="route_scale",
            shared=("shared_experts",),
        ),
        RoutingSpec(
            "kolibri1",
            "mlp",
            "gate",
            "sigmoid",
            "sigmoid",
            select_on="logits",
            correction_bias_attr="e_score_correction_bias",
            shared=("shared_experts",),
        ),
        RoutingSpec("flint", "mlp", "gate", "sigmoid", "sigmoid", shared=("shared_expert",)),
        RoutingSpec(
            "cohere2_moe",
            "mlp",
            "gate",
            "softmax",
            "softmax_of_topk",
            shared=("shared_experts",),
            requires=(("expert_selection_fn", "softmax"),),
        ),
        RoutingSpec("aria_text", "mlp", "router", "softmax", "softmax_of_topk", shared=("shared_experts",)),
        RoutingSpec("aria", "mlp", "router", "softmax", "softmax_of_topk", shared=("shared_experts",)),
        RoutingSpec("gpt_oss", "mlp", "router", "softmax", "softmax_of_topk"),
        _granite("granitemoe"),
        _granite("granitemoe_swa"),
        _granite("granitemoeshared", layer_shared=("shared_mlp",)),
        _granite("granitemoehybrid", layer_shared=("shared_mlp",)),
        RoutingSpec("phimoe", "mlp", "router", "softmax", "sparsemixer", fixed_top_k=2),
        RoutingSpec(
            "lfm2_moe", "feed_forward", "gate", "sigmoid", "sigmoid", renormalise_eps=1e-6, correction_bias_arg=1
        ),
        RoutingSpec(
            "llama4_text",
            "feed_forward",
            "router",
            "sigmoid",
            "sigmoid",
            select_on="logits",
            output=("dense", "logits"),
            shared=("shared_expert",),
        ),
        RoutingSpec(
            "gemma4_text",
            "",
            "router",
            "softmax",
            "softmax",
            always_renormalise=True,
            logits_are_probs=True,
            expert_scale_attr="per_expert_scale",
            top_k_attr="config.top_k_experts",
            num_experts_attr="config.num_experts",
        ),
    )
}

_UNVERIFIED_VL = (
    "a vision-language model with no text-only class; its text decoder's router is {0}'s, but no tiny build of it "
    "(text decoder and vision tower from configs) is tested yet, so it is not offered"
)

# MoE families the installed transformers ships that the engine does not steer, and why (the refusal says it)
UNSUPPORTED: dict[str, str] = {
    **{
        family: _UNVERIFIED_VL.format(router)
        for family, router in (
            ("glm4v_moe", "GLM-4.5 (glm4_moe)"),
            ("glm5_next", "GLM-4.5 (glm4_moe)"),
            ("hy_v4_vl", "HY-V4 (hy_v4)"),
            ("dots3_note", "Dots 3 (dots3_note_text)"),
            ("step3p7", "MiniMax-M2 (minimax_m2)"),
            ("muse_spark", "MiniMax-M2 (minimax_m2)"),
            ("ernie4_5_vl_moe", "Ernie 4.5 (ernie4_5_moe), for text tokens,"),
            ("qwen3_5_moe", "Qwen3.5 (qwen3_5_moe_text)"),
            ("qwen4_exp", "Qwen4-Exp (qwen4_exp_text)"),
            ("gemma4", "Gemma 4 (gemma4_text)"),
            ("llama4", "Llama 4 (llama4_text)"),
            ("inkling2", "Inkling-2 (inkling2_text)"),
        )
    },
    "qwen3_omni_moe_thinker": _UNVERIFIED_VL.format("Qwen3-MoE (qwen3_moe)").replace(
        "a vision-language model", "Qwen3-Omni's thinker (text decoder with audio and vision encoders)"
    ),
    "qwen3_omni_moe": (
        "the full Qwen3-Omni model (thinker, talker, code-to-wave) generates speech; its thinker's text decoder "
        "has Qwen3-MoE's router but no tiny build of the thinker is tested yet; the talker's MoE would not be "
        "steered"
    ),
    "inkling_mm_model": "Inkling's multimodal model: its text decoder's router is Inkling's (inkling_text, below)",
    "inkling2_loop": "Inkling-2 Loop's multimodal model: its text decoder loops (inkling2_loop_text, below)",
    "doge": (
        "Doge's cross-domain MoE routes over product keys (two small top-k's combined into up to "
        "num_experts tiny embedding experts); it has no per-expert router logits to steer"
    ),
    "jetmoe": (
        "JetMoE's router returns its choice already grouped by expert for its parallel-experts kernel, and its "
        "attention is a mixture of experts too; the engine's hook only replaces (weights, indices) routers"
    ),
    "zaya": (
        "ZAYA's router carries state from layer to layer (router hidden states) and a skip expert chosen by "
        "the same top-k; re-routing one layer would change every later router's input"
    ),
    "inkling_text": (
        "Inkling's router normalises the routed experts' weights jointly with its shared experts' gates "
        "and returns both; off/force would have to renormalise the shared gates too"
    ),
    "inkling2_loop_text": (
        "Inkling-2 Loop runs its middle decoder layers several times per token, so those MoE layers route "
        "each token more than once; the engine's traces and profiles hold one choice per token and layer"
    ),
    "deepseek_v4": (
        "DeepSeek-V4's first MoE layers choose experts by a fixed token-id table (hash routing), not by "
        "their router, and its scores are sqrt-softplus; a table choice cannot be re-routed"
    ),
    "longcat_flash": (
        "LongCat-Flash routes among real and zero-compute (identity) experts with one top-k, and its MoE "
        "layer runs two routed blocks per decoder layer; neither is modelled by the engine yet"
    ),
    "dbrx": (
        "DBRX's router returns only logits; the top-k and its p-norm renormalisation run in the FFN's own "
        "method, outside any module the engine can hook"
    ),
    "switch_transformers": "Switch Transformers is an encoder-decoder (T5) model, not a causal LM",
    "nllb-moe": "NLLB-MoE is an encoder-decoder translation model, not a causal LM",
    "openai_privacy_filter": "OpenAI's privacy filter is a token classifier, not a causal LM",
    "diffusion_gemma": "Diffusion Gemma generates by denoising whole blocks, not token by token",
    "granite_docling": (
        "Granite-Docling's 'density router' picks a vision connector per image; it is not a mixture of experts"
    ),
    "deepseek_ocr2": "DeepSeek-OCR 2 is an OCR model whose decoder only reads image features; it has no text-only use",
    "unlimited_ocr": "Unlimited-OCR is an OCR model whose decoder only reads image features; it has no text-only use",
}


def refusal(model_type: str) -> str:
    """Why a model of ``model_type`` is refused: its listed reason, else that no spec exists."""
    reason = UNSUPPORTED.get(model_type)
    if reason is not None:
        return f"architecture {model_type!r} is not supported: {reason}"
    return f"no MoE routing spec for architecture {model_type!r}; supported: {', '.join(sorted(SPECS))}"


def attribute(owner: object, path: str, default: object = None) -> object:
    """``owner.a.b`` for the dotted ``path`` ("" : ``owner`` itself), or ``default`` if any part is missing."""
    if not path:
        return owner
    return reduce(
        lambda obj, name: getattr(obj, name, default) if obj is not default else default, path.split("."), owner
    )


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
    block: nn.Module  # the MoE block (holds the router, the routed ``experts`` and any shared experts)
    router: nn.Module
    shared: tuple[nn.Module, ...]


def spec_for(model: PreTrainedModel) -> RoutingSpec:
    model_type = model.config.model_type
    if model_type not in SPECS:
        raise UnsupportedModel(refusal(model_type))
    spec = SPECS[model_type]
    config = model.config.get_text_config()
    for name, expected in spec.requires:
        actual = getattr(config, name, expected)
        if actual != expected:
            raise UnsupportedModel(
                f"{model_type} with {name}={actual!r} is not supported: its routing spec covers {name}={expected!r}"
            )
    return spec


def decoder_layers(model: PreTrainedModel) -> nn.ModuleList:
    """The text decoder's layers (of a causal LM, a vision-language model's language model, an omni thinker)."""
    for path in DECODER_LAYERS:
        layers = attribute(model, path)
        if isinstance(layers, nn.ModuleList):
            return layers
    raise UnsupportedModel(f"{model.config.model_type} model has no text decoder layers at {', '.join(DECODER_LAYERS)}")


def native_top_k(spec: RoutingSpec, router: nn.Module) -> int:
    return spec.fixed_top_k or int(attribute(router, spec.top_k_attr))


def find_moe_layers(model: PreTrainedModel, spec: RoutingSpec) -> list[MoELayer]:
    """The MoE layers in decoder order; a decoder layer whose block has no router is dense and skipped."""
    found = []
    for decoder_index, decoder_layer in enumerate(decoder_layers(model)):
        block = attribute(decoder_layer, spec.block)
        router = attribute(block, spec.router) if block is not None else None
        if not isinstance(router, nn.Module):
            continue
        shared = tuple(m for name in spec.shared if isinstance(m := attribute(block, name), nn.Module))
        shared += tuple(m for name in spec.layer_shared if isinstance(m := attribute(decoder_layer, name), nn.Module))
        found.append(MoELayer(len(found), decoder_index, block, router, shared))
    if not found:
        where = f"{spec.block}.{spec.router}" if spec.block else spec.router
        raise UnsupportedModel(f"{model.config.model_type} model has no MoE layer (no '{where}')")
    return found


def describe(model: PreTrainedModel, name: str, spec: RoutingSpec, layers: list[MoELayer]) -> MoEInfo:
    experts = {int(attribute(layer.router, spec.num_experts_attr)) for layer in layers}
    if len(experts) != 1:
        raise UnsupportedModel(f"MoE layers of {name} have different expert counts {sorted(experts)}")
    top_k = {native_top_k(spec, layer.router) for layer in layers}
    if len(top_k) != 1:
        raise UnsupportedModel(f"MoE layers of {name} route to different numbers of experts {sorted(top_k)}")
    return MoEInfo(
        name=name,
        architecture=spec.model_type,
        num_layers=len(decoder_layers(model)),
        moe_layers=[layer.decoder_layer for layer in layers],
        num_experts=experts.pop(),
        top_k=top_k.pop(),
        shared_experts=_shared_count(model, spec, layers),
        fixed_top_k=spec.fixed_top_k is not None,
    )


SHARED_COUNT_ATTRS = ("n_shared_experts", "num_shared_experts", "moe_num_shared_experts")


def _shared_count(model: PreTrainedModel, spec: RoutingSpec, layers: list[MoELayer]) -> int:
    """Shared experts per MoE layer, as the config counts them (one module may hold several)."""
    if not any(layer.shared for layer in layers):
        return 0
    config = model.config.get_text_config()
    for name in SHARED_COUNT_ATTRS:
        count = getattr(config, name, None)
        if isinstance(count, int) and count > 0:
            return count
    return len(spec.shared) + len(spec.layer_shared)
