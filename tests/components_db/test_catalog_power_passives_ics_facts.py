"""Datasheet facts of the power, passive, discrete and IC parts added to reach 300 parts (helper kb4).

As in test_catalog_component_facts.py, each test reads the real curated catalog and checks what a
reviewer with the datasheet open would check: package pin orders, supply and output voltages, the
usage flags the electrical-rule checks act on, and that the SPICE parameters reproduce datasheet values.
"""

from __future__ import annotations

import math

import pytest

from components_db.schema import Category, ElectricalType, Part, PinRole, SymbolKind
from components_db.values import parse_value
from spice.simulate import simulate
from studio.circuit.design import Design
from studio.circuit.resolve import resolve

R = PinRole
T = ElectricalType
ADDED = {
    Category.POWER: """xl6009-boost mp1584-buck ams1117-5v0 lm2940-5v0 lm7812 ld1117v33 78l05 mcp1700-3302 ht7333
        hlk-pm01 hlk-pm12 dc-barrel-jack usb-c-pd-trigger usb-c-breakout ip5306-module""",
    Category.PASSIVE: """ferrite-bead trimmer-3296 ptc-fuse-500ma crystal-32768 crystal-8mhz varistor-14d471k
        capacitor-film-x2 capacitor-tantalum""",
    Category.DISCRETE: """led-ir-940nm photodiode-bpw34 phototransistor-tept4400 tvs-smbj5v0a diode-ss34 diode-1n5822
        zener-1n4728a pnp-bc557 nmos-irf540n nmos-ao3400 nmos-bss138 optocoupler-pc817 moc3021 triac-bt136
        diode-1n5408 bridge-rectifier-df10m npn-s8050 pnp-s8550""",
    Category.IC: """ds1307 ds1307-tiny-rtc tca9548a-module cd74hc4067-module 74hc14 74hc04 74ahct125 txs0108e-module
        mcp3008 mcp4725-module pcf8591-module 24lc256 lm324 cd4017""",
}
ADDED_IDS = [part_id for ids in ADDED.values() for part_id in ids.split()]
THERMAL_VOLTAGE = 0.02585  # kT/q at 27 C, as ngspice uses by default


def pinout(part: Part) -> dict[str, str]:
    return {p.number: p.name for p in part.pins}


def pin(part: Part, token: str):
    found = part.find_pin(token)
    assert found is not None, f"{part.id} has no pin {token}"
    return found


def output(part: Part):
    (out,) = [p for p in part.pins if p.type is T.POWER_OUT and R.GROUND not in p.roles]
    return out


def diode_voltage(params: dict[str, float], current_a: float) -> float:
    """Forward voltage of the SPICE diode model (Shockley equation plus series resistance)."""
    return params["n"] * THERMAL_VOLTAGE * math.log(current_a / params["is_a"] + 1) + current_a * params["rs_ohm"]


def operating_point(catalog, parts: list[tuple[str, str, str | None]], nets: dict[str, list[str]]):
    design = Design.model_validate(
        {
            "parts": [{"ref": r, "part": p, **({"value": v} if v else {})} for r, p, v in parts],
            "nets": [{"name": name, "pins": pins} for name, pins in nets.items()],
        }
    )
    report = simulate(resolve(design, catalog))
    assert report.ok, report.error
    return report.operating_point


# --- every added part ----------------------------------------------------------------------------


@pytest.mark.parametrize("category", sorted(ADDED))
def test_every_added_part_exists_in_its_category(catalog, category):
    for part_id in ADDED[category].split():
        assert part_id in catalog, part_id
        assert catalog[part_id].category is category, part_id


@pytest.mark.parametrize("part_id", ADDED_IDS)
def test_added_parts_are_findable_documented_and_sourced(catalog, part_id):
    part = catalog[part_id]
    assert 2 <= len(part.aliases) <= 6
    assert all(alias == alias.lower() for alias in part.aliases)
    assert len(part.description) >= 30 and part.tags and part.usage.notes
    if len(part.pins) > 2 or part.category in (Category.POWER, Category.IC):
        assert part.datasheet, "a part with a pinout names where it comes from"


