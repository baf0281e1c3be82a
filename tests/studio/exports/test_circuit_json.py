"""Circuit JSON: what the compiler emits, that it reads back to the same design, and that tscircuit's
own zod schemas (npm circuit-json, run by tests/js/validate.mjs) accept it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from components_db.schema import Part
from studio.circuit.design import Design, DesignError
from studio.circuit.examples import EXAMPLES_DIR
from studio.circuit.resolve import ResolvedDesign, resolve
from studio.exports.circuit_json import design_from_circuit_json, to_circuit_json
from studio.schematic.placement import layout_design
from tests.fixtures.catalog import shipped_catalog

ROOT = Path(__file__).resolve().parents[3]
JS_DIR = ROOT / "tests" / "js"
DESIGN_FILES = sorted((ROOT / "tests" / "data" / "designs").glob("*.json")) + sorted(EXAMPLES_DIR.glob("*.json"))

LED_BLINK = {
    "title": 'Blink "fast" (v2)\n<script>alert(1)</script>',
    "parts": [
        {"ref": "U1", "part": "esp32-devkit-v1"},
        {"ref": "R1", "part": "resistor", "value": "4k7"},
        {"ref": "D1", "part": "led-red"},
        {"ref": "C1", "part": "capacitor-ceramic"},
    ],
    "nets": [
        {"name": "LED_A", "pins": ["U1.GPIO2", "R1.1"]},
        {"name": "N2", "pins": ["R1.2", "D1.A"]},
        {"name": "3V3", "pins": ["U1.3V3", "C1.1"]},
        {"name": "GND", "pins": ["D1.K", "U1.GND", "U1.GND2", "C1.2"]},
    ],
}
RELAY_DRIVER = {
    "parts": [
        {"ref": "B1", "part": "battery-9v"},
        {"ref": "U1", "part": "lm7805"},
        {"ref": "U2", "part": "arduino-uno"},
        {"ref": "Q1", "part": "npn-2n2222"},
        {"ref": "R1", "part": "resistor", "value": "1k"},
        {"ref": "K1", "part": "relay-5v"},
        {"ref": "D1", "part": "diode-1n4007"},
        {"ref": "SW1", "part": "push-button"},
        {"ref": "S1", "part": "dht22"},
        {"ref": "S2", "part": "bme280"},
    ],
    "nets": [
        {"name": "VIN_9V", "pins": ["B1.+", "U1.IN"]},
        {"name": "+5V", "pins": ["U1.OUT", "U2.VIN", "K1.COIL1", "D1.K", "S1.VCC", "S2.VIN"]},
        {"name": "GND", "pins": ["B1.-", "U1.GND", "U2.GND", "Q1.E", "SW1.2", "S1.GND", "S2.GND"]},
        {"name": "BASE", "pins": ["U2.D7", "R1.1"]},
        {"name": "B", "pins": ["R1.2", "Q1.B"]},
        {"name": "COIL_LOW", "pins": ["Q1.C", "K1.COIL2", "D1.A"]},
        {"name": "BTN", "pins": ["U2.D2", "SW1.1"]},
        {"name": "DHT", "pins": ["U2.D4", "S1.DATA"]},
        {"name": "SDA", "pins": ["U2.A4", "S2.SDA"]},
        {"name": "SCL", "pins": ["U2.A5", "S2.SCL"]},
    ],
}


EVERY_FTYPE = {  # with the user parts of with_user_parts()
    "parts": [
        {"ref": "Y1", "part": "my-crystal"},
        {"ref": "F1", "part": "my-fuse"},
        {"ref": "F2", "part": "my-unrated-fuse"},
        {"ref": "RV1", "part": "my-pot"},
        {"ref": "L1", "part": "my-inductor"},
        {"ref": "L2", "part": "my-inductor", "value": "4u7"},
        {"ref": "J1", "part": "my-header"},
        {"ref": "Q1", "part": "my-nmos"},
        {"ref": "U1", "part": "my-opamp"},
        {"ref": "V1", "part": "my-supply"},
        {"ref": "SW1", "part": "my-switch"},
    ],
    "nets": [
        {"name": "VS", "pins": ["V1.+", "F1.1", "F2.1", "SW1.1"]},
        {"name": "N1", "pins": ["F1.2", "Y1.1", "RV1.1", "L1.1", "L2.1", "J1.1", "Q1.C", "U1.C"]},
        {"name": "GND", "pins": ["V1.-", "Y1.2", "RV1.2", "L1.2", "L2.2", "J1.2", "Q1.E", "U1.E"]},
    ],
}
BUILT_IN = {"led_blink": LED_BLINK, "relay_driver": RELAY_DRIVER, "every_ftype": EVERY_FTYPE}


def variant(base: str, part_id: str, **changes: object) -> Part:
    """A user-added part: a curated entry with another id and some fields of its own, validated."""
    return Part.model_validate({**shipped_catalog()[base].model_dump(), "id": part_id, "aliases": [], **changes})


@cache
def with_user_parts() -> dict[str, Part]:
    """The catalog plus one user part per remaining ftype, so every typed field meets the real schemas."""
    parts = [
        variant("resistor", "my-crystal", ftype="simple_crystal", default_value=None, specs={"frequency_hz": 16e6}),
        variant("resistor", "my-fuse", ftype="simple_fuse", specs={"current_rating_a": 1, "voltage_rating_v": 250}),
        variant("resistor", "my-unrated-fuse", ftype="simple_fuse", specs={}),
        variant("resistor", "my-pot", ftype="simple_potentiometer", default_value="10k"),
        variant("resistor", "my-inductor", ftype="simple_inductor", symbol="inductor", default_value="10uH"),
        variant("resistor", "my-header", ftype="simple_pin_header", symbol="chip"),
        variant("npn-2n2222", "my-nmos", ftype="simple_mosfet", symbol="nmos"),
        variant("npn-2n2222", "my-opamp", ftype="simple_op_amp", symbol="chip"),
        variant("battery-9v", "my-supply", ftype="simple_power_source"),
        variant("push-button", "my-switch", ftype="simple_switch", symbol="switch"),
    ]
    return {**shipped_catalog(), **{p.id: p for p in parts}}


def compiled(data: dict) -> tuple[ResolvedDesign, list[dict]]:
    resolved = resolve(Design.model_validate(data), with_user_parts())
    assert not resolved.unresolved, resolved.unresolved
    return resolved, to_circuit_json(resolved, layout_design(resolved))


def of_type(elements: list[dict], kind: str) -> list[dict]:
    return [e for e in elements if e["type"] == kind]


def by_name(elements: list[dict], kind: str) -> dict[str, dict]:
    return {e["name"]: e for e in of_type(elements, kind)}


def test_components_carry_their_ftype_and_si_values():
    _, elements = compiled(LED_BLINK)
    components = by_name(elements, "source_component")
    assert components["R1"]["ftype"] == "simple_resistor"
    assert components["R1"]["resistance"] == pytest.approx(4700)
    assert components["R1"]["display_value"] == "4k7"
    # no value in the design: the part's default (100nF) sizes it, and the design stays value-less
    assert components["C1"]["capacitance"] == pytest.approx(100e-9)
    assert "display_value" not in components["C1"]
    assert components["D1"]["ftype"] == "simple_led" and components["D1"]["color"] == "red"
    assert components["U1"]["ftype"] == "simple_chip"
    assert {c["manufacturer_part_number"] for c in components.values()} == {
        "esp32-devkit-v1",
        "resistor",
        "led-red",
        "capacitor-ceramic",
    }


def test_transistor_battery_and_parts_without_a_typed_ftype():
    _, elements = compiled(RELAY_DRIVER)
    components = by_name(elements, "source_component")
    assert components["Q1"]["transistor_type"] == "npn"
    assert components["B1"]["ftype"] == "simple_battery" and components["B1"]["capacity"] == 500
    assert components["SW1"]["ftype"] == "simple_push_button"
    assert components["D1"]["ftype"] == "simple_diode"
    assert components["K1"]["ftype"] == "simple_chip"


def test_user_parts_of_every_ftype_get_their_typed_fields():
    _, elements = compiled(EVERY_FTYPE)
    components = {c["manufacturer_part_number"]: c for c in of_type(elements, "source_component")}
    assert components["my-crystal"]["frequency"] == 16e6
    assert (components["my-fuse"]["current_rating_amps"], components["my-fuse"]["voltage_rating_volts"]) == (1, 250)
    assert components["my-unrated-fuse"]["ftype"] == "simple_chip"  # no rating known: nothing invented
    assert components["my-pot"]["max_resistance"] == 10e3
    assert components["my-header"]["pin_count"] == 2
    assert (components["my-nmos"]["channel_type"], components["my-nmos"]["mosfet_mode"]) == ("n", "enhancement")
    assert components["my-supply"]["voltage"] == 9.0
    inductors = [c for c in of_type(elements, "source_component") if c["ftype"] == "simple_inductor"]
    assert [c["inductance"] for c in inductors] == [pytest.approx(10e-6), pytest.approx(4.7e-6)]


def test_every_pin_is_a_port_with_number_hints_and_electrical_facts():
    resolved, elements = compiled(LED_BLINK)
    components = {c["source_component_id"]: c["name"] for c in of_type(elements, "source_component")}
    ports = {(components[p["source_component_id"]], p["name"]): p for p in of_type(elements, "source_port")}
    assert len(ports) == sum(len(part.pins) for part in resolved.parts.values())
    anode, cathode = ports["D1", "A"], ports["D1", "K"]
    assert (anode["pin_number"], cathode["pin_number"]) == (1, 2)
    assert {"anode", "pin1"} <= set(anode["port_hints"]) and {"cathode", "pin2"} <= set(cathode["port_hints"])
    assert ports["U1", "3V3"]["provides_power"] and ports["U1", "3V3"]["provides_voltage"] == 3.3
    assert ports["U1", "GND"]["requires_ground"] and "requires_power" not in ports["U1", "GND"]
    assert ports["U1", "GPIO21"]["supports_i2c_sda"] and ports["U1", "GPIO21"]["is_bidirectional"]
    assert ports["U1", "GPIO36"]["is_input"]
    assert ports["R1", "1"]["is_passive"]


def test_nets_know_their_rail_and_every_pin_has_a_trace():
    resolved, elements = compiled(LED_BLINK)
    nets = by_name(elements, "source_net")
    assert nets["GND"]["is_ground"] and not nets["GND"]["is_power"]
    assert nets["3V3"]["is_power"] and not nets["3V3"]["is_ground"]
    assert not nets["LED_A"]["is_power"] and not nets["LED_A"]["is_ground"]
    traces = of_type(elements, "source_trace")
    assert len(traces) == sum(len(net.pins) for net in resolved.nets)
    on_gnd = [t for t in traces if t["connected_source_net_ids"] == [nets["GND"]["source_net_id"]]]
    assert len(on_gnd) == 4


def test_schematic_follows_the_layout_with_y_up():
    resolved, elements = compiled(LED_BLINK)
    layout = layout_design(resolved)
    components = {c["source_component_id"]: c["name"] for c in of_type(elements, "source_component")}
    drawn = {components[s["source_component_id"]]: s for s in of_type(elements, "schematic_component")}
    assert set(drawn) == {p.ref for p in layout.parts}
    for placed in layout.parts:
        center = drawn[placed.ref]["center"]
        assert center == {"x": placed.box.center.x, "y": pytest.approx(-placed.box.center.y)}
        assert drawn[placed.ref]["size"] == {"width": placed.box.width, "height": placed.box.height}
    ports = of_type(elements, "schematic_port")
    assert len(ports) == sum(len(p.pins) for p in layout.parts)
    assert {p["facing_direction"] for p in ports} <= {"up", "down", "left", "right"}
    traces = of_type(elements, "schematic_trace")
    assert len(traces) == len(layout.wires)
    assert [len(t["edges"]) for t in traces] == [len(w.points) - 1 for w in layout.wires]
    port_ids = {p["schematic_port_id"] for p in ports}
    tied = [
        e[key]
        for t in traces
        for e in t["edges"]
        for key in ("from_schematic_port_id", "to_schematic_port_id")
        if key in e
    ]
    assert tied and set(tied) <= port_ids
    net_ids = {n["source_net_id"]: n["name"] for n in of_type(elements, "source_net")}
    labels = of_type(elements, "schematic_net_label")
    assert [net_ids[label["source_net_id"]] for label in labels] == [label.net for label in layout.labels]


def test_round_trip_gives_the_design_back():
    for data in BUILT_IN.values():
        design = Design.model_validate(data)
        _, elements = compiled(data)
        assert design_from_circuit_json(json.loads(json.dumps(elements))) == design


def test_round_trip_names_pins_by_their_knowledge_base_name():
    data = {
        "parts": [{"ref": "D1", "part": "led-red"}, {"ref": "R1", "part": "resistor", "value": "220"}],
        "nets": [{"name": "N1", "pins": ["R1.2", "D1.anode"]}, {"name": "GND", "pins": ["D1.cathode"]}],
    }
    _, elements = compiled(data)
    back = design_from_circuit_json(elements)
    assert [n.pins for n in back.nets] == [["R1.2", "D1.A"], ["D1.K"]]


def test_reading_traces_that_join_ports_without_a_net():
    _, elements = compiled(LED_BLINK)
    ports = {(p["source_component_id"], p["name"]): p["source_port_id"] for p in of_type(elements, "source_port")}
    r1 = by_name(elements, "source_component")["R1"]["source_component_id"]
    extra = {
        "type": "source_trace",
        "source_trace_id": "source_trace_extra",
        "connected_source_port_ids": [ports[r1, "1"], ports[r1, "2"]],
        "connected_source_net_ids": [],
    }
    nets = [n for n in elements if n["type"] not in ("source_net", "source_trace")] + [extra]
    back = design_from_circuit_json(nets)
    assert [(n.name, n.pins) for n in back.nets] == [("N1", ["R1.1", "R1.2"])]


def test_reading_refuses_what_it_cannot_map():
    _, elements = compiled(LED_BLINK)
    anonymous = [{k: v for k, v in e.items() if k != "manufacturer_part_number"} for e in elements]
    with pytest.raises(DesignError, match="manufacturer_part_number"):
        design_from_circuit_json(anonymous)
    dangling = [*elements, {**of_type(elements, "source_trace")[0], "connected_source_net_ids": ["source_net_99"]}]
    with pytest.raises(DesignError, match="source_net_99"):
        design_from_circuit_json(dangling)
    with pytest.raises(DesignError, match="source_port_id"):
        design_from_circuit_json([{"type": "source_port", "name": "1"}])


def test_unknown_parts_and_pins_are_left_out():
    data = {
        "parts": [{"ref": "U1", "part": "esp32-devkit-v1"}, {"ref": "X1", "part": "flux-capacitor"}],
        "nets": [{"name": "N1", "pins": ["U1.GPIO2", "U1.NOPE", "X1.1"]}],
    }
    resolved = resolve(Design.model_validate(data), with_user_parts())
    elements = to_circuit_json(resolved, layout_design(resolved))
    assert [c["name"] for c in of_type(elements, "source_component")] == ["U1"]
    assert len(of_type(elements, "source_trace")) == 1


def test_hostile_title_survives_as_data():
    _, elements = compiled(LED_BLINK)
    text = json.dumps(elements)
    assert json.loads(text)[0] == {
        "type": "source_project_metadata",
        "software_used_string": "MoE Circuit Studio",
        "name": LED_BLINK["title"],
    }
    assert "\n" not in text  # the title's newline is escaped inside its JSON string
    assert design_from_circuit_json(json.loads(text)).title == LED_BLINK["title"]


# --- tscircuit's schemas ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_validator() -> list[str]:
    """The node command for tests/js/validate.mjs; fails under CI when it cannot run, skips locally."""
    node = shutil.which("node")
    installed = (JS_DIR / "node_modules" / "circuit-json").is_dir()
    if node is None or not installed:
        reason = "node is not installed" if node is None else "run `npm ci` in tests/js (circuit-json missing)"
        if os.environ.get("CI"):
            pytest.fail(f"Circuit JSON validation cannot run: {reason}")
        pytest.skip(f"Circuit JSON validation skipped: {reason}")
    return [node, str(JS_DIR / "validate.mjs")]


def validate(command: list[str], files: list[Path]) -> tuple[int, dict]:
    done = subprocess.run([*command, *map(str, files)], capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, json.loads(done.stdout)


def clean_designs() -> list[tuple[str, Design]]:
    """The built-in designs plus every design file of the repository that resolves without unknowns."""
    designs = [(name, Design.model_validate(data)) for name, data in BUILT_IN.items()]
    for path in DESIGN_FILES:
        try:
            design = Design.from_json(path.read_bytes())
        except DesignError:
            continue  # invalid on purpose: a test case of the design reader
        if not resolve(design, with_user_parts()).unresolved:
            designs.append((path.stem, design))
    return designs


def test_tscircuit_schemas_accept_every_design(node_validator, tmp_path):
    files = []
    for name, design in clean_designs():
        resolved = resolve(design, with_user_parts())
        elements = to_circuit_json(resolved, layout_design(resolved))
        assert design_from_circuit_json(elements) == _canonical(design, resolved), name
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(elements), encoding="utf-8")
    code, report = validate(node_validator, files)
    failures = {Path(f["file"]).stem: f["problems"] for f in report["files"] if not f["ok"]}
    assert code == 0 and not failures, failures
    assert len(report["files"]) == len(files)


def test_the_validator_rejects_what_the_schemas_reject(node_validator, tmp_path):
    _, elements = compiled(LED_BLINK)
    resistor = by_name(elements, "source_component")["R1"]
    broken = [
        {k: v for k, v in resistor.items() if k != "resistance"},  # a required field missing
        {**resistor, "source_component_id": "source_component_x", "wire_gauge": 22},  # a key the schema lacks
        {**of_type(elements, "source_port")[0], "source_component_id": "source_component_404"},  # dangling id
    ]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    code, report = validate(node_validator, [path])
    kinds = [p["kind"] for p in report["files"][0]["problems"]]
    assert code == 1 and sorted(kinds) == ["dangling_ref", "schema", "unknown_keys"]


def _canonical(design: Design, resolved: ResolvedDesign) -> Design:
    """The design with every pin named by its knowledge-base name, as Circuit JSON names it."""
    nets = [{"name": net.name, "pins": [bp.label for bp in net.pins]} for net in resolved.nets]
    return Design.model_validate({**design.model_dump(), "nets": nets})
