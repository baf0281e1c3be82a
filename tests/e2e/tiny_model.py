"""A tiny random Qwen3-MoE saved as a model folder (weights, BPE tokenizer, pipeline settings), so the
served studio can be driven in a browser without the bundled model: ``python app.py --model FOLDER``.

A random model writes nonsense; the pipeline still finishes (grammar-constrained identify and
synthesize), which is all a UI test needs. Small bounds keep each run to a few seconds on 2 cores.
"""

from __future__ import annotations

import json
from pathlib import Path

from agents.model_opening import SETTINGS_FILE
from agents.orchestrator import PipelineSettings
from agents.synthesize import GrammarBounds
from components_db import KnowledgeBase

SETTINGS = PipelineSettings(
    max_parts=6,
    identify_tokens=200,
    reason_tokens=40,
    stage_time_limit_s=60,
    grammar=GrammarBounds(max_nets=4, max_pins_per_net=3, max_net_name=6),
    run_spice=True,
)


def build_tiny_model(folder: Path, kb: KnowledgeBase, *, seed: int = 1, experts: int = 8) -> Path:
    """Write the pipeline tests' tiny random Qwen3-MoE (2 MoE layers x ``experts`` experts, top-2) into ``folder``."""
    from tests.fixtures.tiny_models import pipeline_moe, train_stage_tokenizer

    tokenizer = train_stage_tokenizer(kb)
    model = pipeline_moe(tokenizer, seed=seed, experts=experts)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    settings = {"pipeline": SETTINGS.model_dump(mode="json")}
    (folder / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return folder


if __name__ == "__main__":
    import sys

    print(build_tiny_model(Path(sys.argv[1]), KnowledgeBase.open()))
