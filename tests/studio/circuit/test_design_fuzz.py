"""Property tests of the design reader (issue 13, "a fuzz and stress suite"): any text, file or JSON
value gives a Design or a DesignError, never another exception; and any design built from real parts
with random pins and values gives an ERC report or a DesignError. Each runs in a few seconds."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agents.checks import read_design
from studio.circuit.design import Design, DesignError
from studio.circuit.resolve import resolve
from studio.erc import run_erc
from studio.erc.findings import Severity
from studio.erc.registry import RULES
from tests.fixtures.catalog import shipped_catalog

CATALOG = shipped_catalog()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)
_values = st.none() | st.sampled_from(["220", "4k7", "100nF", "10 kΩ", "1M", "0", "0.001", "999G", "nan", "1e999", ""])


@st.composite
def designs_of_real_parts(draw) -> dict:
    """Real knowledge-base parts under random refs and values, wired by random real or made-up pins."""
    ids = draw(st.lists(st.sampled_from(sorted(CATALOG)), min_size=1, max_size=8))
    parts = [{"ref": f"X{i}", "part": part_id} for i, part_id in enumerate(ids)]
    for part in parts:
        value = draw(_values)
        if value is not None:
            part["value"] = value
    pins = [f"{p['ref']}.{pin.name}" for p in parts for pin in CATALOG[p["part"]].pins]
    pin = st.sampled_from(pins) | st.builds(
        lambda r, t: f"{r}.{t}", st.sampled_from([p["ref"] for p in parts]), st.text(max_size=6)
    )
    nets = draw(st.lists(st.lists(pin, min_size=1, max_size=6), max_size=8))
    title = draw(st.none() | st.text(max_size=40))
    return {"title": title, "parts": parts, "nets": [{"name": f"N{i}", "pins": p} for i, p in enumerate(nets)]}


def design_or_error(text: str | bytes) -> Design | None:
    with contextlib.suppress(DesignError):
        return Design.from_json(text)
    return None


@FAST
@given(st.text() | st.binary() | _json.map(json.dumps))
def test_any_text_gives_a_design_or_a_design_error(text) -> None:
    design_or_error(text)


@FAST
@given(
    _json.map(lambda parts: {"parts": parts, "nets": []})
    | _json.map(lambda nets: {"parts": [{"ref": "R1", "part": "resistor"}], "nets": nets})
)
def test_any_json_in_a_designs_fields_gives_a_design_or_a_design_error(data) -> None:
    design_or_error(json.dumps(data))


@FAST
@given(st.binary(max_size=2000))
def test_any_file_gives_a_design_or_a_design_error(tmp_path_factory, content: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "design.json"
    path.write_bytes(content)
    with contextlib.suppress(DesignError):
        read_design(path)


@settings(FAST, max_examples=400)
@given(designs_of_real_parts())
def test_any_design_of_real_parts_gives_an_erc_report_or_a_design_error(data: dict) -> None:
    design = design_or_error(json.dumps(data))
    event("valid design" if design is not None else "refused")
    if design is not None:
        report = run_erc(resolve(design, CATALOG))
        refs = {part.ref for part in design.parts}
        assert report.rule_ids() <= set(RULES)  # only registered rules, each naming only the design's parts
        assert all(set(v.refs) <= refs for v in report.violations), report.violations
        assert report.passed == all(v.severity not in (Severity.FATAL, Severity.MAJOR) for v in report.violations)