def test_mains_parts_are_marked_and_warn(catalog):
    mains = [p for p in catalog.values() if p.id in ADDED_IDS and p.specs.get("mains") is True]
    assert {p.id for p in mains} == {
        "hlk-pm01", "hlk-pm12", "varistor-14d471k", "capacitor-film-x2", "moc3021", "triac-bt136",
    }  # fmt: skip
    for part in mains:
        assert "mains" in part.tags, part.id
        assert any("mains" in note.lower() for note in part.usage.notes), part.id


# --- power -----------------------------------------------------------------------------------------

LINEAR_PINOUTS = {
    "ams1117-5v0": {"1": "GND", "2": "OUT", "3": "IN"},  # SOT-223, tab = OUT
    "ld1117v33": {"1": "GND", "2": "OUT", "3": "IN"},  # ST TO-220, tab = OUT
    "lm2940-5v0": {"1": "IN", "2": "GND", "3": "OUT"},  # TO-220, tab = GND
    "lm7812": {"1": "IN", "2": "GND", "3": "OUT"},
    "78l05": {"1": "OUT", "2": "GND", "3": "IN"},  # TO-92: the reverse of a 7805
    "mcp1700-3302": {"1": "GND", "2": "IN", "3": "OUT"},  # TO-92
    "ht7333": {"1": "GND", "2": "IN", "3": "OUT"},  # TO-92
}
LINEAR_OUTPUTS = {  # part id: (output V, max output mA, datasheet dropout V)
    "ams1117-5v0": (5.0, 1000, 1.1),
    "ld1117v33": (3.3, 800, 1.0),
    "lm2940-5v0": (5.0, 1000, 0.5),
    "lm7812": (12.0, 1500, 2.0),
    "78l05": (5.0, 100, 1.7),
    "mcp1700-3302": (3.3, 250, 0.178),
    "ht7333": (3.3, 250, 0.1),
}


@pytest.mark.parametrize(("part_id", "expected"), sorted(LINEAR_PINOUTS.items()))
def test_linear_regulator_package_pin_orders(catalog, part_id, expected):
    part = catalog[part_id]
    assert pinout(part) == expected
    assert pin(part, "IN").type is T.POWER_IN and R.POWER_IN in pin(part, "IN").roles
    assert R.GROUND in pin(part, "GND").roles


@pytest.mark.parametrize(("part_id", "expected"), sorted(LINEAR_OUTPUTS.items()))
def test_linear_regulators_output_their_voltage_above_their_dropout(catalog, part_id, expected):
    part = catalog[part_id]
    volts, max_ma, dropout = expected
    out = output(part)
    assert (out.voltage, out.max_current_ma) == (volts, max_ma)
    assert part.spice.kind == "regulator"
    assert part.spice.params == {
        "vout_v": volts, "dropout_v": dropout, "iq_ma": part.current_draw_ma, "max_ma": max_ma,
    }  # fmt: skip
    assert volts + dropout <= part.supply.min_v == pin(part, "IN").min_v
    assert part.usage.decoupling_required


def test_low_quiescent_ldos_suit_batteries_and_the_others_do_not(catalog):
    assert catalog["mcp1700-3302"].current_draw_ma < 0.002 and catalog["ht7333"].current_draw_ma < 0.005
    assert catalog["mcp1700-3302"].supply.max_v == 6.0  # its absolute limit: not from 9 V
    assert catalog["ht7333"].supply.max_v == 12.0
    assert catalog["lm2940-5v0"].current_draw_ma >= 10  # a PNP pass transistor's ground current
    assert catalog["lm2940-5v0"].specs["output_capacitor_uf"] == 22


def test_switching_modules_step_the_right_way(catalog):
    boost, buck = catalog["xl6009-boost"], catalog["mp1584-buck"]
    assert output(boost).voltage > boost.supply.nominal_v  # 5 V in, 12 V out
    assert boost.specs["switch_current_a"] == 4.0 and boost.specs["vout_max_v"] == 35
    assert output(buck).voltage < buck.supply.min_v  # 5 V out from 6.5 V or more
    assert buck.specs["switching_khz"] == 1500 and buck.specs["vin_chip_min_v"] == 4.5
    for part in (boost, buck):
        assert part.spice.kind == "switching_regulator"
        assert part.spice.params["vout_v"] == output(part).voltage
        assert part.spice.params["max_ma"] == output(part).max_current_ma
        assert [p.name for p in part.pins] == ["IN+", "IN-", "OUT+", "OUT-"]


