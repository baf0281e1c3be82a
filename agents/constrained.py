"""Decoding on transformers logits under a grammar (llguidance), with a deadline, a cancel switch,
stop strings and token streaming.

``GrammarLogitsProcessor`` is a transformers ``LogitsProcessor``: before each token it asks the
llguidance matcher which tokens keep the text inside the grammar and sets every other logit to
-inf, so whatever the model (or a steering profile) prefers, the output parses. Under a
``DesignGrammar`` it also keeps what a context-free grammar cannot express (``agents.design_decoding``):
unique net names, each pin in one net, every part wired, and no net joining two pins no design joins.

``GenerationControl`` is the stopping criterion every stage uses (with or without a grammar): it stops
when the grammar is complete, at a stop string, at a deadline or on cancel, and streams new text.
``constrained_generate`` runs the engine's greedy loop (``studio.moe.greedy``) on a plain model with both.
Compiling is cached: the llguidance tokenizer per HF tokenizer, the matcher per (tokenizer, grammar).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import llguidance
import llguidance.hf
import torch
from pydantic import BaseModel, ConfigDict
from transformers import (
    LogitsProcessor,
    PreTrainedModel,
    PreTrainedTokenizerFast,
    StoppingCriteria,
)

from agents.design_decoding import CLOSING_RESERVE, STRUCTURAL_BYTES, DesignRules
from agents.grammar import DesignGrammar
from studio.moe.fast_decode import decode_step
from studio.moe.greedy import end_of_sequence_ids, greedy_decode

FinishReason = Literal["complete", "stop", "max_new_tokens", "timeout", "cancelled"]


class Grammar(Protocol):
    """What decoding needs of a grammar: its Lark text and the longest text it admits (bytes)."""

    @property
    def lark(self) -> str: ...

    @property
    def max_bytes(self) -> int: ...


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
    """An HF tokenizer as llguidance sees it, each token's bytes (for the design rules), and the
    grammars compiled against it."""

    ll: llguidance.LLTokenizer
    pieces: list[bytes]
    structural_tokens: torch.Tensor  # ids of tokens with a quote, bracket or comma (see DesignRules)
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
            structural = [i for i, p in enumerate(pieces) if any(b in p for b in STRUCTURAL_BYTES)]
            cached = _vocabularies[tokenizer] = _Vocabulary(ll, pieces, torch.tensor(structural, dtype=torch.long))
        return cached


def compile_grammar(grammar: Grammar, tokenizer: PreTrainedTokenizerFast) -> llguidance.LLMatcher:
    """A fresh matcher for ``grammar``; the compiled one is cached per tokenizer and copied."""
    vocab = _vocabulary(tokenizer)
    with _lock:
        matcher = vocab.matchers.get(grammar.lark)
        if matcher is None:
            matcher = llguidance.LLMatcher(vocab.ll, llguidance.LLMatcher.grammar_from_lark(grammar.lark), log_level=0)
            if matcher.is_error():
                raise GrammarDecodingError(f"the grammar does not compile: {matcher.get_error()}")
            if len(vocab.matchers) >= _MAX_COMPILED:
                vocab.matchers.pop(next(iter(vocab.matchers)))
            vocab.matchers[grammar.lark] = matcher
        return matcher.deep_copy()


class GrammarLogitsProcessor(LogitsProcessor):
    """Masks logits to the grammar (and, for a design, to its decoding rules); batch size 1.

    Use as the last logits processor of a greedy loop (``greedy_decode`` or ``model.generate``). Each call first feeds
    the matcher the tokens generated since the previous call, so it follows ``input_ids`` whatever
    produced them; ``sync`` does the same for a stopping criterion.
    """

    def __init__(
        self,
        grammar: Grammar,
        tokenizer: PreTrainedTokenizerFast,
        prompt_length: int,
        token_budget: int | None = None,
    ) -> None:
        self._vocab = _vocabulary(tokenizer)
        self._matcher = compile_grammar(grammar, tokenizer)
        self._rules = (
            DesignRules(grammar, self._vocab.pieces, self._vocab.structural_tokens)
            if isinstance(grammar, DesignGrammar)
            else None
        )
        self._prompt_length = prompt_length
        self._consumed = prompt_length
        self._token_budget = token_budget  # the generation's max new tokens, if the caller says
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
            piece = self._vocab.pieces[token]
            self._text += piece
            if self._rules is not None:
                self._rules.consume(piece)
        self._consumed = input_ids.shape[1]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        start = time.perf_counter()
        self.sync(input_ids)
        allowed = torch.frombuffer(bytearray(self._matcher.compute_logit_bias()), dtype=torch.uint8).bool()
        if self._rules is not None:
            spent = input_ids.shape[1] - self._prompt_length
            closing = self._token_budget is not None and spent >= self._token_budget - CLOSING_RESERVE
            self._rules.restrict(allowed, require_wiring=not closing)
        if not allowed.any():
            raise GrammarDecodingError(f"no token can continue the design after {self.text[-60:]!r}")
        vocab_size = scores.shape[-1]
        keep = torch.zeros(vocab_size, dtype=torch.bool, device=scores.device)  # ids past the tokenizer: never
        keep[: min(vocab_size, allowed.numel())] = allowed[:vocab_size].to(scores.device)
        scores = scores.masked_fill(~keep, float("-inf"))
        self.seconds += time.perf_counter() - start
        return scores


class GenerationControl(StoppingCriteria):
    """Stops a batch-1 generation when its grammar is complete, at a stop string, at the deadline or on
    cancel (remembering which), and reports each new piece of text to ``on_token``.

    Text is decoded incrementally from all generated ids, so a character split over two tokens is
    reported once, whole."""

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerFast,
        prompt_length: int,
        *,
        grammar: GrammarLogitsProcessor | None = None,
        stop_strings: Sequence[str] = (),
        deadline: float | None = None,
        cancel: threading.Event | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> None:
        self._tokenizer = tokenizer
        self._prompt_length = prompt_length
        self._grammar = grammar
        self._stop_strings = tuple(stop_strings)
        self._deadline = deadline
        self._cancel = cancel
        self._on_token = on_token
        self._text = ""
        self._reported = 0
        self.reason: FinishReason | None = None

    @property
    def text(self) -> str:
        """The text generated so far, cut before a stop string if one was written."""
        return self._text

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: object) -> torch.BoolTensor:
        if self._grammar is not None:
            self._grammar.sync(input_ids)
        generated = input_ids[0, self._prompt_length :].tolist()
        text = self._tokenizer.decode(generated, skip_special_tokens=True)
        if self._stop_strings:
            cut = min((i for i in (text.find(s) for s in self._stop_strings) if i >= 0), default=-1)
            if cut >= 0:
                text, self.reason = text[:cut], "stop"
        self._text = text
        if self._on_token is not None and not text.endswith("\ufffd") and len(text) > self._reported:
            self._on_token(text[self._reported :])
            self._reported = len(text)
        if self.reason is None:
            if self._grammar is not None and self._grammar.complete:
                self.reason = "complete"
            elif self._cancel is not None and self._cancel.is_set():
                self.reason = "cancelled"
            elif self._deadline is not None and time.monotonic() >= self._deadline:
                self.reason = "timeout"
        return torch.tensor([self.reason is not None])

    def finish(self, output: torch.LongTensor, max_new_tokens: int) -> FinishReason:
        """Why the generation that produced ``output`` ended (after ``model.generate`` returned)."""
        self(output, torch.empty(0))
        if self._on_token is not None and len(self._text) > self._reported:
            self._on_token(self._text[self._reported :])
            self._reported = len(self._text)
        if self.reason is not None:
            return self.reason
        if output.shape[1] - self._prompt_length >= max_new_tokens:
            return "max_new_tokens"
        return "complete"  # the model ended its answer (end of sequence)


def constrained_generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerFast,
    prompt_ids: Sequence[int] | torch.Tensor,
    grammar: Grammar,
    max_new_tokens: int,
    *,
    time_limit_s: float | None = None,
    cancel: threading.Event | None = None,
    on_token: Callable[[str], None] | None = None,
    logits_processors: Sequence[LogitsProcessor] = (),
) -> ConstrainedResult:
    """Greedy generation under ``grammar``, on a plain transformers model.

    ``max_new_tokens >= grammar.max_bytes`` guarantees a complete text (a token is at least one
    byte). ``logits_processors`` run before the grammar mask (e.g. a steering or contrast rule).
    """
    ids = torch.as_tensor(prompt_ids, dtype=torch.long).reshape(1, -1)
    processor = GrammarLogitsProcessor(grammar, tokenizer, prompt_length=ids.shape[1], token_budget=max_new_tokens)
    deadline = None if time_limit_s is None else time.monotonic() + time_limit_s
    control = GenerationControl(
        tokenizer, ids.shape[1], grammar=processor, deadline=deadline, cancel=cancel, on_token=on_token
    )
    start = time.perf_counter()
    with torch.inference_mode():
        new_ids = greedy_decode(
            decode_step(model),
            ids[0].tolist(),
            max_new_tokens,
            eos_ids=end_of_sequence_ids(model),
            logits_processors=[*logits_processors, processor],
            stopping_criteria=[control],
        )
    seconds = time.perf_counter() - start
    output = torch.cat((ids, torch.tensor([new_ids], dtype=torch.long)), dim=1)
    reason = control.finish(output, max_new_tokens)
    return ConstrainedResult(
        text=processor.text,
        token_ids=new_ids,
        finish_reason="complete" if processor.complete else reason,
        seconds=seconds,
        constraint_seconds=processor.seconds,
    )
