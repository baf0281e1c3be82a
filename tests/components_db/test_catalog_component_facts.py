"""Datasheet facts of the actuator, driver, power, passive, discrete and IC parts of the catalog (boards and
modules: test_catalog_module_facts.py).

Each test reads the real curated catalog and checks what a reviewer with the datasheet open would
check: pin numbers of DIP and TO packages, supply and output voltages, the usage flags the
electrical-rule checks act on, and whether the SPICE parameters reproduce datasheet values.
"""

import math

import pytest

from components_db.schema import Category, ElectricalType, Part, PinRole, SymbolKind

PLANNED = {
    Category.ACTUATOR: """servo-sg90 servo-mg996r dc-motor-6v stepper-28byj48 stepper-nema17 relay-5v relay-module-1ch
        relay-module-2ch solenoid-12v buzzer-active buzzer-passive water-pump-5v vibration-motor fan-12v""",
    Category.DRIVER: """l298n-module l293d drv8833-module tb6612fng-module a4988-module drv8825-module uln2003-board
        irf520-mosfet-module pca9685-servo-driver""",
    Category.POWER: """lm7805 ams1117-3v3 lm317 lm2596-buck mt3608-boost tp4056-charger battery-9v battery-lipo-1s
        battery-18650 battery-pack-4xaa usb-power-5v dc-supply-12v solar-panel-6v""",
    Category.PASSIVE: """resistor capacitor-ceramic capacitor-electrolytic inductor potentiometer thermistor-ntc-10k
        fuse crystal-16mhz""",
    Category.DISCRETE: """led-red led-green led-blue led-yellow led-white led-rgb-cc diode-1n4007 diode-1n4148
        diode-1n5819 zener-1n4733a npn-2n2222 npn-bc547 npn-tip120 pnp-2n3906 nmos-2n7000 nmos-irlz44n pmos-irf9540
        push-button slide-switch toggle-switch""",
    Category.IC: """ne555 lm358 lm741 lm393 74hc595 74hc165 cd4051 level-shifter-bss138-4ch pcf8574-module
        ads1115-module ds3231-rtc mcp23017""",
}
COMPONENT_CATEGORIES = set(PLANNED)
THERMAL_VOLTAGE = 0.02585  # kT/q at 27 C, as ngspice uses by default


@pytest.fixture(scope="module")
def components(catalog) -> list[Part]:
    return [part for part in catalog.values() if part.category in COMPONENT_CATEGORIES]


def pin(part: Part, number: str):
    found = next((p for p in part.pins if p.number == number), None)
    assert found is not None, f"{part.id} has no pin {number}"
    return found


def pinout(part: Part) -> dict[str, str]:
    return {p.number: p.name for p in part.pins}


def diode_voltage(params: dict[str, float], current_a: float) -> float:
    """Forward voltage of the SPICE diode model (Shockley equation plus series resistance)."""
    return params["n"] * THERMAL_VOLTAGE * math.log(current_a / params["is_a"] + 1) + current_a * params["rs_ohm"]


@pytest.mark.parametrize("category", sorted(PLANNED))
def test_every_planned_part_exists_in_its_category(catalog, category):
    for part_id in PLANNED[category].split():
        assert part_id in catalog, part_id
        assert catalog[part_id].category is category, part_id


def test_entries_are_findable_and_documented(components):
    for part in components:
        assert 2 <= len(part.aliases) <= 6, part.id
        assert len(part.description) >= 30, part.id
        if part.symbol is SymbolKind.CHIP and len(part.pins) > 3:
            assert part.datasheet, f"{part.id}: a multi-pin part names the source of its pinout"


def test_coils_and_motors_are_inductive(components):
    for part in components:
        coil = any(PinRole.COIL in p.roles for p in part.pins)
        motor = part.symbol is SymbolKind.MOTOR or (part.category is Category.ACTUATOR and "motor" in part.tags)
        if coil or motor:
            assert part.usage.inductive, part.id
    inductive_loads = {
        "dc-motor-6v", "stepper-28byj48", "stepper-nema17", "solenoid-12v", "water-pump-5v", "vibration-motor",
        "fan-12v", "buzzer-passive", "relay-5v",
    }  # fmt: skip
    for part_id in inductive_loads:
        part = next(p for p in components if p.id == part_id)
        assert part.usage.inductive and not part.usage.flyback_included, part_id
        assert any("diode" in note or "driver" in note for note in part.usage.notes), part_id