@pytest.mark.parametrize(("part_id", "volts", "max_ma"), [("hlk-pm01", 5.0, 600), ("hlk-pm12", 12.0, 250)])
def test_mains_modules_take_ac_and_give_an_isolated_rail(catalog, part_id, volts, max_ma):
    part = catalog[part_id]
    assert pinout(part) == {"1": "AC_L", "2": "AC_N", "3": "-VO", "4": "+VO"}  # KiCad Converter_ACDC
    for ac in ("AC_L", "AC_N"):
        assert pin(part, ac).type is T.POWER_IN and (pin(part, ac).min_v, pin(part, ac).max_v) == (90.0, 264.0)
        assert R.GROUND not in pin(part, ac).roles  # neutral is never the circuit's ground
    assert (output(part).voltage, output(part).max_current_ma) == (volts, max_ma)
    assert R.GROUND in pin(part, "-VO").roles and part.specs["isolated"] is True
    assert volts * max_ma / 1000 == pytest.approx(part.specs["power_w"], rel=0.01)


SOURCES = {"dc-barrel-jack": 12.0, "usb-c-pd-trigger": 12.0, "usb-c-breakout": 5.0}


@pytest.mark.parametrize(("part_id", "volts"), sorted(SOURCES.items()))
def test_connectors_that_bring_a_supply_are_sources(catalog, part_id, volts):
    part = catalog[part_id]
    plus, minus = part.find_pin("+"), part.find_pin("-")
    assert plus.type is minus.type is T.POWER_OUT
    assert plus.voltage == part.spice.params["voltage_v"] == volts
    assert R.GROUND in minus.roles and minus.voltage == 0.0
    assert part.spice.kind == "source" and part.spice.params["r_internal_ohm"] > 0
    assert part.ftype == "simple_power_source"


def test_usb_c_breakout_pins_are_its_receptacle_contacts(catalog):
    usb = catalog["usb-c-breakout"]
    assert pinout(usb) == {"A9": "VBUS", "A12": "GND", "A6": "D+", "A7": "D-", "A5": "CC1", "B5": "CC2"}
    assert pin(usb, "D+").roles == [R.USB_DP] and pin(usb, "D-").roles == [R.USB_DM]
    assert usb.specs["cc_pulldown_ohm"] == 5100
    assert set(usb.usage.required_pins) == {"D+", "D-"}


def test_pd_trigger_and_barrel_jack_say_what_they_assume(catalog):
    trigger = catalog["usb-c-pd-trigger"]
    assert trigger.specs["voltage_options_v"] == "5/9/12/15/20"
    assert output(trigger).max_current_ma == 3000
    jack = catalog["dc-barrel-jack"]
    assert pinout(jack) == {"1": "+", "2": "-"}  # centre pin, sleeve (KiCad Barrel_Jack numbering)
    assert "centre positive" in jack.specs["plug"]


def test_power_bank_module_charges_the_cell_and_boosts_to_5v(catalog):
    bank = catalog["ip5306-module"]
    assert output(bank).voltage == 5.0 and output(bank).max_current_ma == 2400
    bat = pin(bank, "BAT")
    assert bat.type is T.POWER_IN and (bat.min_v, bat.max_v) == (3.0, 4.2)
    assert bank.specs["charge_current_a"] == 2.1 and bank.specs["auto_off_below_ma"] == 50
    assert bank.spice.kind == "module"


