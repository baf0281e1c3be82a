"""Super experts: the few experts whose down-projection output dwarfs every other's.

A handful of experts produce activation outliers (max |down_proj output| orders of magnitude above the
rest) that the model leans on; switching one off can wreck it. Profiling finds them before a steering
profile turns them off by accident: per (MoE layer, expert), the largest |down_proj output| over a set of
prompts, flagged when above both the 99.5th percentile of all experts' peaks and a tenth of the largest.

The peaks are measured inside the experts forward itself: ``PROBE`` is registered with transformers'
``ExpertsInterface`` as the eager forward (``studio.moe.experts_forward``) plus a recorder, switched on with
``model.set_experts_implementation`` for the profiling run and switched back afterwards. Every
architecture the engine supports (Mixtral, Qwen2/3-MoE, OLMoE, DeepSeek-V3, GPT-OSS, GraniteMoE, PhiMoE,
LFM2-MoE) declares its experts with ``@use_experts_implementation``, so all of them go through it;
layout differences (GPT-OSS's transposed, biased, interleaved experts) are read from the flags that
decorator sets.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from pydantic import BaseModel
from torch import nn
from transformers.integrations.moe import ExpertsInterface

from components_db.refusal import Refusal
from studio.moe.distributed import is_sharded
from studio.moe.experts_forward import eager_experts_forward
from studio.moe.prompt_limits import over_context, too_long

if TYPE_CHECKING:
    from studio.moe.engine import MoEEngine, Prompt

PROBE = "studio_peak_probe"
PERCENTILE = 99.5
MAX_FRACTION = 0.1
MAX_PROMPTS = 64  # each prompt is one forward pass
MAX_PROMPT_CHARS = 4000
# profiled when no prompt is given: requests like the studio's, one per kind of circuit
DEFAULT_PROMPTS = (
    "ESP32 reads a DHT22 and switches a 12 V fan through a MOSFET",
    "blink a red LED with a 220 ohm resistor from an Arduino Uno",
    "measure a 3.7 V battery through a voltage divider on an analog pin",
    "a 555 timer flashes two LEDs",
)


class SuperExpertError(Refusal, ValueError):
    """Prompts that cannot be profiled (none, too many, one too long for the model), or a model whose
    experts the probe cannot see."""


@dataclass
class _Peaks:
    """What one experts module saw during a profiling run (E = its experts)."""

    max_abs: torch.Tensor  # [E] float32: largest |down_proj output| so far
    tokens: torch.Tensor  # [E] long: tokens the expert processed

    def observe(self, module: nn.Module, expert: int, out: torch.Tensor, tokens: torch.Tensor) -> None:
        self.max_abs[expert] = torch.maximum(self.max_abs[expert], out.detach().abs().max().float())
        self.tokens[expert] += tokens.numel()


_recording: ContextVar[dict[nn.Module, _Peaks] | None] = ContextVar("studio_moe_peaks", default=None)
_switching = threading.Lock()  # one profiling run per process at a time: the switch is model-wide


def probe_experts_forward(
    self: nn.Module, hidden_states: torch.Tensor, top_k_index: torch.Tensor, top_k_weights: torch.Tensor
) -> torch.Tensor:
    """The eager experts forward, recording each expert's max |down_proj output| and token count when
    called inside a profiling run."""
    peaks = _recording.get()
    seen = peaks.get(self) if peaks is not None else None
    return eager_experts_forward(
        self, hidden_states, top_k_index, top_k_weights, observe=seen.observe if seen is not None else None
    )


ExpertsInterface.register(PROBE, probe_experts_forward)


class ExpertPeak(BaseModel):
    layer: int  # MoE-layer index
    decoder_layer: int
    expert: int
    max_abs: float  # largest |down_proj output| over the profiled tokens (0 if never selected)
    tokens: int  # tokens routed to the expert
    is_super: bool


class SuperExpertReport(BaseModel):
    model: str
    prompts: int
    threshold: float  # flagged above this: max(99.5th percentile, largest peak / 10)
    rows: list[ExpertPeak]  # by layer, then expert

    @property
    def super_experts(self) -> list[ExpertPeak]:
        return sorted((r for r in self.rows if r.is_super), key=lambda r: -r.max_abs)

    def highest(self, n: int) -> list[ExpertPeak]:
        """The ``n`` largest peaks, largest first (ties: lower layer, then lower expert, first)."""
        return sorted(self.rows, key=lambda r: (-r.max_abs, r.layer, r.expert))[:n]

    @property
    def few_experts(self) -> bool:
        """Under 200 experts in all the percentile sits below the largest peak, which is always flagged."""
        return len(self.rows) < 100 / (100 - PERCENTILE)


def through_experts_interface(experts: nn.Module) -> bool:
    """Whether an experts module dispatches to transformers' ``ExpertsInterface`` (it was declared with
    ``@use_experts_implementation``, which sets these flags): only then can the probe see its outputs."""
    return hasattr(experts, "is_transposed") and hasattr(experts, "has_gate")


def experts_modules(engine: MoEEngine) -> list[nn.Module]:
    """The routed-experts module (``<block>.experts`` in every supported architecture) of each MoE layer."""
    return [layer.block.experts for layer in engine.layers]


def flag_outliers(peaks: torch.Tensor) -> tuple[torch.Tensor, float]:
    """[N] peaks -> ([N] bool super, threshold): above the 99.5th percentile and above max/10.

    Below 200 experts in all the percentile sits under the largest peak, which is then always flagged;
    on such small models read ``max_abs`` rather than the flag alone."""
    threshold = max(float(torch.quantile(peaks, PERCENTILE / 100)), float(peaks.max()) * MAX_FRACTION)
    return peaks > threshold, threshold


def check_prompt_set(prompts: Sequence[Prompt]) -> None:
    """Refuse no prompt, more than ``MAX_PROMPTS``, a blank one or one over ``MAX_PROMPT_CHARS``
    (before any model is opened)."""
    if not prompts:
        raise SuperExpertError("super-expert profiling needs at least one prompt")
    if len(prompts) > MAX_PROMPTS:
        raise SuperExpertError(f"{len(prompts)} prompts; super-expert profiling reads at most {MAX_PROMPTS}")
    if problem := too_long(prompts, MAX_PROMPT_CHARS):
        raise SuperExpertError(problem)
    for number, prompt in enumerate(prompts, start=1):
        if isinstance(prompt, str) and not prompt.strip():
            raise SuperExpertError(f"prompt {number} is empty")


def check_prompts(engine: MoEEngine, prompts: Sequence[Prompt]) -> None:
    """``check_prompt_set``, then refuse a prompt without tokens or longer than the model's context."""
    check_prompt_set(prompts)
    encoded = [engine.encode(prompt) for prompt in prompts]
    for number, ids in enumerate(encoded, start=1):
        if not ids:
            raise SuperExpertError(f"prompt {number} has no tokens")
    if problem := over_context(engine, encoded, "prompt"):
        raise SuperExpertError(problem)


