"""Datasheet facts of the second batch of sensors (helper kb2): fingerprint readers, microphones, gas and air
sensors, light and UV sensors, water sensors, switches and keypads, and the variants of parts the catalog
already had (ACS712 ranges, mini PIRs, 3.3 V and waterproof ultrasonic sensors).

Each test reads the real curated catalog and checks what a reviewer with the datasheet or the module's
silkscreen open would check: pin numbers and names, supply limits, logic levels, I2C addresses and the
usage flags the wiring rules act on.
"""

from __future__ import annotations

import pytest

from components_db.retrieval import compact
from components_db.schema import Category, ElectricalType, Part, PinRole, SymbolKind

T = ElectricalType
R = PinRole

_KB2 = """as608-fingerprint r307-fingerprint max4466-mic max9814-mic fsr402 keypad-4x4 keypad-3x4 max6675-module
    thermocouple-k scd40 ccs811 tcs34725 apds9960 pir-am312 pir-hc-sr505 rain-sensor-fc37 flame-sensor-ky026
    reed-switch reed-module-ky021 door-contact-mc38 water-level-sensor turbidity-sensor ph-sensor-ph4502c
    tds-meter-module mq3 mq7 ttp223-touch compass-gy271 bmp180 mpu9250 tsl2561 ml8511-uv guva-s12sd-uv sht40 lm75
    tcrt5000-module jsn-sr04t mhz19b pms5003 sgp30 bme680 acs712-20a acs712-30a ina226 yf-s201-flow
    gp2y0a21-ir-distance soil-moisture-fc28 tilt-switch-sw520d vibration-sw420 sound-sensor-ky037 hc-sr04p dht20
    aht10 vl53l1x max30100"""
KB2_SENSORS = _KB2.split()
# the out-of-knowledge test cases: no part of the catalog may answer to these names
_RESERVED = """PN532 MLX90614 SCT-013 HLK-LD2410 AD8232 INMP441 MAX31865 BNO055 VEML7700 A9G SIM7000 TFmini MPR121
    HX710B AS5600 ADS1256 DRV2605L LSM6DS3 ICM-20948 TMP117"""
RESERVED = _RESERVED.split()
I2C_MODULES = {  # part id -> I2C address the spec gives (its default strapping)
    "scd40": "0x62",
    "ccs811": "0x5A",
    "tcs34725": "0x29",
    "apds9960": "0x39",
    "compass-gy271": "0x0D",
    "bmp180": "0x77",
    "mpu9250": "0x68",
    "tsl2561": "0x39",
    "sht40": "0x44",
    "sgp30": "0x58",
    "bme680": "0x77",
    "ina226": "0x40",
    "aht10": "0x38",
    "vl53l1x": "0x29",
    "max30100": "0x57",
}
BARE_I2C = {"dht20": "0x38", "lm75": "0x48"}  # no pull-ups of their own
UART_SENSORS = ("as608-fingerprint", "r307-fingerprint", "mhz19b", "pms5003")


def pin(part: Part, token: str):
    found = part.find_pin(token)
    assert found is not None, f"{part.id} has no pin {token}"
    return found


def pinout(part: Part) -> dict[str, str]:
    return {p.number: p.name for p in part.pins}


def test_every_kb2_sensor_exists_in_the_sensor_category(catalog):
    assert len(KB2_SENSORS) == len(set(KB2_SENSORS)) == 55
    for part_id in KB2_SENSORS:
        assert part_id in catalog, part_id
        assert catalog[part_id].category is Category.SENSOR, part_id


def test_no_part_answers_to_a_reserved_out_of_knowledge_name(catalog):
    reserved = {compact(name) for name in RESERVED}
    for part in catalog.values():
        names = {compact(n) for n in (part.id, part.name, *part.aliases)}
        assert not names & reserved, part.id
        assert not any(r in compact(part.name) for r in reserved), part.id


def test_entries_name_their_source_and_say_what_they_are_for(catalog):
    for part_id in KB2_SENSORS:
        part = catalog[part_id]
        assert part.datasheet and part.usage.notes and part.tags, part_id
        assert 2 <= len(part.aliases) <= 6 and all(a == a.lower() for a in part.aliases), part_id
        assert part.usage.required_pins, part_id