def test_modules_with_their_own_driver_need_no_extra_flyback(catalog):
    for part_id in ("relay-module-1ch", "relay-module-2ch", "servo-sg90", "servo-mg996r"):
        assert catalog[part_id].usage.inductive and catalog[part_id].usage.flyback_included, part_id
    for part_id in ("l298n-module", "l293d", "drv8833-module", "tb6612fng-module", "a4988-module", "uln2003-board"):
        assert catalog[part_id].usage.flyback_included, part_id
    assert not catalog["irf520-mosfet-module"].usage.flyback_included  # the bare board has no diode


def test_every_led_needs_a_resistor_and_has_an_led_model(components):
    leds = [p for p in components if (p.spice and p.spice.kind == "led") or p.ftype == "simple_led"]
    assert len(leds) >= 6
    for led in leds:
        assert led.usage.series_resistor_required, led.id
        assert led.spice is not None and led.spice.kind == "led", led.id
        params = led.spice.params
        if led.specs.get("color") == "infrared":  # a 940 nm IR LED: about 1.2 V, rated up to 100 mA
            assert 1.0 <= params["vf_v"] < 1.6 and params["if_ma"] < params["max_ma"] <= 100, led.id
        else:
            assert 1.6 <= params["vf_v"] <= 3.6 and params["if_ma"] < params["max_ma"] <= 50, led.id
        assert {r for p in led.pins for r in p.roles} == {PinRole.ANODE, PinRole.CATHODE}, led.id
        if led.wokwi_type == "wokwi-led":
            assert led.wokwi_pins == {"K": "C"}, led.id  # Wokwi names the cathode C


def test_led_forward_voltage_follows_the_colour(catalog):
    vf = {
        colour: catalog[f"led-{colour}"].spice.params["vf_v"] for colour in ("red", "yellow", "green", "blue", "white")
    }
    assert vf["red"] < vf["blue"] and vf["yellow"] < vf["white"]
    assert max(vf["red"], vf["yellow"], vf["green"]) < 2.5 < min(vf["blue"], vf["white"])


def test_rgb_led_is_common_cathode_with_the_usual_lead_order(catalog):
    led = catalog["led-rgb-cc"]
    assert pinout(led) == {"1": "R", "2": "K", "3": "G", "4": "B"}
    assert pin(led, "2").roles == [PinRole.CATHODE]
    assert led.wokwi_pins == {"K": "COM"}


def test_fixed_regulators_output_below_their_input_minimum(components):
    regulators = [p for p in components if p.spice and p.spice.kind in ("regulator", "switching_regulator")]
    assert {p.id for p in regulators} >= {"lm7805", "ams1117-3v3", "lm317", "lm2596-buck", "mt3608-boost"}
    for part in regulators:
        outputs = [p for p in part.pins if p.type is ElectricalType.POWER_OUT]
        assert len(outputs) == 1, part.id
        assert outputs[0].max_current_ma == part.spice.params["max_ma"], part.id
        assert part.supply is not None, part.id
        if outputs[0].voltage is None:  # adjustable: set by resistors on its feedback pin
            assert part.pins_with_role(PinRole.FEEDBACK), part.id
            continue
        assert outputs[0].voltage == part.spice.params["vout_v"], part.id
        if "boost" in part.tags:  # a boost module's output is above its (nominal) input
            assert outputs[0].voltage > part.supply.nominal_v
        else:
            dropout = part.spice.params.get("dropout_v", 0.0)
            assert outputs[0].voltage + dropout <= part.supply.min_v, part.id
        assert part.pins_with_role(PinRole.GROUND), part.id


def test_regulator_package_pin_orders(catalog):
    assert pinout(catalog["lm7805"]) == {"1": "IN", "2": "GND", "3": "OUT"}  # TO-220
    assert pinout(catalog["ams1117-3v3"]) == {"1": "GND", "2": "OUT", "3": "IN"}  # SOT-223
    assert pinout(catalog["lm317"]) == {"1": "ADJ", "2": "OUT", "3": "IN"}  # TO-220
    assert catalog["lm317"].spice.params["vout_v"] == pytest.approx(1.25)  # reference between OUT and ADJ


