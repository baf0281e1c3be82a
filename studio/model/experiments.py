"""Experts worth toggling: find the experts behind a behaviour a person can see, turn them off, and
measure what changes on the benchmark. This writes the bundled model's example steering profiles.

    python -m studio.model.experiments --model studio/model/weights --corpus corpus.jsonl \\
        --prompts benchmarks/prompts/dev.jsonl --out studio/model/profiles

A ``Behaviour`` names the pipeline stage it lives in, the corpus rows of that stage that show it and a
contrast, where in an answer it is written (the parts list entries of its roles, the net lines of its
bus) and comparable places that do not write it, and what to count in a run: the supporting parts of
some roles the identify stage adds, and the ERC findings of some rules. Attribution
(``studio.moe.attribution``, risk difference of selection frequency) compares the routing at the
positions that write the behaviour (set A: each such answer token's preceding position, whose output
is that token, on the rows that show it) with the routing at the positions that write the comparable
places (set B, on both kinds of rows); the top ``n`` experts go off in that stage only. (Whole prompts
as targets find the experts of a request's topic, not of a decision.)

The benchmark prompts where the behaviour matters (it shows in the reference designer's answer for the
prompt's expected parts) run through the pipeline unsteered and steered; the before/after table goes
into the profile's description and a Markdown note beside it (the studio's attribution view shows
both). A control profile with as many experts drawn at random in the same stage shows what any ``n``
experts off do.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from agents.evaluation import BenchmarkPrompt, Outcome, load_benchmark, score
from agents.parts_list import PartRequest, PartsList
from agents.reference import ReferenceDesignError
from agents.teacher import teach
from studio.model.train import encode_rows
from studio.moe.attribution import Marked, count_marked, score_sets, suggest_profile
from studio.moe.profile import LayerSteering, StageSteering, SteeringProfile

ATTRIBUTION_ROWS = 160  # corpus rows per set
METHOD = "risk-diff"
EXPERTS_OFF = 8  # 4 of the 96 changed nothing a random 4 did not; 8 move the behaviour itself

Spans = list[tuple[int, int]]  # character ranges of an answer


@dataclass(frozen=True)
class Behaviour:
    name: str
    title: str
    stage: str
    shows: Callable[[dict], bool]  # a corpus row of ``stage`` that shows the behaviour
    contrast: Callable[[dict], bool]  # one that does not
    writes: Callable[[str], Spans]  # where an answer writes the behaviour (set A's target tokens)
    elsewhere: Callable[[str], Spans]  # comparable places that do not (set B's target tokens)
    roles: frozenset[str] = frozenset()  # identified parts counted (by role)
    rules: frozenset[str] = frozenset()  # ERC findings counted (by rule id)


def _roles(row: dict) -> set[str]:
    return {p.get("role") for p in json.loads(row["answer"])["parts"]}


_PART_ENTRY = re.compile(r'\{"part":"[^"]*"[^{}]*\}')
_NET_LINE = re.compile(r"^[A-Za-z0-9_+.-]+: .+$", re.MULTILINE)


def entries(roles: frozenset[str], inside: bool) -> Callable[[str], Spans]:
    """The identify answer's part entries whose role is (``inside``) or is not one of ``roles``."""
    return lambda answer: [
        m.span() for m in _PART_ENTRY.finditer(answer) if (json.loads(m[0]).get("role") in roles) == inside
    ]


def by_role(role: str) -> dict:
    """An identify behaviour's targets and counted parts: the part entries of ``role`` against the rest."""
    roles = frozenset({role})
    return {"writes": entries(roles, True), "elsewhere": entries(roles, False), "roles": roles}


def net_lines(pins: tuple[str, ...], inside: bool) -> Callable[[str], Spans]:
    """The reasoning's net lines that do (``inside``) or do not name one of ``pins`` (e.g. ".SDA")."""
    return lambda answer: [m.span() for m in _NET_LINE.finditer(answer) if any(p in m[0] for p in pins) == inside]


