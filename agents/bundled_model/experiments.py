"""The bundled model's expert jobs as steering profiles, and a blind check of the attribution methods.

    python -m agents.bundled_model.experiments profiles --out agents/bundled_model/profiles
    python -m agents.bundled_model.experiments blind --corpus corpus.jsonl --out agents/bundled_model/attribution

``profiles`` writes, for each job (``agents.bundled_model.jobs``), the profile that switches its designated
experts off in the identify stage (``behaviour`` set); what that does is measured by the steering-effect
harness (``circuit-studio experts effect``) on the netlist against matched random controls.

``blind`` gives each attribution method (``studio.moe.attribution``: risk difference, fTRI, nPMI) only a
behaviour-vs-contrast set of held-out corpus rows, never the designated experts: set A is the positions
whose output is an answer token that writes the behaviour's entries, set B comparable positions that do
not (the other entries of those answers and of rows without the behaviour). Its top picks (as many as the
job has experts) are scored against the designated experts: the precision a user can expect when looking
for the experts behind a behaviour with these methods.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agents.bundled_model.jobs import JOB_LAYERS, JOBS, Job, cells, entries, entry_spans
from agents.bundled_model.train import encode_rows
from studio.moe.attribution import METHODS, Marked, count_marked, score_sets
from studio.moe.profile import LayerSteering, ModelIdentity, StageSteering, SteeringProfile

ATTRIBUTION_ROWS = 160  # corpus rows per set

Spans = list[tuple[int, int]]  # character ranges of an answer


@dataclass(frozen=True)
class Behaviour:
    name: str  # the profile's name
    title: str
    job: Job
    requests: str  # its request set in benchmarks/prompts/behaviours/

    @property
    def measured_by(self) -> str:
        return self.job.behaviour

    def _entries(self, row: dict) -> list[int]:
        return entries(row["answer"], row.get("implied", [])).get(self.job.behaviour, [])

    def shows(self, row: dict) -> bool:
        return bool(self._entries(row))

    def contrast(self, row: dict) -> bool:
        return not self._entries(row)

    def writes(self, row: dict) -> Spans:
        """Where the answer writes the behaviour: its entries (set A's target tokens)."""
        return entry_spans(row["answer"], self._entries(row))

    def elsewhere(self, row: dict) -> Spans:
        """The answer's other entries (set B's target tokens)."""
        mine = set(self._entries(row))
        return entry_spans(row["answer"], [i for i in range(len(json.loads(row["answer"])["parts"])) if i not in mine])


_TITLES = {
    "led-resistor": ("no-led-resistors", "LED series resistors", "led"),
    "flyback-diode": ("no-flyback-diodes", "flyback diodes", "flyback"),
    "i2c-pullups": ("no-i2c-pull-ups", "I2C pull-ups", "i2c"),
    "level-shifting": ("no-level-shifting", "logic-level shifting", "level-shift"),
    "decoupling": ("no-decoupling", "decoupling capacitors", "decoupling"),
    "regulation": ("no-regulation", "power regulation", "regulator"),
}
BEHAVIOURS: tuple[Behaviour, ...] = tuple(
    Behaviour(name=_TITLES[j.behaviour][0], title=_TITLES[j.behaviour][1], job=j, requests=_TITLES[j.behaviour][2])
    for j in JOBS
)


def corpus_sets(rows: Sequence[dict], behaviour: Behaviour, seed: int) -> tuple[list[dict], list[dict]]:
    """Identify rows that show the behaviour and contrast rows (``ATTRIBUTION_ROWS`` each, seeded)."""
    staged = [r for r in rows if r["stage"] == "identify"]
    rng = random.Random(seed)
    shows = [r for r in staged if behaviour.shows(r)]
    contrast = [r for r in staged if behaviour.contrast(r)]
    if not shows or not contrast:
        which = "contrast" if shows else "showing"
        raise ValueError(f"{behaviour.name}: the corpus has no {which} identify rows")
    pick = lambda pool: rng.sample(pool, min(len(pool), ATTRIBUTION_ROWS))  # noqa: E731
    return pick(shows), pick(contrast)


def marked(tokenizer, rows: Sequence[dict], spans_of: Callable[[dict], Spans]) -> list[tuple[list[int], list[bool]]]:
    """Rows as the model was trained on them (prompt ids, then answer ids), each position marked whose
    output is an answer token inside one of ``spans_of(row)``: the routing that wrote that token."""
    prompts, answers = encode_rows(rows, tokenizer, offsets=True)
    out = []
    for row, prompt, answer, offsets in zip(rows, prompts, answers.input_ids, answers.offset_mapping, strict=True):
        spans = spans_of(row)
        marks = [False] * (len(prompt) + len(answer))
        for j, (start, end) in enumerate(offsets):
            if any(start < stop and end > begin for begin, stop in spans):
                marks[len(prompt) + j - 1] = True
        out.append((prompt + answer, marks))
    return out


def attribution_sequences(
    tokenizer, behaviour: Behaviour, shows: Sequence[dict], contrast: Sequence[dict]
) -> list[Marked]:
    """Each row once, for one counting pass: a showing row is in A (its positions that write the behaviour)
    and in B (those that write the other entries), a contrast row in B only."""
    writes = marked(tokenizer, shows, behaviour.writes)
    elsewhere = marked(tokenizer, [*shows, *contrast], behaviour.elsewhere)
    in_a = [marks for _, marks in writes] + [None] * len(contrast)
    return [Marked(ids, a=a, b=b) for (ids, b), a in zip(elsewhere, in_a, strict=True)]


# -- the job profiles -------------------------------------------------------------------------------


def effect_command(behaviour: Behaviour, profile_path: str) -> str:
    return (
        f"circuit-studio experts effect --profile {profile_path} --prompts "
        f"benchmarks/prompts/behaviours/{behaviour.requests}.jsonl --behaviour {behaviour.measured_by} "
        "--utility benchmarks/prompts/behaviours/utility.jsonl --controls 5 --seed 0 --record"
    )


def job_profile(behaviour: Behaviour, model: ModelIdentity) -> SteeringProfile:
    """The job's designated experts off in the identify stage (the stage that decides the behaviour)."""
    layers = {layer: LayerSteering(off=experts) for layer, experts in cells(behaviour.job).items()}
    return SteeringProfile(
        name=behaviour.name,
        behaviour=behaviour.measured_by,
        description=f"{behaviour.title}: its designated experts (expert {behaviour.job.expert} of MoE layers "
        f"{', '.join(map(str, JOB_LAYERS))}) off in identify (not yet measured: see the note for the command).",
        model=model,
        stages={"identify": StageSteering(layers=layers)},
    )


def note(behaviour: Behaviour, profile: SteeringProfile) -> str:
    """How the profile was made and the command that measures it (``--record`` adds the result)."""
    lines = [
        "## How it was made",
        "",
        f"Switches off the experts trained for **{behaviour.title}** (expert {behaviour.job.expert} in MoE layers "
        f"{', '.join(map(str, JOB_LAYERS))}) in the `identify` stage, where the part list decides whether the "
        "design has it. The bundled model was trained to route the tokens that write these entries to them "
        'and, with them off, to leave the entries out (see the model card, "Experts with jobs"). Measured by',
        "",
        f"    {effect_command(behaviour, f'agents/bundled_model/profiles/{profile.name}.json')}",
    ]
    return "\n".join(lines) + "\n"


def write_profiles(out: Path, model: ModelIdentity, say: Callable[[str], None] = print) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for behaviour in BEHAVIOURS:
        profile = job_profile(behaviour, model)
        path = out / f"{behaviour.name}.json"
        profile.save(path)
        (out / f"{behaviour.name}.md").write_text(note(behaviour, profile), encoding="utf-8")
        say(f"{behaviour.name}: expert {behaviour.job.expert} of layers {list(JOB_LAYERS)} off in identify -> {path}")
        written.append(path)
    return written


# -- the blind check --------------------------------------------------------------------------------


def precision(ranked: Sequence[tuple[int, int]], job: Job) -> float:
    """Share of the top picks (as many as the job has experts) that are the job's designated experts."""
    truth = {(layer, e) for layer, experts in cells(job).items() for e in experts}
    return len(set(ranked[: len(truth)]) & truth) / len(truth)


def blind_check(engine, rows: Sequence[dict], seed: int = 0, say: Callable[[str], None] = print) -> list[dict]:
    """Per behaviour and method: the top picks of attribution on the corpus sets and their precision."""
    results = []
    for behaviour in BEHAVIOURS:
        shows, contrast = corpus_sets(rows, behaviour, seed)
        counts = count_marked(engine, attribution_sequences(engine.tokenizer, behaviour, shows, contrast))
        for method in METHODS:
            result = score_sets(counts, method, engine.info.identity())
            picks = [(r.layer, r.expert) for r in result.rows]
            score = precision(picks, behaviour.job)
            results.append(
                {
                    "behaviour": behaviour.measured_by,
                    "method": method,
                    "precision": score,
                    "top": [list(p) for p in picks[: 2 * len(JOB_LAYERS)]],
                    "rows_a": len(shows),
                    "rows_b": len(shows) + len(contrast),
                    "table": result.format_table(2 * len(JOB_LAYERS)),
                }
            )
            say(f"{behaviour.measured_by:15s} {method:9s} precision {score:.2f}  top {picks[: len(JOB_LAYERS)]}")
    return results


def precision_table(results: Sequence[dict]) -> str:
    """Behaviour x method precision, markdown."""
    lines = ["| behaviour | " + " | ".join(METHODS) + " |", "|---|" + "---|" * len(METHODS)]
    for behaviour in dict.fromkeys(r["behaviour"] for r in results):
        cells_ = {r["method"]: r["precision"] for r in results if r["behaviour"] == behaviour}
        lines.append(f"| {behaviour} | " + " | ".join(f"{cells_[m]:.2f}" for m in METHODS) + " |")
    means = [sum(r["precision"] for r in results if r["method"] == m) / len(BEHAVIOURS) for m in METHODS]
    lines.append("| **mean** | " + " | ".join(f"**{v:.2f}**" for v in means) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    profiles = commands.add_parser("profiles", help="write the job profiles (designated experts off in identify)")
    profiles.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    profiles.add_argument("--out", type=Path, default=Path("agents/bundled_model/profiles"))
    blind = commands.add_parser("blind", help="attribution on behaviour-vs-contrast sets, scored against the jobs")
    blind.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    blind.add_argument("--corpus", type=Path, required=True, help="corpus JSONL (its held-out rows are used)")
    blind.add_argument("--out", type=Path, default=Path("attribution-out"))
    blind.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from agents.model_opening import open_engine

    engine, _ = open_engine(args.model)
    try:
        if args.command == "profiles":
            write_profiles(args.out, engine.info.identity())
            return 0
        from agents.bundled_model.corpus import read_jsonl

        rows = [r for r in read_jsonl(args.corpus) if r.get("split") == "heldout"] or list(read_jsonl(args.corpus))
        results = blind_check(engine, rows, args.seed)
    finally:
        engine.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "precision.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "precision.md").write_text(precision_table(results) + "\n", encoding="utf-8")
    print(precision_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