def test_batteries_and_supplies_source_their_rail(components):
    sources = [p for p in components if p.spice and p.spice.kind == "source"]
    assert len(sources) >= 7
    for part in sources:
        plus, minus = part.find_pin("+"), part.find_pin("-")
        assert plus.type is minus.type is ElectricalType.POWER_OUT, part.id
        assert PinRole.GROUND in minus.roles and minus.voltage == 0.0, part.id
        assert plus.voltage > 0 and part.spice.params["r_internal_ohm"] > 0, part.id
        if part.id == "solar-panel-6v":  # open-circuit voltage that sags to Vmp at Imp
            params = part.spice.params
            at_imp = params["voltage_v"] - params["r_internal_ohm"] * plus.max_current_ma / 1000
            assert at_imp == pytest.approx(plus.voltage, abs=0.05)
        else:
            assert part.spice.params["voltage_v"] == plus.voltage, part.id
        if part.ftype == "simple_battery":
            assert part.specs["capacity_mah"] > 0, part.id


def test_lipo_charger_protects_the_load_side(catalog):
    charger = catalog["tp4056-charger"]
    assert charger.find_pin("B+").type is ElectricalType.POWER_IN  # the cell drives it
    assert charger.find_pin("OUT+").voltage == pytest.approx(3.7)
    assert PinRole.GROUND in charger.find_pin("OUT-").roles
    assert charger.specs["charge_voltage_v"] == pytest.approx(4.2)


def test_ne555_dip8_pinout(catalog):
    timer = catalog["ne555"]
    assert pinout(timer) == {
        "1": "GND", "2": "TRIG", "3": "OUT", "4": "RESET", "5": "CONT", "6": "THRES", "7": "DISCH", "8": "VCC",
    }  # fmt: skip
    assert pin(timer, "8").type is ElectricalType.POWER_IN and PinRole.POWER_IN in pin(timer, "8").roles
    assert PinRole.GROUND in pin(timer, "1").roles
    assert pin(timer, "7").type is ElectricalType.OPEN_COLLECTOR
    assert timer.spice.kind == "timer555"


def test_dual_op_amp_and_comparator_share_the_dip8_pinout(catalog):
    expected = {"1": "1OUT", "2": "1IN-", "3": "1IN+", "4": "GND", "5": "2IN+", "6": "2IN-", "7": "2OUT", "8": "VCC"}
    assert pinout(catalog["lm358"]) == pinout(catalog["lm393"]) == expected
    comparator = catalog["lm393"]
    outputs = [p for p in comparator.pins if p.name.endswith("OUT")]
    assert all(p.type is ElectricalType.OPEN_COLLECTOR for p in outputs)
    assert sorted(comparator.usage.pullup_required) == sorted(p.name for p in outputs)
    assert catalog["lm358"].find_pin("1OUT").type is ElectricalType.OUTPUT


def test_lm741_pinout(catalog):
    opamp = catalog["lm741"]
    assert [pinout(opamp)[n] for n in ("2", "3", "4", "6", "7")] == ["IN-", "IN+", "V-", "OUT", "V+"]
    assert pin(opamp, "8").type is ElectricalType.NO_CONNECT
    assert opamp.supply.min_v >= 10  # not a 5 V part


def test_74hc595_dip16_pinout(catalog):
    chip = catalog["74hc595"]
    names = pinout(chip)
    assert [names[str(n)] for n in range(1, 8)] == ["QB", "QC", "QD", "QE", "QF", "QG", "QH"]
    assert (names["8"], names["15"], names["16"]) == ("GND", "QA", "VCC")
    assert (names["10"], names["11"], names["12"], names["13"], names["14"]) == ("SRCLR", "SRCLK", "RCLK", "OE", "SER")
    assert chip.find_pin("Q7S").number == "9"  # serial out, Nexperia's name
    assert chip.wokwi_pins["SER"] == "DS" and chip.wokwi_pins["RCLK"] == "STCP"


def test_74hc165_and_cd4051_pinouts(catalog):
    shift_in = pinout(catalog["74hc165"])
    assert (shift_in["1"], shift_in["2"], shift_in["9"], shift_in["10"], shift_in["15"]) == (
        "SH/LD", "CLK", "QH", "SER", "CLK_INH",
    )  # fmt: skip
    assert [shift_in[str(n)] for n in (11, 12, 13, 14, 3, 4, 5, 6)] == list("ABCDEFGH")
    mux = pinout(catalog["cd4051"])
    assert [mux[str(n)] for n in (13, 14, 15, 12, 1, 5, 2, 4)] == [f"CH{i}" for i in range(8)]
    assert (mux["3"], mux["6"], mux["7"], mux["8"], mux["16"]) == ("COM", "INH", "VEE", "VSS", "VDD")