BEHAVIOURS = (
    Behaviour(
        name="no-led-resistors",
        title="LED series resistors",
        stage="identify",
        shows=lambda r: "series resistor" in _roles(r),
        contrast=lambda r: not _roles(r) & {"series resistor", "indicator"},
        **by_role("series resistor"),
        rules=frozenset({"led-no-resistor", "led-overcurrent"}),
    ),
    Behaviour(
        name="no-pull-ups",
        title="pull-up resistors",
        stage="identify",
        shows=lambda r: "pull-up" in _roles(r),
        contrast=lambda r: "pull-up" not in _roles(r),
        **by_role("pull-up"),
        rules=frozenset({"pullup-missing", "floating-switch-input"}),
    ),
    Behaviour(
        name="no-flyback-diodes",
        title="flyback diodes",
        stage="identify",
        shows=lambda r: "flyback diode" in _roles(r),
        contrast=lambda r: "flyback diode" not in _roles(r),
        **by_role("flyback diode"),
        rules=frozenset({"inductive-no-flyback"}),
    ),
    Behaviour(
        name="no-i2c-wiring",
        title="I2C bus wiring",
        stage="reason",
        shows=lambda r: ".SDA" in r["answer"],
        contrast=lambda r: ".SDA" not in r["answer"] and ".SCL" not in r["answer"],
        writes=net_lines((".SDA", ".SCL"), True),
        elsewhere=net_lines((".SDA", ".SCL"), False),
        rules=frozenset({"protocol-mismatch", "unconnected-input", "input-not-driven", "supply-pin-unconnected"}),
    ),
)


class Measure(BaseModel):
    """One system over a behaviour's prompts."""

    prompts: int
    erc_pass: float
    f1: float
    parts_of_role: int  # identified parts with one of the behaviour's roles
    findings: int  # ERC findings of the behaviour's rules
    changed: int = 0  # prompts whose design differs from the baseline's


def measure(behaviour: Behaviour, prompts: Sequence[BenchmarkPrompt], outcomes: Sequence[Outcome], kb) -> Measure:
    results = [score(p, o, kb) for p, o in zip(prompts, outcomes, strict=True)]
    roles = sum(p.quantity for o in outcomes if o.parts for p in o.parts.parts if p.role in behaviour.roles)
    findings = sum(1 for o in outcomes if o.check for v in o.check.erc.violations if v.rule in behaviour.rules)
    return Measure(
        prompts=len(prompts),
        erc_pass=round(statistics.fmean(r.erc_pass for r in results), 3),
        f1=round(statistics.fmean(r.f1 for r in results), 3),
        parts_of_role=roles,
        findings=findings,
    )


def teacher_rows(prompt: BenchmarkPrompt, kb) -> dict[str, dict]:
    """The reference designer's stage rows for a benchmark prompt's expected parts ({} if it cannot wire
    them): where a behaviour shows in these, it matters for that prompt."""
    core = PartsList(parts=[PartRequest(part=e.part, quantity=e.quantity) for e in prompt.expected_parts])
    try:
        example = teach(prompt.prompt, core, [], kb)
    except ReferenceDesignError:
        return {}
    return {s.stage: {"stage": s.stage, "prompt": s.prompt, "answer": s.answer} for s in example.stages}


def _design_key(outcome: Outcome) -> str:
    return outcome.design.model_dump_json() if outcome.design is not None else ""


def corpus_sets(rows: Sequence[dict], behaviour: Behaviour, seed: int) -> tuple[list[dict], list[dict]]:
    """The stage's rows that show the behaviour and contrast rows (``ATTRIBUTION_ROWS`` each, seeded)."""
    staged = [r for r in rows if r["stage"] == behaviour.stage]
    rng = random.Random(seed)
    shows = [r for r in staged if behaviour.shows(r)]
    contrast = [r for r in staged if behaviour.contrast(r)]
    if not shows or not contrast:
        which = "contrast" if shows else "showing"
        raise ValueError(f"{behaviour.name}: the corpus has no {which} rows for {behaviour.stage}")
    pick = lambda pool: rng.sample(pool, min(len(pool), ATTRIBUTION_ROWS))  # noqa: E731
    return pick(shows), pick(contrast)


