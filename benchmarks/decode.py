"""Greedy decoding speed of a model the studio runs (default: the bundled one), routing capture on.

Three conditions in one process, rounds interleaved so drifting machine load hits all alike, each an
``engine.generate`` of ``--tokens`` new tokens (no early stop) after a reasoning-stage prompt, inside
``engine.steer(capture=True)``:

- ``forward + eager experts``: transformers' forward at every step with its eager experts forward (the
  computation ``model.generate`` runs per token; the baseline),
- ``forward + decode experts``: the same forward with the engine's experts forward,
- ``engine default``: the engine's own decode step where the model has one (``fast_decode``; Qwen3-MoE)
  and its experts forward - what ``design`` and the studio run.

Reported: best and median tokens/s per condition, the median's ratio to the baseline, and the issue's
target (150 tokens/s on 2 cores).

    .venv/bin/python benchmarks/decode.py [--model M] [--tokens 200] [--rounds 5] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch
from transformers import PreTrainedModel

from agents.model_opening import open_engine
from studio.moe.engine import MoEEngine
from studio.moe.experts_forward import DECODE
from studio.moe.fast_decode import decode_step
from studio.moe.greedy import DecodeStep, ForwardStep

LOAD_TARGET_S = 3.0  # the bundled model opens offline within this
TARGET = 150.0
PROMPT = "ESP32 reads a DHT22 and switches a 12 V fan. Plan the power, the pins and the protection."

# condition -> (one-token step, experts implementation)
CONDITIONS: dict[str, tuple[Callable[[PreTrainedModel], DecodeStep], str]] = {
    "forward + eager experts": (ForwardStep, "eager"),
    "forward + decode experts": (ForwardStep, DECODE),
    "engine default": (decode_step, DECODE),
}


def tokens_per_second(engine: MoEEngine, prompt_ids: list[int], tokens: int) -> float:
    start = time.perf_counter()
    with engine.steer(None, stage="reason", capture=True):
        generation = engine.generate(prompt_ids, max_new_tokens=tokens, min_new_tokens=tokens)
    return len(generation.token_ids) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="hub id or local MoE checkpoint (default: the bundled model)")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the model's setting)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    engine, _ = open_engine(args.model)
    load_seconds = time.perf_counter() - started
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    prompt_ids = engine.encode(PROMPT, chat=True)
    speeds: dict[str, list[float]] = {name: [] for name in CONDITIONS}
    tokens_per_second(engine, prompt_ids, 16)  # warm-up
    for _ in range(args.rounds):
        for name, (step, experts) in CONDITIONS.items():
            engine.decode_step = step
            engine.model.set_experts_implementation(experts)
            speeds[name].append(tokens_per_second(engine, prompt_ids, args.tokens))
    engine.decode_step, _ = CONDITIONS["engine default"]
    engine.model.set_experts_implementation(DECODE)

    print(f"# greedy decode, capture on: {engine.info.name}, {args.tokens} tokens after a {len(prompt_ids)}-token")
    print(f"# prompt, {args.rounds} rounds, {torch.get_num_threads()} torch thread(s)")
    print(f"# model opened (offline) in {load_seconds:.2f} s (target {LOAD_TARGET_S:.0f} s)\n")
    print("| condition | best tok/s | median tok/s | median / baseline | target |")
    print("|---|---|---|---|---|")
    base = statistics.median(speeds["forward + eager experts"])
    for name, values in speeds.items():
        median = statistics.median(values)
        print(f"| {name} | {max(values):.1f} | {median:.1f} | {median / base:.2f} | {TARGET:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
