"""The Design: the small JSON a synthesis agent writes (DESIGN.md, "Data contracts").

A design names parts by knowledge-base id and wires them with nets of ``REF.PIN`` references.
These models check the shape only (syntax, duplicate refs, safe values); whether a part or pin
exists is decided against the knowledge base by ``studio.circuit.resolve``.

Limits. A design is refused, before any part of it is validated, when it is larger than:

- ``MAX_DESIGN_BYTES`` (200 kB) of JSON,
- ``MAX_PARTS`` (200) parts,
- ``MAX_NETS`` (400) nets,
- ``MAX_PINS_PER_NET`` (200) pins on one net,
- ``MAX_TOTAL_PINS`` (1000) pin references over all nets.

Real designs are far inside them: the pipeline writes at most 40 parts on 24 nets of 10 pins, the
examples have 3-10 parts and at most 25 pin references, and the 30-part benchmark design
(``benchmarks/sample_designs.py``) has 22 nets and 74 pin references in 2.4 kB. What a design at the
limits costs to check and export, and what the refusal of a larger one saves, is measured by
``benchmarks/design_limits.py`` (figures in the README's "Limits"): past the limits the layout and
the exports grow faster than linearly.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from components_db.documents import DocumentError, parse_json
from components_db.refusal import Refusal
from components_db.schema import PART_ID_PATTERN
from studio.circuit.values import parse_value

REF_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,15}$"
NET_NAME_PATTERN = r"^[A-Za-z0-9_+\-.~/]{1,40}$"
PIN_REF_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,15}\.[A-Za-z0-9_+\-/#~.]{1,24}$"
MAX_DESIGN_BYTES = 200_000
MAX_PARTS = 200
MAX_NETS = 400
MAX_PINS_PER_NET = 200
MAX_TOTAL_PINS = 1000
MAX_PROBLEMS = 20  # problems listed in one DesignError; the rest are counted

Ref = Annotated[str, StringConstraints(pattern=REF_PATTERN)]
PinRefText = Annotated[str, StringConstraints(pattern=PIN_REF_PATTERN)]


class DesignError(Refusal, ValueError):
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
    pins: list[PinRefText] = Field(min_length=1)

    @property
    def pin_refs(self) -> list[PinRef]:
        return [PinRef.parse(p) for p in self.pins]


class Design(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200)
    parts: list[DesignPart] = Field(min_length=1)
    nets: list[Net] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _within_limits(cls, data: Any) -> Any:
        """Count before validating anything, so an oversized design is refused at once."""
        if isinstance(data, dict):
            problems = size_problems(data)
            if problems:
                raise ValueError("; ".join(problems))
        return data

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
        """Parse (``components_db.documents.parse_json``: unique keys, finite numbers, bounded nesting) and
        validate; every failure becomes a ``DesignError`` with readable problems."""
        if len(text) > MAX_DESIGN_BYTES:
            raise DesignError([f"the design is larger than {MAX_DESIGN_BYTES // 1000} kB (the limit)"])
        try:
            data = parse_json(text)
        except DocumentError as exc:
            raise DesignError([str(exc)]) from None
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: object) -> Design:
        if not isinstance(data, dict):
            raise DesignError(["a design is a JSON object with 'parts' and 'nets'"])
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise DesignError(listed([_describe(err) for err in exc.errors()])) from None


def size_problems(data: dict) -> list[str]:
    """What makes a design (raw JSON data) larger than the limits, each with its limit."""
    parts, nets = data.get("parts"), data.get("nets")
    nets = nets if isinstance(nets, list) else []
    pins = [len(n["pins"]) for n in nets if isinstance(n, dict) and isinstance(n.get("pins"), list)]
    counts = [
        (len(parts) if isinstance(parts, list) else 0, MAX_PARTS, "parts"),
        (len(nets), MAX_NETS, "nets"),
        (max(pins, default=0), MAX_PINS_PER_NET, "pins on one net"),
        (sum(pins), MAX_TOTAL_PINS, "pin references in all"),
    ]
    return [f"{count:,} {what}, more than the limit of {limit:,}" for count, limit, what in counts if count > limit]


def listed(problems: list[str]) -> list[str]:
    """At most ``MAX_PROBLEMS`` problems, the rest counted: a broken 1000-net design is one screen, not 55 MB."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS:,} more problems"]


def _describe(err: dict) -> str:
    where = ".".join(str(x) for x in err.get("loc", ())) or "design"
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}"
