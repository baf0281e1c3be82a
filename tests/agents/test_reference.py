"""The reference designer wires part lists by textbook rules and passes its own ERC."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from agents.parts_list import PartRequest, PartsList
from agents.reference import ReferenceDesignError, ReferenceResult, design_from_parts
from components_db.schema import PinRole
from studio.circuit.design import Design
from studio.circuit.resolve import resolve
from studio.erc import run_erc
from studio.erc.findings import ErcReport
from tests.fixtures.catalog import CatalogLookup

PROMPT_FILES = sorted((Path(__file__).resolve().parents[2] / "benchmarks" / "prompts").rglob("*.jsonl"))


@pytest.fixture(scope="module")
def kb(catalog_lookup) -> CatalogLookup:
    """The designer reads parts and pins only: the catalog without the knowledge base's search."""
    return catalog_lookup


def wire(kb: CatalogLookup, *ids: str) -> ReferenceResult:
    requests = []
    for text in ids:
        part, _, quantity = text.partition("*")
        requests.append(PartRequest(part=part, quantity=int(quantity or 1)))
    return design_from_parts(PartsList(parts=requests), kb)


def erc(kb: CatalogLookup, design: Design) -> ErcReport:
    return run_erc(resolve(design, kb))


def nets(design: Design) -> dict[str, set[str]]:
    return {net.name: set(net.pins) for net in design.nets}


def net_with(design: Design, pin: str) -> set[str]:
    return next(set(net.pins) for net in design.nets if pin in net.pins)


def refs_of(design: Design, part_id: str) -> list[str]:
    return [p.ref for p in design.parts if p.part == part_id]


