"""The MoE runtime: one loaded model whose routers can be watched and steered per request.

    engine = MoEEngine.load("Qwen/Qwen3-30B-A3B")          # or MoEEngine.from_model(model, tokenizer)
    with engine.steer(profile, stage="reason") as run:      # steering + capture for this block only
        gen = engine.generate("a 5 V LED driver", max_new_tokens=64)
    gen.text, gen.trace, run.trace

One forward hook per router (registered with ``prepend=True``, so transformers' own router-logit
recorder still sees the raw logits) and one per shared expert are installed when the engine is made
and removed by handle in ``close()``. The hooks read what to do from context variables set by
``steer()``: steering is per thread / per asyncio task, never a switch on the shared model, so two
requests steered differently can run at once. Outside a ``steer`` block the hooks return at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle
from transformers import LogitsProcessor, PreTrainedModel, PreTrainedTokenizerBase, StoppingCriteria

from components_db.refusal import Refusal
from studio.moe.experts_forward import DECODE
from studio.moe.fast_decode import decode_step
from studio.moe.greedy import DecodeStep, end_of_sequence_ids, greedy_decode
from studio.moe.loader import load_model
from studio.moe.profile import Mode, StageSteering, SteeringProfile
from studio.moe.recording import Recorder, concatenate
from studio.moe.routing import LayerPlan, compile_plans, rescale, route
from studio.moe.specs import MoEInfo, MoELayer, RoutingSpec, describe, find_moe_layers, spec_for
from studio.moe.trace import RoutingTrace

Prompt = str | Sequence[int]
_WRAPPED = "_studio_moe_engine"  # set on a model while an engine's hooks are on it


@dataclass
class Generation:
    text: str  # the generated continuation, decoded ("" without a tokenizer)
    token_ids: list[int]  # generated tokens only
    prompt_ids: list[int]
    trace: RoutingTrace | None  # prompt tokens and every generated token the model read (all but the last)


@dataclass
class SteeringRun:
    """What one ``steer`` block applies, and the routing of every engine call made inside it."""

    steering: StageSteering
    mode: Mode
    capture: bool
    plans: dict[int, LayerPlan]  # by MoE-layer index; unsteered layers absent
    traces: list[RoutingTrace] = field(default_factory=list)

    @property
    def trace(self) -> RoutingTrace | None:
        """All calls' routing, call after call (None if nothing was captured)."""
        return concatenate(self.traces)


CHARS_PER_TOKEN_AT_MOST = 32  # a text this many times longer than the context cannot fit: refused untokenized


class PromptTooLong(Refusal, ValueError):
    """A prompt that, with the tokens asked for, does not fit the model's context: refused before any
    forward pass (a 400,000-character prompt would otherwise run for minutes, then fail)."""


