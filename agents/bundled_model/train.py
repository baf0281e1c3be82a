"""Train the bundled MoE on the corpus, on CPU, and write a folder the studio loads.

    circuit-studio train --out /work/train-run --corpus corpus.jsonl --config bundled

Read top to bottom: the model config (a dataclass per size), the data (tokenized as the pipeline does:
the prompt alone, then the answer and end of sequence; loss on the answer only), batches grouped by
length (about ``tokens_per_step`` tokens each), AdamW with warm-up and cosine decay, the load-balancing
loss of the routers, periodic held-out loss, and at the end a generation check on held-out requests and
the expert usage per layer. The saved folder holds bf16 safetensors, a config with router-logit output
off, the tokenizer, ``circuit_studio.json`` (compact prompts), ``training_log.json`` and ``loss.png``.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from transformers import BatchEncoding, PreTrainedTokenizerFast, Qwen3MoeConfig, Qwen3MoeForCausalLM

from agents.bundled_model.corpus import BUNDLED_BOUNDS, read_jsonl
from agents.bundled_model.job_training import (
    JobSettings,
    JobTargets,
    Plan,
    RouterMasks,
    job_targets,
    plan_example,
    routing_loss,
)
from agents.bundled_model.tokenizer import train_tokenizer

# what the pipeline runs the bundled model with (read by ``agents.model_opening.folder_settings``)
PIPELINE_SETTINGS = {
    "pipeline": {"prompt_style": "compact", "grammar": BUNDLED_BOUNDS.model_dump()},
    "runtime": {"torch_threads": 1},
}
SETTINGS_FILE = "circuit_studio.json"
LOG_FILE = "training_log.json"
STAGES = ("identify", "reason", "synthesize", "repair")  # the corpus's stages (a corpus may lack repair rows)
STATE_FILE = "trainer_state.pt"  # in a checkpoint: optimizer, step, epoch and batch order, for --resume


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 4096
    hidden_size: int = 256
    num_hidden_layers: int = 6
    num_attention_heads: int = 8
    num_key_value_heads: int = 4
    head_dim: int = 32
    moe_intermediate_size: int = 192
    num_experts: int = 16
    num_experts_per_tok: int = 2
    max_position_embeddings: int = 2048
    router_aux_loss_coef: float = 0.01

    def hf(self, eos: int) -> Qwen3MoeConfig:
        return Qwen3MoeConfig(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            intermediate_size=self.moe_intermediate_size * 2,  # dense MLP width (unused: every layer is MoE)
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            num_key_value_heads=self.num_key_value_heads,
            head_dim=self.head_dim,
            moe_intermediate_size=self.moe_intermediate_size,
            num_experts=self.num_experts,
            num_experts_per_tok=self.num_experts_per_tok,
            norm_topk_prob=True,
            decoder_sparse_step=1,
            mlp_only_layers=[],
            max_position_embeddings=self.max_position_embeddings,
            rope_theta=10000.0,
            tie_word_embeddings=True,
            output_router_logits=True,
            router_aux_loss_coef=self.router_aux_loss_coef,
            eos_token_id=eos,
            pad_token_id=eos,
            bos_token_id=eos,
            initializer_range=0.02,
        )


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    steps: int = 6000
    tokens_per_step: int = 4096
    lr: float = 1e-3
    min_lr_ratio: float = 0.05
    warmup: int = 100
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    eval_every: int = 500
    eval_examples: int = 120  # held-out examples per stage for the held-out loss
    generate_examples: int = 40  # held-out requests per stage for the final generation check
    tokenizer_texts: int = 30000
    threads: int = 2
    experts_implementation: str = "grouped_mm"
    checkpoint_every: int = 400
    minutes: float | None = None  # a time budget: the schedule follows elapsed time, steps is then a cap
    # examples of a stage per epoch, per example in the corpus: identify twice (short, and where wording
    # varies), synthesize half (a long prompt for a short answer copied from the plan)
    repeat: tuple[tuple[str, float], ...] = (("identify", 2.0), ("synthesize", 0.5))
    jobs: JobSettings | None = field(default_factory=JobSettings)  # expert jobs (``jobs.py``); None: off


CONFIGS: dict[str, TrainConfig] = {
    "bundled": TrainConfig(),
    "tiny": TrainConfig(
        model=ModelConfig(
            vocab_size=512,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=8,
            moe_intermediate_size=16,
            num_experts=4,
        ),
        steps=4,
        tokens_per_step=1024,
        warmup=2,
        eval_every=2,
        eval_examples=4,
        generate_examples=2,
        tokenizer_texts=2000,
        experts_implementation="eager",
        checkpoint_every=0,
        jobs=JobSettings(layers=(1,)),
    ),
}


# -- data --------------------------------------------------------------------------------------------


@dataclass
class Example:
    stage: str
    ids: list[int]
    prompt_len: int
    row: dict
    jobs: JobTargets = field(default_factory=JobTargets)


def encode_rows(
    rows: Sequence[dict], tokenizer: PreTrainedTokenizerFast, *, offsets: bool = False
) -> tuple[list[list[int]], BatchEncoding]:
    """Each row's prompt ids (tokenized alone, as the pipeline sends a prompt) and its answer's encoding
    (no special tokens; with character offsets if asked): the one place corpus rows become token ids."""
    prompts = tokenizer([r["prompt"] for r in rows]).input_ids
    answers = tokenizer([r["answer"] for r in rows], add_special_tokens=False, return_offsets_mapping=offsets)
    return prompts, answers


def tokenize(rows: Sequence[dict], tokenizer: PreTrainedTokenizerFast, max_len: int) -> list[Example]:
    """Rows -> ``prompt_ids + answer_ids + [eos]``; rows longer than the model's window are dropped."""
    prompts, answers = encode_rows(rows, tokenizer)
    eos = tokenizer.eos_token_id
    out = []
    for row, p, a in zip(rows, prompts, answers.input_ids, strict=True):
        ids = [*p, *a, eos]
        if len(ids) <= max_len:
            out.append(Example(row["stage"], ids, len(p), row))
    for example, targets in zip(
        out, job_targets([e.row for e in out], [e.prompt_len for e in out], tokenizer), strict=True
    ):
        example.jobs = targets
    return out