def in_kb_prompts() -> list[dict]:
    lines = [line for path in PROMPT_FILES for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [d for d in map(json.loads, lines) if d.get("in_kb", True) and "expected_parts" in d]


# Prompts whose textbook wiring the ERC rejects because of a defect outside the designer; each must still
# fail (so the entry is removed once the defect is fixed) and only by the rule named here.
# parts the knowledge base gained before the reference designer learnt to wire them: a crystal on a bare
# RTC chip, a keypad matrix, a thermocouple on its amplifier, audio outputs and inputs
KNOWN_ERC_GAPS: dict[str, set[str]] = {
    "w104": {"required-pin-unconnected"},
    "w107": {"required-pin-unconnected"},
    "w110": {"unconnected-part"},
    "w111": {"required-pin-unconnected", "unconnected-part"},
    "w113": {"required-pin-unconnected"},
}


def test_every_in_kb_benchmark_prompt_passes_erc(kb):
    failures, gaps = [], {}
    prompts = in_kb_prompts()
    for prompt in prompts:
        parts = PartsList(parts=[PartRequest(part=e["part"], quantity=e["quantity"]) for e in prompt["expected_parts"]])
        report = erc(kb, design_from_parts(parts, kb).design)
        bad = [v for v in report.violations if v.severity in ("fatal", "major")]
        if prompt["id"] in KNOWN_ERC_GAPS:
            gaps[prompt["id"]] = {v.rule for v in bad}
        elif bad:
            lines = "\n    ".join(f"{v.rule}: {v.message}" for v in bad)
            failures.append(f"{prompt['id']} {prompt['prompt']!r}\n    {lines}")
    print(f"\n{len(prompts) - len(failures) - len(gaps)}/{len(prompts)} in-KB prompts pass the ERC; known gaps: {gaps}")
    assert not failures, "reference designs failing their ERC:\n" + "\n".join(failures)
    assert gaps == KNOWN_ERC_GAPS


def test_load_cell_is_excited_and_read_by_its_amplifier(kb):
    design = wire(kb, "arduino-nano", "hx711", "load-cell-5kg").design
    for pin in ("E+", "A+", "A-"):
        assert {f"U2.{pin}", f"U3.{pin}"} <= net_with(design, f"U3.{pin}")
    assert not any(p.startswith("U1.") for pin in ("A+", "A-") for p in net_with(design, f"U3.{pin}"))


def test_i2c_devices_share_one_bus_and_pullups_come_from_the_modules(kb):
    design = wire(kb, "esp32-devkit-v1", "bme280", "oled-ssd1306-i2c").design
    sda = net_with(design, "U1.GPIO21")
    assert {"U2.SDA", "U3.SDA"} <= sda
    assert {"U2.SCL", "U3.SCL"} <= net_with(design, "U1.GPIO22")
    assert refs_of(design, "resistor") == []  # both breakouts carry pull-ups


def test_i2c_pullups_added_once_when_no_module_has_them(kb):
    result = wire(kb, "esp32-devkit-v1", "mcp23017")
    design = result.design
    for line in ("U1.GPIO21", "U1.GPIO22"):
        pulls = [p for p in net_with(design, line) if p.split(".")[0] in refs_of(design, "resistor")]
        assert len(pulls) == 1, line
    assert [p.value for p in design.parts if p.part == "resistor"] == ["4.7k", "4.7k"]
    assert "redundant-pullups" not in erc(kb, design).rule_ids()


def test_required_pullup_on_a_data_line(kb):
    design = wire(kb, "esp32-devkit-v1", "dht22").design
    data = net_with(design, "U2.DATA")
    resistor = next(p.split(".")[0] for p in data if p.startswith("R"))
    assert design.part(resistor).value == "10k"
    assert f"{resistor}.1" in net_with(design, "U1.3V3")


@pytest.mark.parametrize(
    ("board", "led", "ohms"),
    [("arduino-uno", "led-red", "330"), ("esp32-devkit-v1", "led-red", "150"), ("esp32-devkit-v1", "led-blue", "100")],
)
def test_led_series_resistor_from_rail_and_forward_voltage(kb, board, led, ohms):
    design = wire(kb, board, led).design
    anode = net_with(design, "LED1.A")
    resistor = next(p.split(".")[0] for p in anode if p.startswith("R"))
    assert design.part(resistor).value == ohms
    assert "LED1.K" in nets(design)["GND"]
    assert erc(kb, design).passed


def test_12v_fan_gets_a_mosfet_flyback_diode_and_its_own_supply(kb):
    result = wire(kb, "esp32-devkit-v1", "fan-12v")
    design = result.design
    (mosfet,) = refs_of(design, "nmos-irlz44n")
    (diode,) = refs_of(design, "diode-1n4007")
    (supply,) = refs_of(design, "dc-supply-12v")
    assert {f"{supply}.+", "M1.+", f"{diode}.K"} <= net_with(design, "M1.+")
    assert {f"{mosfet}.D", f"{diode}.A"} <= net_with(design, "M1.-")
    assert f"{mosfet}.S" in nets(design)["GND"]
    assert any(a.startswith(f"{mosfet} ") for a in result.added)
    report = erc(kb, design)
    assert report.passed and not {"inductive-no-flyback", "gpio-overcurrent"} & report.rule_ids()


def test_listed_transistor_and_diode_are_used_instead_of_added_ones(kb):
    result = wire(kb, "arduino-uno", "solenoid-12v", "npn-tip120", "diode-1n5819")
    parts = {p.part for p in result.design.parts}
    assert {"npn-tip120", "diode-1n5819"} <= parts and "nmos-irlz44n" not in parts
    assert erc(kb, result.design).passed


def test_5v_echo_into_3v3_gpio_goes_through_a_divider(kb):
    design = wire(kb, "esp32-devkit-v1", "hc-sr04").design
    echo = net_with(design, "U2.ECHO")
    top = next(p.split(".")[0] for p in echo if p.startswith("R"))
    tap = net_with(design, f"{top}.2")
    assert any(p.startswith("U1.GPIO") for p in tap)
    bottom = next(p.split(".")[0] for p in tap if p.startswith("R") and p != f"{top}.2")
    assert f"{bottom}.2" in nets(design)["GND"]
    ratio = 5.0 * 2200 / (1000 + 2200)
    assert (design.part(top).value, design.part(bottom).value) == ("1k", "2.2k") and ratio < 3.6
    assert erc(kb, design).passed


def test_5v_i2c_module_on_a_3v3_board_sits_behind_a_level_shifter(kb):
    result = wire(kb, "esp32-devkit-v1", "lcd1602-i2c")
    design = result.design
    (shifter,) = refs_of(design, "level-shifter-bss138-4ch")
    assert {"U1.GPIO21", f"{shifter}.LV1"} <= net_with(design, "U1.GPIO21")
    assert {"U2.SDA", f"{shifter}.HV1"} <= net_with(design, "U2.SDA")
    assert f"{shifter}.LV" in net_with(design, "U1.3V3")
    assert erc(kb, design).passed


def test_3v3_spi_device_on_a_5v_board_uses_every_shifter_channel(kb):
    design = wire(kb, "arduino-uno", "rc522-rfid", "level-shifter-bss138-4ch").design
    assert len(refs_of(design, "level-shifter-bss138-4ch")) == 1
    for pin in ("U2.MOSI", "U2.SCK", "U2.SDA", "U2.MISO"):
        assert any(".LV" in p for p in net_with(design, pin)), pin
    assert erc(kb, design).passed


def test_no_gpio_used_twice(kb):
    design = wire(
        kb, "arduino-nano", "hc-sr04", "buzzer-active", "led-green", "led-yellow", "led-red", "push-button*2"
    ).design
    board = kb.get("arduino-nano")
    assert board is not None
    gpio_names = {p.name for p in board.pins if PinRole.GPIO in p.roles}
    used = Counter(p for net in design.nets for p in net.pins if p.startswith("U1.") and p[3:] in gpio_names)
    assert used and max(used.values()) == 1
    assert len(used) == 2 + 1 + 3 + 2  # TRIG, ECHO, the buzzer's switch, three LEDs, two buttons


def test_analog_only_circuit_has_no_mcu(kb):
    result = wire(kb, "ne555", "battery-9v", "led-red")
    assert not any(kb.get(p.part).category == "mcu_board" for p in result.design.parts)
    assert "U1.OUT" in net_with(result.design, "U1.OUT")
    assert erc(kb, result.design).passed


def test_modules_without_a_controller_get_one_added(kb):
    result = wire(kb, "bme280")
    assert refs_of(result.design, "esp32-devkit-v1")
    assert any("esp32-devkit-v1" in a for a in result.added)


def test_unknown_part_is_left_out_and_named(kb):
    result = wire(kb, "esp32-devkit-v1", "lidar-lite-v3", "dht22")
    assert "lidar-lite-v3" not in {p.part for p in result.design.parts}
    assert any("lidar-lite-v3" in note and "not in the knowledge base" in note for note in result.notes)
    assert erc(kb, result.design).passed


def test_only_unknown_parts_is_a_clear_error(kb):
    with pytest.raises(ReferenceDesignError, match="lidar-lite-v3"):
        wire(kb, "lidar-lite-v3")


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        # a stepper driver's motor supply starts above what the motor takes (a steered identify listed it)
        (
            ("esp32-devkit-v1", "a4988-module", "dc-motor-6v"),
            r"^no one supply can feed U2 \(A4988 .*\) VMOT \(8-35 V\) and M1 \(6 V DC .*, 3-6 V\): their voltage "
            r"ranges do not overlap$",
        ),
        (
            ("arduino-uno", "l298n-module", "vibration-motor*2"),
            r"VS \(5-35 V\) and M1 \(Coin vibration .*2.5-3.5 V\) and M2 .*do not overlap",
        ),
        # they overlap, at a voltage no standard supply gives
        (
            ("esp32-devkit-v1", "drv8833-module", "solenoid-12v"),
            r"^no standard supply in 10.8-10.8 V for U2 \(DRV8833 .*\) VM \(2.7-10.8 V\) and U3 \(12 V .*\); list a "
            r"supply or regulator",
        ),
    ],
    ids=["a4988-6v-motor", "l298n-3v-motors", "drv8833-12v-solenoid"],
)
def test_parts_no_standard_supply_can_feed_are_a_clear_error(kb, ids, message):
    with pytest.raises(ReferenceDesignError, match=message):
        wire(kb, *ids)