class MoEEngine:
    """A MoE causal LM with router hooks installed: ``steer`` blocks, ``generate``, ``forward_trace``."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase | None,
        name: str,
    ) -> None:
        if getattr(model, _WRAPPED, False):
            raise RuntimeError(f"{name} already has an open MoEEngine; close() it before wrapping the model again")
        self.model = model
        self.tokenizer = tokenizer
        self.spec: RoutingSpec = spec_for(model)
        self.layers: list[MoELayer] = find_moe_layers(model, self.spec)
        self.info: MoEInfo = describe(model, name, self.spec, self.layers)
        self._run: ContextVar[SteeringRun | None] = ContextVar(f"moe_run_{id(self)}", default=None)
        self._recorder: ContextVar[Recorder | None] = ContextVar(f"moe_recorder_{id(self)}", default=None)
        self._handles: list[RemovableHandle] = []
        # how ``generate`` steps one token: the fastest step exact for this model (a benchmark swaps it)
        self.decode_step: Callable[[PreTrainedModel], DecodeStep] = decode_step
        for layer in self.layers:
            hook = _RouterHook(self.spec, layer.index, self.info.top_k, self._run, self._recorder)
            self._handles.append(layer.router.register_forward_hook(hook, prepend=True))
            for shared in layer.shared:
                self._handles.append(shared.register_forward_hook(_SharedHook(layer.index, self._run)))
        setattr(model, _WRAPPED, True)

    @classmethod
    def load(cls, source: str | Path, name: str | None = None) -> MoEEngine:
        """A hub id or local checkpoint directory; refused (``UnsupportedModel``) if it is not a MoE we steer."""
        model, tokenizer = load_model(source)
        return cls(model, tokenizer, name or str(source))

    @classmethod
    def from_model(
        cls, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase | None = None, name: str | None = None
    ) -> MoEEngine:
        """Wrap an in-memory model: switched to eval mode, the engine's experts forward (eager, lean at one
        token), no router-logit recording."""
        spec_for(model)  # refuse an unsupported model before touching it
        model.eval()
        model.config.output_router_logits = False
        model.set_experts_implementation(DECODE)
        return cls(model, tokenizer, name or model.config.model_type)

    def close(self) -> None:
        """Remove every hook this engine installed; the model is vanilla again."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        if getattr(self.model, _WRAPPED, False):
            delattr(self.model, _WRAPPED)

    def __enter__(self) -> MoEEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def steer(
        self,
        steering: StageSteering | SteeringProfile | None = None,
        *,
        stage: str = "*",
        mode: Mode = "reroute",
        capture: bool = True,
    ) -> Iterator[SteeringRun]:
        """Steer (and, with ``capture``, trace) every engine call in this block, in this thread only.

        A profile is checked against this model's shape and its section for ``stage`` is used; its
        mode wins over ``mode``. A bare ``StageSteering`` is checked the same way. Blocks do not
        combine: an inner block replaces the outer one until it exits."""
        section, mode = self._resolve(steering, stage, mode)
        run = SteeringRun(section, mode, capture, compile_plans(section, mode, self.info))
        token = self._run.set(run)
        try:
            yield run
        finally:
            self._run.reset(token)

    @property
    def context_length(self) -> int | None:
        """The longest token sequence the model reads (``max_position_embeddings``), if it says."""
        return getattr(self.model.config.get_text_config(), "max_position_embeddings", None)

    def encode(self, prompt: Prompt, *, chat: bool = False) -> list[int]:
        """Token ids of a prompt; with ``chat``, wrapped as a user turn by the model's chat template."""
        if not isinstance(prompt, str):
            return [int(t) for t in prompt]
        if self.tokenizer is None:
            raise ValueError(f"{self.info.name} has no tokenizer: pass token ids instead of text")
        if chat and self.tokenizer.chat_template:
            prompt = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
            )
            return self.tokenizer(prompt, add_special_tokens=False, verbose=False).input_ids
        return self.tokenizer(prompt, verbose=False).input_ids  # a prompt too long is refused by its caller

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
        """Greedy continuation of one prompt (``greedy_decode``: generate's contract for these arguments),
        steered and traced as the enclosing ``steer`` block says."""
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, not {max_new_tokens}")
        limit = self.context_length
        if limit is not None and isinstance(prompt, str) and len(prompt) > CHARS_PER_TOKEN_AT_MOST * limit:
            raise PromptTooLong(
                f"the prompt is {len(prompt):,} characters; {self.info.name} reads at most {limit:,} tokens"
            )
        prompt_ids = self.encode(prompt, chat=chat)
        if limit is not None and len(prompt_ids) + max_new_tokens > limit:
            raise PromptTooLong(
                f"the prompt is {len(prompt_ids):,} tokens and {max_new_tokens:,} more were asked for; "
                f"{self.info.name} reads at most {limit:,} tokens"
            )
        run = self._run.get()
        recorder = Recorder(self.spec, self.layers) if run is not None and run.capture else None
        with self._recording(recorder), torch.inference_mode():
            new_ids = greedy_decode(
                self.decode_step(self.model),
                prompt_ids,
                max_new_tokens,
                eos_ids=end_of_sequence_ids(self.model),
                min_new_tokens=min_new_tokens,
                logits_processors=logits_processor or (),
                stopping_criteria=stopping_criteria or (),
            )
        trace = None
        if recorder is not None:
            read = torch.tensor(prompt_ids + new_ids[:-1])
            is_prompt = torch.arange(len(read)) < len(prompt_ids)
            trace = recorder.trace(read, torch.zeros_like(read), is_prompt)
            run.traces.append(trace)
        text = self.tokenizer.decode(new_ids, skip_special_tokens=True) if self.tokenizer is not None else ""
        return Generation(text=text, token_ids=new_ids, prompt_ids=prompt_ids, trace=trace)

    def forward_trace(self, prompts: Sequence[Prompt]) -> RoutingTrace:
        """Routing of one batched forward over ``prompts`` (right-padded; padding excluded), steered as
        the enclosing ``steer`` block says. Always traced; also added to the block's trace if it captures."""
        encoded = [self.encode(p) for p in prompts]
        width = max(len(ids) for ids in encoded)
        input_ids = torch.full((len(encoded), width), self._pad_id, dtype=torch.long)  # [B, S]
        attention_mask = torch.zeros_like(input_ids)
        for row, ids in enumerate(encoded):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            attention_mask[row, : len(ids)] = 1
        recorder = Recorder(self.spec, self.layers)
        with self._recording(recorder), torch.inference_mode():
            self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        keep = attention_mask.flatten().bool()  # [B*S]
        sequence = torch.arange(len(encoded)).repeat_interleave(width)[keep]
        trace = recorder.trace(input_ids.flatten()[keep], sequence, torch.ones_like(sequence, dtype=torch.bool), keep)
        run = self._run.get()
        if run is not None and run.capture:
            run.traces.append(trace)
        return trace

    @property
    def _pad_id(self) -> int:
        for source in (self.tokenizer, self.model.config.get_text_config()):
            for attr in ("pad_token_id", "eos_token_id"):
                value = getattr(source, attr, None) if source is not None else None
                if isinstance(value, list):
                    value = value[0] if value else None
                if value is not None:
                    return int(value)
        return 0

    @contextmanager
    def _recording(self, recorder: Recorder | None) -> Iterator[None]:
        token = self._recorder.set(recorder)
        try:
            yield
        finally:
            self._recorder.reset(token)

    def _resolve(
        self, steering: StageSteering | SteeringProfile | None, stage: str, mode: Mode
    ) -> tuple[StageSteering, Mode]:
        identity = self.info.identity()
        if not isinstance(steering, SteeringProfile):  # checked by the profile's own rules
            steering = SteeringProfile(model=identity, mode=mode, stages={"*": steering or StageSteering()})
        steering.check_model(identity)
        return steering.for_stage(stage), steering.mode


