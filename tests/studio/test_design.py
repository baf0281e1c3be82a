import json

import pytest

from studio.design import Design, DesignError, PinRef

GOOD = {
    "parts": [
        {"ref": "U1", "part": "esp32-devkit-v1"},
        {"ref": "R1", "part": "resistor", "value": "220"},
        {"ref": "D1", "part": "led-red"},
    ],
    "nets": [
        {"name": "LED_A", "pins": ["U1.GPIO2", "R1.1"]},
        {"name": "N2", "pins": ["R1.2", "D1.A"]},
        {"name": "GND", "pins": ["D1.K", "U1.GND"]},
    ],
}


def test_design_md_example_parses():
    design = Design.from_json(json.dumps(GOOD))
    assert [p.ref for p in design.parts] == ["U1", "R1", "D1"]
    assert design.part("R1").numeric_value == 220.0
    assert design.nets[0].pin_refs == [PinRef(ref="U1", pin="GPIO2"), PinRef(ref="R1", pin="1")]


def test_pin_ref_keeps_dots_after_the_first():
    assert PinRef.parse("U1.3.3V") == PinRef(ref="U1", pin="3.3V")


def problems(data) -> list[str]:
    with pytest.raises(DesignError) as info:
        Design.from_json(data if isinstance(data, str) else json.dumps(data))
    return info.value.problems


def test_malformed_json_is_a_clear_error():
    assert "not valid JSON" in problems('{"parts": [')[0]


def test_not_an_object():
    assert "JSON object" in problems("[1, 2]")[0]


def test_duplicate_ref():
    data = {"parts": [{"ref": "R1", "part": "resistor"}, {"ref": "R1", "part": "led-red"}], "nets": []}
    assert any("duplicate part ref(s): R1" in p for p in problems(data))


def test_net_on_a_ref_that_is_not_a_part():
    data = {"parts": [{"ref": "R1", "part": "resistor"}], "nets": [{"name": "A", "pins": ["R9.1"]}]}
    assert any("R9" in p for p in problems(data))


@pytest.mark.parametrize("value", ["1k\n.control\nshell touch /tmp/x", "10k; .include /etc/passwd", "$(reboot)"])
def test_hostile_value_is_refused(value):
    data = {"parts": [{"ref": "R1", "part": "resistor", "value": value}], "nets": []}
    found = problems(data)
    assert found and all("parts.0.value" in p for p in found)


@pytest.mark.parametrize(
    "net",
    [
        {"name": "A\n.control", "pins": ["R1.1"]},
        {"name": "A", "pins": ["R1.1\n.end"]},
        {"name": "<script>", "pins": ["R1.1"]},
        {"name": "A", "pins": ["R1"]},
    ],
)
def test_hostile_names_are_refused(net):
    data = {"parts": [{"ref": "R1", "part": "resistor"}], "nets": [net]}
    assert problems(data)


def test_unknown_fields_are_refused():
    data = {"parts": [{"ref": "R1", "part": "resistor", "colour": "red"}], "nets": []}
    assert any("colour" in p for p in problems(data))
