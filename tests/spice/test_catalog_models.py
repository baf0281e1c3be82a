"""Every catalog part's SPICE model loads into ngspice and solves, and the adjustable parts behave."""

from __future__ import annotations

import pytest

from components_db.schema import Part, PinRole
from spice.simulate import simulate
from tests.fixtures.catalog import shipped_catalog

MODELLED = sorted(p.id for p in shipped_catalog().values() if p.spice is not None and p.spice.kind != "source")


def _smoke_nets(part: Part) -> dict[str, list[str]]:
    """Supply pins on a 12 V bench supply, ground pins on ground; a part without them across the supply."""
    supply = [f"U1.{p.name}" for p in part.pins_with_role(PinRole.POWER_IN)]
    ground = [f"U1.{p.name}" for p in part.pins_with_role(PinRole.GROUND)]
    if not supply:
        supply, ground = [f"U1.{part.pins[0].name}"], [*ground, f"U1.{part.pins[-1].name}"]
    return {"VS": ["PS.+", *supply], "GND": ["PS.-", *ground]}


@pytest.mark.parametrize("part_id", MODELLED)
def test_every_modelled_part_solves(build, catalog, part_id):
    report = simulate(build([("PS", "dc-supply-12v", None), ("U1", part_id, "1k")], _smoke_nets(catalog[part_id])))
    assert report.ok, report.error


def test_lm317_sets_its_output_from_the_adjust_divider(build):
    resolved = build(
        [("PS", "dc-supply-12v", None), ("U1", "lm317", None), ("R1", "resistor", "240"), ("R2", "resistor", "720")],
        {
            "VS": ["PS.+", "U1.IN"],
            "VOUT": ["U1.OUT", "R1.1"],
            "ADJ": ["R1.2", "R2.1", "U1.ADJ"],
            "GND": ["PS.-", "R2.2"],
        },
    )
    report = simulate(resolved)
    assert report.operating_point.node_voltages["VOUT"] == pytest.approx(1.25 * (1 + 720 / 240), rel=0.02)
    assert not report.findings


def test_potentiometer_wiper_divides_the_supply(build):
    resolved = build(
        [("PS", "dc-supply-12v", None), ("RV1", "potentiometer", "10k")],
        {"VS": ["PS.+", "RV1.1"], "WIPER": ["RV1.W"], "GND": ["PS.-", "RV1.3"]},
    )
    report = simulate(resolved)
    assert report.operating_point.node_voltages["WIPER"] == pytest.approx(6.0, rel=0.01)
    assert [a.kind for a in report.analyses] == ["divider"]


def test_buck_converter_draws_output_power_over_efficiency(build):
    resolved = build(
        [("PS", "dc-supply-12v", None), ("U1", "lm2596-buck", None), ("R1", "resistor", "10")],
        {"VS": ["PS.+", "U1.IN+"], "5V": ["U1.OUT+", "R1.1"], "GND": ["PS.-", "U1.IN-", "U1.OUT-", "R1.2"]},
    )
    op = simulate(resolved).operating_point
    assert op.rail_voltages["5V"] == pytest.approx(5.0, rel=0.01)
    output_w = 5.0**2 / 10
    assert op.supply_currents_ma["PS.+"] / 1000 * op.node_voltages["VS"] == pytest.approx(output_w / 0.88, rel=0.02)


@pytest.mark.parametrize(("r_top", "v_out"), [("30k", 6.0), ("10k", 12.0 - 1.5)])
def test_lm358_non_inverting_gain_of_two_until_the_rail(build, r_top, v_out):
    resolved = build(
        [
            ("PS", "dc-supply-12v", None),
            ("U1", "lm358", None),
            ("R1", "resistor", r_top),
            *((ref, "resistor", "10k") for ref in ("R2", "R3", "R4")),
        ],
        {
            "VS": ["PS.+", "U1.VCC", "R1.1"],
            "REF": ["R1.2", "R2.1", "U1.1IN+"],
            "FB": ["U1.1IN-", "R3.1", "R4.1"],
            "OUT": ["U1.1OUT", "R4.2"],
            "GND": ["PS.-", "U1.GND", "R2.2", "R3.2"],
        },
    )
    op = simulate(resolved).operating_point
    assert op.node_voltages["OUT"] == pytest.approx(v_out, abs=0.05)  # 2 x REF, or 1.5 V under VCC (rail_drop_v)