class _RouterHook:
    """Forward hook on one router: records its choice and, under a plan, replaces it."""

    def __init__(
        self,
        spec: RoutingSpec,
        moe_layer: int,
        top_k: int,
        run: ContextVar[SteeringRun | None],
        recorder: ContextVar[Recorder | None],
    ) -> None:
        self.spec = spec
        self.moe_layer = moe_layer
        self.top_k = top_k
        self.run = run
        self.recorder = recorder
        order = spec.output
        self.at_logits = order.index("logits")
        self.dense = "dense" in order  # Llama 4: [N, E] weights, zero off the chosen experts
        if self.dense:
            self.at_weights = self.at_indices = order.index("dense")
        else:
            self.at_weights, self.at_indices = order.index("weights"), order.index("indices")

    def __call__(self, module: nn.Module, args: tuple, output: tuple[Tensor, ...]) -> tuple[Tensor, ...] | None:
        run, recorder = self.run.get(), self.recorder.get()
        plan = run.plans.get(self.moe_layer) if run is not None else None
        if plan is None and recorder is None:
            return None
        logits = output[self.at_logits]
        if self.dense:
            dense = output[self.at_weights]
            indices = dense.topk(self.top_k, dim=-1).indices
            weights = dense.gather(1, indices)
        else:
            weights, indices = output[self.at_weights], output[self.at_indices]
        if plan is not None:
            if plan.reroute:
                indices, weights = route(self.spec, module, args, logits, plan, weights.dtype)
            if plan.multiplier is not None:
                weights = rescale(weights, indices, plan.multiplier)
        if recorder is not None:
            recorder.add(self.moe_layer, indices, weights, logits, plan.dropped if plan is not None else None)
        if plan is None:
            return None
        steered = list(output)
        if self.dense:
            steered[self.at_weights] = torch.zeros_like(output[self.at_weights]).scatter(1, indices, weights)
        else:
            steered[self.at_weights], steered[self.at_indices] = weights, indices
        return tuple(steered)


class _SharedHook:
    """Forward hook on a shared expert: zero output when the block's plan switches it off."""

    def __init__(self, moe_layer: int, run: ContextVar[SteeringRun | None]) -> None:
        self.moe_layer = moe_layer
        self.run = run

    def __call__(self, module: nn.Module, args: tuple, output: Tensor) -> Tensor | None:
        run = self.run.get()
        plan = run.plans.get(self.moe_layer) if run is not None else None
        return torch.zeros_like(output) if plan is not None and plan.shared_off else None