# --- pinouts of packages and fixed connectors ------------------------------------------------------


def test_package_and_connector_pinouts(catalog):
    assert pinout(catalog["dht20"]) == {"1": "VDD", "2": "SDA", "3": "GND", "4": "SCL"}  # not the DHT11's
    assert pinout(catalog["lm75"]) == {
        "1": "SDA", "2": "SCL", "3": "OS", "4": "GND", "5": "A2", "6": "A1", "7": "A0", "8": "VCC",
    }  # fmt: skip
    assert pinout(catalog["gp2y0a21-ir-distance"]) == {"1": "VO", "2": "GND", "3": "VCC"}
    assert pinout(catalog["pms5003"]) == {
        "1": "VCC", "2": "GND", "3": "SET", "4": "RXD", "5": "TXD", "6": "RESET", "7": "NC", "8": "NC2",
    }  # fmt: skip
    assert [p.type for p in catalog["pms5003"].pins[6:]] == [T.NO_CONNECT, T.NO_CONNECT]
    assert pinout(catalog["as608-fingerprint"]) == {"1": "VI", "2": "TX", "3": "RX", "4": "GND", "5": "WAK", "6": "VT"}
    assert pinout(catalog["r307-fingerprint"]) == {
        "1": "VCC", "2": "GND", "3": "TXD", "4": "RXD", "5": "TOUCH", "6": "3V3T",
    }  # fmt: skip
    assert [p.name for p in catalog["max6675-module"].pins[:5]] == ["GND", "VCC", "SCK", "CS", "SO"]
    assert [p.name for p in catalog["ph-sensor-ph4502c"].pins] == ["TO", "DO", "PO", "GND", "GND2", "VCC"]
    assert [p.name for p in catalog["mpu9250"].pins] == [
        "VCC", "GND", "SCL", "SDA", "EDA", "ECL", "AD0", "INT", "NCS", "FSYNC",
    ]  # fmt: skip


def test_kit_style_modules_keep_their_printed_header_order(catalog):
    for part_id in ("flame-sensor-ky026", "sound-sensor-ky037"):
        assert [p.name for p in catalog[part_id].pins] == ["AO", "GND", "VCC", "DO"], part_id
        assert pin(catalog[part_id], "G").name == "GND" and pin(catalog[part_id], "+").name == "VCC", part_id
    for part_id in ("rain-sensor-fc37", "soil-moisture-fc28", "tcrt5000-module", "mq3", "mq7"):
        assert [p.name for p in catalog[part_id].pins] == ["VCC", "GND", "DO", "AO"], part_id
    assert [p.name for p in catalog["water-level-sensor"].pins] == ["S", "VCC", "GND"]
    water = catalog["water-level-sensor"]
    assert pin(water, "+").name == "VCC" and pin(water, "-").name == "GND"
    assert [p.name for p in catalog["reed-module-ky021"].pins] == ["S", "VCC", "GND"]  # + in the middle
    for part_id in ("jsn-sr04t", "hc-sr04p"):
        assert [p.name for p in catalog[part_id].pins] == ["VCC", "TRIG", "ECHO", "GND"], part_id


def test_keypads_are_row_then_column_matrices(catalog):
    four, three = catalog["keypad-4x4"], catalog["keypad-3x4"]
    assert [p.name for p in four.pins] == ["R1", "R2", "R3", "R4", "C1", "C2", "C3", "C4"]
    assert [p.name for p in three.pins] == ["R1", "R2", "R3", "R4", "C1", "C2", "C3"]
    for pad in (four, three):
        assert all(p.type is T.PASSIVE for p in pad.pins) and pad.supply is None, pad.id
        assert set(pad.usage.required_pins) == {p.name for p in pad.pins}, pad.id
        assert pad.specs["keys"] == pad.specs["rows"] * pad.specs["columns"], pad.id


# --- supply limits and logic levels ---------------------------------------------------------------