def test_deterministic(kb):
    first = wire(kb, "arduino-uno", "rc522-rfid", "solenoid-12v", "led-green").design
    second = wire(kb, "arduino-uno", "rc522-rfid", "solenoid-12v", "led-green").design
    assert first.model_dump() == second.model_dump()


def bus_pin(design: Design, device_pin: str) -> str:
    """The MCU (U1) pin a device's bus line reaches, straight or through one shifter channel."""
    net = net_with(design, device_pin)
    board = [p for p in net if p.startswith("U1.")]
    if board:
        return board[0]
    channel = next(p for p in net if ".LV" in p or ".HV" in p)
    ref, _, name = channel.partition(".")
    other = f"{ref}.{'HV' if name.startswith('LV') else 'LV'}{name[2:]}"
    return next(p for p in net_with(design, other) if p.startswith("U1."))


def test_pico_i2c_and_spi_take_their_default_pins_and_share_none(kb):
    design = wire(kb, "raspberry-pi-pico", "bme280", "rc522-rfid").design
    i2c = {bus_pin(design, f"U2.{line}") for line in ("SDA", "SCL")}
    spi = {bus_pin(design, f"U3.{line}") for line in ("MOSI", "MISO", "SCK")}
    assert i2c == {"U1.GP4", "U1.GP5"}
    assert spi == {"U1.GP19", "U1.GP16", "U1.GP18"}
    assert erc(kb, design).passed