def marked(tokenizer, rows: Sequence[dict], spans_of: Callable[[str], Spans]) -> list[tuple[list[int], list[bool]]]:
    """Rows as the model was trained on them (prompt ids, then answer ids), each position marked whose
    output is an answer token inside one of ``spans_of(answer)``: the routing that wrote that token."""
    prompts, answers = encode_rows(rows, tokenizer, offsets=True)
    out = []
    for row, prompt, answer, offsets in zip(rows, prompts, answers.input_ids, answers.offset_mapping, strict=True):
        spans = spans_of(row["answer"])
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
    and in B (those that write comparable places), a contrast row in B only."""
    writes = marked(tokenizer, shows, behaviour.writes)
    elsewhere = marked(tokenizer, [*shows, *contrast], behaviour.elsewhere)
    in_a = [marks for _, marks in writes] + [None] * len(contrast)
    return [Marked(ids, a=a, b=b) for (ids, b), a in zip(elsewhere, in_a, strict=True)]


def random_control(profile: SteeringProfile, stage: str, seed: int) -> SteeringProfile:
    """As many experts as ``profile`` turns off, drawn at random (seeded) in the same layers' stage."""
    n = sum(len(s.off) for s in profile.stages[stage].layers.values())
    rng = random.Random(seed)
    layers = len(profile.model.moe_layers)
    picks = rng.sample([(layer, e) for layer in range(layers) for e in range(profile.model.experts_per_layer)], n)
    steering = {
        layer: LayerSteering(off=sorted(e for lay, e in picks if lay == layer))
        for layer in sorted({lay for lay, _ in picks})
    }
    return profile.model_copy(
        update={
            "name": f"random-{n}-off",
            "description": "control",
            "stages": {stage: StageSteering(layers=steering)},
        }
    )


def _row(label: str, m: Measure, behaviour: Behaviour) -> str:
    what = f"{m.parts_of_role} | " if behaviour.roles else ""
    return f"| {label} | {m.erc_pass:.0%} | {m.f1:.3f} | {what}{m.findings} | {m.changed}/{m.prompts} |"


def note(behaviour: Behaviour, profile: SteeringProfile, rows: dict[str, Measure], ranked: str) -> str:
    experts = ", ".join(
        f"layer {layer}: {', '.join(map(str, s.off))}" for layer, s in profile.stages[behaviour.stage].layers.items()
    )
    role_col = f" {', '.join(sorted(behaviour.roles))} parts |" if behaviour.roles else ""
    lines = [
        f"Turns off the experts most tied to **{behaviour.title}** in the `{behaviour.stage}` stage ({experts}).",
        "",
        f"Measured on the {rows['baseline'].prompts} benchmark prompts where the reference designer uses "
        f"{behaviour.title}:",
        "",
        f"| run | ERC pass | part F1 |{role_col} findings ({', '.join(sorted(behaviour.rules))}) | designs changed |",
        "|---|---|---|" + ("---|" if behaviour.roles else "") + "---|---|",
        *(_row(label, m, behaviour) for label, m in rows.items()),
        "",
        f"Found with `{METHOD}` attribution: the routing of the tokens that write {behaviour.title} in up to "
        f"{ATTRIBUTION_ROWS} held-out {behaviour.stage} examples (A) against the tokens that write the rest of "
        f"those answers and of up to {ATTRIBUTION_ROWS} examples without it (B):",
        "",
        "```",
        ranked,
        "```",
    ]
    return "\n".join(lines) + "\n"


def describe(behaviour: Behaviour, measures: dict[str, Measure]) -> str:
    """The profile's one-paragraph description: the measured effect beside the random control's."""
    before, after, control = measures["baseline"], measures["steered"], measures["random control"]
    roles = ", ".join(sorted(behaviour.roles))

    def effect(m: Measure) -> str:
        parts = f", {roles} parts {m.parts_of_role}" if behaviour.roles else ""
        return f"ERC pass {m.erc_pass:.0%}{parts}, findings {m.findings}"

    title = behaviour.title[0].upper() + behaviour.title[1:]
    return (
        f"{title}: its experts off in {behaviour.stage}. On the {before.prompts} benchmark prompts that need it: "
        f"{effect(before)} unsteered; {effect(after)} steered; {effect(control)} with as many random experts off."
    )


