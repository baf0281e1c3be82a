import json
import xml.etree.ElementTree as ET
from pathlib import Path

from studio.circuit.design import Design
from studio.circuit.resolve import resolve
from studio.schematic.placement import layout_design
from studio.schematic.svg import render_svg

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & \'quoted\' "double" ]]>'
DESIGNS_DIR = Path(__file__).parents[2] / "data" / "designs"


def relay_driver() -> Design:
    """A 9 V battery, a 7805, an Uno switching a bare relay through a 2N2222 with a flyback diode,
    a button with a pull-up and an LED: most symbol kinds of the curated catalog."""
    return Design.model_validate(
        {
            "title": "Relay driver",
            "parts": [
                {"ref": "BT1", "part": "battery-9v"},
                {"ref": "U1", "part": "lm7805"},
                {"ref": "C1", "part": "capacitor-ceramic", "value": "330nF"},
                {"ref": "U2", "part": "arduino-uno"},
                {"ref": "R1", "part": "resistor", "value": "1k"},
                {"ref": "Q1", "part": "npn-2n2222"},
                {"ref": "K1", "part": "relay-5v"},
                {"ref": "D1", "part": "diode-1n4007"},
                {"ref": "SW1", "part": "push-button"},
                {"ref": "R2", "part": "resistor", "value": "10k"},
                {"ref": "D2", "part": "led-red"},
                {"ref": "R3", "part": "resistor", "value": "220"},
            ],
            "nets": [
                {"name": "VIN_9V", "pins": ["BT1.+", "U1.IN", "C1.1"]},
                {"name": "GND", "pins": ["BT1.-", "U1.GND", "C1.2", "U2.GND", "Q1.E", "SW1.2", "D2.K"]},
                {"name": "5V", "pins": ["U1.OUT", "U2.5V", "K1.COIL1", "D1.K", "R2.1"]},
                {"name": "DRIVE", "pins": ["U2.D7", "R1.1"]},
                {"name": "BASE", "pins": ["R1.2", "Q1.B"]},
                {"name": "COIL", "pins": ["K1.COIL2", "D1.A", "Q1.C"]},
                {"name": "BUTTON", "pins": ["SW1.1", "R2.2", "U2.D2"]},
                {"name": "LED", "pins": ["U2.D13", "R3.1"]},
                {"name": "LED_A", "pins": ["R3.2", "D2.A"]},
            ],
        }
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_svg_is_standalone_xml_with_a_group_per_part(catalog):
    resolved = resolve(relay_driver(), catalog)
    layout = layout_design(resolved)
    root = parse(render_svg(resolved, layout, title="Relay driver"))
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox", "").startswith("0 0 ")
    background = root.find(f"{SVG}rect")
    assert background is not None and background.get("class") == "background"
    groups = {g.get("data-ref"): g for g in root.iter(f"{SVG}g") if g.get("class") == "part"}
    assert set(groups) == set(resolved.parts)
    assert groups["Q1"].get("id") == "part-Q1"
    assert groups["Q1"].find(f"{SVG}title").text.startswith("Q1: 2N2222A")
    labels = [t.text for g in groups.values() for t in g.iter(f"{SVG}text") if t.get("class") == "part-label"]
    assert "R3 220" in labels and "U2 arduino-uno" in labels
    styles = root.find(f"{SVG}style").text
    for css in (".part", ".wire", ".net-label", ".power", ".ground"):
        assert css in styles


def test_nets_carry_their_name_for_hover(catalog):
    resolved = resolve(relay_driver(), catalog)
    layout = layout_design(resolved)
    root = parse(render_svg(resolved, layout))
    shown = {
        g.get("data-net"): g.find(f"{SVG}title").text
        for g in root.iter(f"{SVG}g")
        if g.get("class") in ("wire", "net-label", "power", "ground")
    }
    assert {net.name for net in resolved.nets} == set(shown)
    assert all(name == title for name, title in shown.items())
    rails = [g for g in root.iter(f"{SVG}g") if g.get("class") == "power" and g.get("data-net") == "5V"]
    assert rails and all(g.find(f"{SVG}text").text == "+5V" for g in rails)


def test_glyphs_are_the_schematic_ones(catalog):
    resolved = resolve(relay_driver(), catalog)
    root = parse(render_svg(resolved, layout_design(resolved)))
    groups = {g.get("data-ref"): g for g in root.iter(f"{SVG}g") if g.get("class") == "part"}

    def count(ref: str, tag: str, css: str | None = None) -> int:
        return sum(1 for e in groups[ref].iter(f"{SVG}{tag}") if css is None or e.get("class") == css)

    assert count("D2", "path", "fill") == 2, "an LED has two light arrows"
    assert count("D1", "path", "fill") == 0, "a plain diode has none"
    assert count("Q1", "circle") >= 1 and count("Q1", "path", "fill") == 1, "a transistor: circle and emitter arrow"
    assert count("U1", "rect", "chip") == 1 and count("R1", "rect", "chip") == 0
    pin_names = {t.text for t in groups["U1"].iter(f"{SVG}text") if t.get("class") == "pin-name"}
    assert pin_names == {"IN", "GND", "OUT"}


def test_hostile_text_stays_text(catalog):
    resolved = resolve(relay_driver(), catalog)
    layout = layout_design(resolved)
    hostile_layout = layout.model_copy(
        update={
            "wires": [w.model_copy(update={"net": HOSTILE}) for w in layout.wires],
            "labels": [lb.model_copy(update={"net": HOSTILE, "text": HOSTILE}) for lb in layout.labels],
            "parts": [p.model_copy(update={"label": HOSTILE}) for p in layout.parts],
        }
    )
    resolved.parts["R1"] = resolved.parts["R1"].model_copy(update={"name": HOSTILE})
    svg = render_svg(resolved, hostile_layout, title=HOSTILE)
    root = parse(svg)
    assert "<script" not in svg
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert root.find(f"{SVG}text").text == HOSTILE  # the title, shown as typed
    assert {g.get("data-net") for g in root.iter(f"{SVG}g") if g.get("data-net")} == {HOSTILE}
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert HOSTILE in titles and f"R1: {HOSTILE} (resistor)" in titles


def test_render_is_deterministic(catalog):
    resolved = resolve(relay_driver(), catalog)
    assert render_svg(resolved, layout_design(resolved, seed=5)) == render_svg(
        resolved, layout_design(resolved, seed=5)
    )


def test_designs_in_test_data_render(catalog):
    for path in sorted(DESIGNS_DIR.glob("*.json")):
        try:
            design = Design.from_data(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
        resolved = resolve(design, catalog)
        root = parse(render_svg(resolved, layout_design(resolved), title=design.title))
        refs = {g.get("data-ref") for g in root.iter(f"{SVG}g") if g.get("class") == "part"}
        assert refs == set(resolved.parts), path.name


def test_control_characters_in_a_title_or_part_name_keep_the_svg_valid_xml(catalog):
    """A title and a user part's name with C0 controls and an escape sequence (issue 13, failure 7):
    XML 1.0 cannot hold them even escaped, so they are dropped and the rest is drawn."""
    name = "Evil\x00 \x1b[31mred\x1b[0m\x07 relay\x0c"
    evil = catalog["relay-5v"].model_copy(update={"id": "evil-relay", "name": name})
    design = relay_driver().model_copy(update={"title": "Relay\x01 driver\x1b]0;x\x07"})
    design.parts[6] = design.parts[6].model_copy(update={"part": "evil-relay"})
    resolved = resolve(design, {**catalog, "evil-relay": evil})
    root = parse(render_svg(resolved, layout_design(resolved), title=design.title))
    text = "".join(root.itertext())
    assert "Relay driver]0;x" in text and "Evil [31mred[0m relay" in text
    assert not any(ord(c) < 32 and c not in "\n\t" for c in text)
