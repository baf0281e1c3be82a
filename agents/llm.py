"""One LLM stage's generation on the MoE engine: the stage's steering section applied, its routing
captured, an optional grammar, a token budget, a wall-clock limit, a cancel switch and streaming.

The model sees the stage prompt wrapped by its chat template when it has one (hub chat models), as
plain text otherwise (the bundled model was trained on the plain prompts).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import torch
from pydantic import BaseModel, ConfigDict
from transformers import PreTrainedTokenizerFast

from agents.constrained import FinishReason, GenerationControl, Grammar, GrammarLogitsProcessor
from agents.prompting import LlmStage
from studio.moe.engine import MoEEngine
from studio.moe.profile import SteeringProfile
from studio.moe.trace import RoutingTrace

STOP_STRINGS = ("\n### ",)  # a plain-text model that runs on into the next stage's prompt


class StageGenerationError(RuntimeError):
    """A stage could not produce an answer (prompt too long for the model, no tokenizer)."""


class Generated(BaseModel):
    """What one stage's model call produced."""

    model_config = ConfigDict(frozen=True)

    text: str
    prompt_tokens: int
    token_ids: list[int]
    finish_reason: FinishReason
    seconds: float
    constraint_seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return len(self.token_ids) / self.seconds if self.seconds > 0 else 0.0


class StageCall(BaseModel):
    """How to run one stage: its budget and limits."""

    model_config = ConfigDict(frozen=True)

    stage: LlmStage
    prompt: str
    max_new_tokens: int
    time_limit_s: float | None = None


def generate_stage(
    engine: MoEEngine,
    call: StageCall,
    *,
    profile: SteeringProfile | None = None,
    grammar: Grammar | None = None,
    cancel: threading.Event | None = None,
    on_token: Callable[[str], None] | None = None,
) -> tuple[Generated, RoutingTrace | None]:
    """Greedy generation of one stage under its steering section; returns the answer and its routing."""
    tokenizer = engine.tokenizer
    if not isinstance(tokenizer, PreTrainedTokenizerFast):
        raise StageGenerationError(f"{engine.info.name} has no fast tokenizer; the pipeline needs one")
    prompt_ids = engine.encode(call.prompt, chat=True)
    budget = _budget(engine, len(prompt_ids), call)
    processor = GrammarLogitsProcessor(grammar, tokenizer, len(prompt_ids), budget) if grammar is not None else None
    deadline = None if call.time_limit_s is None else time.monotonic() + call.time_limit_s
    control = GenerationControl(
        tokenizer,
        len(prompt_ids),
        grammar=processor,
        stop_strings=() if grammar is not None else STOP_STRINGS,
        deadline=deadline,
        cancel=cancel,
        on_token=on_token,
    )
    start = time.perf_counter()
    with engine.steer(profile, stage=call.stage, capture=True) as run:
        generation = engine.generate(
            prompt_ids,
            max_new_tokens=budget,
            chat=False,
            logits_processor=[processor] if processor is not None else None,
            stopping_criteria=[control],
        )
    seconds = time.perf_counter() - start
    output = torch.tensor([generation.prompt_ids + generation.token_ids])
    reason = control.finish(output, budget)
    text = processor.text if processor is not None else control.text
    if processor is not None and processor.complete:
        reason = "complete"
    generated = Generated(
        text=text,
        prompt_tokens=len(prompt_ids),
        token_ids=generation.token_ids,
        finish_reason=reason,
        seconds=seconds,
        constraint_seconds=processor.seconds if processor is not None else 0.0,
    )
    return generated, run.trace


def _budget(engine: MoEEngine, prompt_tokens: int, call: StageCall) -> int:
    """New tokens allowed: the stage's budget, within the model's context window."""
    window = getattr(engine.model.config, "max_position_embeddings", None)
    if window is None:
        return call.max_new_tokens
    room = int(window) - prompt_tokens
    if room < 8:
        raise StageGenerationError(
            f"the {call.stage} prompt is {prompt_tokens} tokens, too long for {engine.info.name}'s "
            f"{window}-token context; use a shorter request or fewer parts"
        )
    return min(call.max_new_tokens, room)