def test_pico_shifted_i2c_and_spi_lines_stay_apart(kb):
    design = wire(kb, "raspberry-pi-pico", "lcd2004-i2c", "mcp2515-can-module", "level-shifter-bss138-4ch").design
    assert bus_pin(design, "U2.SDA") == "U1.GP4" and bus_pin(design, "U3.SO") == "U1.GP16"
    assert "gpio-short" not in erc(kb, design).rule_ids()


def test_teensy_spi_lines_come_from_one_bus(kb):
    design = wire(kb, "teensy-4-0", "rc522-rfid").design
    assert [bus_pin(design, f"U2.{line}") for line in ("MOSI", "MISO", "SCK")] == ["U1.D11", "U1.D12", "U1.D13"]


def test_bus_taken_twice_gets_another_instance_or_a_clear_error(kb):
    from agents.reference.builder import Placed
    from agents.reference.pins import McuPins

    pins = McuPins(Placed("U1", kb.get("raspberry-pi-pico")))
    first = pins.take_bus(PinRole.I2C_SDA, PinRole.I2C_SCL)
    second = pins.take_bus(PinRole.I2C_SDA, PinRole.I2C_SCL)
    assert first == {PinRole.I2C_SDA: "U1.GP4", PinRole.I2C_SCL: "U1.GP5"}
    assert not set(first.values()) & set(second.values())
    uno = McuPins(Placed("U1", kb.get("arduino-uno")))
    uno.take_bus(PinRole.I2C_SDA, PinRole.I2C_SCL)
    with pytest.raises(ReferenceDesignError, match="no free"):
        uno.take_bus(PinRole.I2C_SDA, PinRole.I2C_SCL)


@pytest.mark.parametrize("board", ["arduino-uno", "arduino-nano"])
def test_write_only_spi_display_on_a_5v_board_is_shifted_without_miso(kb, board):
    design = wire(kb, board, "st7735-tft").design
    (shifter,) = refs_of(design, "level-shifter-bss138-4ch")
    for line in ("SDA", "SCK", "CS", "A0"):
        assert any(p.startswith(f"{shifter}.LV") for p in net_with(design, f"U2.{line}")), line
    assert f"{shifter}.LV" in nets(design)["3V3"] and f"{shifter}.HV" in nets(design)["5V"]
    assert erc(kb, design).passed


@pytest.mark.parametrize("board", ["arduino-uno", "arduino-mega-2560"])
def test_5v_powered_tft_with_3v3_logic_is_shifted_from_5v_to_3v3(kb, board):
    design = wire(kb, board, "ili9341-tft").design
    (shifter,) = refs_of(design, "level-shifter-bss138-4ch")
    assert "U2.VCC" in nets(design)["5V"]  # the module's own regulator takes 5 V
    assert f"{shifter}.LV" in nets(design)["3V3"] and f"{shifter}.HV" in nets(design)["5V"]
    for line in ("SDI", "SCK", "CS", "SDO"):
        assert any(p.startswith(f"{shifter}.LV") for p in net_with(design, f"U2.{line}")), line
    assert erc(kb, design).passed