def test_three_volt_only_parts(catalog):
    for part_id in ("as608-fingerprint", "apds9960", "aht10"):
        part = catalog[part_id]
        assert part.supply.max_v <= 3.6 and part.io_max_v <= 3.6 and part.logic_level_v == 3.3, part_id
    for part_id in ("mpu9250", "bme680"):  # 5 V regulator on the board, 3.3 V I/O
        assert catalog[part_id].supply.max_v >= 5.0 and catalog[part_id].io_max_v <= 3.6, part_id


def test_five_volt_supplies_with_three_volt_serial(catalog):
    for part_id in ("mhz19b", "pms5003", "r307-fingerprint"):
        part = catalog[part_id]
        assert part.supply.min_v >= 4.2 and part.logic_level_v == 3.3, part_id
    assert pin(catalog["pms5003"], "RXD").max_v == 3.6  # Plantower: host at 5 V needs level conversion
    touch = pin(catalog["r307-fingerprint"], "3V3T")
    assert touch.type is T.POWER_IN and touch.max_v <= 3.6  # the touch circuit runs from 3.3 V


def test_heated_gas_sensors_need_a_real_five_volt_rail(catalog):
    for part_id in ("mq3", "mq7"):
        part = catalog[part_id]
        assert part.supply.min_v >= 4.9 and part.supply.max_v <= 5.1 and part.current_draw_ma >= 150, part_id
        assert part.usage.required_pins == ["AO|DO"], part_id
    mq7 = catalog["mq7"].specs
    assert (mq7["heater_high_v"], mq7["heater_low_v"]) == (5.0, 1.4)


def test_ultrasonic_variants(catalog):
    sr04p, jsn, sr04 = catalog["hc-sr04p"], catalog["jsn-sr04t"], catalog["hc-sr04"]
    assert sr04p.supply.min_v <= 3.0 and sr04p.logic_level_v is None  # ECHO follows VCC
    assert jsn.supply.min_v >= 4.5 and jsn.logic_level_v == 5.0 and jsn.specs["range_cm"] == "25..450"
    for part in (sr04p, jsn):
        assert {"TRIG", "ECHO"} <= set(part.usage.required_pins), part.id
        assert pin(part, "TRIG").type is T.INPUT and pin(part, "ECHO").type is T.OUTPUT, part.id
    assert sr04.supply.min_v > sr04p.supply.min_v


def test_mini_pirs_differ_from_the_hc_sr501(catalog):
    big, am312, sr505 = catalog["pir-hc-sr501"], catalog["pir-am312"], catalog["pir-hc-sr505"]
    assert am312.supply.min_v == 2.7 and am312.supply.max_v == 12.0  # runs from 3.3 V, unlike the others
    assert sr505.supply.min_v == 4.5 and sr505.specs["delay_s"] == 8 and am312.specs["delay_s"] == 2
    for part in (am312, sr505):
        assert part.logic_level_v == 3.3 and part.current_draw_ma <= 0.1, part.id
        assert [p.name for p in part.pins] == ["VCC", "OUT", "GND"], part.id
        assert not {a.lower() for a in part.aliases} & {a.lower() for a in big.aliases}, part.id
        assert "pir" in part.tags and "mini" in part.tags, part.id


# --- buses ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("part_id", "address"), sorted({**I2C_MODULES, **BARE_I2C}.items()))
def test_i2c_sensors_have_both_lines_and_their_address(catalog, part_id, address):
    part = catalog[part_id]
    sda, scl = part.pins_with_role(R.I2C_SDA), part.pins_with_role(R.I2C_SCL)
    assert len(sda) == 1 and len(scl) == 1
    assert sda[0].type is T.OPEN_COLLECTOR and scl[0].type is T.INPUT
    assert {"SDA", "SCL"} <= set(part.usage.required_pins)
    assert part.specs["i2c_address"] == address
    if part_id in BARE_I2C:
        assert not part.usage.onboard_pullups and set(part.usage.pullup_required) >= {"SDA", "SCL"}
    else:
        assert part.usage.onboard_pullups and not part.usage.pullup_required