def test_regulators_simulate_to_their_rated_output(catalog):
    op = operating_point(
        catalog,
        [("PS", "dc-supply-12v", None), ("U1", "78l05", None), ("R1", "resistor", "1k")],
        {"VS": ["PS.+", "U1.IN"], "5V": ["U1.OUT", "R1.1"], "GND": ["PS.-", "U1.GND", "R1.2"]},
    )
    assert op.node_voltages["5V"] == pytest.approx(5.0, abs=0.02)
    op = operating_point(
        catalog,
        [("BT1", "battery-lipo-1s", None), ("U1", "mcp1700-3302", None), ("R1", "resistor", "100")],
        {"VB": ["BT1.+", "U1.IN"], "3V3": ["U1.OUT", "R1.1"], "GND": ["BT1.-", "U1.GND", "R1.2"]},
    )
    assert op.node_voltages["3V3"] == pytest.approx(3.3, abs=0.02)  # 3.7 V is above 3.3 V + 178 mV
    op = operating_point(
        catalog,
        [("PS", "usb-power-5v", None), ("U1", "xl6009-boost", None), ("R1", "resistor", "120")],
        {"VS": ["PS.+", "U1.IN+"], "12V": ["U1.OUT+", "R1.1"], "GND": ["PS.-", "U1.IN-", "U1.OUT-", "R1.2"]},
    )
    assert op.node_voltages["12V"] == pytest.approx(12.0, rel=0.01)


# --- passives --------------------------------------------------------------------------------------


def test_two_terminal_passives_carry_a_value_in_the_design_grammar(catalog):
    values = {
        "ferrite-bead": 220, "ptc-fuse-500ma": 0.5, "crystal-32768": 32768, "crystal-8mhz": 8e6,
        "varistor-14d471k": 470, "capacitor-film-x2": 100e-9, "capacitor-tantalum": 10e-6,
    }  # fmt: skip
    for part_id, value in values.items():
        part = catalog[part_id]
        assert [p.number for p in part.pins] == ["1", "2"], part_id
        assert parse_value(part.default_value) == pytest.approx(value), part_id
        assert {p.name for p in part.pins} == set(part.usage.required_pins), part_id


def test_crystals_carry_their_frequency_and_load(catalog):
    assert catalog["crystal-32768"].specs["frequency_hz"] == 32768 == 2**15
    assert catalog["crystal-32768"].specs["load_capacitance_pf"] == 12.5  # what the DS1307 specifies
    assert catalog["ds1307"].specs["crystal_load_pf"] == catalog["crystal-32768"].specs["load_capacitance_pf"]
    assert catalog["crystal-8mhz"].specs["frequency_hz"] == 8_000_000
    for part_id in ("crystal-32768", "crystal-8mhz"):
        assert catalog[part_id].ftype == "simple_crystal" and catalog[part_id].symbol is SymbolKind.CRYSTAL
        assert all(R.XTAL in p.roles for p in catalog[part_id].pins)


def test_protection_passives(catalog):
    ptc = catalog["ptc-fuse-500ma"]
    assert ptc.specs["trip_current_a"] == 2 * ptc.specs["current_rating_a"] == 1.0
    assert ptc.specs["voltage_rating_v"] == 15 and ptc.symbol is SymbolKind.FUSE and ptc.ftype == "simple_fuse"
    mov = catalog["varistor-14d471k"]
    assert mov.specs["max_vac"] >= 1.1 * 230 and mov.specs["varistor_voltage_v"] > mov.specs["max_vac"] * math.sqrt(2)
    assert mov.specs["clamp_voltage_v"] > mov.specs["varistor_voltage_v"]
    x2 = catalog["capacitor-film-x2"]
    assert x2.specs["safety_class"] == "X2" and x2.specs["voltage_rating_vac"] >= 250
    assert x2.spice.kind == "capacitor"


def test_tantalum_is_polarised_with_plus_on_pin_1(catalog):
    tantalum = catalog["capacitor-tantalum"]
    assert tantalum.symbol is SymbolKind.CAPACITOR_POLARIZED
    assert pin(tantalum, "+").number == "1" and R.ANODE in pin(tantalum, "+").roles
    assert R.CATHODE in pin(tantalum, "-").roles
    assert any("stripe is the +" in note for note in tantalum.usage.notes)  # unlike an electrolytic


def test_trimmer_is_a_potentiometer_with_the_wiper_in_the_middle(catalog):
    trimmer = catalog["trimmer-3296"]
    assert pinout(trimmer) == {"1": "1", "2": "W", "3": "3"}
    assert pin(trimmer, "W").roles == [R.WIPER]
    assert trimmer.spice.kind == "potentiometer" and trimmer.symbol is SymbolKind.POTENTIOMETER
    assert trimmer.specs["turns"] == 25