def test_shifter_low_side_sits_on_the_rail_of_the_3v3_module(kb):
    design = wire(kb, "arduino-uno", "ra02-lora-sx1278").design
    (shifter,) = refs_of(design, "level-shifter-bss138-4ch")
    assert f"{shifter}.LV" in net_with(design, "U2.3.3V")  # the regulator that feeds the module, not the Uno's 3V3
    assert f"{shifter}.HV" in nets(design)["5V"]
    assert erc(kb, design).passed


def test_no_level_shift_between_equal_levels(kb):
    from agents.reference.builder import DesignBuilder
    from agents.reference.levels import Levels
    from agents.reference.power import PowerPlan

    b = DesignBuilder(kb)
    with pytest.raises(ReferenceDesignError, match="both run at 5 V"):
        Levels(b, PowerPlan(b, 5.0)).shift("U1.D2", 5.0, "U2.IN", 4.8)


def test_every_part_alone_on_each_board_wires_or_says_why(kb):
    """The designer raises nothing but ReferenceDesignError (an ST7735 on an Uno was a StopIteration)."""
    catalog = kb.parts()
    boards = [p.id for p in catalog if p.category == "mcu_board"]
    for board in [None, *boards]:
        for part in catalog:
            if part.category == "mcu_board":
                continue
            try:
                wire(kb, *([board] if board else []), part.id)
            except ReferenceDesignError as error:
                assert str(error), (board, part.id)


def test_address_straps_are_tied_not_driven_and_two_expanders_get_two_addresses(kb):
    design = wire(kb, "esp32-devkit-v1", "mcp23017*2").design
    assert {"U2.A0", "U2.A1", "U2.A2", "U3.A1", "U3.A2"} <= nets(design)["GND"]
    assert "U3.A0" in nets(design)["3V3"]  # 0x20 and 0x21
    adc = wire(kb, "arduino-uno", "ads1115-module").design
    assert not any("U2.ADDR" in net.pins for net in adc.nets)  # pulled down on the module: 0x48
    assert erc(kb, design).passed and erc(kb, adc).passed


def led_source(design: Design, anode: str) -> str:
    """The pin that feeds an LED anode through its series resistor."""
    resistor = next(p.split(".")[0] for p in net_with(design, anode) if p.startswith("R"))
    other = f"{resistor}.1" if f"{resistor}.2" in net_with(design, anode) else f"{resistor}.2"
    return next(p for p in net_with(design, other) if p != other)


def test_shift_register_drives_the_leds_from_its_outputs(kb):
    design = wire(kb, "arduino-uno", "74hc595", "led-red*8").design
    sources = [led_source(design, f"LED{n}.A") for n in range(1, 9)]
    assert sources == [f"U2.Q{q}" for q in "ABCDEFGH"]
    assert {design.part(r).value for r in refs_of(design, "resistor")} == {"470"}  # 6 mA each, 70 mA in all
    assert erc(kb, design).passed


def test_seven_segment_digit_on_a_shift_register_segment_a_on_qa(kb):
    design = wire(kb, "arduino-uno", "74hc595", "seven-segment-cc").design
    segments = {s: led_source(design, f"U3.{s}") for s in ("A", "B", "G", "DP")}
    assert segments == {"A": "U2.QA", "B": "U2.QB", "G": "U2.QG", "DP": "U2.QH"}
    assert erc(kb, design).passed


def test_two_shift_registers_are_daisy_chained(kb):
    design = wire(kb, "arduino-mega-2560", "74hc595*2", "led-red*16").design
    assert "U3.SER" in net_with(design, "U2.QH_PRIME")
    assert "U3.SRCLK" in net_with(design, "U2.SRCLK") and "U3.RCLK" in net_with(design, "U2.RCLK")
    assert [led_source(design, f"LED{n}.A") for n in (1, 9, 16)] == ["U2.QA", "U3.QA", "U3.QH"]
    assert not any(p.startswith("U1.") for n in range(1, 17) for p in [led_source(design, f"LED{n}.A")])
    assert erc(kb, design).passed


