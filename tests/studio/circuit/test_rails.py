import pytest

from studio.circuit.design import Design
from studio.circuit.rails import NetKind, voltage_from_name
from studio.circuit.resolve import resolve


@pytest.mark.parametrize(
    ("name", "volts"), [("3V3", 3.3), ("+5V", 5.0), ("VIN_12V", 12.0), ("3.3V", 3.3), ("VCC", None), ("SDA", None)]
)
def test_voltage_from_name(name, volts):
    assert voltage_from_name(name) == volts


def test_pins_decide_before_names(catalog):
    design = Design.model_validate(
        {
            "parts": [{"ref": "U1", "part": "esp32-devkit-v1"}, {"ref": "S1", "part": "dht22"}],
            "nets": [
                {"name": "VCC", "pins": ["U1.3V3", "S1.VCC"]},
                {"name": "N1", "pins": ["U1.GND", "S1.GND"]},
                {"name": "DATA", "pins": ["U1.GPIO4", "S1.DATA"]},
                {"name": "GND", "pins": ["S1.NC"]},
            ],
        }
    )
    roles = resolve(design, catalog).net_roles
    assert (roles["VCC"].kind, roles["VCC"].voltage, roles["VCC"].source) == (NetKind.POWER, 3.3, "U1.3V3")
    assert roles["N1"].is_ground
    assert roles["DATA"].kind is NetKind.SIGNAL
    assert roles["GND"].is_ground and roles["GND"].source is None