def test_lm75_is_a_bare_chip_with_address_straps(catalog):
    lm75 = catalog["lm75"]
    assert lm75.usage.decoupling_required and {"A0", "A1", "A2"} <= set(lm75.usage.required_pins)
    for name in ("A0", "A1", "A2"):
        assert R.ADDRESS in pin(lm75, name).roles and pin(lm75, name).type is T.INPUT
    assert pin(lm75, "OS").type is T.OPEN_COLLECTOR and pin(lm75, "OS").max_current_ma == 10


def test_address_and_mode_straps(catalog):
    assert R.ADDRESS in pin(catalog["tsl2561"], "ADDR").roles
    assert R.ADDRESS in pin(catalog["mpu9250"], "AD0").roles and R.MODE in pin(catalog["mpu9250"], "NCS").roles
    assert R.ADDRESS in pin(catalog["bme680"], "SDO").roles and R.MODE in pin(catalog["bme680"], "CS").roles
    for name in ("GAIN", "AR"):  # tri-level straps of the MAX9814, open by default
        assert pin(catalog["max9814-mic"], name).roles == [R.MODE]
    wake = pin(catalog["ccs811"], "WAKE")  # must be low to talk: required, tied to GND
    assert R.ENABLE in wake.roles and "WAKE" in catalog["ccs811"].usage.required_pins
    assert R.ENABLE in pin(catalog["ml8511-uv"], "EN").roles and "EN" in catalog["ml8511-uv"].usage.required_pins


def test_uart_sensors_pair_an_output_with_an_input(catalog):
    for part_id in UART_SENSORS:
        part = catalog[part_id]
        (tx,), (rx,) = part.pins_with_role(R.UART_TX), part.pins_with_role(R.UART_RX)
        assert tx.type is T.OUTPUT and rx.type is T.INPUT, part_id
    assert pin(catalog["as608-fingerprint"], "RX").max_v == 3.6
    assert catalog["mhz19b"].specs["uart_baud"] == catalog["pms5003"].specs["uart_baud"] == 9600
    assert catalog["as608-fingerprint"].specs["uart_baud_default"] == 57600
    assert catalog["pms5003"].usage.required_pins == ["TXD"]  # it streams frames unasked


def test_max6675_is_a_read_only_spi_device_bit_banged_on_any_pins(catalog):
    amp = catalog["max6675-module"]
    assert not amp.pins_with_role(R.SPI_MOSI)
    assert pin(amp, "SO").type is T.TRI_STATE and {R.SPI_MISO, R.DATA} <= set(pin(amp, "SO").roles)
    assert {R.SPI_SCK, R.CLOCK} <= set(pin(amp, "SCK").roles) and R.SPI_CS in pin(amp, "CS").roles
    assert amp.specs["resolution_c"] == 0.25 and amp.specs["range_c"] == "0..1024"


def test_thermocouple_meets_its_amplifier(catalog):
    probe, amp = catalog["thermocouple-k"], catalog["max6675-module"]
    for name in ("T+", "T-"):
        assert pin(probe, name).type is T.PASSIVE and pin(amp, name).type is T.INPUT
        assert R.ANALOG_IN in pin(amp, name).roles
    assert {"T+", "T-"} <= set(amp.usage.required_pins)
    assert probe.specs["seebeck_uv_per_c"] == 41 and probe.supply is None and probe.spice is None


# --- analog families ------------------------------------------------------------------------------


def test_acs712_sensitivity_falls_as_the_range_grows(catalog):
    expected = {"acs712-5a": (5, 185), "acs712-20a": (20, 100), "acs712-30a": (30, 66)}
    for part_id, (amps, mv_per_a) in expected.items():
        part = catalog[part_id]
        assert (part.specs["range_a"], part.specs["sensitivity_mv_per_a"]) == (amps, mv_per_a), part_id
        assert part.specs["zero_current_v"] == 2.5 and part.supply.min_v >= 4.5, part_id
        assert [p.name for p in part.pins] == ["VCC", "OUT", "GND", "IP+", "IP-"], part_id
        assert 2.5 + amps * mv_per_a / 1000 <= 5.0, part_id  # full scale stays inside the 5 V output swing


