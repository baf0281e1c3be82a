"""Stage 3, reason: the electronics-expert plan, in words, citing real pins as ``REF.PIN``.

Free text from the language model (bounded by a token budget and a wall-clock limit), streamed to
the user as it is written. It is the bridge between parts and wiring: the synthesis stage reads it,
so steering this stage's experts changes the design through the plan.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agents.pinouts import PinoutsOutput, PromptStyle, parts_block
from agents.prompting import render

MAX_PLAN_CHARS = 4000


class ReasonInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    request: str
    parts: str  # the bill as ``parts_block`` shows it


class Plan(BaseModel):
    text: str


def reason_input(request: str, pinouts: PinoutsOutput, style: PromptStyle) -> ReasonInput:
    return ReasonInput(request=request, parts=parts_block(pinouts, style))


def reason_prompt(given: ReasonInput) -> str:
    return render("reason", request=given.request, parts=given.parts)


def plan_from_text(text: str) -> Plan:
    """The plan as written, trimmed; bounded so a runaway model cannot flood the synthesis prompt."""
    return Plan(text=text.strip()[:MAX_PLAN_CHARS])
