import json
import time

import pytest

from studio.circuit.design import (
    MAX_DESIGN_BYTES,
    MAX_NETS,
    MAX_PARTS,
    MAX_PINS_PER_NET,
    MAX_PROBLEMS,
    MAX_TOTAL_PINS,
    Design,
    DesignError,
    PinRef,
)
from tests.fixtures.designs import resistor_mesh

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
        Design.from_json(data if isinstance(data, str | bytes) else json.dumps(data))
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


# -- hostile documents and sizes (issue 13, failures 5, 8 and 10) --------------------------------

ONE_PART = '{"parts": [{"ref": "R1", "part": "resistor"}], '


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[" * 100_000, "nested deeper than"),
        ('{"a":' * 5_000 + "1" + "}" * 5_000, "nested deeper than"),
        (ONE_PART + '"title": ' + "9" * 5000 + "}", "more than 30 digits"),
        (ONE_PART + '"title": NaN}', "only finite numbers"),
        (ONE_PART + '"title": 1e999}', "only finite numbers"),
        (ONE_PART + '"parts": [{"ref": "R2", "part": "resistor"}]}', "'parts' is given twice"),
        (b'{"parts": "\xff"}', "not UTF-8"),
    ],
)
def test_hostile_json_is_a_design_error_naming_why(text, says):
    found = problems(text)
    assert len(found) == 1 and says in found[0]


def test_the_old_worst_case_is_refused_at_once_by_its_size():
    text = resistor_mesh(400, 1000, 200)  # the 1.8 MB design
    assert len(text) > 1_790_000
    started = time.perf_counter()
    assert problems(text) == [f"the design is larger than {MAX_DESIGN_BYTES // 1000} kB (the limit)"]
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("size", "says"),
    [
        ((MAX_PARTS + 1, 10, 2), f"{MAX_PARTS + 1} parts, more than the limit of {MAX_PARTS}"),
        ((20, MAX_NETS + 1, 2), f"{MAX_NETS + 1} nets, more than the limit of {MAX_NETS}"),
        ((20, 2, MAX_PINS_PER_NET + 1), f"{MAX_PINS_PER_NET + 1} pins on one net, more than the limit"),
        ((20, 6, 200), f"1,200 pin references in all, more than the limit of {MAX_TOTAL_PINS:,}"),
    ],
)
def test_a_design_past_a_limit_is_refused_fast_naming_the_limit(size, says):
    text = resistor_mesh(*size)
    assert len(text) < MAX_DESIGN_BYTES
    started = time.perf_counter()
    found = problems(text)
    assert time.perf_counter() - started < 0.2
    assert len(found) == 1 and says in found[0]


def test_a_design_at_every_limit_is_accepted():
    design = Design.from_json(resistor_mesh(MAX_PARTS, MAX_TOTAL_PINS // MAX_PINS_PER_NET, MAX_PINS_PER_NET))
    assert len(design.parts) == MAX_PARTS and sum(len(n.pins) for n in design.nets) == MAX_TOTAL_PINS


def test_a_broken_design_lists_a_screenful_of_problems_not_all():
    data = {"parts": [{"ref": "R1", "part": "resistor"}], "nets": [{"name": "bad name"}] * 300}
    found = problems(data)
    assert len(found) == MAX_PROBLEMS + 1 and found[-1] == f"... and {2 * 300 - MAX_PROBLEMS} more problems"