def repeated(examples: Sequence[Example], repeat: dict[str, float], rng: random.Random) -> list[Example]:
    """Each example ``int(r)`` times, plus once more with probability ``r - int(r)`` (r: its stage's repeat)."""
    out = []
    for e in examples:
        r = repeat.get(e.stage, 1.0)
        out += [e] * (int(r) + (rng.random() < r - int(r)))
    return out


def length_batches(examples: Sequence[Example], tokens_per_step: int, rng: random.Random) -> list[list[int]]:
    """Indices grouped by length so a padded batch holds about ``tokens_per_step`` tokens; shuffled."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i].ids), rng.random()))
    batches, current, longest = [], [], 0
    for i in order:
        n = len(examples[i].ids)
        if current and max(longest, n) * (len(current) + 1) > tokens_per_step:
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, n)
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def collate(examples: Sequence[Example], pad: int) -> dict[str, torch.Tensor]:
    width = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), width), pad, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e.ids)
        ids[row, :n] = torch.tensor(e.ids)
        labels[row, e.prompt_len : n] = ids[row, e.prompt_len : n]  # answer + eos
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


# -- schedule ---------------------------------------------------------------------------------------


def learning_rate(step: int, cfg: TrainConfig, progress: float | None = None) -> float:
    """Linear warm-up, then cosine to ``min_lr_ratio`` over the steps; under a time budget ``progress``
    is the elapsed fraction of it and the schedule follows whichever is further along (on a busy shared
    machine the run still ends on time, with a complete decay)."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    by_steps = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    progress = min(1.0, max(by_steps, progress or 0.0))
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


# -- training ---------------------------------------------------------------------------------------


def build_model(cfg: ModelConfig, eos: int, seed: int, experts: str, init: Path | None = None) -> Qwen3MoeForCausalLM:
    """A fresh model of ``cfg`` (seeded), or the weights saved in ``init`` in fp32 for training."""
    torch.manual_seed(seed)
    if init is None:
        model = Qwen3MoeForCausalLM(cfg.hf(eos))
    else:
        model = Qwen3MoeForCausalLM.from_pretrained(init, dtype=torch.float32)
        model.config.output_router_logits = True  # the load-balancing loss needs the router logits
    model.set_experts_implementation(experts)
    return model


@torch.no_grad()
def heldout_loss(model, examples: Sequence[Example], pad: int, tokens_per_step: int) -> dict[str, float]:
    """Mean answer-token loss per stage (and over all) on the held-out examples."""
    model.eval()
    totals: dict[str, list[float]] = {}
    for stage in sorted({e.stage for e in examples}):
        chosen = [e for e in examples if e.stage == stage]
        loss_sum, count = 0.0, 0
        for batch in length_batches(chosen, tokens_per_step, random.Random(0)):
            inputs = collate([chosen[i] for i in batch], pad)
            logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
            labels = inputs["labels"][:, 1:]
            loss = torch.nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]).float(), labels.reshape(-1), reduction="sum"
            )
            loss_sum += float(loss)
            count += int((labels != -100).sum())
        totals[stage] = [loss_sum, count]
    model.train()
    out = {stage: s / max(1, n) for stage, (s, n) in totals.items()}
    out["all"] = sum(s for s, _ in totals.values()) / max(1, sum(n for _, n in totals.values()))
    return out


