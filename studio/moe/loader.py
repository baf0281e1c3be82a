"""Loading a MoE causal LM for steering: by hub id or local path, on CPU, fp32, with the engine's experts
forward (``experts_forward.DECODE``: eager, lean at one token; hub kernels and fused paths can bypass
the router hooks). The architecture is checked against the routing specs before any weight is read."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from studio.moe.experts_forward import DECODE
from studio.moe.specs import SPECS, UnsupportedModel


def load_model(source: str | Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase | None]:
    """(model in eval mode, its tokenizer or None if the checkpoint ships none)."""
    config = AutoConfig.from_pretrained(source)
    if config.model_type not in SPECS:
        raise UnsupportedModel(
            f"{source}: no MoE routing spec for architecture {config.model_type!r}; "
            f"supported: {', '.join(sorted(SPECS))}"
        )
    config.output_router_logits = False  # else every decode step records logits and computes the aux loss
    model = AutoModelForCausalLM.from_pretrained(
        source, config=config, dtype=torch.float32, experts_implementation=DECODE
    )
    return model.eval(), _tokenizer(source)


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
