"""A quick check of a trained model on held-out corpus rows, stage by stage, decoded as the pipeline does
(greedy; identify and synthesize under their grammars).

- identify: exact answer, part F1 (quantities counted), unknown names right;
- reason: plan exact, the plan's net lines exact;
- synthesize (from the teacher's plan): nets exactly the teacher's, ERC pass of the design.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence

import torch
from transformers import PreTrainedTokenizerFast

from agents.constrained import constrained_generate
from agents.evaluation.scoring import PartScore
from agents.identify import parse_answer, parts_grammar
from agents.parts_list import PartsList
from agents.pinouts import lookup_pinouts
from agents.synthesize import GrammarBounds, grammar_for
from studio.circuit.design import Design
from studio.circuit.resolve import resolve
from studio.erc import run_erc
from studio.moe.fast_decode import decode_step
from studio.moe.greedy import greedy_decode

REASON_TOKENS = 768


def part_counts(parts: PartsList) -> Counter:
    return Counter({(p.part, p.value): p.quantity for p in parts.parts})


def f1(predicted: Counter, expected: Counter) -> float:
    """The benchmark's part F1 (``PartScore``) of two multisets; nothing predicted where nothing was
    expected (a request about unknown parts only) scores 1."""
    if not predicted and not expected:
        return 1.0
    hit = sum((predicted & expected).values())
    return PartScore(
        true_positives=hit,
        false_positives=sum(predicted.values()) - hit,
        false_negatives=sum(expected.values()) - hit,
    ).f1


def _net_lines(plan: str) -> list[str]:
    return plan.split("Nets:", 1)[-1].strip().splitlines()


@torch.inference_mode()
def _greedy(model, tokenizer: PreTrainedTokenizerFast, prompt: str, max_new_tokens: int) -> tuple[str, int]:
    ids = tokenizer(prompt).input_ids
    window = model.config.max_position_embeddings - len(ids)
    budget = max(1, min(max_new_tokens, window))
    new = greedy_decode(decode_step(model), ids, budget, eos_ids=[tokenizer.eos_token_id])
    return tokenizer.decode(new, skip_special_tokens=True), len(new)


def generation_eval(
    model,
    tokenizer: PreTrainedTokenizerFast,
    rows: Sequence[dict],
    n: int,
    *,
    seed: int = 0,
    kb=None,
    say: Callable[[str], None] = print,
) -> dict:
    """Metrics on ``n`` held-out rows per stage (the same rows for a given seed)."""
    if kb is None:
        from components_db.kb import KnowledgeBase

        kb = KnowledgeBase.open()
    model.eval()
    rng = random.Random(seed)
    by_stage = {s: [r for r in rows if r["stage"] == s] for s in ("identify", "reason", "synthesize")}
    identify_of = {r["project"]: r["answer"] for r in by_stage["identify"]}
    chosen = {s: rng.sample(v, min(n, len(v))) for s, v in by_stage.items()}
    result: dict = {}
    tokens, seconds = 0, 0.0

    grammar = parts_grammar(kb.parts())
    scores = {"exact": 0, "f1": 0.0, "unknown_exact": 0, "complete": 0}
    failures = []
    for row in chosen["identify"]:
        start = time.perf_counter()
        out = constrained_generate(model, tokenizer, tokenizer(row["prompt"]).input_ids, grammar, grammar.max_bytes)
        seconds += time.perf_counter() - start
        tokens += len(out.token_ids)
        expected = parse_answer(row["answer"])
        scores["exact"] += out.text == row["answer"]
        if out.finish_reason == "complete":
            scores["complete"] += 1
            predicted = parse_answer(out.text)
            scores["f1"] += f1(part_counts(predicted), part_counts(expected))
            scores["unknown_exact"] += [u.lower() for u in predicted.unknown] == [u.lower() for u in expected.unknown]
        if out.text != row["answer"] and len(failures) < 5:
            failures.append({"request": row["request"], "expected": row["answer"], "got": out.text})
    k = max(1, len(chosen["identify"]))
    result["identify"] = {key: round(v / k, 4) for key, v in scores.items()} | {"n": len(chosen["identify"])}
    result["identify"]["failures"] = failures
    say(f"identify: {result['identify'] | {'failures': len(failures)}}")

    scores = {"exact": 0, "nets_exact": 0}
    for row in chosen["reason"]:
        start = time.perf_counter()
        text, count = _greedy(model, tokenizer, row["prompt"], REASON_TOKENS)
        seconds += time.perf_counter() - start
        tokens += count
        scores["exact"] += text.strip() == row["answer"].strip()
        scores["nets_exact"] += _net_lines(text) == _net_lines(row["answer"])
    k = max(1, len(chosen["reason"]))
    result["reason"] = {key: round(v / k, 4) for key, v in scores.items()} | {"n": len(chosen["reason"])}
    say(f"reason: {result['reason']}")

    scores = {"nets_exact": 0, "erc_pass": 0, "complete": 0}
    for row in chosen["synthesize"]:
        parts = parse_answer(identify_of[row["project"]]) if row["project"] in identify_of else None
        if parts is None:
            continue
        design_grammar = grammar_for(lookup_pinouts(parts, kb), GrammarBounds())
        start = time.perf_counter()
        out = constrained_generate(
            model, tokenizer, tokenizer(row["prompt"]).input_ids, design_grammar, design_grammar.max_bytes
        )
        seconds += time.perf_counter() - start
        tokens += len(out.token_ids)
        scores["nets_exact"] += out.text == row["answer"]
        if out.finish_reason == "complete":
            scores["complete"] += 1
            try:
                design = Design.from_json(design_grammar.prefix + out.text)
                scores["erc_pass"] += run_erc(resolve(design, kb)).passed
            except Exception:  # an unreadable design counts as a failure
                pass
    k = max(1, len(chosen["synthesize"]))
    result["synthesize"] = {key: round(v / k, 4) for key, v in scores.items()} | {"n": len(chosen["synthesize"])}
    say(f"synthesize: {result['synthesize']}")
    result["generation_tokens_per_second"] = round(tokens / max(seconds, 1e-9), 1)
    return result