def test_ferrite_bead_is_an_impedance_not_a_resistance(catalog):
    bead = catalog["ferrite-bead"]
    assert bead.specs["impedance_ohm_at_100mhz"] == 220 and bead.specs["dc_resistance_ohm_max"] < 0.1
    assert bead.spice is None  # a 220 ohm resistor would be wrong at DC; it is left out of the simulation
    assert bead.symbol is not SymbolKind.RESISTOR  # the designer would read a resistor symbol as a sensor


# --- discretes -------------------------------------------------------------------------------------

DIODES = {  # part id: (current A, datasheet maximum forward voltage V)
    "diode-ss34": (3.0, 0.50),
    "diode-1n5822": (3.0, 0.525),
    "diode-1n5408": (3.0, 1.2),
    "zener-1n4728a": (0.2, 1.2),
    "photodiode-bpw34": (0.05, 1.3),
}


@pytest.mark.parametrize(("part_id", "rating"), sorted(DIODES.items()))
def test_diode_models_meet_the_datasheet_forward_voltage(catalog, part_id, rating):
    part = catalog[part_id]
    current, max_vf = rating
    assert pinout(part) == {"1": "A", "2": "K"}
    assert part.spice.kind == "diode"
    assert 0.3 < diode_voltage(part.spice.params, current) <= max_vf


def test_schottkys_drop_less_than_the_silicon_rectifier_at_3a(catalog):
    silicon = diode_voltage(catalog["diode-1n5408"].spice.params, 3.0)
    for part_id in ("diode-ss34", "diode-1n5822"):
        assert diode_voltage(catalog[part_id].spice.params, 3.0) < silicon - 0.3, part_id
        assert catalog[part_id].spice.params["bv_v"] == catalog[part_id].specs["vrrm_v"] == 40
    assert catalog["diode-1n5408"].spice.params["bv_v"] == 1000


def test_zener_and_tvs_break_down_where_the_datasheet_says(catalog):
    zener = catalog["zener-1n4728a"]
    assert zener.spice.params["bv_v"] == zener.specs["vz_v"] == 3.3 and zener.symbol is SymbolKind.ZENER
    tvs = catalog["tvs-smbj5v0a"]
    assert pinout(tvs) == {"1": "A", "2": "K"}
    specs = tvs.specs
    assert specs["vrwm_v"] < specs["vbr_min_v"] == tvs.spice.params["bv_v"] < specs["vbr_max_v"] < specs["vc_v"]
    assert specs["ppk_w"] == 600


def test_infrared_led_runs_below_visible_leds_and_needs_a_resistor(catalog):
    ir = catalog["led-ir-940nm"]
    assert pinout(ir) == {"1": "A", "2": "K"}
    params = ir.spice.params
    assert ir.spice.kind == "led" and 1.0 <= params["vf_v"] <= 1.5 < catalog["led-red"].spice.params["vf_v"]
    assert params["if_ma"] < params["max_ma"] == ir.specs["max_if_ma"] == 100
    assert ir.usage.series_resistor_required and ir.specs["wavelength_nm"] == 940


TRANSISTOR_PINOUTS = {
    "pnp-bc557": ("CBE", -1),
    "npn-s8050": ("EBC", 1),
    "pnp-s8550": ("EBC", -1),
    "nmos-irf540n": ("GDS", 1),
    "nmos-ao3400": ("GSD", 1),  # SOT-23
    "nmos-bss138": ("GSD", 1),  # SOT-23
}
ROLE_LETTER = {R.EMITTER: "E", R.BASE: "B", R.COLLECTOR: "C", R.GATE: "G", R.DRAIN: "D", R.SOURCE: "S"}


@pytest.mark.parametrize(("part_id", "expected"), sorted(TRANSISTOR_PINOUTS.items()))
def test_transistor_package_pinouts(catalog, part_id, expected):
    part = catalog[part_id]
    order, polarity = expected
    assert "".join(ROLE_LETTER[part.pins[n].roles[0]] for n in range(3)) == order
    assert [p.number for p in part.pins] == ["1", "2", "3"]
    control = part.pins_with_role(R.BASE) + part.pins_with_role(R.GATE)
    assert [p.type for p in control] == [T.INPUT]
    assert part.spice.params["polarity"] == polarity
    assert part.symbol in ((SymbolKind.NPN, SymbolKind.NMOS) if polarity == 1 else (SymbolKind.PNP, SymbolKind.PMOS))


