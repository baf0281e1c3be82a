"""`circuit-studio corpus` and `circuit-studio train`: make the bundled model's corpus and train it.

    circuit-studio corpus --out /work/train-run/corpus.jsonl --projects 20000 --heldout 400
    circuit-studio train --out /work/train-run/model --corpus /work/train-run/corpus.jsonl

Without ``--corpus``, ``train`` first writes a small corpus into ``--out`` (``--projects`` of them).
torch and transformers are imported when a command runs, so the rest of the CLI starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_ERROR = 0, 2
HELDOUT_SEED_OFFSET = 1_000_003  # the held-out split's seed: far from any training seed


def register(sub: argparse._SubParsersAction) -> None:
    corpus = sub.add_parser("corpus", help="write the bundled model's training corpus (JSONL of stage examples)")
    corpus.add_argument("--out", type=Path, required=True, help="JSONL file to write")
    corpus.add_argument("--projects", type=int, default=20000, help="training projects (default 20000)")
    corpus.add_argument("--heldout", type=int, default=400, help="held-out projects, another seed (default 400)")
    corpus.add_argument("--extra-designs", type=int, default=0, help="extra projects with reason/synthesize only")
    corpus.add_argument(
        "--repairs", type=float, default=None, help="share of teachable projects that also get a repair row (0.33)"
    )
    corpus.add_argument("--seed", type=int, default=0)
    corpus.set_defaults(handler=run_corpus)

    train = sub.add_parser("train", help="train the bundled MoE model on CPU and write a model folder")
    train.add_argument("--out", type=Path, required=True, help="folder for the weights, tokenizer, log and plot")
    train.add_argument("--steps", type=int, default=None, help="optimizer steps (default: the config's)")
    train.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="time budget in minutes: the schedule ends at the steps or the budget, whichever comes first",
    )
    train.add_argument("--experts", choices=("grouped_mm", "eager"), default=None, help="experts implementation")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the config's)")
    train.add_argument(
        "--repeat",
        action="append",
        default=None,
        metavar="STAGE=R",
        help="examples of STAGE per epoch per corpus example, repeatable (default: the config's)",
    )
    train.add_argument("--init", type=Path, default=None, help="continue from a model folder written by train")
    train.add_argument(
        "--resume",
        type=Path,
        default=None,
        help="go on with an interrupted run from its checkpoint folder (OUT/checkpoint), same corpus and options",
    )
    train.add_argument(
        "--untrained",
        action="store_true",
        help="with --init: write its shape and tokenizer with fresh weights, no training",
    )
    train.add_argument("--config", choices=("tiny", "bundled"), default="bundled")
    train.add_argument("--corpus", type=Path, default=None, help="corpus JSONL (default: generate one into --out)")
    train.add_argument("--projects", type=int, default=300, help="projects in a generated corpus (default 300)")
    train.add_argument("--no-eval", action="store_true", help="skip the final generation check")
    train.set_defaults(handler=run_train)


def write_corpus(
    path: Path,
    projects: int,
    heldout: int,
    seed: int,
    extra_designs: int = 0,
    say=print,
    repairs: float | None = None,
    kb=None,
) -> dict:
    from agents.bundled_model.corpus import generate, generate_designs, write_jsonl
    from agents.bundled_model.corpus.examples import REPAIR_RATE
    from components_db.kb import KnowledgeBase

    kb = kb if kb is not None else KnowledgeBase.open()
    rate = REPAIR_RATE if repairs is None else repairs

    def rows():
        yield from generate(kb, projects, seed, "train", repairs=rate)
        if extra_designs:
            yield from generate_designs(kb, extra_designs, seed + 7919, "train", repairs=rate)
        yield from generate(kb, heldout, seed + HELDOUT_SEED_OFFSET, "heldout", repairs=rate)

    counts: dict[str, int] = {}
    trained: set[str] = set()

    def counted():
        for row in rows():
            if row["split"] == "train":
                trained.add(row["request"].lower())
            elif row["request"].lower() in trained:  # a held-out request is never a training request
                continue
            key = f"{row['split']}/{row['stage']}"
            counts[key] = counts.get(key, 0) + 1
            if sum(counts.values()) % 5000 == 0:
                say(f"{sum(counts.values())} rows: {counts}")
            yield row

    n = write_jsonl(counted(), path)
    say(f"wrote {n} rows to {path}: {json.dumps(counts)}")
    return counts


def run_corpus(args: argparse.Namespace) -> int:
    write_corpus(args.out, args.projects, args.heldout, args.seed, args.extra_designs, repairs=args.repairs)
    return EXIT_OK


def parse_repeat(items: list[str]) -> dict[str, float]:
    """``["synthesize=1", ...]`` as ``{"synthesize": 1.0}``; a ValueError names the bad item."""
    from agents.bundled_model.train import STAGES

    repeat: dict[str, float] = {}
    for item in items:
        stage, _, value = item.partition("=")
        try:
            r: float | None = float(value)
        except ValueError:
            r = None
        if stage not in STAGES or r is None or not 0 <= r <= 100:  # the comparison also refuses nan and inf
            stages = ", ".join(STAGES)
            raise ValueError(f"--repeat {item!r}: expected STAGE=R, STAGE one of {stages}, 0 <= R <= 100")
        repeat[stage] = r
    return repeat


def run_train(args: argparse.Namespace) -> int:
    from agents.bundled_model.train import save_untrained, train

    if args.init is not None and not (args.init / "config.json").is_file():
        print(f"circuit-studio train: no model folder at {args.init}", file=sys.stderr)
        return EXIT_ERROR
    if args.resume is not None and not (args.resume / "trainer_state.pt").is_file():
        print(f"circuit-studio train: no checkpoint to resume at {args.resume} (no trainer_state.pt)", file=sys.stderr)
        return EXIT_ERROR
    if args.untrained:
        if args.init is None:
            print("circuit-studio train: --untrained needs --init with a model folder", file=sys.stderr)
            return EXIT_ERROR
        save_untrained(args.init, args.out, args.seed)
        print(f"wrote an untrained model shaped like {args.init} to {args.out}")
        return EXIT_OK

    try:
        repeat = parse_repeat(args.repeat or [])
    except ValueError as error:
        print(f"circuit-studio train: {error}", file=sys.stderr)
        return EXIT_ERROR
    corpus = args.corpus
    if corpus is None:
        corpus = args.out / "corpus.jsonl"
        write_corpus(corpus, args.projects, max(20, args.projects // 10), args.seed)
    elif not corpus.is_file():
        print(f"circuit-studio train: no corpus at {corpus}", file=sys.stderr)
        return EXIT_ERROR
    train(
        corpus,
        args.out,
        config=args.config,
        steps=args.steps,
        minutes=args.minutes,
        experts=args.experts,
        lr=args.lr,
        repeat=repeat,
        init=args.init,
        resume=args.resume,
        seed=args.seed,
        evaluate=not args.no_eval,
    )
    return EXIT_OK