def test_mcp23017_dip28_pinout(catalog):
    chip = catalog["mcp23017"]
    names = pinout(chip)
    assert [names[str(n)] for n in range(1, 9)] == [f"GPB{i}" for i in range(8)]
    assert [names[str(n)] for n in range(21, 29)] == [f"GPA{i}" for i in range(8)]
    assert (names["9"], names["10"], names["12"], names["13"], names["18"]) == ("VDD", "VSS", "SCL", "SDA", "RESET")
    assert set(chip.usage.pullup_required) == {"SDA", "SCL"}  # a bare chip carries no pull-ups


def test_bare_chips_list_every_pin_and_want_decoupling(components):
    bare = [p for p in components if p.category in (Category.IC, Category.DRIVER, Category.POWER) and "DIP" in p.name]
    assert {p.id for p in bare} >= {"ne555", "lm358", "lm741", "lm393", "74hc595", "74hc165", "cd4051", "mcp23017"}
    for part in bare:
        assert [p.number for p in part.pins] == [str(n) for n in range(1, len(part.pins) + 1)], part.id
        assert f"DIP-{len(part.pins)}" in part.name, part.id
        assert part.usage.decoupling_required, part.id
        assert sum(PinRole.POWER_IN in p.roles for p in part.pins) >= 1, part.id
        assert sum(PinRole.GROUND in p.roles for p in part.pins) >= 1, part.id


def test_l293d_pins_and_supplies(catalog):
    chip = catalog["l293d"]
    assert {pinout(chip)[n] for n in ("4", "5", "12", "13")} == {"GND", "GND2", "GND3", "GND4"}
    assert pin(chip, "16").name == "VCC1" and pin(chip, "16").max_v == 7.0
    assert pin(chip, "8").name == "VCC2" and pin(chip, "8").max_v == 36.0


def test_i2c_parts_say_where_their_pull_ups_are(components):
    for part in components:
        sda = part.pins_with_role(PinRole.I2C_SDA)
        if not sda:
            continue
        assert sda[0].type is ElectricalType.OPEN_COLLECTOR, part.id
        assert part.usage.onboard_pullups or sda[0].name in part.usage.pullup_required, part.id


def test_motor_drivers_have_logic_inputs_and_motor_outputs(components):
    drivers = [p for p in components if p.category is Category.DRIVER and p.id != "pca9685-servo-driver"]
    for part in drivers:
        outputs = part.pins_with_role(PinRole.MOTOR_OUT) + part.pins_with_role(PinRole.DRAIN)
        assert outputs, part.id
        assert all(p.type in (ElectricalType.OUTPUT, ElectricalType.OPEN_COLLECTOR) for p in outputs), part.id
        inputs = [p for p in part.pins if p.type is ElectricalType.INPUT]
        assert inputs, part.id
    a4988 = next(p for p in drivers if p.id == "a4988-module")
    assert a4988.find_pin("STEP").roles == [PinRole.STEP] and a4988.find_pin("DIR").roles == [PinRole.DIRECTION]
    assert a4988.find_pin("VMOT").min_v == 8.0


def test_stepper_coils_pair_with_driver_outputs(catalog):
    motor, a4988, drv8825 = catalog["stepper-nema17"], catalog["a4988-module"], catalog["drv8825-module"]
    for coil_pin in motor.pins:
        driver_names = [alias for alias in coil_pin.aliases if alias[:1].isdigit()]
        assert len(driver_names) == 1 and a4988.find_pin(driver_names[0]) is not None, coil_pin.name
        assert drv8825.find_pin(driver_names[0]) is not None, coil_pin.name


TRANSISTOR_PINOUTS = {
    "npn-2n2222": "EBC",
    "npn-bc547": "CBE",
    "npn-tip120": "BCE",
    "pnp-2n3906": "EBC",
    "nmos-2n7000": "SGD",
    "nmos-irlz44n": "GDS",
    "pmos-irf9540": "GDS",
}
ROLE_LETTER = {
    PinRole.EMITTER: "E",
    PinRole.BASE: "B",
    PinRole.COLLECTOR: "C",
    PinRole.GATE: "G",
    PinRole.DRAIN: "D",
    PinRole.SOURCE: "S",
}