def test_mosfet_thresholds_match_their_gate_drive(catalog):
    assert catalog["nmos-irf540n"].spice.params["vto_v"] >= 2.0  # not logic level: 2-4 V, rated at 10 V
    assert 0.65 <= catalog["nmos-ao3400"].spice.params["vto_v"] <= 1.45
    assert 0.8 <= catalog["nmos-bss138"].spice.params["vto_v"] <= 1.5
    assert catalog["nmos-ao3400"].spice.params["rds_on_ohm"] == catalog["nmos-ao3400"].specs["rds_on_ohm_at_4v5"]
    assert catalog["nmos-irf540n"].spice.params["rds_on_ohm"] == catalog["nmos-irf540n"].specs["rds_on_ohm_at_10v"]


def test_optocouplers_and_triac(catalog):
    opto = catalog["optocoupler-pc817"]
    assert pinout(opto) == {"1": "A", "2": "K", "3": "E", "4": "C"}  # DIP-4
    assert opto.usage.series_resistor_required and opto.specs["isolation_vrms"] == 5000
    driver = catalog["moc3021"]
    assert [pinout(driver)[n] for n in ("1", "2", "4", "6")] == ["A", "K", "MT1", "MT2"]
    assert pin(driver, "3").type is pin(driver, "5").type is T.NO_CONNECT  # pin 5 is the substrate
    assert driver.specs["ift_max_ma"] == 15 and driver.specs["zero_cross"] is False
    triac = catalog["triac-bt136"]
    assert pinout(triac) == {"1": "MT1", "2": "MT2", "3": "G"} and "TAB" in pin(triac, "MT2").aliases
    assert pin(triac, "G").roles == [R.GATE] and triac.specs["vdrm_v"] == 600
    for part in (opto, driver, triac):
        assert part.symbol is SymbolKind.CHIP  # never taken for a plain diode or switching transistor


def test_light_sensors_and_bridge_rectifier(catalog):
    photodiode = catalog["photodiode-bpw34"]
    assert photodiode.spice.params["bv_v"] == photodiode.specs["reverse_voltage_max_v"] == 60
    assert photodiode.spice.params["cjo_f"] == pytest.approx(photodiode.specs["capacitance_pf_at_0v"] * 1e-12)
    phototransistor = catalog["phototransistor-tept4400"]
    assert pinout(phototransistor) == {"1": "C", "2": "E"} and phototransistor.specs["vceo_v"] == 6
    bridge = catalog["bridge-rectifier-df10m"]
    assert pinout(bridge) == {"1": "+", "2": "-", "3": "AC1", "4": "AC2"}  # Vishay DF-M, DIP-4
    assert R.CATHODE in pin(bridge, "+").roles and R.ANODE in pin(bridge, "-").roles
    for part in (photodiode, phototransistor, bridge):
        assert part.symbol is SymbolKind.CHIP, part.id  # not a support diode the designer may reuse as flyback


# --- ICs -------------------------------------------------------------------------------------------

HEX_INVERTER = {
    "1": "1A", "2": "1Y", "3": "2A", "4": "2Y", "5": "3A", "6": "3Y", "7": "GND",
    "8": "4Y", "9": "4A", "10": "5Y", "11": "5A", "12": "6Y", "13": "6A", "14": "VCC",
}  # fmt: skip
BARE_CHIPS = ["ds1307", "74hc14", "74hc04", "74ahct125", "mcp3008", "24lc256", "lm324", "cd4017"]


@pytest.mark.parametrize("part_id", BARE_CHIPS)
def test_bare_chips_list_every_pin_and_want_decoupling(catalog, part_id):
    part = catalog[part_id]
    assert "DIP-" in part.name
    assert [p.number for p in part.pins] == [str(n) for n in range(1, len(part.pins) + 1)]
    assert f"DIP-{len(part.pins)}" in part.name
    assert part.usage.decoupling_required
    assert part.pins_with_role(R.POWER_IN) and part.pins_with_role(R.GROUND)