def test_ina226_shunt_sets_its_full_scale(catalog):
    ina = catalog["ina226"]
    assert ina.specs["shunt_ohm"] == 0.1 and ina.specs["bus_max_v"] == 36
    assert ina.specs["max_current_a"] == pytest.approx(0.08192 / 0.1, abs=0.01)  # 81.92 mV full scale
    for name in ("IN+", "IN-", "VBS"):
        assert pin(ina, name).max_v == 36.0, name
    assert ina.supply.min_v == 2.7 and ina.supply.max_v == 5.5


def test_analog_outputs_that_stay_inside_a_three_volt_adc(catalog):
    assert catalog["tds-meter-module"].specs["output_v"] == "0..2.3"
    assert catalog["guva-s12sd-uv"].specs["output_v"] == "0..1"
    assert catalog["ml8511-uv"].specs["output_v_15mw"] == 2.8
    assert catalog["max9814-mic"].specs["output_bias_v"] == 1.25
    assert catalog["gp2y0a21-ir-distance"].specs["output_v"] == "0.4..3.1"
    assert catalog["turbidity-sensor"].specs["output_v"] == "0..4.5"  # this one needs a divider
    for part_id in ("max4466-mic", "max9814-mic", "guva-s12sd-uv", "gp2y0a21-ir-distance", "tds-meter-module"):
        outputs = catalog[part_id].pins_with_role(R.ANALOG_OUT)
        assert len(outputs) == 1 and outputs[0].type is T.OUTPUT, part_id


def test_comparator_boards_offer_either_output(catalog):
    for part_id in ("rain-sensor-fc37", "soil-moisture-fc28", "flame-sensor-ky026", "sound-sensor-ky037", "mq3"):
        part = catalog[part_id]
        assert any("|" in group for group in part.usage.required_pins), part_id
        assert part.pins_with_role(R.ANALOG_OUT) and part.pins_with_role(R.DIGITAL_OUT), part_id
    assert catalog["tcrt5000-module"].specs["best_distance_mm"] == 2.5
    assert catalog["yf-s201-flow"].specs["pulses_per_litre"] == 450  # 7.5 Hz per L/min x 60 s


# --- bare passive sensors -------------------------------------------------------------------------


def test_force_sensing_resistor_is_a_resistive_divider_sensor(catalog):
    fsr = catalog["fsr402"]
    assert fsr.is_two_terminal and fsr.symbol is SymbolKind.RESISTOR and fsr.spice.kind == "resistor"
    assert fsr.default_value == "10k" and fsr.supply is None
    assert fsr.usage.required_pins == ["1", "2"]
    assert any("divider" in note for note in fsr.usage.notes)


def test_bare_magnetic_and_tilt_switches_are_switches(catalog):
    for part_id in ("reed-switch", "door-contact-mc38", "tilt-switch-sw520d"):
        part = catalog[part_id]
        assert part.is_two_terminal and part.symbol is SymbolKind.SWITCH and part.ftype == "simple_switch", part_id
        assert part.spice.kind == "switch" and all(p.type is T.PASSIVE for p in part.pins), part_id
        assert part.usage.required_pins == ["1", "2"] and part.supply is None, part_id
        assert any("INPUT_PULLUP" in note for note in part.usage.notes), part_id
    module = catalog["reed-module-ky021"]  # the same reed with its 10k pull-up on a board
    assert module.specs["pullup_ohm"] == 10000 and module.specs["active_low"] and not module.usage.pullup_required


def test_water_sensors_warn_about_corrosion_and_levels(catalog):
    for part_id in ("water-level-sensor", "rain-sensor-fc37", "soil-moisture-fc28"):
        assert any("corrode" in note for note in catalog[part_id].usage.notes), part_id
    ph = catalog["ph-sensor-ph4502c"]
    assert len(ph.pins_with_role(R.GROUND)) == 2 and ph.supply.min_v >= 4.8
    assert ph.usage.required_pins == ["PO"]
