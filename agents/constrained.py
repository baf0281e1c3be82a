"""Decoding under a ``DesignGrammar`` on transformers logits, with llguidance as the grammar engine.

``DesignLogitsProcessor`` is a transformers ``LogitsProcessor``: before each token it asks the
llguidance matcher which tokens keep the text inside the grammar and sets every other logit to
-inf, so whatever the model (or a steering profile) prefers, the output parses and names only the
identified parts' real pins. On top of the grammar it keeps net names unique, which a context-free
grammar cannot express (``Design`` rejects a repeated net name).

``constrained_generate`` runs ``model.generate`` (greedy, so deterministic) with that processor and
stops when the design is complete, at ``max_new_tokens``, at a wall-clock limit or on cancel.
Compiling is cached: the llguidance tokenizer per HF tokenizer, the matcher per (tokenizer, grammar).
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import llguidance
import llguidance.hf
import torch
from pydantic import BaseModel, ConfigDict
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    PreTrainedModel,
    PreTrainedTokenizerFast,
    StoppingCriteria,
    StoppingCriteriaList,
)

from agents.grammar import DesignGrammar

FinishReason = Literal["complete", "max_new_tokens", "timeout", "cancelled"]

_OPENER = b'{"name":"'
_CLOSED_NAME = re.compile(rb'\{"name":"([^"]*)"')
_OPEN_NAME = re.compile(rb'\{"name":"([^"]*)$')


class GrammarDecodingError(RuntimeError):
    """The decoder could not follow the grammar (a token the matcher refused, or no token left)."""


class ConstrainedResult(BaseModel):
    """What one constrained generation produced, and why it stopped."""

    model_config = ConfigDict(frozen=True)

    text: str
    token_ids: list[int]
    finish_reason: FinishReason
    seconds: float
    constraint_seconds: float  # time spent computing and applying masks (the constraint's overhead)


@dataclass(frozen=True)
class _Vocabulary:
    """An HF tokenizer as llguidance sees it, each token's bytes (for the unique-name rule), and the
    grammars compiled against it."""

    ll: llguidance.LLTokenizer
    pieces: list[bytes]
    quote_tokens: torch.Tensor  # ids of tokens whose bytes contain '"': only these can close a net name
    matchers: dict[str, llguidance.LLMatcher] = field(default_factory=dict)  # by grammar text


_MAX_COMPILED = 128  # grammars kept per tokenizer
_vocabularies: weakref.WeakKeyDictionary[PreTrainedTokenizerFast, _Vocabulary] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _vocabulary(tokenizer: PreTrainedTokenizerFast) -> _Vocabulary:
    """The llguidance view of ``tokenizer``, built once per tokenizer object."""
    if not isinstance(tokenizer, PreTrainedTokenizerFast):
        raise TypeError(f"grammar-constrained decoding needs a fast tokenizer, not {type(tokenizer).__name__}")
    with _lock:
        cached = _vocabularies.get(tokenizer)
        if cached is None:
            ll = llguidance.hf.from_tokenizer(tokenizer)
            pieces = [ll.decode_bytes([i]) for i in range(ll.vocab_size)]
            quotes = torch.tensor([i for i, p in enumerate(pieces) if b'"' in p], dtype=torch.long)
            cached = _vocabularies[tokenizer] = _Vocabulary(ll, pieces, quotes)
        return cached


def compile_grammar(grammar: DesignGrammar, tokenizer: PreTrainedTokenizerFast) -> llguidance.LLMatcher:
    """A fresh matcher for ``grammar``; the compiled one is cached per tokenizer and copied."""
    vocab = _vocabulary(tokenizer)
    with _lock:
        matcher = vocab.matchers.get(grammar.lark)
        if matcher is None:
            matcher = llguidance.LLMatcher(vocab.ll, llguidance.LLMatcher.grammar_from_lark(grammar.lark), log_level=0)
            if matcher.is_error():
                raise GrammarDecodingError(f"the design grammar does not compile: {matcher.get_error()}")
            if len(vocab.matchers) >= _MAX_COMPILED:
                vocab.matchers.pop(next(iter(vocab.matchers)))
            vocab.matchers[grammar.lark] = matcher
        return matcher.deep_copy()


class DesignLogitsProcessor(LogitsProcessor):
    """Masks logits to the grammar and to unique net names; batch size 1.

    Use in ``model.generate(logits_processor=[...])`` as the last processor. Each call first feeds
    the matcher the tokens generated since the previous call, so it follows ``input_ids`` whatever
    produced them; ``sync`` does the same for a stopping criterion.
    """

    def __init__(self, grammar: DesignGrammar, tokenizer: PreTrainedTokenizerFast, prompt_length: int) -> None:
        self._vocab = _vocabulary(tokenizer)
        self._matcher = compile_grammar(grammar, tokenizer)
        self._max_name = grammar.max_net_name
        self._consumed = prompt_length
        self._text = b""
        self.seconds = 0.0

    @property
    def complete(self) -> bool:
        """The design text is finished: the grammar admits nothing more."""
        return self._matcher.is_stopped()

    @property
    def text(self) -> str:
        return self._text.decode("utf-8", errors="replace")

    def sync(self, input_ids: torch.LongTensor) -> None:
        if input_ids.shape[0] != 1:
            raise ValueError("grammar-constrained decoding runs one sequence at a time")
        for token in input_ids[0, self._consumed :].tolist():
            if self._matcher.is_stopped():
                break  # the end-of-sequence token after a complete design
            if not self._matcher.consume_token(token):
                raise GrammarDecodingError(f"token {token} left the grammar: {self._matcher.get_error()}")
            self._text += self._vocab.pieces[token]
        self._consumed = input_ids.shape[1]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        start = time.perf_counter()
        self.sync(input_ids)
        allowed = torch.frombuffer(bytearray(self._matcher.compute_logit_bias()), dtype=torch.uint8).bool()
        self._forbid_repeated_names(allowed)
        if not allowed.any():
            raise GrammarDecodingError(f"no token can continue the design after {self.text[-60:]!r}")
        vocab_size = scores.shape[-1]
        keep = torch.zeros(vocab_size, dtype=torch.bool, device=scores.device)  # ids past the tokenizer: never
        keep[: min(vocab_size, allowed.numel())] = allowed[:vocab_size].to(scores.device)
        scores = scores.masked_fill(~keep, float("-inf"))
        self.seconds += time.perf_counter() - start
        return scores

    def _forbid_repeated_names(self, allowed: torch.Tensor) -> None:
        """Forbid tokens that would close a net name already used, or fill one to full length.

        Only tokens containing a quote can close a name; a name at full length can only close, so a
        token that writes a used full-length name is a dead end and is forbidden too.
        """
        used = set(_CLOSED_NAME.findall(self._text))
        if not used:
            return
        tail = self._text[-(len(_OPENER) + self._max_name) :]  # holds any net name being written
        if any(len(name) == self._max_name for name in used):
            candidates = allowed.nonzero().flatten()
        else:
            candidates = self._vocab.quote_tokens[allowed[self._vocab.quote_tokens]]
        for token in candidates.tolist():
            if _repeats_name(tail, self._vocab.pieces[token], used, self._max_name):
                allowed[token] = False


def _repeats_name(tail: bytes, piece: bytes, used: set[bytes], max_name: int) -> bool:
    """Whether appending ``piece`` after ``tail`` closes a used net name or writes one at full length."""
    text = tail + piece
    seen = set(used)
    for match in _CLOSED_NAME.finditer(text):
        if match.end() > len(tail):
            if match[1] in seen:
                return True
            seen.add(match[1])
    open_name = _OPEN_NAME.search(text)
    return open_name is not None and len(open_name[1]) == max_name and open_name[1] in seen


class _Finished(StoppingCriteria):
    """Stops on a complete design, a passed deadline or a cancel; remembers which."""

    def __init__(self, processor: DesignLogitsProcessor, deadline: float | None, cancel: threading.Event | None):
        self._processor = processor
        self._deadline = deadline
        self._cancel = cancel
        self.reason: FinishReason | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: object) -> torch.BoolTensor:
        self._processor.sync(input_ids)
        if self._processor.complete:
            self.reason = "complete"
        elif self._cancel is not None and self._cancel.is_set():
            self.reason = "cancelled"
        elif self._deadline is not None and time.monotonic() >= self._deadline:
            self.reason = "timeout"
        return torch.tensor([self.reason is not None])


class _TokenCallback(StoppingCriteria):
    """Reports each new token's text to ``on_token`` (never stops generation)."""

    def __init__(self, tokenizer: PreTrainedTokenizerFast, prompt_length: int, on_token: Callable[[str], None]):
        self._tokenizer = tokenizer
        self._seen = prompt_length
        self._on_token = on_token

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: object) -> torch.BoolTensor:
        for token in input_ids[0, self._seen :].tolist():
            self._on_token(self._tokenizer.decode([token]))
        self._seen = input_ids.shape[1]
        return torch.tensor([False])


