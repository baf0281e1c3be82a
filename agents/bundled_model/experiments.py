"""Experts worth toggling: attribution at the decision tokens finds the experts behind a behaviour a
person can see, and writes them as the bundled model's example steering profiles (those experts off
in that stage). What switching them off does is measured elsewhere, by the steering-effect harness
(``circuit-studio experts effect``) on the netlist against matched random controls:

    python -m agents.bundled_model.experiments --corpus corpus.jsonl --out agents/bundled_model/profiles

Set A is the positions whose output is an answer token that writes the behaviour (a parts-list role,
a bus's net line), set B comparable positions that do not; ``studio.moe.attribution`` ranks experts
by the risk difference of their selection frequency, and the top ``n`` go off in that stage only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agents.bundled_model.train import encode_rows
from studio.moe.attribution import Marked, count_marked, score_sets, suggest_profile
from studio.moe.profile import SteeringProfile

ATTRIBUTION_ROWS = 160  # corpus rows per set
METHOD = "risk-diff"
EXPERTS_OFF = 8  # of 96: the count the shipped profiles were found with (chosen, then, on role counts)

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
    measured_by: str  # the studio.behaviours name the harness measures it with
    requests: str  # its request set in benchmarks/prompts/behaviours/


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
    """An identify behaviour's targets: the part entries of ``role`` against the rest."""
    roles = frozenset({role})
    return {"writes": entries(roles, True), "elsewhere": entries(roles, False)}


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
        measured_by="led-resistor",
        requests="led",
    ),
    Behaviour(
        name="no-pull-ups",
        title="pull-up resistors",
        stage="identify",
        shows=lambda r: "pull-up" in _roles(r),
        contrast=lambda r: "pull-up" not in _roles(r),
        **by_role("pull-up"),
        measured_by="i2c-pullups",
        requests="i2c",
    ),
    Behaviour(
        name="no-flyback-diodes",
        title="flyback diodes",
        stage="identify",
        shows=lambda r: "flyback diode" in _roles(r),
        contrast=lambda r: "flyback diode" not in _roles(r),
        **by_role("flyback diode"),
        measured_by="flyback-diode",
        requests="flyback",
    ),
    Behaviour(
        name="no-i2c-wiring",
        title="I2C bus wiring",
        stage="reason",
        shows=lambda r: ".SDA" in r["answer"],
        contrast=lambda r: ".SDA" not in r["answer"] and ".SCL" not in r["answer"],
        writes=net_lines((".SDA", ".SCL"), True),
        elsewhere=net_lines((".SDA", ".SCL"), False),
        measured_by="i2c-wiring",
        requests="i2c",
    ),
)


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


def note(behaviour: Behaviour, profile: SteeringProfile, ranked: str) -> str:
    """How the profile was found: its experts and the attribution table (the harness adds what they do)."""
    experts = ", ".join(
        f"layer {layer}: {', '.join(map(str, s.off))}" for layer, s in profile.stages[behaviour.stage].layers.items()
    )
    command = (
        f"circuit-studio experts effect --profile {profile.name}.json --prompts "
        f"benchmarks/prompts/behaviours/{behaviour.requests}.jsonl --behaviour {behaviour.measured_by} "
        "--utility benchmarks/prompts/behaviours/utility.jsonl --controls 5 --seed 0 --record"
    )
    lines = [
        "## How it was found",
        "",
        f"Turns off the experts most tied to **{behaviour.title}** in the `{behaviour.stage}` stage ({experts}), "
        f"found with `{METHOD}` attribution: the routing of the tokens that write {behaviour.title} in up to "
        f"{ATTRIBUTION_ROWS} held-out {behaviour.stage} examples of the corpus (A) against the tokens that write "
        f"the rest of those answers and of up to {ATTRIBUTION_ROWS} examples without it (B). Its effect is "
        f"measured by `{command}`.",
        "",
        "```",
        ranked,
        "```",
    ]
    return "\n".join(lines) + "\n"


def run(
    model: str | None,
    corpus: Path,
    out: Path,
    *,
    n: int = EXPERTS_OFF,
    seed: int = 0,
    only: Sequence[str] = (),
    say: Callable[[str], None] = print,
) -> dict[str, SteeringProfile]:
    from agents.bundled_model.corpus import read_jsonl
    from agents.model_opening import open_engine

    engine, _ = open_engine(model)
    rows = [r for r in read_jsonl(corpus) if r.get("split") == "heldout"] or list(read_jsonl(corpus))
    out.mkdir(parents=True, exist_ok=True)
    found = {}
    for behaviour in BEHAVIOURS:
        if only and behaviour.name not in only:
            continue
        shows, contrast = corpus_sets(rows, behaviour, seed)
        counts = count_marked(engine, attribution_sequences(engine.tokenizer, behaviour, shows, contrast))
        result = score_sets(counts, METHOD, engine.info.identity())
        profile = suggest_profile(result, n, "off", stage=behaviour.stage).model_copy(
            update={
                "name": behaviour.name,
                "behaviour": behaviour.measured_by,
                "description": f"{behaviour.title}: the {n} experts most tied to it off in {behaviour.stage} "
                "(not yet measured: see the note for the command that measures it).",
            }
        )
        profile.save(out / f"{behaviour.name}.json")
        (out / f"{behaviour.name}.md").write_text(note(behaviour, profile, result.format_table(8)), encoding="utf-8")
        say(f"{behaviour.name}: {n} experts off in {behaviour.stage} -> {out / behaviour.name}.json")
        found[behaviour.name] = profile
    engine.close()
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model folder or hub id (default: the bundled model)")
    parser.add_argument("--corpus", type=Path, required=True, help="corpus JSONL (its held-out rows are used)")
    parser.add_argument("--out", type=Path, default=Path("agents/bundled_model/profiles"))
    parser.add_argument(
        "--experts", type=int, default=EXPERTS_OFF, help=f"experts turned off per profile (default {EXPERTS_OFF})"
    )
    parser.add_argument("--only", action="append", default=[], help="run only this behaviour (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    run(args.model, args.corpus, args.out, n=args.experts, seed=args.seed, only=args.only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