@torch.no_grad()
def expert_usage(model, examples: Sequence[Example], pad: int, tokens_per_step: int) -> list[list[int]]:
    """Per MoE layer, how many answer tokens chose each expert (top-k) on ``examples``."""
    model.eval()
    cfg = model.config
    counts = torch.zeros(cfg.num_hidden_layers, cfg.num_experts, dtype=torch.long)
    for batch in length_batches(examples, tokens_per_step, random.Random(0)):
        inputs = collate([examples[i] for i in batch], pad)
        out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], output_router_logits=True)
        answer = (inputs["labels"] != -100).reshape(-1)
        for layer, logits in enumerate(out.router_logits):
            top = logits.topk(cfg.num_experts_per_tok, dim=-1).indices[answer]
            counts[layer] += torch.bincount(top.reshape(-1), minlength=cfg.num_experts)
    model.train()
    return counts.tolist()


def entropy(usage: Sequence[int]) -> float:
    """Usage entropy in nats (log(E) when perfectly balanced)."""
    total = sum(usage)
    return -sum(u / total * math.log(u / total) for u in usage if u) if total else 0.0


def save_folder(model, tokenizer: PreTrainedTokenizerFast, out: Path, log: dict | None = None) -> None:
    """bf16 safetensors (the fused expert weights every experts implementation shares) + config with
    router-logit output off + tokenizer + pipeline settings (+ the training log)."""
    out.mkdir(parents=True, exist_ok=True)
    copy = copy_module(model).to(torch.bfloat16)
    copy.config.output_router_logits = False
    copy.config.architectures = ["Qwen3MoeForCausalLM"]
    copy.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / SETTINGS_FILE).write_text(json.dumps(PIPELINE_SETTINGS, indent=2) + "\n", encoding="utf-8")
    if log is not None:
        (out / LOG_FILE).write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")


def save_checkpoint(model, tokenizer, optimizer, folder: Path, log: dict, **progress) -> None:
    """A model folder plus what ``--resume`` needs to go on: fp32 weights, the optimizer, the progress."""
    save_folder(model, tokenizer, folder, log)
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "log": log, **progress}
    torch.save(state, folder / STATE_FILE)  # fp32 weights: the folder's are bf16


def plan_batch(batch: Sequence[Example], cfg: TrainConfig, rng: random.Random) -> list[Plan]:
    """Each example's ids, experts off and routed positions this step (identify examples train the jobs)."""
    if cfg.jobs is None:
        return [Plan(e.ids, {}, {}) for e in batch]
    return [
        plan_example(e.ids, e.prompt_len, e.jobs, cfg.jobs, rng, cfg.model.num_experts)
        if e.stage == "identify"
        else Plan(e.ids, {}, {})
        for e in batch
    ]


def save_untrained(like: Path, out: Path, seed: int = 0) -> None:
    """A model of ``like``'s shape with fresh (seeded) weights and ``like``'s tokenizer: the baseline
    that shows what training bought."""
    tokenizer = PreTrainedTokenizerFast.from_pretrained(like)
    config = Qwen3MoeConfig.from_pretrained(like)
    torch.manual_seed(seed)
    save_folder(Qwen3MoeForCausalLM(config), tokenizer, out)


def copy_module(model):
    import copy

    return copy.deepcopy(model)