def test_hex_inverters_share_the_dip14_pinout(catalog):
    assert pinout(catalog["74hc14"]) == pinout(catalog["74hc04"]) == HEX_INVERTER
    assert catalog["74hc14"].specs["schmitt_trigger"] is True and catalog["74hc04"].specs["schmitt_trigger"] is False


def test_74ahct125_takes_3v3_logic_and_drives_5v(catalog):
    chip = catalog["74ahct125"]
    names = pinout(chip)
    assert [names[n] for n in ("1", "2", "3", "7", "8", "9", "10", "14")] == [
        "1OE", "1A", "1Y", "GND", "3Y", "3A", "3OE", "VCC",
    ]  # fmt: skip
    assert all(pin(chip, f"{n}OE").roles == [R.OUTPUT_ENABLE] for n in range(1, 5))
    assert chip.specs["vih_min_v"] == 2.0 < 3.3 and chip.supply.min_v == 4.5
    assert all(pin(chip, f"{n}Y").type is T.TRI_STATE for n in range(1, 5))


def test_lm324_dip14_pinout_and_four_channel_model(catalog):
    opamp = catalog["lm324"]
    names = pinout(opamp)
    assert (names["4"], names["11"]) == ("VCC", "GND")
    assert [names[n] for n in ("1", "7", "8", "14")] == ["1OUT", "2OUT", "3OUT", "4OUT"]
    assert [names[n] for n in ("3", "5", "10", "12")] == ["1IN+", "2IN+", "3IN+", "4IN+"]
    assert opamp.spice.kind == "opamp" and opamp.spice.params["gbw_hz"] == opamp.specs["gbw_hz"]
    op = operating_point(
        catalog,
        [("PS", "dc-supply-12v", None), ("U1", "lm324", None), ("R1", "resistor", "10k"), ("R2", "resistor", "10k")],
        {
            "VS": ["PS.+", "U1.VCC", "R1.1"],
            "REF": ["R1.2", "R2.1", "U1.4IN+"],
            "OUT": ["U1.4OUT", "U1.4IN-"],
            "GND": ["PS.-", "U1.GND", "R2.2"],
        },
    )
    assert op.node_voltages["OUT"] == pytest.approx(6.0, abs=0.05)  # channel 4 follows its own input


def test_cd4017_and_mcp3008_dip16_pinouts(catalog):
    counter = pinout(catalog["cd4017"])
    assert [counter[n] for n in ("3", "2", "4", "7", "10", "1", "5", "6", "9", "11")] == [f"Q{i}" for i in range(10)]
    assert (counter["8"], counter["13"], counter["14"], counter["15"], counter["16"]) == (
        "VSS", "CLK_INH", "CLK", "RESET", "VDD",
    )  # fmt: skip
    adc = catalog["mcp3008"]
    names = pinout(adc)
    assert [names[str(n)] for n in range(1, 9)] == [f"CH{i}" for i in range(8)]
    assert [names[n] for n in ("9", "10", "11", "12", "13", "14", "15", "16")] == [
        "DGND", "CS/SHDN", "DIN", "DOUT", "CLK", "AGND", "VREF", "VDD",
    ]  # fmt: skip
    assert pin(adc, "DOUT").type is T.TRI_STATE and pin(adc, "CLK").roles == [R.SPI_SCK]
    assert set(adc.usage.required_pins) == {"CS/SHDN", "DIN", "DOUT", "CLK"}


def test_i2c_chips_and_modules_say_where_their_pull_ups_are(catalog):
    bare = {"ds1307": "0x68", "24lc256": "0x50"}
    modules = {"ds1307-tiny-rtc": "0x68", "tca9548a-module": "0x70", "mcp4725-module": "0x62", "pcf8591-module": "0x48"}
    for part_id, address in {**bare, **modules}.items():
        part = catalog[part_id]
        (sda,) = part.pins_with_role(R.I2C_SDA)
        (scl,) = part.pins_with_role(R.I2C_SCL)
        assert sda.type is T.OPEN_COLLECTOR and scl.type is T.INPUT, part_id
        assert part.specs["i2c_address"] == address, part_id
        assert {"SDA", "SCL"} <= set(part.usage.required_pins), part_id
        if part_id in bare:
            assert set(part.usage.pullup_required) == {"SDA", "SCL"} and not part.usage.onboard_pullups, part_id
        else:
            assert part.usage.onboard_pullups and not part.usage.pullup_required, part_id


