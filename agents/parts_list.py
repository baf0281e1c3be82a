"""The part list: what the identify stage writes and the reference designer wires.

Small on purpose, because a language model writes it as JSON:
``{"parts": [{"part": "esp32-devkit-v1", "quantity": 1, "role": "controller"}], "unknown": []}``.
Part ids are knowledge-base ids; whether they exist is decided later, against the knowledge base.
``unknown`` holds parts the request asks for that the knowledge base lacks, as the request names them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from components_db.schema import PART_ID_PATTERN, Category, Part, SymbolKind

MAX_QUANTITY = 16
CATEGORY_ROLES = {
    Category.MCU_BOARD: "controller",
    Category.SENSOR: "sensor",
    Category.DISPLAY: "display",
    Category.ACTUATOR: "load",
    Category.DRIVER: "driver",
    Category.COMMUNICATION: "communication",
    Category.POWER: "power",
    Category.PASSIVE: "passive",
    Category.DISCRETE: "discrete",
    Category.IC: "ic",
}


class PartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part: str = Field(pattern=PART_ID_PATTERN, max_length=64)  # knowledge-base id
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    role: str = Field(default="", max_length=80)  # short purpose: "status LED", "fan switch"
    value: str | None = Field(default=None, max_length=24)  # "220", "10k", "100nF" for passives


class PartsList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[PartRequest] = Field(default_factory=list, max_length=64)
    unknown: list[str] = Field(default_factory=list, max_length=8)
    notes: list[str] = Field(default_factory=list, max_length=32)


def role_of(part: Part, *, by_kind: bool = True) -> str:
    """A part's role, fixed by what the part is so that a model can learn it: its category's
    (``CATEGORY_ROLES``), and with ``by_kind`` (the parts a request names) a supply or a regulator for
    power parts, "indicator" for LEDs, "input" for buttons, switches and potentiometers, "sensor" for
    the thermistor and the LDR. The teacher gives a part the reference designer added by itself only
    its category's role (``by_kind=False``): the bundled model's corpus was written so."""
    if by_kind:
        if part.category is Category.POWER:
            return "supply" if part.symbol is SymbolKind.BATTERY else "regulator"
        if part.symbol is SymbolKind.LED or part.id == "led-rgb-cc":
            return "indicator"
        if part.symbol in (SymbolKind.BUTTON, SymbolKind.SWITCH) or part.id == "potentiometer":
            return "input"
        if part.id in ("thermistor-ntc-10k", "ldr-gl5528"):
            return "sensor"
    return CATEGORY_ROLES[part.category]
