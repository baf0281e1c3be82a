"""Cost of watching and steering the experts: greedy tokens/s of a ~15M-parameter Qwen3-MoE (hidden 256,
6 layers, 16 experts, top-2, vocab 8k; random weights built from its config, nothing downloaded) for

- vanilla ``model.generate`` (no engine hooks on the model at all),
- the engine outside any ``steer`` block (its hooks return at once; its own decoding loop and step),
- the engine capturing the routing of every token,
- the engine capturing, with a mask turning off a quarter of the experts of every layer (re-route),

in one process, rounds interleaved so drifting machine load hits every condition alike; each condition's
best round is reported (as ``timeit`` does: the least disturbed run) with its ratio to vanilla and to the
idle engine (what capture and steering themselves cost, the engine's faster decoding set aside).
Target: >= 0.90 of vanilla with capture and mask (aim 0.95).

    .venv/bin/python benchmarks/steering.py [--tokens 200] [--rounds 5] [--threads 1]

On a machine shared with other jobs, ``--threads 1`` keeps torch's threads from fighting them for
cores and gives much steadier ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch
from transformers import Qwen3MoeConfig, Qwen3MoeForCausalLM

from studio.moe.engine import MoEEngine
from studio.moe.profile import LayerSteering, StageSteering

TARGET = 0.90
SEED = 0
PROMPT_TOKENS = 16


def build_model() -> Qwen3MoeForCausalLM:
    torch.manual_seed(SEED)
    config = Qwen3MoeConfig(
        vocab_size=8192,
        hidden_size=256,
        intermediate_size=512,
        moe_intermediate_size=128,
        num_hidden_layers=6,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=64,
        num_experts=16,
        num_experts_per_tok=2,
        norm_topk_prob=True,
        max_position_embeddings=1024,
        eos_token_id=None,  # fixed-length generations
        pad_token_id=0,
    )
    model = Qwen3MoeForCausalLM(config).eval()
    model.set_experts_implementation("eager")
    return model


def quarter_off(engine: MoEEngine) -> StageSteering:
    """Every layer loses a quarter of its experts: every fourth one, shifted by the layer index."""
    n = engine.info.num_experts
    return StageSteering(layers={i: LayerSteering(off=list(range(i % 4, n, 4))) for i in range(len(engine.layers))})


def tokens_per_second(generate: Callable[[], int]) -> float:
    start = time.perf_counter()
    produced = generate()
    return produced / (time.perf_counter() - start)


def measure(tokens: int, rounds: int) -> dict[str, list[float]]:
    model = build_model()
    prompt = torch.randint(2, 8192, (PROMPT_TOKENS,), generator=torch.Generator().manual_seed(SEED)).tolist()
    input_ids = torch.tensor([prompt])

    def vanilla() -> int:
        with torch.inference_mode():
            out = model.generate(
                input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=tokens,
                do_sample=False,
                pad_token_id=0,
            )
        return out.shape[1] - len(prompt)

    def engine_run(engine: MoEEngine, steering: StageSteering | None) -> Callable[[], int]:
        def run() -> int:
            with engine.steer(steering, capture=True):
                gen = engine.generate(prompt, max_new_tokens=tokens)
            assert gen.trace is not None and gen.trace.num_tokens == len(prompt) + tokens - 1
            return len(gen.token_ids)

        return run

    def engine_idle(engine: MoEEngine) -> Callable[[], int]:
        return lambda: len(engine.generate(prompt, max_new_tokens=tokens).token_ids)

    samples: dict[str, list[float]] = {"vanilla": [], "engine idle": [], "capture": [], "capture + mask": []}
    vanilla()  # warm-up
    for _ in range(rounds):
        samples["vanilla"].append(tokens_per_second(vanilla))
        with MoEEngine.from_model(model, name="bench-qwen3-moe") as engine:
            samples["engine idle"].append(tokens_per_second(engine_idle(engine)))
            samples["capture"].append(tokens_per_second(engine_run(engine, None)))
            samples["capture + mask"].append(tokens_per_second(engine_run(engine, quarter_off(engine))))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200, help="greedy tokens per generation")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per condition")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    params = sum(p.numel() for p in build_model().parameters())
    print(
        f"Qwen3-MoE {params / 1e6:.1f}M params, {args.tokens} greedy tokens, {torch.get_num_threads()} torch "
        f"thread(s), best of {args.rounds} rounds"
    )
    samples = measure(args.tokens, args.rounds)
    base, idle = max(samples["vanilla"]), max(samples["engine idle"])
    print(f"{'condition':<16}{'tokens/s':>10}{'/ vanilla':>11}{'/ idle':>8}{'median':>10}")
    ratios = {}
    for name, values in samples.items():
        ratios[name] = max(values) / base
        line = f"{name:<16}{max(values):>10.1f}{ratios[name]:>11.3f}{max(values) / idle:>8.3f}"
        print(f"{line}{statistics.median(values):>10.1f}")
    met = ratios["capture + mask"] >= TARGET
    print(f"target capture + mask >= {TARGET:.2f}: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
