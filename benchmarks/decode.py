"""Greedy decoding speed of a model the studio runs (default: the bundled one), routing capture on.

Two conditions in one process, rounds interleaved so drifting machine load hits both alike:

- ``eager``: transformers' eager experts forward (what the engine ran before ``experts_forward.DECODE``),
- ``decode``: the engine's default experts forward (eager's arithmetic, lean at one token),

each a ``engine.generate`` of ``--tokens`` new tokens (no early stop) after a reasoning-stage prompt,
inside ``engine.steer(capture=True)``. Reported: best and median tokens/s per condition, the ratio to
eager, and the issue's target (150 tokens/s on 2 cores).

    .venv/bin/python benchmarks/decode.py [--model M] [--tokens 200] [--rounds 5] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from studio.models import open_engine
from studio.moe.engine import MoEEngine
from studio.moe.experts_forward import DECODE

TARGET = 150.0
PROMPT = "ESP32 reads a DHT22 and switches a 12 V fan. Plan the power, the pins and the protection."


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

    engine, _ = open_engine(args.model)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    prompt_ids = engine.encode(PROMPT, chat=True)
    conditions = {"eager": "eager", "decode": DECODE}
    speeds: dict[str, list[float]] = {name: [] for name in conditions}
    tokens_per_second(engine, prompt_ids, 16)  # warm-up
    for _ in range(args.rounds):
        for name, implementation in conditions.items():
            engine.model.set_experts_implementation(implementation)
            speeds[name].append(tokens_per_second(engine, prompt_ids, args.tokens))
    engine.model.set_experts_implementation(DECODE)

    print(f"# greedy decode, capture on: {engine.info.name}, {args.tokens} tokens after a {len(prompt_ids)}-token")
    print(f"# prompt, {args.rounds} rounds, {torch.get_num_threads()} torch thread(s)\n")
    print("| experts forward | best tok/s | median tok/s | median / eager | target |")
    print("|---|---|---|---|---|")
    base = statistics.median(speeds["eager"])
    for name, values in speeds.items():
        median = statistics.median(values)
        print(f"| {name} | {max(values):.1f} | {median:.1f} | {median / base:.2f} | {TARGET:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