def plot_losses(log: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    steps = [e["step"] for e in log["train"]]
    ax.plot(steps, [e["loss"] for e in log["train"]], lw=0.8, alpha=0.7, label="train (answer tokens)")
    for stage in STAGES:
        points = [(e["step"], e["loss"][stage]) for e in log["heldout"] if stage in e["loss"]]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", ms=3, label=f"held-out {stage}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(log.get("title", "bundled MoE training"))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def train(
    corpus: Path,
    out: Path,
    *,
    config: str | TrainConfig = "bundled",
    steps: int | None = None,
    minutes: float | None = None,
    experts: str | None = None,
    lr: float | None = None,
    repeat: dict[str, float] | None = None,
    init: Path | None = None,
    resume: Path | None = None,
    seed: int = 0,
    evaluate: bool = True,
    say: Callable[[str], None] = print,
) -> dict:
    """Train on ``corpus`` (rows of split "train"; split "heldout" for evaluation) and write ``out``.

    With ``init`` (a folder this function wrote, e.g. a checkpoint), training continues from its weights
    and tokenizer with a fresh optimizer and schedule (peak ``lr``) instead of starting from scratch.
    With ``resume`` (a checkpoint folder of an interrupted run, same corpus and settings), the run goes on
    where it stopped: weights, optimizer, step, batch order, log and time budget spent."""
    state = None
    if resume is not None:
        state = torch.load(resume / STATE_FILE, weights_only=False)
        init = resume
    cfg = CONFIGS[config] if isinstance(config, str) else config
    overrides = {"steps": steps, "minutes": minutes, "experts_implementation": experts, "lr": lr}
    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    if repeat:
        cfg = replace(cfg, repeat=tuple(sorted({**dict(cfg.repeat), **repeat}.items())))
    torch.set_num_threads(cfg.threads)
    rng = random.Random(seed)
    rows = list(read_jsonl(corpus))
    train_rows = [r for r in rows if r.get("split", "train") == "train"]
    held_rows = [r for r in rows if r.get("split") == "heldout"]
    if not train_rows:
        raise ValueError(f"{corpus} holds no training rows")
    out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    if init is not None:
        tokenizer = PreTrainedTokenizerFast.from_pretrained(init)
    else:
        sample = rng.sample(train_rows, min(len(train_rows), cfg.tokenizer_texts))
        tokenizer = train_tokenizer((r["prompt"] + r["answer"] for r in sample), vocab_size=cfg.model.vocab_size)
    eos = tokenizer.eos_token_id
    train_set = tokenize(train_rows, tokenizer, cfg.model.max_position_embeddings)
    stage_counts = {
        stage: {
            "examples": sum(e.stage == stage for e in train_set),
            "tokens": sum(len(e.ids) for e in train_set if e.stage == stage),
            "answer_tokens": sum(len(e.ids) - e.prompt_len for e in train_set if e.stage == stage),
        }
        for stage in STAGES
        if any(e.stage == stage for e in train_set)
    }
    train_set = repeated(train_set, dict(cfg.repeat), random.Random(seed))
    held_set = tokenize(held_rows, tokenizer, cfg.model.max_position_embeddings)
    per_stage = {s: [e for e in held_set if e.stage == s] for s in STAGES}
    held_eval = [e for s in per_stage.values() for e in random.Random(seed).sample(s, min(len(s), cfg.eval_examples))]
    say(
        f"tokenizer {len(tokenizer)} tokens; {len(train_set)} training examples "
        f"({sum(len(e.ids) for e in train_set):,} tokens), {len(held_set)} held-out; "
        f"prepared in {time.perf_counter() - started:.0f} s"
    )

    model = build_model(cfg.model, eos, seed, cfg.experts_implementation, init)
    model.train()
    masks = RouterMasks(model)
    params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "norm" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or "norm" in n]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=cfg.betas,
        fused=False,
    )
    say(f"model: {params / 1e6:.1f}M parameters, {cfg.model.num_hidden_layers} MoE layers x {cfg.model.num_experts}")

    log: dict = {
        "title": f"bundled MoE ({params / 1e6:.1f}M params), seed {seed}",
        "config": asdict(cfg),
        "parameters": params,
        "corpus": str(corpus),
        "init": str(init) if init else None,
        "train_examples": len(train_set),
        "train_tokens": sum(len(e.ids) for e in train_set),
        "train_answer_tokens": sum(len(e.ids) - e.prompt_len for e in train_set),
        "heldout_examples": len(held_set),
        "stages": stage_counts,
        "dropped_too_long": len(train_rows) - sum(c["examples"] for c in stage_counts.values()),
        "train": [],
        "heldout": [],
    }
    batches: list[list[int]] = []
    epoch = 0
    seen_tokens = 0
    window_tokens, window_start = 0, time.perf_counter()
    train_start = time.perf_counter()
    warmup_seconds = 0.0
    budget = cfg.minutes * 60 if cfg.minutes else None
    done = first = 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        first = done = state["step"]
        epoch, batches, seen_tokens, log = state["epoch"], state["batches"], state["seen_tokens"], state["log"]
        train_start -= state["elapsed"]
        warmup_seconds = state["warmup_seconds"]
        say(f"resumed at step {first} ({state['elapsed'] / 60:.1f} min spent)")
    for step in range(first, cfg.steps):
        progress = None
        if budget is not None:
            elapsed = time.perf_counter() - train_start
            progress = (elapsed - warmup_seconds) / max(1.0, budget - warmup_seconds) if step > cfg.warmup else 0.0
            if elapsed >= budget:
                break
        if not batches:
            batches = length_batches(train_set, cfg.tokens_per_step, random.Random(seed * 1000 + epoch))
            epoch += 1
        batch = [train_set[i] for i in batches.pop()]
        plans = plan_batch(batch, cfg, random.Random(seed * 1_000_003 + step))
        inputs = collate([replace(e, ids=plan.ids) for e, plan in zip(batch, plans, strict=True)], eos)
        width = inputs["input_ids"].shape[1]
        masks.set(plans, width, cfg.model.num_hidden_layers, cfg.model.num_experts)
        lr = learning_rate(step, cfg, progress)
        for group in optimizer.param_groups:
            group["lr"] = lr
        output = model(**inputs)
        masks.clear()
        route = routing_loss(output.router_logits, plans, width, cfg.jobs) if cfg.jobs else None
        loss = output.loss if route is None else output.loss + cfg.jobs.routing_coef * route
        loss.backward()
        if not math.isfinite(float(loss.detach())):
            raise FloatingPointError(f"loss is {float(loss)} at step {step}")
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens = int(inputs["attention_mask"].sum())
        seen_tokens += tokens
        window_tokens += tokens
        aux = float(output.aux_loss.detach()) if output.aux_loss is not None else 0.0
        lm = float(output.loss.detach()) - cfg.model.router_aux_loss_coef * aux
        if step % 10 == 0 or step == cfg.steps - 1:
            rate = window_tokens / max(1e-9, time.perf_counter() - window_start)
            routed = float(route.detach()) if route is not None else None
            log["train"].append({"step": step, "loss": lm, "aux": aux, "routing": routed, "lr": lr, "tok_s": rate})
            if step % 50 == 0 or step == cfg.steps - 1:
                jobs = f"  routing {routed:.3f}" if routed is not None else ""
                say(f"step {step:5d}  loss {lm:.4f}  aux {aux:.3f}{jobs}  lr {lr:.2e}  {rate:,.0f} tok/s")
            window_tokens, window_start = 0, time.perf_counter()
        if step == cfg.warmup:
            warmup_seconds = time.perf_counter() - train_start
        last = step == cfg.steps - 1 or (budget is not None and time.perf_counter() - train_start >= budget)
        if held_eval and ((cfg.eval_every and (step + 1) % cfg.eval_every == 0) or last):
            losses = heldout_loss(model, held_eval, eos, cfg.tokens_per_step)
            log["heldout"].append({"step": step + 1, "loss": losses})
            say(f"held-out step {step + 1}: " + "  ".join(f"{k} {v:.4f}" for k, v in losses.items()))
        if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and not last:
            save_checkpoint(
                model,
                tokenizer,
                optimizer,
                out / "checkpoint",
                log,
                step=step + 1,
                epoch=epoch,
                batches=batches,
                seen_tokens=seen_tokens,
                elapsed=time.perf_counter() - train_start,
                warmup_seconds=warmup_seconds,
            )
        done = step + 1
    masks.remove()
    wall = time.perf_counter() - train_start
    log.update({"steps": done, "epochs": epoch, "seen_tokens": seen_tokens, "train_seconds": round(wall, 1)})
    log["tokens_per_second"] = round(seen_tokens / max(wall, 1e-9), 1)
    say(f"trained {done} steps, {seen_tokens:,} tokens in {wall / 60:.1f} min ({log['tokens_per_second']:,.0f} tok/s)")

    model.eval()
    model.set_experts_implementation("eager")
    if held_eval:
        usage = expert_usage(model, held_eval, eos, cfg.tokens_per_step)
        log["expert_usage"] = usage
        log["usage_entropy"] = [round(entropy(u), 4) for u in usage]
        log["usage_entropy_max"] = round(math.log(cfg.model.num_experts), 4)
        say("expert-usage entropy per layer: " + " ".join(f"{h:.3f}" for h in log["usage_entropy"]))
    save_folder(model, tokenizer, out, log)
    if evaluate and held_rows:
        from agents.bundled_model.evaluate import generation_eval

        log["generation"] = generation_eval(model, tokenizer, held_rows, cfg.generate_examples, seed=seed, say=say)
    plot_losses(log, out / "loss.png")
    (out / LOG_FILE).write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")
    return log
