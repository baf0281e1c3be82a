"""Write the bundled model's expert cards (``studio.moe.cards``) from held-out corpus rows:

    circuit-studio experts cards --corpus corpus.jsonl --effect effect-led/effect.json ... \\
        --out agents/bundled_model/weights/expert_cards.json

Usage and top tokens are counted on the answer positions of up to ``rows`` held-out rows per stage, run
through the model unsteered (prompt and answer as in training); a token's share for an expert is how
many of that token's occurrences routed to it, so a token every expert sees now and then ranks low and
one the expert takes nearly always ranks high (tokens seen fewer than ``MIN_COUNT`` times are left out).
Jobs come from ``agents.bundled_model.jobs``; effects from the harness reports of the job profiles.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from agents.bundled_model.experiments import BEHAVIOURS
from agents.bundled_model.jobs import JOB_LAYERS
from agents.bundled_model.train import STAGES, collate, length_batches, tokenize
from agents.effect import EffectReport
from studio.moe.cards import ExpertCard, ExpertCards, JobEffect, TokenShare

ROWS_PER_STAGE = 200
MIN_COUNT = 20
TOP_TOKENS = 8


@torch.no_grad()
def routing_counts(model, examples, pad: int, tokens_per_step: int = 4096) -> tuple[torch.Tensor, torch.Tensor, int]:
    """[L, E] picks, [L, E, V] picks per input token, and the answer positions counted."""
    cfg = model.config
    layers, experts, vocab = cfg.num_hidden_layers, cfg.num_experts, cfg.vocab_size
    picks = torch.zeros(layers, experts, dtype=torch.long)
    per_token = torch.zeros(layers, experts, vocab, dtype=torch.long)
    positions = 0
    for batch in length_batches(examples, tokens_per_step, random.Random(0)):
        inputs = collate([examples[i] for i in batch], pad)
        out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], output_router_logits=True)
        # the position that predicts an answer token: its label is set one step later
        answer = torch.zeros_like(inputs["labels"], dtype=torch.bool)
        answer[:, :-1] = inputs["labels"][:, 1:] != -100
        answer = answer.reshape(-1)
        tokens = inputs["input_ids"].reshape(-1)[answer]
        positions += int(answer.sum())
        for layer, logits in enumerate(out.router_logits):
            top = logits.topk(cfg.num_experts_per_tok, dim=-1).indices[answer]
            for k in range(top.shape[1]):
                picks[layer] += torch.bincount(top[:, k], minlength=experts)
                flat = top[:, k] * vocab + tokens
                per_token[layer] += torch.bincount(flat, minlength=experts * vocab).reshape(experts, vocab)
    return picks, per_token, positions


def job_effects(reports: Sequence[EffectReport]) -> dict[str, JobEffect]:
    """Behaviour -> the effect of its job profile, from harness reports."""
    out = {}
    for report in reports:
        controls = [c.behaviour.text() for c in report.conditions if c.label.startswith("control")]
        out[report.behaviour] = JobEffect(
            profile=report.profile,
            unsteered=report.condition("unsteered").behaviour.text(),
            steered=report.condition("profile").behaviour.text(),
            controls=controls,
            holds=report.holds,
            verdict=report.verdict,
        )
    return out


def build_cards(
    engine, rows: Sequence[dict], effects: Sequence[EffectReport] = (), *, per_stage: int = ROWS_PER_STAGE, command: str
) -> ExpertCards:
    tokenizer, model = engine.tokenizer, engine.model
    rng = random.Random(0)
    usage: dict[str, torch.Tensor] = {}
    counted: dict[str, int] = {}
    per_token = None
    for stage in STAGES:
        staged = [r for r in rows if r["stage"] == stage]
        if not staged:
            continue
        chosen = rng.sample(staged, min(per_stage, len(staged)))
        examples = tokenize(chosen, tokenizer, model.config.max_position_embeddings)
        picks, tokens, positions = routing_counts(model, examples, tokenizer.eos_token_id)
        usage[stage] = picks.float() / max(1, positions)
        counted[stage] = len(examples)
        per_token = tokens if per_token is None else per_token + tokens
    if per_token is None:
        raise ValueError("no corpus rows of any stage to count routing on")
    seen = per_token.sum(dim=1) / model.config.num_experts_per_tok  # [L, V] occurrences of each token
    jobs = {(layer, b.job.expert): b for b in BEHAVIOURS for layer in JOB_LAYERS}
    measured = job_effects(effects)
    cards = []
    layers, experts = per_token.shape[:2]
    for layer in range(layers):
        for expert in range(experts):
            behaviour = jobs.get((layer, expert))
            cards.append(
                ExpertCard(
                    layer=layer,
                    expert=expert,
                    usage={stage: round(float(u[layer, expert]), 4) for stage, u in usage.items()},
                    top_tokens=_top_tokens(per_token[layer, expert], seen[layer], tokenizer),
                    job=behaviour.measured_by if behaviour else None,
                    job_title=behaviour.title if behaviour else None,
                    effect=measured.get(behaviour.measured_by) if behaviour else None,
                )
            )
    return ExpertCards(model=engine.info.identity(), command=command, rows_per_stage=counted, cards=cards)


def _top_tokens(counts: torch.Tensor, seen: torch.Tensor, tokenizer) -> list[TokenShare]:
    share = torch.where(seen >= MIN_COUNT, counts.float() / seen.clamp(min=1), torch.zeros_like(seen))
    order = share.argsort(descending=True)[:TOP_TOKENS]
    return [
        TokenShare(token=tokenizer.decode([int(t)]), count=int(counts[t]), share=round(float(share[t]), 3))
        for t in order
        if share[t] > 0
    ]


def write_cards(
    model: str | None,
    corpus: Path,
    out: Path,
    effects: Sequence[Path] = (),
    *,
    per_stage: int = ROWS_PER_STAGE,
    command: str,
    say: Callable[[str], None] = print,
) -> ExpertCards:
    from agents.bundled_model.corpus import read_jsonl
    from agents.model_opening import open_engine

    rows = [r for r in read_jsonl(corpus) if r.get("split") == "heldout"] or list(read_jsonl(corpus))
    reports = [EffectReport.model_validate_json(p.read_text(encoding="utf-8")) for p in effects]
    engine, _ = open_engine(model)
    try:
        cards = build_cards(engine, rows, reports, per_stage=per_stage, command=command)
    finally:
        engine.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(cards.model_dump_json(indent=1) + "\n", encoding="utf-8")
    say(f"wrote {len(cards.cards)} expert cards ({sum(c.job is not None for c in cards.cards)} with a job) to {out}")
    return cards
