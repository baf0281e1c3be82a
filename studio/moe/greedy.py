"""The engine's greedy decoding loop: one prefill through the model's forward, then a token per step.

Why not ``model.generate``: at one token per step on a small model the matmuls are a fraction of a
step; generate's per-step bookkeeping (its input preparation, output objects, growing ``input_ids``)
and the full forward's glue cost the rest. This loop keeps generate's contract for what the engine
uses: greedy (argmax of float32 scores), ``min_new_tokens`` (end-of-sequence masked until then),
logits processors and stopping criteria called with ``input_ids`` [1, L] and scores [1, V] as
generate calls them, and a stop after an end-of-sequence token (kept) or when a criterion says so.
It applies nothing else from a hub model's generation config (no repetition penalty, no sampling).

A step is a ``DecodeStep``: the model's own forward with its cache (any architecture), or a faster
step for a layout that has one (``fast_decode``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch
from torch import Tensor
from transformers import LogitsProcessor, PreTrainedModel, StoppingCriteria


class DecodeStep(Protocol):
    def prefill(self, prompt_ids: Tensor) -> Tensor:
        """Logits [V] after the prompt [1, S]."""

    def step(self, token: int) -> Tensor:
        """Logits [V] after one more token."""


class ForwardStep:
    """The model's forward, one token at a time, on the cache the model made at prefill."""

    def __init__(self, model: PreTrainedModel) -> None:
        self._model = model
        self._cache = None
        self._length = 0

    def prefill(self, prompt_ids: Tensor) -> Tensor:
        return self._forward(prompt_ids)

    def step(self, token: int) -> Tensor:
        return self._forward(torch.tensor([[token]]))

    def _forward(self, input_ids: Tensor) -> Tensor:
        start = self._length
        self._length += input_ids.shape[1]
        output = self._model(
            input_ids=input_ids,
            attention_mask=torch.ones(1, self._length, dtype=torch.long),
            # what a text LM infers from the cache; a vision-language model (Qwen3-VL) would look for image
            # positions in the one new token otherwise
            position_ids=torch.arange(start, self._length)[None],
            cache=self._cache,
            use_cache=True,
            logits_to_keep=1,
        )
        self._cache = output.cache
        return output.logits[0, -1]


def end_of_sequence_ids(model: PreTrainedModel) -> list[int]:
    """The ids that end a generation, as the model's generation config (else its config) names them."""
    for source in (model.generation_config, model.config):
        value = getattr(source, "eos_token_id", None)
        if value is not None:
            return [int(v) for v in (value if isinstance(value, list) else [value])]
    return []


def greedy_decode(
    decoder: DecodeStep,
    prompt_ids: Sequence[int],
    max_new_tokens: int,
    *,
    eos_ids: Sequence[int] = (),
    min_new_tokens: int = 0,
    logits_processors: Sequence[LogitsProcessor] = (),
    stopping_criteria: Sequence[StoppingCriteria] = (),
) -> list[int]:
    """The generated token ids (an end-of-sequence token that ended the generation included)."""
    prompt_length = len(prompt_ids)
    buffer = torch.empty(1, prompt_length + max_new_tokens, dtype=torch.long)  # input_ids as generate grows it
    buffer[0, :prompt_length] = torch.tensor(prompt_ids, dtype=torch.long)
    eos = torch.tensor(list(eos_ids), dtype=torch.long)
    length = prompt_length
    logits = decoder.prefill(buffer[:, :prompt_length]) if max_new_tokens > 0 else None
    while logits is not None:
        input_ids = buffer[:, :length]
        scores = logits.to(torch.float32).view(1, -1)
        if length - prompt_length < min_new_tokens and eos.numel():
            scores = scores.index_fill(1, eos, float("-inf"))
        for processor in logits_processors:
            scores = processor(input_ids, scores)
        token = int(scores.argmax(-1))
        buffer[0, length] = token
        length += 1
        input_ids = buffer[:, :length]
        done = length - prompt_length >= max_new_tokens or token in eos_ids
        for criterion in stopping_criteria:
            done = bool(criterion(input_ids, scores).any()) or done
        logits = None if done else decoder.step(token)
    return buffer[0, prompt_length:length].tolist()
