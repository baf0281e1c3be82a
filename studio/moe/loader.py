"""Loading a MoE causal LM for steering: by hub id or local path, on CPU, fp32, with the engine's experts
forward (``experts_forward.DECODE``: eager, lean at one token; hub kernels and fused paths can bypass
the router hooks). The architecture is checked against the routing specs before any weight is read; a
local folder's ``config.json`` is read as a user document first (``components_db.documents``), so one
without a ``model_type``, or not JSON, is refused in one line before transformers parses it."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.distributed import DistributedConfig
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

from components_db.documents import DocumentError, read_json
from studio.moe.experts_forward import DECODE
from studio.moe.specs import SPECS, UnsupportedModel, refusal

MAX_CONFIG_BYTES = 1_000_000


def load_model(
    source: str | Path, distributed: DistributedConfig | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase | None]:
    """(model in eval mode, its tokenizer or None if the checkpoint ships none). With ``distributed``
    (under ``torchrun``), each rank reads only its shard of the weights (``studio.moe.distributed``)."""
    if Path(source).is_dir():  # a local folder: its architecture is checked before transformers reads anything
        _check_architecture(source, _local_model_type(Path(source)))
    config = AutoConfig.from_pretrained(source)
    _check_architecture(source, config.model_type)
    config.output_router_logits = False  # else every decode step records logits and computes the aux loss
    try:
        model = _auto_class(config.model_type).from_pretrained(
            source,
            config=config,
            dtype=torch.float32,
            experts_implementation=DECODE,
            **({"distributed_config": distributed} if distributed is not None else {}),
        )
    except SafetensorError as exc:
        raise UnsupportedModel(f"{source}: the weights cannot be read ({exc})") from None
    return model.eval(), _tokenizer(source)


def _auto_class(model_type: str) -> type:
    """A causal LM's auto class; a vision-language MoE without one (Qwen3-VL-MoE, GLM-4.5V) loads whole, and
    the engine steers its text decoder."""
    return AutoModelForCausalLM if model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES else AutoModelForImageTextToText


def _local_model_type(folder: Path) -> str:
    try:
        config = read_json(folder / "config.json", MAX_CONFIG_BYTES, "model config")
    except DocumentError as exc:
        raise UnsupportedModel(str(exc)) from None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if not isinstance(model_type, str) or not model_type:
        raise UnsupportedModel(
            f"{folder}: config.json names no model_type, so it is not a model folder the studio can open"
        )
    return model_type


def _check_architecture(source: str | Path, model_type: str) -> None:
    if model_type not in SPECS:
        raise UnsupportedModel(f"{source}: {refusal(model_type)}")


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")


def _tokenizer(source: str | Path) -> PreTrainedTokenizerBase | None:
    """The checkpoint's tokenizer; None when a local checkpoint ships no tokenizer files (AutoTokenizer
    would otherwise build an empty one from the model config)."""
    local = Path(source)
    if local.is_dir() and not any((local / name).exists() for name in TOKENIZER_FILES):
        return None
    try:
        return AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError):  # a hub checkpoint without tokenizer files
        return None
