"""The part list: what the identify stage writes and the reference designer wires.

Small on purpose, because a language model writes it as JSON:
``{"parts": [{"part": "esp32-devkit-v1", "quantity": 1, "role": "controller"}], "unknown": []}``.
Part ids are knowledge-base ids; whether they exist is decided later, against the knowledge base.
``unknown`` holds parts the request asks for that the knowledge base lacks, as the request names them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from components_db.schema import PART_ID_PATTERN

MAX_QUANTITY = 16


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