def test_ds1307_and_eeprom_dip8_pinouts(catalog):
    rtc = catalog["ds1307"]
    assert pinout(rtc) == {
        "1": "X1", "2": "X2", "3": "VBAT", "4": "GND", "5": "SDA", "6": "SCL", "7": "SQW/OUT", "8": "VCC",
    }  # fmt: skip
    assert (pin(rtc, "VBAT").min_v, pin(rtc, "VBAT").max_v) == (2.0, 3.5) and rtc.supply.min_v == 4.5
    eeprom = catalog["24lc256"]
    assert pinout(eeprom) == {
        "1": "A0", "2": "A1", "3": "A2", "4": "VSS", "5": "SDA", "6": "SCL", "7": "WP", "8": "VCC",
    }  # fmt: skip
    assert all(pin(eeprom, f"A{n}").roles == [R.ADDRESS] for n in range(3)) and pin(eeprom, "WP").roles == [R.MODE]
    tiny = catalog["ds1307-tiny-rtc"]
    assert [p.name for p in tiny.pins] == ["SQ", "DS", "SCL", "SDA", "VCC", "GND", "BAT"]
    assert tiny.specs["eeprom_address"] == "0x50"


def test_i2c_multiplexer_fans_out_to_eight_buses(catalog):
    mux = catalog["tca9548a-module"]
    assert len(mux.pins) == 24
    assert [p.name for p in mux.pins[:8]] == ["VIN", "GND", "SDA", "SCL", "RST", "A0", "A1", "A2"]
    for n in range(8):
        sd, sc = pin(mux, f"SD{n}"), pin(mux, f"SC{n}")
        assert sd.type is sc.type is T.OPEN_COLLECTOR
        assert (sd.roles, sc.roles) == ([R.DATA], [R.CLOCK])  # downstream: not the controller's bus
    assert pin(mux, "RST").roles == [R.RESET] and all(pin(mux, f"A{n}").roles == [R.ADDRESS] for n in range(3))


def test_16_channel_mux_breakout_header(catalog):
    mux = catalog["cd74hc4067-module"]
    assert [p.name for p in mux.pins[:8]] == ["GND", "VCC", "EN", "S0", "S1", "S2", "S3", "SIG"]  # SparkFun JP3
    assert [p.name for p in mux.pins[8:]] == [f"C{n}" for n in range(16)]
    assert pin(mux, "EN").roles == [R.ENABLE] and "EN" not in mux.usage.required_pins  # pulled down on the board
    assert set(mux.usage.required_pins) == {"S0", "S1", "S2", "S3", "SIG"}


def test_level_shifter_sides_follow_their_supplies(catalog):
    shifter = catalog["txs0108e-module"]
    assert pin(shifter, "VA").max_v == 3.6 and pin(shifter, "VB").max_v == 5.5
    assert all(pin(shifter, f"A{n}").domain == "VA" and pin(shifter, f"B{n}").domain == "VB" for n in range(1, 9))
    assert pin(shifter, "OE").roles == [R.ENABLE] and "OE" in shifter.usage.required_pins
    assert len(shifter.pins) == 20


def test_dac_modules_output_an_analog_voltage(catalog):
    dac = catalog["mcp4725-module"]
    assert [p.name for p in dac.pins] == ["VDD", "GND", "SCL", "SDA", "A0", "VOUT"]  # Adafruit 935 header
    assert R.DAC in pin(dac, "VOUT").roles and "VOUT" in dac.usage.required_pins
    assert dac.specs["resolution_bits"] == 12
    pcf = catalog["pcf8591-module"]
    assert R.DAC in pin(pcf, "AOUT").roles and len(pcf.pins_with_role(R.ADC)) == 4
    assert pcf.specs["resolution_bits"] == 8