def run(
    model: str,
    corpus: Path,
    prompts_file: Path,
    out: Path,
    *,
    n: int = EXPERTS_OFF,
    seed: int = 0,
    only: Sequence[str] = (),
    say: Callable[[str], None] = print,
) -> dict[str, dict[str, Measure]]:
    from agents.orchestrator import Pipeline
    from components_db import KnowledgeBase
    from studio.model.corpus import read_jsonl
    from studio.models import open_engine

    kb = KnowledgeBase.open()
    engine, settings = open_engine(model)
    pipeline = Pipeline(engine, kb, settings)
    rows = [r for r in read_jsonl(corpus) if r.get("split") == "heldout"] or list(read_jsonl(corpus))
    benchmark = [p for p in load_benchmark(prompts_file) if p.in_kb]
    taught = {p.id: teacher_rows(p, kb) for p in benchmark}
    baseline: dict[str, Outcome] = {}
    out.mkdir(parents=True, exist_ok=True)
    tables = {}
    for behaviour in BEHAVIOURS:
        if only and behaviour.name not in only:
            continue
        shows, contrast = corpus_sets(rows, behaviour, seed)
        counts = count_marked(engine, attribution_sequences(engine.tokenizer, behaviour, shows, contrast))
        result = score_sets(counts, METHOD, engine.info.identity())
        profile = suggest_profile(result, n, "off", stage=behaviour.stage)
        profile = profile.model_copy(update={"name": behaviour.name})
        chosen = [
            p for p in benchmark if behaviour.stage in taught[p.id] and behaviour.shows(taught[p.id][behaviour.stage])
        ]
        say(f"{behaviour.name}: {n} experts off in {behaviour.stage}; measuring on {len(chosen)} prompts")
        for p in chosen:
            if p.id not in baseline:
                baseline[p.id] = Outcome.from_report(pipeline.run(p.prompt).report)
        measures = {"baseline": measure(behaviour, chosen, [baseline[p.id] for p in chosen], kb)}
        for label, steering in (
            ("steered", profile),
            ("random control", random_control(profile, behaviour.stage, seed)),
        ):
            outcomes = [Outcome.from_report(pipeline.run(p.prompt, profile=steering).report) for p in chosen]
            m = measure(behaviour, chosen, outcomes, kb)
            m.changed = sum(
                _design_key(o) != _design_key(baseline[p.id]) for p, o in zip(chosen, outcomes, strict=True)
            )
            measures[label] = m
            say(f"  {label}: {m.model_dump()}")
        text = note(behaviour, profile, measures, result.format_table(8))
        profile.model_copy(update={"description": describe(behaviour, measures)}).save(out / f"{behaviour.name}.json")
        (out / f"{behaviour.name}.md").write_text(text, encoding="utf-8")
        tables[behaviour.name] = measures
    engine.close()
    return tables


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model folder or hub id (default: the bundled model)")
    parser.add_argument("--corpus", type=Path, required=True, help="corpus JSONL (its held-out rows are used)")
    parser.add_argument("--prompts", type=Path, default=Path("benchmarks/prompts/dev.jsonl"))
    parser.add_argument("--out", type=Path, default=Path("studio/model/profiles"))
    parser.add_argument(
        "--experts", type=int, default=EXPERTS_OFF, help=f"experts turned off per profile (default {EXPERTS_OFF})"
    )
    parser.add_argument("--only", action="append", default=[], help="run only this behaviour (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    tables = run(args.model, args.corpus, args.prompts, args.out, n=args.experts, seed=args.seed, only=args.only)
    json.dump({k: {label: m.model_dump() for label, m in v.items()} for k, v in tables.items()}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
