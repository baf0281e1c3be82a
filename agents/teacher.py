"""What each LLM stage should answer for a request, written by the reference designer: the teacher of
the bundled model's training corpus and the yardstick of the evaluation.

Given a request and the parts it is about, the reference designer wires them; its bill (requested
and supporting parts, in its order) is the identify answer, the refs the pinouts stage gives that
bill name everything after it, its reasoning is the plan, its design the synthesis answer. Every
prompt is built by the same functions the pipeline calls, so the corpus and the product cannot drift.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel

from agents.identify import Candidate, IdentifyInput, answer_text, identify_prompt, role_text
from agents.parts_list import PartRequest, PartsList, role_of
from agents.pinouts import PinoutsOutput, PromptStyle, lookup_pinouts
from agents.prompting import LlmStage
from agents.reason import reason_input, reason_prompt
from agents.reference.builder import ReferenceDesignError
from agents.reference.designer import ReferenceResult, design_from_parts
from agents.reference.explain import plan_text
from agents.synthesize import GrammarBounds, SynthesizeInput, grammar_for, synthesize_prompt
from studio.circuit.design import Design, DesignPart, Net
from studio.circuit.resolve import PartLookup

# the role of a part the designer added, by the first words of why it was added
ADDED_ROLES = (
    ("pull-up", "pull-up"),
    ("limits", "series resistor"),
    ("series resistor", "series resistor"),
    ("flyback", "flyback diode"),
    ("supplies", "supply"),
    ("decouples", "decoupling"),
    ("gate resistor", "gate resistor"),
    ("holds", "gate pull-down"),
    ("low-side switch", "low-side switch"),
    ("top of the", "divider"),
    ("bottom of the", "divider"),
    ("lower leg", "divider"),
    ("shifts logic", "level shifter"),
)


class StageExample(BaseModel):
    stage: LlmStage
    prompt: str
    answer: str


class TeacherExample(BaseModel):
    request: str
    parts: PartsList  # the identify answer
    design: Design  # the synthesis answer, with the pipeline's refs
    plan: str
    stages: list[StageExample]


def teach(
    request: str,
    core: PartsList,
    candidates: list[Candidate],
    kb: PartLookup,
    *,
    style: PromptStyle = "compact",
) -> TeacherExample:
    """The three stage examples for ``request`` about the ``core`` parts (raises ``ReferenceDesignError``
    when nothing in ``core`` can be wired). ``core.unknown`` passes through to the identify answer."""
    result = design_from_parts(core, kb)
    parts = bill_of(result, core, kb)
    pinouts = lookup_pinouts(parts, kb)
    design, added, notes = _renamed(result, pinouts)
    plan = plan_text(design, added, notes, kb)
    reason = reason_input(request, pinouts, style)
    synthesize = SynthesizeInput(request=request, parts=reason.parts, plan=plan)
    grammar = grammar_for(pinouts, GrammarBounds())
    answer = design_answer(design)
    if not answer.startswith(grammar.prefix):
        raise ReferenceDesignError(f"the reference design's parts differ from its bill: {answer[:120]}")
    return TeacherExample(
        request=request,
        parts=parts,
        design=design,
        plan=plan,
        stages=[
            StageExample(
                stage="identify",
                prompt=identify_prompt(IdentifyInput(request=request, candidates=candidates)),
                answer=answer_text(parts),
            ),
            StageExample(stage="reason", prompt=reason_prompt(reason), answer=plan),
            StageExample(
                stage="synthesize",
                prompt=synthesize_prompt(synthesize, grammar),
                answer=answer.removeprefix(grammar.prefix),
            ),
        ],
    )


def bill_of(result: ReferenceResult, core: PartsList, kb: PartLookup) -> PartsList:
    """The reference design's parts grouped by (id, value) in order of first use, with roles."""
    roles = {r.part: r.role for r in core.parts if r.role}
    added = {text.split(" ", 1)[0]: text.split("): ", 1)[-1] for text in result.added}
    groups: dict[tuple[str, str | None], PartRequest] = {}
    for dp in result.design.parts:
        key = (dp.part, dp.value)
        if key in groups:
            groups[key] = groups[key].model_copy(update={"quantity": groups[key].quantity + 1})
            continue
        part = kb.get(dp.part)
        role = roles.get(dp.part) or _added_role(added.get(dp.ref)) or role_of(part, by_kind=False)
        groups[key] = PartRequest(part=dp.part, quantity=1, role=role_text(role), value=dp.value)
    return PartsList(parts=list(groups.values()), unknown=list(core.unknown))


def _added_role(why: str | None) -> str | None:
    if why is None:
        return None
    return next((role for start, role in ADDED_ROLES if why.lower().startswith(start) or start in why[:24]), None)


def _renamed(result: ReferenceResult, pinouts: PinoutsOutput) -> tuple[Design, list[str], list[str]]:
    """The reference design with the refs the pinouts stage gave its bill (matched by id and value, in
    order), and its explanations with the same renaming."""
    free: dict[tuple[str, str | None], list[str]] = {}
    for line in pinouts.bill:
        free.setdefault((line.part, line.value), []).append(line.ref)
    mapping = {dp.ref: free[(dp.part, dp.value)].pop(0) for dp in result.design.parts}
    refs = "|".join(sorted(map(re.escape, mapping), key=len, reverse=True))
    pattern = re.compile(rf"(?<![A-Za-z0-9])({refs})(?![0-9])")

    def rename(text: str) -> str:
        return pattern.sub(lambda m: mapping[m[1]], text)

    design = Design(
        parts=[DesignPart(ref=mapping[p.ref], part=p.part, value=p.value) for p in result.design.parts],
        nets=[Net(name=rename(n.name), pins=[rename(pin) for pin in n.pins]) for n in result.design.nets],
    )
    order = {line.ref: i for i, line in enumerate(pinouts.bill)}
    design = design.model_copy(update={"parts": sorted(design.parts, key=lambda p: order[p.ref])})
    return design, [rename(t) for t in result.added], [rename(t) for t in result.notes]


def design_answer(design: Design) -> str:
    """A design written exactly as the synthesis grammar admits it."""
    parts = [
        {"ref": p.ref, "part": p.part, **({"value": p.value} if p.value is not None else {})} for p in design.parts
    ]
    nets = [{"name": n.name, "pins": list(n.pins)} for n in design.nets]
    return json.dumps({"parts": parts, "nets": nets}, separators=(",", ":"), ensure_ascii=True)
