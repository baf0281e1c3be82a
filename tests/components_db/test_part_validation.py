"""The part validator admits nothing a later reader trips on: finite numbers of datasheet size, SPICE
params the netlister reads in ranges where its arithmetic stays finite, a default value in the value
grammar, and one-line text without control characters (issue 13, failures 1, 4 and 7); any input
mapping gives a Part or a CatalogError, and every Part survives the store."""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from components_db.catalog import CatalogError, parse_parts
from components_db.embeddings import DIM
from components_db.schema import SPICE_PARAMS, Part, SpiceKind
from components_db.store import PartStore
from spice.netlist import build_netlist
from studio.circuit.design import Design
from studio.circuit.resolve import resolve

BASE = {
    "id": "test-part",
    "name": "Test part",
    "category": "sensor",
    "description": "A part for tests.",
    "pins": [
        {"number": "1", "name": "VCC", "type": "power_in", "roles": ["POWER_IN"]},
        {"number": "2", "name": "GND", "type": "power_in", "roles": ["GROUND"]},
    ],
}
PIN = BASE["pins"][0]


def refusal(**changes) -> str:
    with pytest.raises(CatalogError) as caught:
        parse_parts({**BASE, **changes}, "part.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"current_draw_ma": float("inf")}, "current_draw_ma: Input should be a finite number"),
        ({"current_draw_ma": float("nan")}, "current_draw_ma: Input should be a finite number"),
        ({"current_draw_ma": 1e9}, "current_draw_ma: Input should be less than or equal to 100000"),
        ({"current_draw_ma": 5e-324}, "current_draw_ma: 5e-324 is no datasheet number"),
        ({"specs": {"vz_v": float("nan")}}, "specs.vz_v: Input should be a finite number"),
        ({"specs": {"vz_v": float("-inf")}}, "specs.vz_v: Input should be a finite number"),
        ({"specs": {"digits": 10**5000}}, "specs.digits: an integer beyond 1e12 is no datasheet number"),
        ({"spice": {"kind": "module", "params": {"r_coil_ohm": float("inf")}}}, "spice.params.r_coil_ohm: Input"),
        ({"pins": [{**PIN, "max_current_ma": float("nan")}]}, "pins.0.max_current_ma: Input should be a finite"),
        ({"pins": [{**PIN, "max_current_ma": 1e7}]}, "pins.0.max_current_ma: Input should be less than"),
        ({"supply": {"min_v": float("nan"), "max_v": 5}}, "supply.min_v: Input should be a finite number"),
    ],
)
def test_non_finite_and_out_of_range_numbers_are_refused_naming_the_field(changes, field):
    assert f"part.yaml: part test-part: field {field}" in refusal(**changes)


@pytest.mark.parametrize("value", ["1\n0k", "nan", "inf", "", "1e3", "10k; shell rm", "4k7\x1b"])
def test_a_default_value_outside_the_value_grammar_is_refused(value):
    assert "field default_value: value" in refusal(default_value=value) or "value is empty" in refusal(
        default_value=value
    )


def test_a_default_value_in_the_value_grammar_is_kept(catalog_parts):
    assert parse_parts({**BASE, "default_value": "4k7"}, "part.yaml")[0].default_value == "4k7"
    assert {p.default_value for p in catalog_parts if p.default_value} >= {"10k", "100nF", "16MHz"}


@pytest.mark.parametrize(
    ("spice", "reason"),
    [
        ({"kind": "led", "params": {"vf_v": 1000}}, "spice.params: vf_v = 1000 is outside 1..10 for a led"),
        ({"kind": "led", "params": {"vf": 2}}, "'vf' is not a parameter of a led (it reads vf_v, if_ma"),
        ({"kind": "switching_regulator", "params": {"efficiency": 0}}, "efficiency = 0 is outside 0.01..1"),
        ({"kind": "opamp", "params": {"gbw_hz": 0}}, "gbw_hz = 0 is outside 1..1e+10 for a opamp"),
        ({"kind": "resistor", "params": {"r": 1}}, "'r' is not a parameter of a resistor (it reads no params)"),
    ],
)
def test_spice_params_are_the_ones_read_and_in_their_range(spice, reason):
    assert reason in refusal(spice=spice)


def test_every_spice_kind_has_its_params_listed():
    assert set(SPICE_PARAMS) == set(get_args(SpiceKind))


class OnePart:
    def __init__(self, part: Part) -> None:
        self.part = part

    def get(self, part_id: str) -> Part | None:
        return self.part if part_id == self.part.id else None


def netlist_of(part: Part):
    """The part alone in a design, each pin on a net of its own, through the real netlister."""
    nets = [{"name": f"N{i}", "pins": [f"X1.{pin.name}"]} for i, pin in enumerate(part.pins)]
    design = Design.model_validate({"parts": [{"ref": "X1", "part": part.id}], "nets": nets})
    return build_netlist(resolve(design, OnePart(part)))


