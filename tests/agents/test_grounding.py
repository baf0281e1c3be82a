"""Identification held to the request (agents.grounding) on the real knowledge base: candidates cover the
named parts, the grammar admits only candidates and supporting parts, named parts and counts survive
whatever the model writes, and substitutes stand where the user put them."""

from __future__ import annotations

import json

import pytest

from agents.grounding import Substitute, allowed_parts, ground, grounded_candidates, with_substitutes
from agents.identify import Candidate, parse_answer, parts_grammar
from agents.parts_list import PartRequest, PartsList
from studio.intent import RequestReader


@pytest.fixture(scope="module")
def reader(kb) -> RequestReader:
    return RequestReader(kb)


@pytest.fixture(scope="module")
def lookup(kb) -> dict:
    return {p.id: p for p in kb.parts()}


def answer(*items: tuple[str, int], unknown: tuple[str, ...] = ()) -> PartsList:
    return PartsList(parts=[PartRequest(part=p, quantity=n, role="x") for p, n in items], unknown=list(unknown))


def test_named_parts_lead_the_candidates_however_retrieval_ranks_them(kb, reader):
    request = (
        "A weather station that logs everything to an SD card, shows it on a screen and sends it over WiFi; "
        "it needs a DS3231 for the time and an HC-SR04 to check the snow depth"
    )
    candidates = grounded_candidates(kb, request, reader.read(request), top=4)
    ids = [c.part for c in candidates]
    assert ids[:2] == ["ds3231-rtc", "hc-sr04"] and all(c.matched.startswith("named") for c in candidates[:2])
    assert len(ids) == len(set(ids)) >= 4


def test_the_grammar_admits_candidates_families_and_supporting_parts_only(kb, reader):
    reading = reader.read("Blink an LED from an ESP32")
    candidates = [Candidate(part="esp32-devkit-v1", score=1.0, matched="named")]
    allowed = {p.id for p in allowed_parts(candidates, reading, kb.parts())}
    assert {"esp32-devkit-v1", "led-red", "led-green", "resistor", "nmos-irlz44n", "usb-power-5v"} <= allowed
    assert not {"lcd2004-i2c", "arduino-uno", "ra02-lora-sx1278", "dht22"} & allowed
    lark = parts_grammar([p for p in kb.parts() if p.id in allowed]).lark
    assert '\\"esp32-devkit-v1\\"' in lark and "lcd2004-i2c" not in lark


def test_a_named_part_replaces_an_unnamed_stand_in_of_its_kind(reader, lookup):
    reading = reader.read("ESP32 shows the time on an SSD1306 OLED")
    grounded, notes = ground(answer(("esp32-devkit-v1", 1), ("lcd2004-i2c", 1), ("resistor", 2)), reading, lookup)
    assert [p.part for p in grounded.parts] == ["esp32-devkit-v1", "oled-ssd1306-i2c", "resistor"]
    assert notes == ["oled-ssd1306-i2c in place of lcd2004-i2c: the request names SSD1306 OLED"]


def test_a_named_part_the_answer_lacks_is_added_and_a_stated_count_wins(reader, lookup):
    reading = reader.read("Four BME280 sensors and a DHT22 on an ESP32")
    grounded, notes = ground(answer(("esp32-devkit-v1", 1), ("bme280", 1)), reading, lookup)
    assert {(p.part, p.quantity) for p in grounded.parts} == {("esp32-devkit-v1", 1), ("bme280", 4), ("dht22", 1)}
    assert any("bme280 x4 (not x1)" in n for n in notes) and any(n.startswith("added dht22") for n in notes)


def test_a_family_name_accepts_any_member_and_an_unstated_count_is_the_models(reader, lookup):
    reading = reader.read("LEDs that blink on an Arduino Nano")
    grounded, notes = ground(answer(("arduino-nano", 1), ("led-green", 3), ("resistor", 3)), reading, lookup)
    assert [(p.part, p.quantity) for p in grounded.parts] == [("arduino-nano", 1), ("led-green", 3), ("resistor", 3)]
    assert notes == []


def test_an_unknown_name_the_request_does_not_hold_is_dropped(reader, lookup):
    reading = reader.read("ESP32 with an MLX90614 IR thermometer")
    grounded, notes = ground(answer(("esp32-devkit-v1", 1), unknown=("MLX90614", "sonic screwdriver")), reading, lookup)
    assert grounded.unknown == ["MLX90614"] and notes == [
        "left out the unknown part 'sonic screwdriver': the request does not name it"
    ]


def test_a_substitute_turns_the_unknown_part_into_a_named_one(reader, lookup):
    reading = with_substitutes(
        reader.read("ESP32 with an MLX90614 IR thermometer"), [Substitute(name="MLX90614", part="ds18b20")], lookup
    )
    assert reading.unknown == [] and [n.part for n in reading.parts] == ["esp32-devkit-v1", "ds18b20"]
    grounded, notes = ground(answer(("esp32-devkit-v1", 1), unknown=("MLX90614",)), reading, lookup,
                             [Substitute(name="MLX90614", part="ds18b20")])  # fmt: skip
    assert [p.part for p in grounded.parts] == ["esp32-devkit-v1", "ds18b20"] and grounded.unknown == []
    assert notes == ["added ds18b20: the request names MLX90614"]


def test_a_line_written_again_is_a_repetition_not_more_parts():
    line = {"part": "led-red", "quantity": 1, "role": "indicator"}
    other = {"part": "led-red", "quantity": 2, "role": "status"}
    parts = parse_answer(json.dumps({"parts": [line, line, other], "unknown": []})).parts
    assert [(p.part, p.quantity) for p in parts] == [("led-red", 3)]  # 1 (written twice) + 2 in another role
