"""Every export, read back by an independent reader (json, csv, an s-expression parser, an XML parser),
including designs whose title and user parts try to break out of their format."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import kinparse
import pytest

from components_db.schema import Part
from spice.exports import EXPORTS
from studio.circuit.design import Design
from studio.circuit.examples import example_names, load_example
from studio.circuit.resolve import ResolvedDesign, resolve
from studio.exports import ExportError, export_omissions, write_exports
from studio.exports.bom import to_bom_csv
from studio.exports.kicad import to_kicad_netlist
from studio.exports.wokwi import to_wokwi_diagram, wokwi_omissions
from studio.schematic.placement import layout_design
from tests.fixtures.catalog import shipped_catalog

HOSTILE_TITLE = 'Fan ") (comp (ref "X9")) "\n.include /etc/passwd\r\n</text><script>=1+1</script> \\'
DESIGN = {
    "title": HOSTILE_TITLE,
    "parts": [
        {"ref": "U1", "part": "esp32-devkit-v1"},
        {"ref": "R1", "part": "resistor", "value": "4k7"},
        {"ref": "R2", "part": "resistor", "value": "4.7k"},
        {"ref": "R10", "part": "resistor", "value": "220"},
        {"ref": "D1", "part": "led-red"},
        {"ref": "D2", "part": "led-red"},
        {"ref": "B1", "part": "battery-9v"},
        {"ref": "U2", "part": "lm7805"},
    ],
    "nets": [
        {"name": "LED1", "pins": ["U1.GPIO2", "R1.1"]},
        {"name": "LED1_K", "pins": ["R1.2", "D1.A"]},
        {"name": "LED2", "pins": ["U1.GPIO4", "R2.1", "R10.1"]},
        {"name": "LED2_K", "pins": ["R2.2", "R10.2", "D2.A"]},
        {"name": "VIN_9V", "pins": ["B1.+", "U2.IN"]},
        {"name": "+5V", "pins": ["U2.OUT", "U1.VIN"]},
        {"name": "GND", "pins": ["B1.-", "U2.GND", "U1.GND", "D1.K", "D2.K"]},
    ],
}


def resolved_design(data: dict = DESIGN, lookup: dict[str, Part] | None = None) -> ResolvedDesign:
    resolved = resolve(Design.model_validate(data), lookup or shipped_catalog())
    assert not resolved.unresolved
    return resolved


def user_part(base: str, **changes: object) -> Part:
    """A part as a user would add it: a curated entry with some fields of their own, validated."""
    return Part.model_validate({**shipped_catalog()[base].model_dump(), **changes})


# --- a small s-expression reader: the independent check of the KiCad netlist --------------------

_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:\\.|[^"\\])*)"|([^\s()"]+))')
_UNESCAPE = {"n": "\n", "r": "\r", '"': '"', "\\": "\\"}


def parse_sexpr(text: str) -> list:
    stack: list[list] = [[]]
    position = 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        assert match, f"unreadable s-expression at {position}: {text[position : position + 30]!r}"
        opening, closing, string, atom = match.groups()
        if opening:
            stack.append([])
        elif closing:
            assert len(stack) > 1, "unbalanced ')'"
            done = stack.pop()
            stack[-1].append(done)
        elif string is not None:
            stack[-1].append(re.sub(r"\\(.)", lambda m: _UNESCAPE[m[1]], string))
        else:
            stack[-1].append(atom)
        position = match.end()
    assert len(stack) == 1, "unbalanced '('"
    (tree,) = stack[0]
    return tree


def children(node: list, keyword: str) -> list[list]:
    return [c for c in node[1:] if isinstance(c, list) and c[0] == keyword]


def field(node: list, keyword: str) -> str:
    (found,) = children(node, keyword)
    return found[1]


def test_kicad_netlist_reads_back_with_every_node_on_a_known_component():
    resolved = resolved_design()
    tree = parse_sexpr(to_kicad_netlist(resolved))
    assert tree[0] == "export" and field(tree, "version") == "E"
    (design,) = children(tree, "design")
    (sheet,) = children(design, "sheet")
    assert field(children(sheet, "title_block")[0], "title") == HOSTILE_TITLE
    (components,) = children(tree, "components")
    comps = {field(c, "ref"): c for c in children(components, "comp")}
    assert list(comps) == [p["ref"] for p in DESIGN["parts"]]
    assert field(comps["R1"], "value") == "4k7"
    assert field(children(comps["U2"], "libsource")[0], "part") == "lm7805"
    (nets,) = children(tree, "nets")
    nets_by_name = {field(n, "name"): n for n in children(nets, "net")}
    assert list(nets_by_name) == [n["name"] for n in DESIGN["nets"]]
    assert [field(n, "code") for n in nets_by_name.values()] == [str(i) for i in range(1, len(DESIGN["nets"]) + 1)]
    for net in nets_by_name.values():
        for node in children(net, "node"):
            part = resolved.parts[field(node, "ref")]
            pin = part.find_pin(field(node, "pin"))
            assert pin is not None and pin.number == field(node, "pin")
            assert field(node, "pinfunction") == pin.name and field(node, "pintype") == pin.type.value
    gnd = [(field(n, "ref"), field(n, "pin")) for n in children(nets_by_name["GND"], "node")]
    assert gnd == [("B1", "2"), ("U2", "2"), ("U1", "14"), ("D1", "2"), ("D2", "2")]


def test_kicad_strings_from_user_parts_stay_strings():
    hostile = user_part("resistor", id="my-resistor", name='Evil ") (net (code "666")) \\')
    lookup = {**shipped_catalog(), "my-resistor": hostile}
    data = {"parts": [{"ref": "R1", "part": "my-resistor"}], "nets": [{"name": "N1", "pins": ["R1.1"]}]}
    tree = parse_sexpr(to_kicad_netlist(resolved_design(data, lookup)))
    (comp,) = children(children(tree, "components")[0], "comp")
    assert field(children(comp, "libsource")[0], "description") == hostile.name
    assert len(children(children(tree, "nets")[0], "net")) == 1


def test_wokwi_diagram_keeps_only_parts_wokwi_has():
    resolved = resolved_design()
    layout = layout_design(resolved)
    diagram = json.loads(json.dumps(to_wokwi_diagram(resolved, layout)))
    assert (diagram["version"], diagram["editor"]) == (1, "wokwi")
    parts = {p["id"]: p for p in diagram["parts"]}
    assert set(parts) == {ref for ref, part in resolved.parts.items() if part.wokwi_type}
    assert {"B1", "U2"}.isdisjoint(parts)
    assert parts["R1"]["attrs"] == {"value": "4700"} and parts["R10"]["attrs"] == {"value": "220"}
    assert parts["D1"]["attrs"] == {"color": "red"} and parts["D1"]["type"] == "wokwi-led"
    box = layout.part("D1").box
    assert (parts["D1"]["top"], parts["D1"]["left"]) == (box.y, box.x)
    for a, b, color, waypoints in diagram["connections"]:
        assert a.split(":")[0] in parts and b.split(":")[0] in parts
        assert color in {"black", "red", "green"} and waypoints == []
    assert ["R2:2", "R10:2", "green", []] in diagram["connections"]
    notices = wokwi_omissions(resolved)
    assert export_omissions(resolved, EXPORTS) == notices
    assert len(notices) == 2 and notices[0].startswith("B1 (battery-9v)") and notices[1].startswith("U2 (lm7805)")


def test_wokwi_pin_names_follow_the_parts_mapping():
    lookup = {**shipped_catalog(), "led-red": user_part("led-red", wokwi_pins={"K": "C"})}
    data = {
        "parts": [{"ref": "D1", "part": "led-red"}, {"ref": "R1", "part": "resistor"}],
        "nets": [{"name": "GND", "pins": ["D1.K", "R1.1"]}, {"name": "A", "pins": ["D1.A", "R1.2"]}],
    }
    resolved = resolved_design(data, lookup)
    diagram = to_wokwi_diagram(resolved, layout_design(resolved))
    assert diagram["connections"] == [["D1:C", "R1:1", "black", []], ["D1:A", "R1:2", "green", []]]
    assert diagram["parts"][1]["attrs"] == {"value": "10000"}  # the resistor's default value


def test_wokwi_fixed_attributes_come_from_the_part():
    data = {
        "parts": [{"ref": "DS1", "part": "lcd1602-i2c"}, {"ref": "DS2", "part": "seven-segment-cc"}],
        "nets": [],
    }
    resolved = resolved_design(data)
    parts = {p["id"]: p for p in to_wokwi_diagram(resolved, layout_design(resolved))["parts"]}
    assert parts["DS1"]["attrs"] == {"pins": "i2c"}
    assert parts["DS2"]["attrs"] == {"common": "cathode"}


def test_bom_groups_by_part_and_value():
    rows = list(csv.DictReader(io.StringIO(to_bom_csv(resolved_design()))))
    assert list(rows[0]) == ["refs", "value", "part_id", "name", "quantity"]
    table = [(r["refs"], r["value"], r["part_id"], r["quantity"]) for r in rows]
    assert table == [
        ("B1", "", "battery-9v", "1"),
        ("D1, D2", "", "led-red", "2"),
        ("R1, R2", "4k7", "resistor", "2"),
        ("R10", "220", "resistor", "1"),
        ("U1", "", "esp32-devkit-v1", "1"),
        ("U2", "", "lm7805", "1"),
    ]


def test_bom_cells_never_start_a_spreadsheet_formula():
    formula = user_part("push-button", id="evil-button", name='=HYPERLINK("http://x","click"), "quoted"')
    lookup = {**shipped_catalog(), "evil-button": formula}
    data = {"parts": [{"ref": "SW1", "part": "evil-button"}], "nets": [{"name": "N1", "pins": ["SW1.1"]}]}
    (row,) = csv.DictReader(io.StringIO(to_bom_csv(resolved_design(data, lookup))))
    assert row["name"] == "'" + formula.name
    assert row["quantity"] == "1"


def test_write_exports_writes_every_file_readably(tmp_path):
    written = write_exports(resolved_design(), tmp_path / "out", exports=EXPORTS)
    names = {"circuit.json", "diagram.json", "circuit.cir", "netlist.net", "bom.csv", "schematic.svg"}
    assert {p.name for p in written.values()} == names
    assert {p.name for p in (tmp_path / "out").iterdir()} == names
    files = {p.name: p.read_text(encoding="utf-8") for p in written.values()}
    circuit = json.loads(files["circuit.json"])
    assert circuit[0]["name"] == HOSTILE_TITLE
    assert json.loads(files["diagram.json"])["parts"]
    assert field(children(parse_sexpr(files["netlist.net"])[2], "sheet")[0], "name") == "/"
    assert len(list(csv.DictReader(io.StringIO(files["bom.csv"])))) == 6
    svg = ET.fromstring(files["schematic.svg"])
    assert HOSTILE_TITLE.strip().split("\n")[0] in "".join(svg.itertext())
    assert not [line for line in files["circuit.cir"].splitlines()[1:] if line.lstrip().lower().startswith(".include")]


def test_write_exports_refuses_unknown_parts_and_writes_nothing(tmp_path):
    data = {
        "parts": [{"ref": "U1", "part": "esp32-devkit-v1"}, {"ref": "X1", "part": "flux-capacitor"}],
        "nets": [{"name": "N1", "pins": ["U1.GPIO2", "U1.GPIO99", "X1.1"]}],
    }
    resolved = resolve(Design.model_validate(data), shipped_catalog())
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="flux-capacitor") as refused:
        write_exports(resolved, out, exports=EXPORTS)
    assert "GPIO99" in str(refused.value)
    assert not out.exists()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # kinparse calls pyparsing's old names
@pytest.mark.parametrize("name", example_names())
def test_the_kicad_netlist_reads_back_in_an_independent_parser(name):
    """kinparse (SKiDL's reader of KiCad netlists) finds every part with its value and every net with
    its pins by number, as the design has them."""
    resolved = resolve(load_example(name), shipped_catalog())
    netlist = kinparse.parse_netlist(to_kicad_netlist(resolved))
    assert {(p.ref, p.value) for p in netlist.parts} == {
        (ref, resolved.design_part(ref).value or part.default_value or part.name)
        for ref, part in resolved.parts.items()
    }
    read = {n.name: sorted((pin.ref, pin.num) for pin in n.pins) for n in netlist.nets}
    assert read == {net.name: sorted((bp.ref, bp.pin.number) for bp in net.pins) for net in resolved.nets}
