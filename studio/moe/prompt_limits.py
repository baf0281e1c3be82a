"""The limits every prompt set a model is probed with shares (attribution, super-expert profiling): a
text prompt's length, and its tokens against the model's context. Each returns the problem in words
(None when there is none); the caller raises it as its own refusal, with its own prefix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.moe.engine import MoEEngine, Prompt


def too_long(prompts: Sequence[Prompt], max_chars: int) -> str | None:
    """The first text prompt over ``max_chars`` characters, said as "prompt N: L characters; ..."."""
    for number, prompt in enumerate(prompts, start=1):
        if isinstance(prompt, str) and len(prompt) > max_chars:
            return f"prompt {number}: {len(prompt)} characters; a prompt has at most {max_chars}"
    return None


def over_context(engine: MoEEngine, sequences: Sequence[Sequence[int]], what: str) -> str | None:
    """The first token sequence longer than the model's context (``max_position_embeddings``)."""
    limit = engine.context_length
    if limit is None:
        return None
    for number, ids in enumerate(sequences, start=1):
        if len(ids) > limit:
            return f"{what} {number} is {len(ids)} tokens; {engine.info.name} reads at most {limit}"
    return None
