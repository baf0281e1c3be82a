"""Repair-round rows: a teacher's design broken the way a model breaks designs, checked, and the repair
round's prompt (built by the functions the orchestrator's ``_repair`` calls) answered with the teacher's
nets the round re-decodes.

A break counts only when the round's plan covers it: every net it keeps is one of the teacher's, so the
kept nets plus the answer are the teacher's design, and the teacher's nets respect the plan's forbidden
pairs and place its required pins."""

from __future__ import annotations

import random
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from agents.bundled_model.corpus.bounds import BUNDLED_BOUNDS
from agents.checks import CheckReport, check_design
from agents.grammar import DesignGrammar, net_text
from agents.pinouts import PinoutsOutput, PromptStyle, lookup_pinouts
from agents.reason import reason_input
from agents.repair import RepairInput, RepairPlan, needs_repair, repair_plan, repair_prompt, serious
from agents.synthesize import GrammarBounds, SynthesizeInput, grammar_for
from agents.teacher import StageExample, TeacherExample
from components_db.schema import Pin
from studio.circuit.design import Design, DesignError, Net
from studio.circuit.resolve import PartLookup, resolve

SIGNAL_TYPES = frozenset({"input", "output", "bidirectional", "open_collector", "tri_state"})
RAIL_ROLES = frozenset({"GROUND", "POWER_OUT", "POWER_IN"})
OUTPUT_TYPES = frozenset({"output", "bidirectional", "tri_state"})

TRIES = 3  # breaks of one kind tried on a design before giving up on it
Pins = dict[str, Pin]  # "REF.PIN" -> its pin


def pins_of(design: Design, kb: PartLookup) -> Pins:
    found: Pins = {}
    for dp in design.parts:
        part = kb.get(dp.part)
        for pin in part.pins if part is not None else ():
            found[f"{dp.ref}.{pin.name}"] = pin
    return found


def _roles(pin: Pin) -> set[str]:
    return {str(r) for r in pin.roles}


def _is_rail(net: Net, pins: Pins) -> bool:
    return any(p in pins and (pins[p].type == "power_out" or "GROUND" in _roles(pins[p])) for p in net.pins)


def _is_signal(ref: str, pins: Pins) -> bool:
    pin = pins.get(ref)
    return pin is not None and pin.type in SIGNAL_TYPES and not RAIL_ROLES & _roles(pin)


def _with(design: Design, nets: list[Net]) -> Design:
    return design.model_copy(update={"nets": [n for n in nets if n.pins]})


def _copy(design: Design) -> list[Net]:
    return [Net(name=n.name, pins=list(n.pins)) for n in design.nets]


def signal_on_rail(design: Design, pins: Pins, rng: random.Random) -> Design | None:
    """A signal pin moved from its net onto a supply or ground net."""
    nets = _copy(design)
    rails = [n for n in nets if _is_rail(n, pins)]
    moves = [(n, p) for n in nets if not _is_rail(n, pins) for p in n.pins if _is_signal(p, pins)]
    if not rails or not moves:
        return None
    net, pin = rng.choice(moves)
    net.pins.remove(pin)
    rng.choice(rails).pins.append(pin)
    return _with(design, nets)


def gpio_on_two_nets(design: Design, pins: Pins, rng: random.Random) -> Design | None:
    """A GPIO also written into a second net."""
    nets = _copy(design)
    choices = [
        (n, p, other)
        for n in nets
        for p in n.pins
        if p in pins and "GPIO" in _roles(pins[p])
        for other in nets
        if other is not n
    ]
    if not choices:
        return None
    _, pin, other = rng.choice(choices)
    other.pins.append(pin)
    return _with(design, nets)


def drop_required_pin(design: Design, pins: Pins, rng: random.Random) -> Design | None:
    """A part's supply or ground pin (a sensor's VCC or GND) left out of its net."""
    nets = _copy(design)
    choices = [
        (n, p)
        for n in nets
        for p in n.pins
        if p in pins and pins[p].type == "power_in" and {"POWER_IN", "GROUND"} & _roles(pins[p])
    ]
    if not choices:
        return None
    net, pin = rng.choice(choices)
    net.pins.remove(pin)
    return _with(design, nets)


def swap_i2c(design: Design, pins: Pins, rng: random.Random) -> Design | None:
    """One device's SDA and SCL swapped between their nets."""
    nets = _copy(design)
    where = {p: n for n in nets for p in n.pins}
    devices = sorted(
        {
            p.split(".", 1)[0]
            for p in where
            if p in pins and "I2C_SDA" in _roles(pins[p]) and pins[p].type != "bidirectional"
        }
    )
    swaps = []
    for ref in devices:
        sda = next((p for p in where if p.startswith(ref + ".") and "I2C_SDA" in _roles(pins[p])), None)
        scl = next((p for p in where if p.startswith(ref + ".") and "I2C_SCL" in _roles(pins[p])), None)
        if sda and scl and where[sda] is not where[scl]:
            swaps.append((sda, scl))
    if not swaps:
        return None
    sda, scl = rng.choice(swaps)
    a, b = where[sda], where[scl]
    a.pins[a.pins.index(sda)] = scl
    b.pins[b.pins.index(scl)] = sda
    return _with(design, nets)


def join_outputs(design: Design, pins: Pins, rng: random.Random) -> Design | None:
    """Two nets that each hold a driving output merged into one (two outputs joined)."""
    nets = _copy(design)
    driven = [
        n for n in nets if not _is_rail(n, pins) and any(p in pins and pins[p].type in OUTPUT_TYPES for p in n.pins)
    ]
    if len(driven) < 2:
        return None
    a, b = rng.sample(driven, 2)
    a.pins.extend(b.pins)
    return _with(design, [n for n in nets if n is not b])


