"""Reading a request: named parts and their families and counts, unknown part numbers, numbers with
their context, interfaces, and requests that are about no circuit at all."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def parts(reader, text: str) -> dict[str, int]:
    return {p.part: p.quantity for p in reader.read(text).parts}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Two DHT22s on an ESP32", {"dht22": 2, "esp32-devkit-v1": 1}),
        ("4x SG90 servo on a PCA9685", {"servo-sg90": 4, "pca9685-servo-driver": 1}),
        ("SG90 x3 from an uno", {"servo-sg90": 3, "arduino-uno": 1}),
        ("a pair of LEDs on a nano", {"led-red": 2, "arduino-nano": 1}),
        ("uno with a DHT222", {"arduino-uno": 1, "dht22": 1}),  # a typo of a part number
    ],
)
def test_named_parts_and_counts(reader, text, expected):
    assert parts(reader, text) == expected


def test_a_count_is_only_a_count_when_the_request_gives_one(reader):
    reading = reader.read("Two DHT22s and an SSD1306 on an ESP32")
    counted = {p.part: p.counted for p in reading.parts}
    assert counted == {"dht22": True, "oled-ssd1306-i2c": False, "esp32-devkit-v1": False}


def test_a_generic_name_stands_for_its_family_and_a_part_number_for_itself(reader):
    by_part = {p.part: p for p in reader.read("an LED and a DHT22 on an Uno").parts}
    assert {"led-red", "led-green", "led-blue"} <= set(by_part["led-red"].family)
    assert by_part["dht22"].family == ["dht22"]


def test_unknown_part_numbers_are_named_with_parts_that_might_stand_in(reader):
    reading = reader.read("use a TB67S109 to drive a NEMA17 stepper from an Arduino Uno")
    (unknown,) = reading.unknown
    assert unknown.name == "TB67S109"
    assert {"a4988-module", "drv8825-module"} & set(unknown.nearest)
    assert "stepper-nema17" not in unknown.nearest and "arduino-uno" not in unknown.nearest
    assert "TB67S109 is not in the knowledge base" in unknown.message and "parts add" in unknown.message


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("ESP32 reads a LIDAR-Lite v3 rangefinder over I2C.", ["LIDAR-Lite v3"]),
        ("an Uno and a SuperBoard MK2 relay", ["SuperBoard MK2"]),
        ("a capacitive soil sensor v2.0 on an Uno", []),  # a plain word before a version is not a name
        ("an Arduino Nano v3 blinks an LED", []),  # a known part's version
    ],
)
def test_a_versioned_product_name_no_part_matches_is_an_unknown_part(reader, text, unknown):
    assert [u.name for u in reader.read(text).unknown] == unknown


@pytest.mark.parametrize(
    ("text", "kind", "value", "context"),
    [
        ("ESP32 on a 3.3 V rail", "voltage", 3.3, "supply"),
        ("esp32 powered from 3v3", "voltage", 3.3, "supply"),
        ("a 12VDC adapter", "voltage", 12.0, "supply"),
        ("measure up to 25 V with a divider", "voltage", 25.0, "measure"),
        ("a 555 blinking at about 2 Hz", "frequency", 2.0, "oscillator"),
        ("RC low-pass filter with a cutoff of 1 kHz", "cutoff", 1000.0, "filter"),
        ("an LED at 10 mA", "current", 0.01, "led"),
        ("a 555 that flashes an LED twice a second", "frequency", 2.0, "oscillator"),
    ],
)
def test_numbers_with_their_context(reader, text, kind, value, context):
    (q,) = [q for q in reader.read(text).quantities if q.kind == kind]
    assert q.value == pytest.approx(value) and q.context == context


def test_numbers_that_are_not_quantities_are_left_alone(reader):
    assert reader.read("an ESP32 with a 128x64 OLED and an HC-05").quantities == []
    assert reader.read("two AA cells").quantities == []


@pytest.mark.parametrize(
    ("text", "interfaces"),
    [
        ("BME280 over SPI on an ESP32", ["SPI"]),
        ("an OLED via I2C", ["I2C"]),
        ("talk to the GPS over serial", ["UART"]),
        ("print it to the serial monitor", []),
        ("DS18B20 on one-wire", ["1-Wire"]),
    ],
)
def test_interfaces(reader, text, interfaces):
    assert reader.read(text).interfaces == interfaces


@pytest.mark.parametrize(
    "text", ["make me a sandwich", "asdkjh qwe zxcv", "tell me a joke", "what is the capital of France?"]
)
def test_requests_about_no_circuit_are_not_understood(reader, text):
    assert not reader.read(text).understood


@pytest.mark.parametrize(
    "text",
    [
        "something that beeps when the door opens",
        "I want to know how far the wall is from my robot",
        "keep my greenhouse plants watered",
        "XJ9000 with a QZ7711",
    ],
)
def test_requests_about_a_circuit_without_part_names_are_understood(reader, text):
    assert reader.read(text).understood


def test_a_count_after_a_name_is_only_an_x_count(reader):
    assert parts(reader, "3x nema17 with 3x drv8825") == {"stepper-nema17": 3, "drv8825-module": 3}
    assert parts(reader, "nema17 2x") == {"stepper-nema17": 1}


WORDS = [
    "0",
    "9" * 400,
    "every",
    "seconds",
    "esp32",
    "dht22",
    "4x",
    "x4",
    "2",
    "two",
    "led",
    "leds",
    "3v3",
    "12",
    "V",
    "Hz",
    "kHz",
    "mA",
    "over",
    "i2c",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(st.sampled_from(WORDS) | st.text(max_size=8), max_size=12).map(" ".join))
def test_reading_never_fails_and_finds_only_positive_quantities(reader, text):
    reading = reader.read(text)
    assert all(q.value > 0 for q in reading.quantities) and all(1 <= p.quantity <= 16 for p in reading.parts)