def test_input_shift_register_reads_the_buttons_on_three_pins(kb):
    design = wire(kb, "arduino-mega-2560", "74hc165", "push-button*8").design
    assert "U2.CLK_INH" in nets(design)["GND"]
    for n, line in enumerate("ABCDEFGH", start=1):
        net = net_with(design, f"U2.{line}")
        assert f"SW{n}.1" in net and not any(p.startswith("U1.") for p in net), line
        pull = next(p.split(".")[0] for p in net if p.startswith("R"))
        assert f"{pull}.2" in nets(design)["GND"] and design.part(pull).value == "10k"
        assert f"SW{n}.2" in nets(design)["5V"]
    board_pins = {p for net in design.nets for p in net.pins if p.startswith("U1.") and p[3:] not in ("GND", "5V")}
    assert len(board_pins) == 3 and "U1.D2" in net_with(design, "U2.QH")  # SH/LD, CLK and QH only
    assert erc(kb, design).passed


def test_input_shift_registers_chain_and_unused_inputs_are_pulled_down(kb):
    design = wire(kb, "esp32-devkit-v1", "74hc165*2").design
    assert "U2.SER" in net_with(design, "U3.QH")
    assert net_with(design, "U2.CLK") == net_with(design, "U3.CLK") and "U3.SH/LD" in net_with(design, "U2.SH/LD")
    for ref in ("U2", "U3"):
        assert f"{ref}.CLK_INH" in nets(design)["GND"]
        assert all(any(p.startswith("R") for p in net_with(design, f"{ref}.{line}")) for line in "ABCDEFGH")
    assert any(p.startswith("R") for p in net_with(design, "U3.SER"))
    assert erc(kb, design).passed


def test_mux_puts_the_pots_on_its_channels_and_its_common_on_one_adc_pin(kb):
    design = wire(kb, "esp32-devkit-v1", "cd4051", "potentiometer*8").design
    for n in range(8):
        assert net_with(design, f"RV{n + 1}.W") == {f"RV{n + 1}.W", f"U2.CH{n}"}
        assert f"RV{n + 1}.1" in nets(design)["3V3"] and f"RV{n + 1}.3" in nets(design)["GND"]
    (adc,) = [p for p in net_with(design, "U2.COM") if p.startswith("U1.")]
    assert PinRole.ADC in kb.get("esp32-devkit-v1").find_pin(adc[3:]).roles
    assert {"U2.INH", "U2.VEE", "U2.VSS"} <= nets(design)["GND"] and "U2.VDD" in nets(design)["3V3"]
    assert all(any(p.startswith("U1.GPIO") for p in net_with(design, f"U2.{s}")) for s in "ABC")
    assert erc(kb, design).passed


def test_more_pots_than_mux_channels_go_straight_to_adc_pins(kb):
    design = wire(kb, "arduino-mega-2560", "cd4051", "potentiometer*9").design
    assert any(p.startswith("U2.CH") for p in net_with(design, "RV8.W"))
    assert any(p.startswith("U1.A") for p in net_with(design, "RV9.W"))


@pytest.mark.parametrize("board", ["arduino-uno", "esp32-devkit-v1"])
def test_unipolar_stepper_on_an_h_bridge_gets_four_coil_wires_and_its_common_on_the_supply(kb, board):
    design = wire(kb, board, "l293d", "stepper-28byj48").design
    coils = {
        net_with(design, f"U3.{wire_}").difference({f"U3.{wire_}"}).pop()
        for wire_ in ("BLUE", "PINK", "YELLOW", "ORANGE")
    }
    assert coils == {"U2.1Y", "U2.2Y", "U2.3Y", "U2.4Y"}
    assert {"U3.RED", "U2.VCC2"} <= nets(design)["5V"]
    assert erc(kb, design).passed


def test_listed_trimmer_sets_the_comparator_threshold(kb):
    result = wire(kb, "lm393", "thermistor-ntc-10k", "potentiometer", "led-red", "usb-power-5v")
    design = result.design
    assert refs_of(design, "potentiometer") == ["RV1"]  # no second pot added
    assert net_with(design, "RV1.W") == {"RV1.W", "U1.1IN-"}
    assert "R1.2" in net_with(design, "U1.1IN+")  # the thermistor's divider tap
    assert "RV1.1" in nets(design)["5V"] and "RV1.3" in nets(design)["GND"]
    assert erc(kb, design).passed


