"""Latency of the design pipeline on this machine: per stage and end to end (p50/p95 over the benchmark
prompts or the first ``--limit`` of them), and the time of a re-run after a synthesize-only profile change
(4 experts off in every MoE layer for stage "synthesize": identify and reason come from the stage cache)
as a ratio of the full run, both measured in this process, on ``--threads`` torch threads (default: what
the model's folder asks for).

    .venv/bin/python benchmarks/pipeline.py [--model M] [--limit N] [--threads 2]
    .venv/bin/python benchmarks/pipeline.py --random-model /tmp/moe-random --limit 5

``--model`` defaults to the bundled model. ``--random-model DIR`` first saves an untrained Qwen3-MoE of the
bundled model's shape (hidden 256, 6 layers, 16 experts, top-2, a 4k BPE trained on the stage prompts and
the knowledge base) to DIR and measures that: an untrained model writes until its token budgets run out,
so its times are an upper bound of the trained model's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch
from retrieval import markdown

from agents.evaluation.benchmark import load_benchmark
from agents.evaluation.scoring import percentile
from agents.model_opening import open_engine
from agents.orchestrator import Pipeline, StageCache
from agents.prompting import template
from agents.run_report import RunReport
from components_db import KnowledgeBase
from studio.moe.engine import MoEEngine
from studio.moe.profile import LayerSteering, StageSteering, SteeringProfile
from studio.moe.specs import MoEInfo

PROMPTS = Path(__file__).parent / "prompts" / "dev.jsonl"
EXPERTS_OFF = 4
SEED = 0


def experts_off(info: MoEInfo) -> int:
    """``EXPERTS_OFF``, or fewer on a model too small to keep its top-k experts on."""
    return min(EXPERTS_OFF, info.num_experts - info.top_k)


def synthesize_profile(engine: MoEEngine) -> SteeringProfile:
    """``experts_off`` experts off in every MoE layer (shifted per layer), for the synthesize stage only."""
    info = engine.info
    off = experts_off(info)
    layers = {
        i: LayerSteering(off=sorted((i + k) % info.num_experts for k in range(off)))
        for i in range(len(info.moe_layers))
    }
    return SteeringProfile(
        name="synthesize-4-off", model=info.identity(), stages={"synthesize": StageSteering(layers=layers)}
    )


def measure(pipeline: Pipeline, requests: list[str]) -> tuple[list[RunReport], list[RunReport]]:
    """Per request: a full run on a fresh cache, then the re-run under the synthesize-only profile."""
    profile = synthesize_profile(pipeline.engine)
    pipeline.engine.generate(requests[0], max_new_tokens=4)  # warm-up: torch's first-call costs
    full, rerun = [], []
    for number, request in enumerate(requests, start=1):
        cache = StageCache()
        full.append(pipeline.run(request, cache=cache).report)
        rerun.append(pipeline.run(request, cache=cache, profile=profile).report)
        print(
            f"[{number}/{len(requests)}] {full[-1].total_seconds:.2f} s, re-run {rerun[-1].total_seconds:.2f} s"
            f" ({full[-1].status})",
            file=sys.stderr,
            flush=True,
        )
    return full, rerun


def stage_rows(reports: list[RunReport]) -> list[dict]:
    stages: dict[str, list[float]] = {}
    for report in reports:
        for record in report.stages:
            stages.setdefault(record.stage, []).append(record.seconds)
    stages["end to end"] = [r.total_seconds for r in reports]
    return [
        {
            "stage": stage,
            "runs": len(values),
            "p50_s": round(percentile(values, 0.5), 3),
            "p95_s": round(percentile(values, 0.95), 3),
            "mean_s": round(statistics.fmean(values), 3),
        }
        for stage, values in stages.items()
    ]


def rerun_row(full: list[RunReport], rerun: list[RunReport]) -> dict:
    """Over the requests whose full run got past reason (else the re-run did not start at synthesize)."""
    pairs = [(f, r) for f, r in zip(full, rerun, strict=True) if f.stage("reason") is not None]
    if not pairs:
        return dict.fromkeys(
            ["prompts", "full_p50_s", "rerun_p50_s", "ratio_p50", "ratio_of_totals", "cached_stages"], ""
        )
    ratios = [r.total_seconds / f.total_seconds for f, r in pairs]
    return {
        "prompts": len(pairs),
        "full_p50_s": round(percentile([f.total_seconds for f, _ in pairs], 0.5), 3),
        "rerun_p50_s": round(percentile([r.total_seconds for _, r in pairs], 0.5), 3),
        "ratio_p50": round(percentile(ratios, 0.5), 3),
        "ratio_of_totals": round(sum(r.total_seconds for _, r in pairs) / sum(f.total_seconds for f, _ in pairs), 3),
        "cached_stages": ", ".join(s.stage for s in pairs[0][1].stages if s.cached),
    }


def save_random_model(folder: Path, kb: KnowledgeBase, requests: list[str]) -> None:
    """An untrained MoE of the bundled model's shape and its tokenizer, as ``--model`` reads a folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3MoeConfig, Qwen3MoeForCausalLM

    texts = [template(stage) for stage in ("identify", "reason", "synthesize")] + requests
    texts += [f"{p.id} {p.name} {p.description} " + " ".join(pin.name for pin in p.pins) for p in kb.parts()]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    eos = "<|endoftext|>"
    trainer = trainers.BpeTrainer(
        vocab_size=4096, special_tokens=[eos], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    bpe.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=eos)
    config = Qwen3MoeConfig(
        vocab_size=len(tokenizer),
        hidden_size=256,
        intermediate_size=512,
        moe_intermediate_size=192,
        num_hidden_layers=6,
        num_attention_heads=8,
        num_key_value_heads=4,
        head_dim=32,
        num_experts=16,
        num_experts_per_tok=2,
        norm_topk_prob=True,
        tie_word_embeddings=True,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(SEED)
    Qwen3MoeForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="hub id or local path of a MoE causal LM (default: the bundled model)")
    parser.add_argument("--random-model", type=Path, metavar="DIR", help="save an untrained bundled-shape model here")
    parser.add_argument("--prompts", type=Path, default=PROMPTS)
    parser.add_argument("--limit", type=int, help="only the first N prompts")
    parser.add_argument("--threads", type=int, help="torch threads (default: the model's setting, else torch's)")
    args = parser.parse_args(argv)
    requests = [p.prompt for p in load_benchmark(args.prompts)][: args.limit]
    kb = KnowledgeBase.open()
    kb.search("warm up", top=1)  # loads the embedding model
    if args.random_model:
        save_random_model(args.random_model, kb, requests)
    engine, settings = open_engine(str(args.random_model) if args.random_model else args.model)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    pipeline = Pipeline(engine, kb, settings)
    print(f"{engine.info.name}: {len(requests)} prompts, {torch.get_num_threads()} torch threads\n")
    full, rerun = measure(pipeline, requests)
    print("## Latency per stage and end to end (full runs, fresh cache)\n")
    print(markdown(stage_rows(full)))
    off = experts_off(engine.info)
    print(f"\n## Re-run after a synthesize-only profile change ({off} experts off per layer)\n")
    print(markdown([rerun_row(full, rerun)]))
    stops = Counter(r.error for r in full if r.status != "ok")
    for error, count in stops.most_common():
        print(f"\n{count} of {len(full)} full runs stopped: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
