"""Stage 4, synthesize: the design JSON, decoded under a grammar built from the bill of parts.

The parts list is fixed by the earlier stages (refs, ids, values), so the prompt ends with it, written
out, and the model writes only the nets, under a grammar (``agents.grammar``) that admits only those
refs' real pins; so whatever the model (or a steering profile) prefers, the answer parses and every
reference exists by construction.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agents.grammar import DesignGrammar, design_grammar
from agents.pinouts import PinoutsOutput
from agents.prompting import render
from studio.circuit.design import Design
from studio.erc.nodes import working_groups


class SynthesizeInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    request: str
    parts: str  # the bill as ``parts_block`` shows it
    plan: str


class GrammarBounds(BaseModel):
    """How large a design the grammar admits; the token budget follows from it."""

    model_config = ConfigDict(frozen=True)

    max_nets: int = 24
    max_pins_per_net: int = 10
    max_net_name: int = 16


def synthesize_prompt(given: SynthesizeInput, grammar: DesignGrammar) -> str:
    """The prompt, ending with the design's fixed parts list (``grammar.prefix``)."""
    return render("synthesize", request=given.request, parts=given.parts, plan=given.plan) + grammar.prefix


def grammar_for(
    pinouts: PinoutsOutput, bounds: GrammarBounds, kept: tuple[str, ...] = (), *, working: bool = True
) -> DesignGrammar:
    """The design grammar over the bill; ``kept`` nets (a followed plan's, a repair round's) are written
    before the answer. With ``working`` every part's supply, ground and required pins must be placed
    (``DesignGrammar.required_groups``)."""
    parts = [(line.ref, pinouts.part_of(line)) for line in pinouts.bill]
    values = {line.ref: line.value for line in pinouts.bill if line.value is not None}
    grammar = design_grammar(
        parts,
        values=values,
        max_nets=bounds.max_nets,
        max_pins_per_net=bounds.max_pins_per_net,
        max_net_name=bounds.max_net_name,
        parts_in_prompt=True,
        written_nets=kept,
    )
    if not working:
        return grammar
    groups = tuple(tuple(f"{ref}.{pin.name}" for pin in group) for ref, part in parts for group in working_groups(part))
    return grammar.model_copy(update={"required_groups": groups})


def design_from_text(answer: str, grammar: DesignGrammar, title: str | None) -> Design:
    """The design of a complete answer (the grammar guarantees it parses), titled."""
    design = Design.from_json(grammar.prefix + answer)
    return design.model_copy(update={"title": title})