def profile_super_experts(engine: MoEEngine, prompts: Sequence[Prompt]) -> SuperExpertReport:
    """Run each prompt alone (no padding to pollute the peaks) and report every expert's peak.

    Steered as the enclosing ``engine.steer`` block says. Other threads using the model meanwhile run
    the probe too: it computes exactly what eager does and records only for this call's context."""
    check_prompts(engine, prompts)
    if is_sharded(engine.model):
        raise SuperExpertError(
            "the model is split across ranks: each rank sees only its part of the experts' outputs (a slice of "
            "every expert, or its own experts), so their peaks cannot be read here; profile on one machine"
        )
    modules = experts_modules(engine)
    if not all(through_experts_interface(m) for m in modules):
        raise SuperExpertError(
            f"{engine.info.architecture}'s experts do not run through transformers' experts interface (Llama 4 "
            "runs every expert densely on weighted inputs), so their outputs cannot be probed for super experts"
        )
    peaks = {
        m: _Peaks(torch.zeros(m.num_experts, dtype=torch.float32), torch.zeros(m.num_experts, dtype=torch.long))
        for m in modules
    }
    model = engine.model
    with _switching:
        previous = model.get_experts_implementation()
        model.set_experts_implementation(PROBE)
        token = _recording.set(peaks)
        try:
            for prompt in prompts:
                engine.forward_trace([prompt])
        finally:
            _recording.reset(token)
            model.set_experts_implementation(previous)
    table = torch.stack([peaks[m].max_abs for m in modules])  # [L, E]
    flags, threshold = flag_outliers(table.flatten())
    flags = flags.view_as(table)
    rows = [
        ExpertPeak(
            layer=layer,
            decoder_layer=engine.info.moe_layers[layer],
            expert=expert,
            max_abs=float(table[layer, expert]),
            tokens=int(peaks[m].tokens[expert]),
            is_super=bool(flags[layer, expert]),
        )
        for layer, m in enumerate(modules)
        for expert in range(m.num_experts)
    ]
    return SuperExpertReport(model=engine.info.name, prompts=len(prompts), threshold=threshold, rows=rows)
