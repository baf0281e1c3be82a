"""The engine on a model split across ranks: rank 0 serves, the other ranks run what rank 0 runs.

    engine = open_replicated("Qwen/Qwen3-235B-A22B", "expert")   # under torchrun, on every rank
    if engine is None:        # not rank 0: followed rank 0's calls until it closed its engine
        return
    with engine.steer(profile, stage="reason"):                   # rank 0, as on one machine
        engine.generate(...)

Rank 0's ``LeaderEngine`` is a ``MoEEngine`` whose ``generate`` and ``forward_trace`` first tell the
followers (``Channel``) what to run: the prompt and the steering section in force, then, token by
token, the token rank 0 chose, so grammars, stop strings, cancellation and time limits (logits
processors and stopping criteria, which run on rank 0 only) never make the ranks' forwards diverge.
A follower generates under the same steering with a ``_Follow`` processor that picks rank 0's token
and stops where rank 0 stopped; its router hooks mask exactly as rank 0's do.

Calls are serialised on rank 0 (one lock): two requests interleaving their forwards would interleave
their collectives. Per-request steering is unchanged: each call carries its own section.

With ``verify``, followers capture too and send their routing to rank 0 after each call, which
refuses a call whose routing differs between ranks (``RoutingMismatch``); the test runs this way.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor
from transformers import LogitsProcessor, PreTrainedModel, PreTrainedTokenizerBase, StoppingCriteria

from studio.moe.distributed import Call, CallKind, Channel, Plan, distributed_config, launched, same_tensor
from studio.moe.engine import Generation, MoEEngine, Prompt
from studio.moe.fast_decode import decode_step
from studio.moe.greedy import DecodeStep
from studio.moe.loader import load_model
from studio.moe.trace import RoutingTrace


class RoutingMismatch(RuntimeError):
    """Ranks routed the same call differently (verification on): the parallel plan broke the router."""


def open_replicated(
    source: str | Path, plan: Plan, *, name: str | None = None, verify: bool = False
) -> MoEEngine | None:
    """Load ``source`` sharded by ``plan`` on every rank; rank 0 gets its ``LeaderEngine``, the other ranks
    follow rank 0 until it closes its engine, then get None."""
    rank, world_size = launched()
    model, tokenizer = load_model(source, distributed_config(plan, world_size))
    channel = Channel()
    if rank == 0:
        return LeaderEngine(model, tokenizer, name or str(source), channel, verify=verify)
    with MoEEngine.from_model(model, tokenizer, name or str(source)) as engine:
        follow(engine, channel, verify=verify)
    return None


class LeaderEngine(MoEEngine):
    """Rank 0's engine: every call is broadcast to the followers before it runs here."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase | None,
        name: str,
        channel: Channel,
        *,
        verify: bool = False,
    ) -> None:
        model.eval()
        model.config.output_router_logits = False
        super().__init__(model, tokenizer, name)
        self.channel = channel
        self.verify = verify
        self._lock = threading.Lock()
        self._budget = 0  # the current generation's max_new_tokens (under the lock)
        self._opened = False  # whether the followers were told to start the current generation
        self.decode_step = self._leading_step

    def _call(self, kind: CallKind, prompts: list[list[int]]) -> Call:
        run = self._run.get()
        return Call(
            kind,
            prompts=prompts,
            max_new_tokens=self._budget,
            steering=run.steering if run is not None else None,
            mode=run.mode if run is not None else "reroute",
            capture=self.verify,
        )

    def _leading_step(self, model: PreTrainedModel) -> DecodeStep:
        return _LeadingStep(self, decode_step(model))

    def generate(
        self,
        prompt: Prompt,
        max_new_tokens: int = 32,
        *,
        chat: bool = False,
        min_new_tokens: int = 0,
        logits_processor: Sequence[LogitsProcessor] | None = None,
        stopping_criteria: Sequence[StoppingCriteria] | None = None,
    ) -> Generation:
        with self._lock:
            self._budget, self._opened = max_new_tokens, False
            try:
                generation = super().generate(
                    prompt,
                    max_new_tokens,
                    chat=chat,
                    min_new_tokens=min_new_tokens,
                    logits_processor=logits_processor,
                    stopping_criteria=stopping_criteria,
                )
            finally:
                if self._opened:  # refused before the prefill: the followers were never told
                    self.channel.send(Call("end"))
            self._check(generation.trace)
            return generation

    def forward_trace(self, prompts: Sequence[Prompt]) -> RoutingTrace:
        encoded = [self.encode(p) for p in prompts]
        with self._lock:
            self.channel.send(self._call("forward", encoded))
            trace = super().forward_trace(encoded)
            self._check(trace)
            return trace

    def _check(self, trace: RoutingTrace | None) -> None:
        if not self.verify:
            return
        gathered = self.channel.gather(None)
        assert gathered is not None
        for rank, theirs in enumerate(gathered[1:], start=1):
            if trace is not None and not same_routing(trace, theirs):
                raise RoutingMismatch(f"rank {rank} routed this call differently from rank 0")

    def close(self) -> None:
        if self._handles:
            self.channel.send(Call("stop"))
        super().close()