def with_params(part: Part, params: dict[str, float]) -> Part:
    entry = part.model_dump(mode="json", exclude_defaults=True)
    entry["spice"]["params"] = {**entry["spice"].get("params", {}), **params}
    return Part.model_validate(entry)


def test_an_led_at_any_corner_of_its_ranges_builds_a_netlist(catalog_parts):
    """An LED with vf_v 1000 gave OverflowError in check and export; inside the ranges no corner does."""
    led = next(p for p in catalog_parts if p.spice and p.spice.kind == "led")
    ranges = SPICE_PARAMS["led"]
    built = 0
    for corner in itertools.product(*ranges.values()):
        try:
            part = with_params(led, dict(zip(ranges, corner, strict=True)))
        except ValidationError as exc:  # a power LED's current through rs eating its forward voltage
            assert "below vf_v" in str(exc)
            continue
        assert netlist_of(part).cards
        built += 1
    assert built >= len(list(itertools.product(*ranges.values()))) // 2


def test_every_shipped_spice_part_builds_a_netlist_with_each_param_at_its_bounds(catalog_parts):
    for part in (p for p in catalog_parts if p.spice):
        for name, bounds in SPICE_PARAMS[part.spice.kind].items():
            for bound in bounds:
                try:
                    bounded = with_params(part, {name: bound})
                except ValidationError as exc:
                    assert "below vf_v" in str(exc)
                    continue
                netlist_of(bounded)  # raises on a math or number error


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Evil \x1b[2J part"}, "name"),
        ({"aliases": ["ok", "bell\x07"]}, "aliases.1"),
        ({"tags": ["tab\there"]}, "tags.0"),
        ({"manufacturer": "\u202eevil"}, "manufacturer"),
        ({"datasheet": "line\nbreak"}, "datasheet"),
        ({"description": "carriage\rreturn"}, "description"),
        ({"pins": [{**PIN, "description": "a\x00b"}]}, "pins.0.description"),
        ({"usage": {"notes": ["two\nlines"]}}, "usage.notes.0"),
        ({"specs": {"color": "red\x1b[0m"}}, "specs.color"),
        ({"specs": {"bad\x1bkey": 1}}, "specs.bad\x1bkey.[key]"),
        ({"wokwi_type": "wokwi-led\n"}, "wokwi_type"),
    ],
)
def test_control_characters_in_part_text_are_refused_naming_the_field(changes, field):
    message = refusal(**changes)
    assert f"field {field}" in message and "control characters" in message


def test_a_description_may_have_line_breaks():
    assert parse_parts({**BASE, "description": "One line.\nAnother."}, "part.yaml")[0].description.count("\n") == 1


# -- fuzz: any mapping gives a Part or a CatalogError; every Part survives the store ---------------

EDGES = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, 5e-324, 10**400])
NUMBERS = EDGES | st.floats() | st.integers(min_value=-(10**40), max_value=10**40)
TEXT = st.text(max_size=30)
LEAF = st.none() | st.booleans() | NUMBERS | TEXT
JSONISH = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3))
FIELDS = [*Part.model_fields, "unknown"]
PIN_FIELDS = ["number", "name", "type", "description", "voltage", "min_v", "max_v", "max_current_ma", "logic_level_v"]


@st.composite
def part_entries(draw) -> object:
    """A valid part with some fields replaced by anything, or sometimes anything at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSONISH)
    entry = {**BASE, "pins": [dict(pin) for pin in BASE["pins"]]}
    kind = draw(st.sampled_from(sorted(SPICE_PARAMS)))
    names = [*sorted(SPICE_PARAMS[kind]), "unknown"]
    params = draw(st.dictionaries(st.sampled_from(names), NUMBERS | st.floats(-20, 20), max_size=4))
    entry["spice"] = {"kind": kind, "params": params}
    entry["specs"] = draw(st.dictionaries(TEXT, LEAF, max_size=3))
    for field in draw(st.lists(st.sampled_from(PIN_FIELDS), max_size=2)):
        entry["pins"][0][field] = draw(LEAF)
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        entry[field] = draw(JSONISH | NUMBERS)
    return entry


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(part_entries())
def test_any_entry_gives_a_part_or_a_catalog_error_and_every_part_survives_the_store(entry):
    try:
        parts = parse_parts(entry, "fuzz.yaml")
    except CatalogError:
        return
    with tempfile.TemporaryDirectory() as folder:
        store = PartStore(Path(folder) / "parts.sqlite")
        with store.transaction() as tx:
            for part in parts:
                tx.put(part, "key", np.ones(DIM, dtype=np.float32))
        contents = store.load()
    assert contents.unreadable == []
    assert [s.part for s in contents.parts] == sorted(parts, key=lambda p: p.id)