@pytest.mark.parametrize(
    ("switch", "feed", "out"), [("slide-switch", "SW1.2", "SW1.1"), ("toggle-switch", "SW1.1", "SW1.2")]
)
def test_power_switch_closes_between_the_battery_and_the_led(kb, switch, feed, out):
    design = wire(kb, "battery-9v", switch, "led-yellow").design
    assert feed in net_with(design, "BT1.+")  # an SPDT's common, not one of its two sides
    resistor = next(p for p in net_with(design, out) if p.startswith("R"))
    assert resistor.split(".")[0] in {p.split(".")[0] for p in net_with(design, "LED1.A")}
    assert erc(kb, design).passed


def test_555_with_nothing_to_drive_gives_a_line_level_test_signal_near_1khz(kb):
    design = wire(kb, "ne555", "battery-9v").design
    top = next(p.split(".")[0] for p in net_with(design, "U1.OUT") if p.startswith("R"))
    (signal,) = [n for n in design.nets if n.name == "U1_SIGNAL"]
    bottom = next(p.split(".")[0] for p in signal.pins if not p.startswith(f"{top}."))
    assert (design.part(top).value, design.part(bottom).value) == ("10k", "1k")
    assert f"{bottom}.2" in nets(design)["GND"]
    ra, rb = (next(p.split(".")[0] for p in net_with(design, "U1.DISCH") if p.endswith(end)) for end in (".2", ".1"))
    cap = next(p.split(".")[0] for p in net_with(design, "U1.THRES") if p.startswith("C"))
    ohms = {"1k": 1e3, "6.8k": 6.8e3}
    hz = 1.44 / ((ohms[design.part(ra).value] + 2 * ohms[design.part(rb).value]) * 100e-9)
    assert design.part(cap).value == "100nF" and 900 < hz < 1100
    assert erc(kb, design).passed


def test_555_drives_an_active_buzzer_at_its_own_level_straight_from_out(kb):
    design = wire(kb, "ne555", "buzzer-active", "usb-power-5v").design
    assert net_with(design, "U1.OUT") == {"U1.OUT", "BZ1.+"} and "BZ1.-" in nets(design)["GND"]
    assert erc(kb, design).passed


def across(design: Design, pin: str) -> set[str]:
    """The net at the far end of the resistor on ``pin``'s net."""
    resistor = next(p.split(".")[0] for p in net_with(design, pin) if p.startswith("R") and not p.startswith("RV"))
    near = next(p for p in net_with(design, pin) if p.startswith(f"{resistor}."))
    return net_with(design, f"{resistor}.{'2' if near.endswith('.1') else '1'}")


def test_555_pwm_switches_a_motor_through_a_mosfet(kb):
    design = wire(kb, "ne555", "dc-motor-6v", "battery-pack-4xaa").design
    (mosfet,) = refs_of(design, "nmos-irlz44n")
    assert f"{mosfet}.G" in across(design, "U1.OUT")
    assert f"{mosfet}.D" in net_with(design, "M1.-") and "M1.+" in nets(design)["6V"]
    assert any(p.startswith("D") and p.endswith(".A") for p in net_with(design, "M1.-"))
    assert erc(kb, design).passed


def test_555_tempo_knob_is_a_rheostat_in_the_timing_chain(kb):
    design = wire(kb, "ne555", "buzzer-passive", "battery-9v", "potentiometer").design
    assert {"RV1.W", "RV1.3", "U1.THRES", "U1.TRIG"} <= net_with(design, "U1.THRES")
    assert "U1.DISCH" in across(design, "RV1.1")  # in series with RB
    (mosfet,) = refs_of(design, "nmos-irlz44n")
    assert f"{mosfet}.G" in across(design, "U1.OUT") and f"{mosfet}.D" in net_with(design, "BZ1.-")
    assert erc(kb, design).passed


@pytest.mark.parametrize(
    ("driver", "stepper"), [("drv8833-module", "stepper-28byj48"), ("l298n-module", "stepper-nema17")]
)
def test_stepper_takes_every_bridge_so_another_load_gets_its_own_switch(kb, driver, stepper):
    design = wire(kb, "arduino-uno", driver, stepper, "dc-motor-6v").design  # was IndexError
    (mosfet,) = refs_of(design, "nmos-irlz44n")
    assert f"{mosfet}.D" in net_with(design, "M1.-")
    assert not any(p.startswith("U2.") for p in net_with(design, "M1.+") | net_with(design, "M1.-"))
