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

``--families`` measures instead, for every architecture the engine has a routing spec for, its tiny
random model (``tests/fixtures/tiny_models.py``: hidden 32, 2-4 layers, 4-8 experts), the engine
capturing, and capturing with a quarter of each layer's experts off, as ratios to the same engine
unsteered (no ``steer`` block). At hidden 32 a step is almost all per-layer Python, so these ratios
are the hooks' and the routing recomputation's cost at its most visible, an upper bound for any real
model, where the matmuls dominate. Results and the command are in docs/SCALING.md.

    .venv/bin/python benchmarks/steering.py --families [--tokens 32] [--rounds 3] --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fixtures: the tiny models

import torch
from transformers import Qwen3MoeConfig, Qwen3MoeForCausalLM

from studio.moe.engine import MoEEngine
from studio.moe.profile import LayerSteering, ProfileError, StageSteering

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


def measure_family(arch: str, tokens: int, rounds: int) -> tuple[float, float, float | None, str]:
    """(unsteered tokens/s, capture ratio, capture + mask ratio or None, note) for one tiny model."""
    from tests.fixtures.tiny_models import tiny_model

    prompt = list(range(2, 2 + PROMPT_TOKENS))
    with MoEEngine.from_model(tiny_model(arch), name=arch) as engine:
        mask, note = quarter_off(engine), ""
        try:
            with engine.steer(mask):
                pass
        except ProfileError as exc:
            mask, note = None, f"mask refused: {exc}"

        def run(steering: StageSteering | None, capture: bool) -> Callable[[], int]:
            def generate() -> int:
                if not capture:
                    return len(engine.generate(prompt, max_new_tokens=tokens).token_ids)
                with engine.steer(steering, capture=True):
                    return len(engine.generate(prompt, max_new_tokens=tokens).token_ids)

            return generate

        conditions = {"idle": run(None, False), "capture": run(None, True)}
        if mask is not None:
            conditions["capture + mask"] = run(mask, True)
        best = dict.fromkeys(conditions, 0.0)
        for condition in conditions.values():
            condition()  # warm-up
        for _ in range(rounds):
            for name, condition in conditions.items():
                best[name] = max(best[name], tokens_per_second(condition))
    masked = best["capture + mask"] / best["idle"] if mask is not None else None
    return best["idle"], best["capture"] / best["idle"], masked, note


def families(tokens: int, rounds: int) -> int:
    from tests.fixtures.tiny_models import ARCHITECTURES  # one per routing spec (test_families checks)

    print(f"tiny models, {tokens} greedy tokens, {torch.get_num_threads()} torch thread(s), best of {rounds} rounds")
    print(f"{'family':<22}{'unsteered tok/s':>16}{'capture':>9}{'capture + mask':>16}")
    ratios: list[float] = []
    for arch in sorted(ARCHITECTURES):
        idle, capture, masked, note = measure_family(arch, tokens, rounds)
        shown = f"{masked:>16.3f}" if masked is not None else f"{'-':>16}"
        print(f"{arch:<22}{idle:>16.1f}{capture:>9.3f}{shown}  {note}".rstrip())
        if masked is not None:
            ratios.append(masked)
    print(f"capture + mask / unsteered: median {statistics.median(ratios):.3f}, worst {min(ratios):.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, help="greedy tokens per generation (default 200; 32 with --families)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per condition (default 5; 3 with --families)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    parser.add_argument("--families", action="store_true", help="every family's tiny model, ratios to unsteered")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.families:
        return families(args.tokens or 32, args.rounds or 3)
    args.tokens, args.rounds = args.tokens or 200, args.rounds or 5

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
