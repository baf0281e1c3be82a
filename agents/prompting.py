"""Stage prompts: each stage's template lives in ``agents/prompts/<stage>.txt`` and is filled here.

Templates are ``str.format`` text: only the template's own braces are fields, so braces in a request
are copied, never interpreted. The bundled model was trained on exactly these texts; a hub model
reads the same words (wrapped by its chat template when it has one).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

PROMPTS_DIR = Path(__file__).parent / "prompts"
LlmStage = Literal["identify", "reason", "synthesize", "repair"]


@cache
def template(stage: LlmStage) -> str:
    return (PROMPTS_DIR / f"{stage}.txt").read_text(encoding="utf-8")


def render(stage: LlmStage, **fields: str) -> str:
    """The stage's prompt with ``fields`` filled in; ends with the line the answer follows."""
    return template(stage).format(**fields)
