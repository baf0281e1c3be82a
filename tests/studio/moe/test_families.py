"""Every MoE family the installed transformers ships is steered (a routing spec, tested on a tiny model of
it by the architecture suite) or listed as not supported with the reason; the specs were verified
against this transformers version."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

import pytest
import transformers
from transformers.models.auto import modeling_auto

from studio.moe.engine import MoEEngine
from studio.moe.specs import SPECS, UNSUPPORTED, VERIFIED_TRANSFORMERS, UnsupportedModel, refusal
from tests.fixtures.tiny_models import ARCHITECTURES

# a modeling file with one of these declares a mixture of experts
MOE_MARKERS = re.compile(
    r"^class \w*(Router|TopKGating|SparseMoeBlock|SparseMoEBlock|MoE|Moe)\b|@use_experts_implementation", re.MULTILINE
)
# the registries of models that generate or label text: a family's sub-models (vision towers, audio encoders,
# a VLM's bare text model) are not in them
HEAD_MAPPINGS = (
    modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
    modeling_auto.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
    modeling_auto.MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES,
    modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
    modeling_auto.MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES,
)


@cache
def moe_modules() -> frozenset[str]:
    """The ``transformers.models`` packages whose modeling code declares routers or routed experts."""
    root = Path(transformers.__file__).parent / "models"
    return frozenset(f.parent.name for f in root.glob("*/modeling_*.py") if MOE_MARKERS.search(f.read_text()))


def installed_moe_families() -> list[str]:
    """Model types of the registries' models whose class is defined in a MoE modeling file (Sarvam-MoE counts:
    its model is ``Glm4MoeForCausalLM``)."""
    families = set()
    for mapping in HEAD_MAPPINGS:
        for model_type, class_name in mapping.items():
            model_class = getattr(transformers, class_name, None)
            package = model_class.__module__.split(".")[2] if model_class is not None else ""
            if package in moe_modules():
                families.add(model_type)
    return sorted(families)


def test_the_specs_were_verified_against_the_installed_transformers():
    assert transformers.__version__ == VERIFIED_TRANSFORMERS, (
        f"transformers {transformers.__version__} is installed; the routing specs were verified against "
        f"{VERIFIED_TRANSFORMERS}: re-read the new version's routers, run this suite, then update VERIFIED_TRANSFORMERS"
    )


def test_the_install_pins_the_verified_transformers():
    """A fresh install must get the version the specs were read from, not whatever is newest."""
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    pins = [dep for dep in pyproject["project"]["dependencies"] if dep.startswith("transformers")]
    assert pins == [f"transformers=={VERIFIED_TRANSFORMERS}"]


def test_every_installed_moe_family_is_supported_or_listed_with_its_reason():
    families = installed_moe_families()
    assert len(families) > 50 and {"mixtral", "qwen3_moe", "deepseek_v3"} <= set(families)
    neither = [family for family in families if family not in SPECS and family not in UNSUPPORTED]
    assert not neither, f"MoE families with neither a routing spec nor a reason in UNSUPPORTED: {neither}"
    assert not set(SPECS) & set(UNSUPPORTED)
    stale = sorted(set(UNSUPPORTED) - set(families))
    assert not stale, f"UNSUPPORTED lists families this transformers does not ship: {stale}"


def test_every_spec_has_a_tiny_model_in_the_architecture_suite():
    untested = sorted(set(SPECS) - {tiny_type(arch) for arch in ARCHITECTURES})
    assert not untested, f"routing specs without a tiny model in tests/fixtures/tiny_models.py: {untested}"


def tiny_type(arch: str) -> str:
    from tests.fixtures.tiny_models import tiny_config

    return tiny_config(arch).model_type


@pytest.mark.parametrize("family", sorted(UNSUPPORTED))
def test_the_refusal_names_the_reason(family: str):
    assert UNSUPPORTED[family] in refusal(family)
    assert family in refusal(family)


def test_an_unsupported_family_is_refused_with_its_reason():
    config = transformers.JetMoeConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, kv_channels=8
    )
    with pytest.raises(UnsupportedModel, match="JetMoE's router returns its choice already grouped"):
        MoEEngine.from_model(transformers.JetMoeForCausalLM(config))