def merge_nets(design: Design, pins: Pins, rng: random.Random) -> Design | None:
    """Two nets merged into one (a rail with a signal net, or two rails)."""
    nets = _copy(design)
    if len(nets) < 2:
        return None
    rails = [n for n in nets if _is_rail(n, pins)]
    if not rails:
        return None
    a = rng.choice(rails)
    b = rng.choice([n for n in nets if n is not a])
    a.pins.extend(b.pins)
    return _with(design, [n for n in nets if n is not b])


BREAKS: dict[str, Callable[[Design, Pins, random.Random], Design | None]] = {
    "signal-on-rail": signal_on_rail,
    "gpio-on-two-nets": gpio_on_two_nets,
    "drop-required-pin": drop_required_pin,
    "swap-i2c": swap_i2c,
    "join-outputs": join_outputs,
    "merge-nets": merge_nets,
}


def break_design(design: Design, kind: str, kb: PartLookup, rng: random.Random) -> Design | None:
    """``design`` broken the ``kind`` way so that the check finds it (a fatal or major finding), or None
    when it has nothing to break that way (a few tries)."""
    pins = pins_of(design, kb)
    for _ in range(TRIES):
        try:
            broken = BREAKS[kind](design, pins, rng)
        except DesignError:
            continue
        if broken is None:
            return None
        if serious(check_broken(broken, kb)):
            return broken
    return None


def check_broken(design: Design, kb: PartLookup) -> CheckReport:
    """The pipeline's check of a design, without SPICE and without a request's reading."""
    return check_design(resolve(design, kb), run_spice=False, reading=None)


class RepairCase(BaseModel):
    """A broken design's repair round: what the orchestrator would prompt and the teacher's answer."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    kind: str
    broken: Design
    plan: RepairPlan
    given: RepairInput
    grammar: DesignGrammar
    prompt: str
    answer: str


def repair_round(
    synth_in: SynthesizeInput,
    pinouts: PinoutsOutput,
    design: Design,
    check: CheckReport,
    bounds: GrammarBounds = BUNDLED_BOUNDS,
    number: int = 1,
) -> tuple[RepairPlan, RepairInput, DesignGrammar] | None:
    """The repair round the orchestrator runs on ``design`` (its ``_repair``), or None when it runs none."""
    plan = repair_plan(design, check) if needs_repair(check) else None
    if plan is None:
        return None
    given = RepairInput(
        request=synth_in.request,
        parts=synth_in.parts,
        plan=synth_in.plan,
        findings="\n".join(plan.findings),
        kept=plan.kept,
        forbidden_pairs=plan.forbidden_pairs,
        required_pins=plan.required_pins,
        round=number,
    )
    grammar = grammar_for(pinouts, bounds, plan.kept, working=True).model_copy(
        update={"forbidden_pairs": plan.forbidden_pairs, "required_pins": plan.required_pins}
    )
    return plan, given, grammar


def repair_answer(teacher: Design, kept: tuple[str, ...]) -> str | None:
    """The teacher's nets not in ``kept``, as the grammar continues its prefix; None when a kept net is
    not one of the teacher's (the plan does not cover the break)."""
    nets = [net_text(n.name, n.pins) for n in teacher.nets]
    if not set(kept) <= set(nets):
        return None
    rest = [n for n in nets if n not in kept]
    return ("," if kept and rest else "") + ",".join(rest) + "]}"


def admitted(teacher: Design, grammar: DesignGrammar, answer: str) -> bool:
    """The decoder's repair exclusions and bounds hold for the teacher's answer."""
    nets = {n.name: set(n.pins) for n in teacher.nets}
    if len(nets) > grammar.max_nets:
        return False
    wired = set().union(*nets.values()) if nets else set()
    if not set(grammar.required_pins) <= wired:
        return False
    if any(a in pins and b in pins for a, b in grammar.forbidden_pairs for pins in nets.values()):
        return False
    return answer.endswith("]}")


def repair_case(
    example: TeacherExample,
    kind: str,
    kb: PartLookup,
    rng: random.Random,
    *,
    bounds: GrammarBounds = BUNDLED_BOUNDS,
    style: PromptStyle = "compact",
) -> RepairCase | None:
    """``example``'s design broken the ``kind`` way and the round that repairs it, or None when the break
    does not apply, the check finds nothing serious, or the round's plan does not cover it."""
    broken = break_design(example.design, kind, kb, rng)
    if broken is None:
        return None
    check = check_broken(broken, kb)
    pinouts = lookup_pinouts(example.parts, kb)
    synth_in = SynthesizeInput(
        request=example.request, parts=reason_input(example.request, pinouts, style).parts, plan=example.plan
    )
    found = repair_round(synth_in, pinouts, broken, check, bounds)
    if found is None or check.erc.passed:
        return None
    plan, given, grammar = found
    answer = repair_answer(example.design, plan.kept)
    if answer is None or not admitted(example.design, grammar, answer):
        return None
    return RepairCase(
        kind=kind,
        broken=broken,
        plan=plan,
        given=given,
        grammar=grammar,
        prompt=repair_prompt(given, grammar.prefix),
        answer=answer,
    )


def repair_example(example: TeacherExample, kb: PartLookup, rng: random.Random) -> tuple[str, StageExample] | None:
    """One repair row for ``example``: the break kinds in a random order, the first whose round covers it."""
    kinds = list(BREAKS)
    rng.shuffle(kinds)
    for kind in kinds:
        case = repair_case(example, kind, kb, rng)
        if case is not None:
            return kind, StageExample(stage="repair", prompt=case.prompt, answer=case.answer)
    return None