class _LeadingStep:
    """Rank 0's decode step: tells the followers to prefill, then each token, before running it here."""

    def __init__(self, engine: LeaderEngine, inner: DecodeStep) -> None:
        self._engine = engine
        self._inner = inner

    def prefill(self, prompt_ids: Tensor) -> Tensor:
        self._engine.channel.send(self._engine._call("generate", [prompt_ids[0].tolist()]))
        self._engine._opened = True
        return self._inner.prefill(prompt_ids)

    def step(self, token: int) -> Tensor:
        self._engine.channel.send(Call("step", token=token))
        return self._inner.step(token)


class _FollowToken(LogitsProcessor):
    """A follower's choice of each token: rank 0's, read from the channel; "end" marks where it stopped."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self.ended = False

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        call = self._channel.receive()
        if call.kind == "end":
            self.ended = True
            return scores
        if call.kind != "step":
            raise RuntimeError(f"a follower expected the next token from rank 0, got {call.kind!r}")
        chosen = torch.full_like(scores, float("-inf"))
        chosen[:, call.token] = 0.0
        return chosen


class _FollowStop(StoppingCriteria):
    def __init__(self, token: _FollowToken) -> None:
        self._token = token

    def __call__(self, input_ids: Tensor, scores: Tensor, **kwargs: object) -> Tensor:
        return torch.tensor([self._token.ended])


def follow(engine: MoEEngine, channel: Channel, *, verify: bool = False) -> None:
    """Run rank 0's calls until it stops serving."""
    while (call := channel.receive()).kind != "stop":
        with engine.steer(call.steering, mode=call.mode, capture=call.capture):
            if call.kind == "forward":
                trace: RoutingTrace | None = engine.forward_trace(call.prompts)
            elif call.kind == "generate":
                token = _FollowToken(channel)
                generation = engine.generate(
                    call.prompts[0],
                    call.max_new_tokens,
                    logits_processor=[token],
                    stopping_criteria=[_FollowStop(token)],
                )
                if not token.ended:  # rank 0 stops only by saying so, and never steps past its limit
                    raise RuntimeError("a follower's generation ended before rank 0's")
                trace = generation.trace
            else:
                raise RuntimeError(f"a follower got {call.kind!r} between calls")
        if verify:
            channel.gather(trace)


def same_routing(a: RoutingTrace, b: RoutingTrace | None) -> bool:
    """The same experts chosen for the same tokens, with the same weights (to float32 rounding)."""
    if b is None or not torch.equal(a.token_ids, b.token_ids) or len(a.layers) != len(b.layers):
        return False
    return all(
        torch.equal(x.selected, y.selected) and same_tensor(x.weights, y.weights)
        for x, y in zip(a.layers, b.layers, strict=True)
    )