@pytest.mark.parametrize(("part_id", "order"), sorted(TRANSISTOR_PINOUTS.items()))
def test_transistor_package_pinouts(catalog, part_id, order):
    part = catalog[part_id]
    assert "".join(ROLE_LETTER[pin(part, str(n)).roles[0]] for n in (1, 2, 3)) == order
    assert "".join(p.name for p in part.pins) == order
    control = part.pins_with_role(PinRole.BASE) + part.pins_with_role(PinRole.GATE)
    assert [p.type for p in control] == [ElectricalType.INPUT]
    polarity = part.spice.params["polarity"]
    assert polarity == (1 if part.symbol in (SymbolKind.NPN, SymbolKind.NMOS) else -1)


def test_mosfet_thresholds_match_their_gate_drive(catalog):
    assert catalog["nmos-irlz44n"].spice.params["vto_v"] <= 2.0  # logic level: on from a 3.3-5 V GPIO
    assert 0.8 <= catalog["nmos-2n7000"].spice.params["vto_v"] <= 3.0
    assert -4.0 <= catalog["pmos-irf9540"].spice.params["vto_v"] <= -2.0


@pytest.mark.parametrize(
    ("part_id", "current_a", "max_vf"),
    [("diode-1n4148", 0.01, 1.0), ("diode-1n4007", 1.0, 1.1), ("diode-1n5819", 1.0, 0.6), ("zener-1n4733a", 0.2, 1.2)],
)
def test_diode_models_meet_the_datasheet_forward_voltage(catalog, part_id, current_a, max_vf):
    part = catalog[part_id]
    assert pinout(part) == {"1": "A", "2": "K"}
    assert 0.3 < diode_voltage(part.spice.params, current_a) <= max_vf


def test_schottky_drops_less_than_silicon_and_zener_breaks_at_its_rating(catalog):
    schottky = diode_voltage(catalog["diode-1n5819"].spice.params, 1.0)
    silicon = diode_voltage(catalog["diode-1n4007"].spice.params, 1.0)
    assert schottky < silicon - 0.2
    zener = catalog["zener-1n4733a"]
    assert zener.spice.params["bv_v"] == zener.specs["vz_v"] == 5.1
    assert zener.symbol is SymbolKind.ZENER


def test_two_pin_passives_and_the_potentiometer(components):
    for part in components:
        if part.category is Category.PASSIVE and len(part.pins) == 2:
            assert [p.number for p in part.pins] == ["1", "2"], part.id
            assert part.default_value, part.id
    pot = next(p for p in components if p.id == "potentiometer")
    assert pinout(pot) == {"1": "1", "2": "W", "3": "3"}
    assert pot.find_pin("W").roles == [PinRole.WIPER]
    assert pot.wokwi_pins == {"1": "GND", "W": "SIG", "3": "VCC"}


def test_electrolytic_is_polarised_and_crystal_carries_its_frequency(catalog):
    cap = catalog["capacitor-electrolytic"]
    assert cap.symbol is SymbolKind.CAPACITOR_POLARIZED
    assert cap.find_pin("+").number == "1" and PinRole.CATHODE in cap.find_pin("-").roles
    assert catalog["crystal-16mhz"].specs["frequency_hz"] == 16_000_000
    fuse = catalog["fuse"]
    assert fuse.specs["current_rating_a"] > 0 and fuse.specs["voltage_rating_v"] > 0


def test_servos_and_buzzers_map_to_wokwi_pins(catalog):
    for part_id in ("servo-sg90", "servo-mg996r"):
        servo = catalog[part_id]
        assert pinout(servo) == {"1": "GND", "2": "VCC", "3": "PWM"}  # brown, red, orange
        assert servo.wokwi_pins == {"VCC": "V+"}
        assert servo.current_draw_ma >= 500 and servo.specs["current_draw_basis"] == "stall"
    for part_id in ("buzzer-active", "buzzer-passive"):
        assert catalog[part_id].wokwi_pins == {"+": "2", "-": "1"}  # Wokwi: 1 black, 2 red


def test_inductive_actuators_draw_more_than_a_gpio_can_source(components):
    gpio_limit_ma = 20  # ESP32 / AVR recommended per-pin current
    for part in components:
        if part.category is Category.ACTUATOR and part.usage.inductive:
            assert part.current_draw_ma is not None and part.current_draw_ma > gpio_limit_ma, part.id
