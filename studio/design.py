"""The Design: the small JSON a synthesis agent writes (DESIGN.md, "Data contracts").

A design names parts by knowledge-base id and wires them with nets of ``REF.PIN`` references.
These models check the shape only (syntax, duplicate refs, safe values); whether a part or pin
exists is decided against the knowledge base by ``studio.resolve``.
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from components_db.schema import PART_ID_PATTERN
from studio.values import parse_value

REF_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,15}$"
NET_NAME_PATTERN = r"^[A-Za-z0-9_+\-.~/]{1,40}$"
PIN_REF_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,15}\.[A-Za-z0-9_+\-/#~.]{1,24}$"
MAX_PARTS = 400
MAX_NETS = 1000

Ref = Annotated[str, StringConstraints(pattern=REF_PATTERN)]
PinRefText = Annotated[str, StringConstraints(pattern=PIN_REF_PATTERN)]


class DesignError(ValueError):
    """A design that cannot be read; ``problems`` lists every reason, each a plain sentence."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class DesignPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: Ref
    part: str = Field(pattern=PART_ID_PATTERN, max_length=64)
    value: str | None = Field(default=None, max_length=24)

    @field_validator("value")
    @classmethod
    def _value_is_a_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parse_value(value)
        return value.strip()

    @property
    def numeric_value(self) -> float | None:
        return None if self.value is None else parse_value(self.value)


class PinRef(BaseModel):
    """``U1.GPIO2`` split at the first dot."""

    model_config = ConfigDict(frozen=True)

    ref: str
    pin: str

    @classmethod
    def parse(cls, text: str) -> PinRef:
        ref, _, pin = text.partition(".")
        return cls(ref=ref, pin=pin)

    def __str__(self) -> str:
        return f"{self.ref}.{self.pin}"


class Net(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NET_NAME_PATTERN)
    pins: list[PinRefText] = Field(min_length=1, max_length=200)

    @property
    def pin_refs(self) -> list[PinRef]:
        return [PinRef.parse(p) for p in self.pins]


class Design(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200)
    parts: list[DesignPart] = Field(min_length=1, max_length=MAX_PARTS)
    nets: list[Net] = Field(default_factory=list, max_length=MAX_NETS)

    @model_validator(mode="after")
    def _refs_coherent(self) -> Design:
        refs = [p.ref for p in self.parts]
        duplicates = sorted({r for r in refs if refs.count(r) > 1})
        if duplicates:
            raise ValueError(f"duplicate part ref(s): {', '.join(duplicates)}; every part needs its own ref")
        names = [n.name for n in self.nets]
        dup_nets = sorted({n for n in names if names.count(n) > 1})
        if dup_nets:
            raise ValueError(f"duplicate net name(s): {', '.join(dup_nets)}; merge their pins into one net")
        known = set(refs)
        missing = sorted({p.ref for n in self.nets for p in n.pin_refs if p.ref not in known})
        if missing:
            raise ValueError(f"nets use ref(s) not among the parts: {', '.join(missing)}")
        return self

    def part(self, ref: str) -> DesignPart:
        for p in self.parts:
            if p.ref == ref:
                return p
        raise KeyError(ref)

    @classmethod
    def from_json(cls, text: str | bytes) -> Design:
        """Parse and validate; every failure becomes a ``DesignError`` with readable problems."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DesignError([f"not valid JSON: {exc}"]) from None
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: object) -> Design:
        if not isinstance(data, dict):
            raise DesignError(["a design is a JSON object with 'parts' and 'nets'"])
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise DesignError([_describe(err) for err in exc.errors()]) from None


def _describe(err: dict) -> str:
    where = ".".join(str(x) for x in err.get("loc", ())) or "design"
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}"
