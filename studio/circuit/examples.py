"""The example designs shipped with the studio (studio/circuit/examples/*.json), by file stem."""

from __future__ import annotations

from pathlib import Path

from studio.circuit.design import Design

EXAMPLES_DIR = Path(__file__).parent / "examples"


def example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.json"))


def load_example(name: str) -> Design:
    if name not in example_names():
        raise KeyError(f"no example design named {name!r}; known: {', '.join(example_names())}")
    return Design.from_json((EXAMPLES_DIR / f"{name}.json").read_bytes())