def constrained_generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerFast,
    prompt_ids: Sequence[int] | torch.Tensor,
    grammar: DesignGrammar,
    max_new_tokens: int,
    *,
    time_limit_s: float | None = None,
    cancel: threading.Event | None = None,
    on_token: Callable[[str], None] | None = None,
    logits_processors: Sequence[LogitsProcessor] = (),
) -> ConstrainedResult:
    """Greedy generation of a design under ``grammar``.

    ``max_new_tokens >= grammar.max_bytes`` guarantees a complete design (a token is at least one
    byte). ``logits_processors`` run before the grammar mask (e.g. a steering or contrast rule).
    """
    ids = torch.as_tensor(prompt_ids, dtype=torch.long).reshape(1, -1)
    processor = DesignLogitsProcessor(grammar, tokenizer, prompt_length=ids.shape[1])
    deadline = None if time_limit_s is None else time.monotonic() + time_limit_s
    finished = _Finished(processor, deadline, cancel)
    criteria = [finished] if on_token is None else [_TokenCallback(tokenizer, ids.shape[1], on_token), finished]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else _vocabulary(tokenizer).ll.eos_token
    start = time.perf_counter()
    with torch.inference_mode():
        output = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            logits_processor=LogitsProcessorList([*logits_processors, processor]),
            stopping_criteria=StoppingCriteriaList(criteria),
            pad_token_id=pad,
        )
    seconds = time.perf_counter() - start
    processor.sync(output)
    return ConstrainedResult(
        text=processor.text,
        token_ids=output[0, ids.shape[1] :].tolist(),
        finish_reason=finished.reason or ("complete" if processor.complete else "max_new_tokens"),
        seconds=seconds,
        constraint_seconds=processor.seconds,
    )
