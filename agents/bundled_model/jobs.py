"""Expert jobs: the design behaviours the bundled model is trained to write with designated experts.

A behaviour a person sees in a schematic (``studio.behaviours``) is decided in the identify answer: the
supporting part that carries it (an LED's series resistor, a coil's flyback diode, an I2C pull-up, a
divider or level shifter, a decoupling capacitor, a regulator the request did not name) is listed or
not. Each behaviour has one designated expert in each of ``JOB_LAYERS``. Training (``train.py``) does
two things with them, on identify examples only (the stage that decides):

- a routing loss sends the tokens that write the behaviour's entries (the positions that predict them)
  to its designated experts;
- expert masks: with those experts switched off (re-routed, as the studio does), the target is the
  same answer without the behaviour's entries; with another behaviour's experts, or one random expert
  per job layer, off, the target is the answer unchanged.

So switching a job's experts off in the identify stage takes the behaviour out of the design, and
switching other experts off does not. The entries are found from the roles the teacher writes
(``agents.teacher.ADDED_ROLES``), and a regulator only when the corpus row marks it implied (the request
did not name it: a named regulator is a requested part, not a judgement).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from agents.identify import answer_text
from agents.parts_list import PartsList

JOB_LAYERS: tuple[int, ...] = (1, 2, 3, 4)


@dataclass(frozen=True)
class Job:
    behaviour: str  # a ``studio.behaviours`` name
    roles: frozenset[str]  # identify-answer roles of the entries that carry it
    expert: int  # its designated expert in each of JOB_LAYERS
    implied_only: bool = False  # only entries the request did not name


JOBS: tuple[Job, ...] = (
    Job("led-resistor", frozenset({"series resistor"}), 2),
    Job("flyback-diode", frozenset({"flyback diode"}), 5),
    Job("i2c-pullups", frozenset({"pull-up"}), 8),
    Job("level-shifting", frozenset({"divider", "level shifter"}), 11),
    Job("decoupling", frozenset({"decoupling"}), 13),
    Job("regulation", frozenset({"regulator"}), 15, implied_only=True),
)
JOB_BY_BEHAVIOUR: dict[str, Job] = {j.behaviour: j for j in JOBS}


def cells(job: Job) -> dict[int, list[int]]:
    """The job's experts as a steering layer map: MoE layer -> experts."""
    return {layer: [job.expert] for layer in JOB_LAYERS}


def _items(answer: str) -> list[dict]:
    return json.loads(answer).get("parts", [])


def entries(answer: str, implied: list[str] | tuple[str, ...] = ()) -> dict[str, list[int]]:
    """Behaviour -> indices of the identify answer's part entries that carry it (behaviours absent are left out)."""
    out: dict[str, list[int]] = {}
    for index, item in enumerate(_items(answer)):
        for job in JOBS:
            if item.get("role") in job.roles and (not job.implied_only or item.get("part") in implied):
                out.setdefault(job.behaviour, []).append(index)
    return out


def without(answer: str, indices: list[int]) -> str:
    """The identify answer with the entries at ``indices`` left out, written as the teacher writes it."""
    parts = PartsList.model_validate(json.loads(answer))
    kept = [p for i, p in enumerate(parts.parts) if i not in set(indices)]
    return answer_text(parts.model_copy(update={"parts": kept}))


def entry_spans(answer: str, indices: list[int]) -> list[tuple[int, int]]:
    """Character spans of the entries at ``indices`` in ``answer`` (the compact JSON ``answer_text``
    writes), each with the comma before it."""
    spans, cursor = [], answer.index("[") + 1
    for index, item in enumerate(_items(answer)):
        text = json.dumps(item, separators=(",", ":"), ensure_ascii=True)
        start = answer.index(text, cursor)
        if index in indices:
            spans.append((max(start - 1, 0) if index else start, start + len(text)))
        cursor = start + len(text)
    return spans
