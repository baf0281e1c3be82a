"""Wiring facts the stricter ERC rules read from the catalog: required pins, strap roles, pin matrices
and fixed bus pins, and the rated supply of every load."""

from __future__ import annotations

import re

import pytest

from components_db.schema import Category, ElectricalType, Part, Pin, PinRole

R = PinRole
T = ElectricalType
POWER_TYPES = frozenset({T.POWER_IN, T.POWER_OUT})
NOT_SIGNAL_TYPES = POWER_TYPES | {T.NO_CONNECT, T.FREE}
POWER_ROLES = frozenset({R.POWER_IN, R.POWER_OUT, R.GROUND})
# roles of the pins a correct design may wire straight to a supply or to ground
RAIL_TIE_ROLES = frozenset({R.ENABLE, R.OUTPUT_ENABLE, R.RESET, R.BOOT, R.ADDRESS, R.MODE})
BUS_ROLES = frozenset({R.I2C_SDA, R.I2C_SCL, R.SPI_MOSI, R.SPI_MISO, R.SPI_SCK, R.SPI_CS, R.UART_TX, R.UART_RX})
# ESP32 and ESP8266 families (GPIO matrix) and the nRF52840 (any pin can carry I2C, SPI or UART)
PIN_MATRIX_BOARDS = {
    "esp32-devkit-v1", "esp32-s3-devkitc-1", "esp32-c3-devkitm-1", "nodemcu-esp8266", "wemos-d1-mini",
    "arduino-nano-esp32", "xiao-esp32c3", "xiao-esp32s3", "xiao-nrf52840", "esp32-c6-devkitc-1", "esp32-cam",
    "lolin-s2-mini", "franzininho-wifi", "esp32-devkitc-v4", "feather-nrf52840",
}  # fmt: skip
FIXED_BUS_BOARDS = {
    "arduino-uno",
    "arduino-nano",
    "arduino-mega-2560",
    "arduino-pro-micro",
    "raspberry-pi-pico",
    "stm32-blue-pill",
    "teensy-4-0",
}

# Non-board parts with signal pins that need none of them wired. None today: every such part has a job
# that needs at least one of its signal pins.
NO_REQUIRED_PINS: set[str] = set()
# Required strap pins: a bare chip's address inputs with no internal bias ("must be externally biased"
# in the Microchip MCP23017 datasheet; none on the NXP LM75A's A0-A2 either), unlike module straps that
# have a pull-up or pull-down.
REQUIRED_STRAPS = {(chip, strap) for chip in ("mcp23017", "lm75") for strap in ("A0", "A1", "A2")}
# Pins the catalog tells you to tie to a rail although no rail-tie role fits them (open question for the
# rail-tie ERC rule): the 74HC165's serial input of the last chip in a chain (tie to GND), and the
# DRV8825's FAULT output, protected by 1.5k so that it can sit on the A4988's VDD pin of a socket.
RAIL_TIE_GAPS = {("74hc165", "SER"), ("drv8825-module", "FAULT")}
# Loads without a rated supply range: a bipolar stepper is driven by a current-limiting chopper from a
# much higher VMOT; its 1.7 A x 1.5 ohm = 2.55 V rating is not a limit on the rail.
LOADS_WITHOUT_SUPPLY = {"stepper-nema17"}


def signal_pins(part: Part) -> list[Pin]:
    return [p for p in part.pins if p.type not in NOT_SIGNAL_TYPES]


def is_power_pin(pin: Pin) -> bool:
    return pin.type in POWER_TYPES or bool(POWER_ROLES.intersection(pin.roles))


def required_names(part: Part) -> set[str]:
    return {name for entry in part.usage.required_pins for name in entry.split("|")}


def bus_pins(part: Part, *roles: PinRole) -> set[str]:
    return {p.name for p in part.pins if set(roles) & set(p.roles)}


# --- required pins ------------------------------------------------------------------------------


def test_every_non_board_part_with_signal_pins_declares_required_pins(catalog_parts):
    missing = [
        p.id
        for p in catalog_parts
        if p.category is not Category.MCU_BOARD and signal_pins(p) and not p.usage.required_pins
    ]
    assert set(missing) == NO_REQUIRED_PINS


def test_boards_require_no_pins(catalog_parts):
    """A board's spare pins are optional."""
    assert [p.id for p in catalog_parts if p.category is Category.MCU_BOARD and p.usage.required_pins] == []


def test_required_pins_are_signal_pins(catalog_parts):
    for part in catalog_parts:
        for group in part.required_groups():
            assert group, part.id
            for pin in group:
                assert not is_power_pin(pin), f"{part.id}.{pin.name} is a power pin"
                assert pin.type not in (T.NO_CONNECT, T.FREE), f"{part.id}.{pin.name}"


def test_required_entries_name_each_pin_once(catalog_parts):
    for part in catalog_parts:
        names = [name for entry in part.usage.required_pins for name in entry.split("|")]
        assert len(names) == len(set(names)), part.id


def test_interrupt_outputs_and_straps_are_optional(catalog_parts):
    """An interrupt-only pin is never required; a strap only where the chip gives it no default."""
    for part in catalog_parts:
        for group in part.required_groups():
            for pin in group:
                assert set(pin.roles) != {R.INTERRUPT}, f"{part.id}.{pin.name}"
                if {R.ADDRESS, R.MODE} & set(pin.roles):
                    assert (part.id, pin.name) in REQUIRED_STRAPS, f"{part.id}.{pin.name}"


def test_ultrasonic_sensor_needs_trigger_and_echo(catalog):
    assert {"TRIG", "ECHO"} <= set(catalog["hc-sr04"].usage.required_pins)


def test_i2c_displays_need_sda_and_scl(catalog_parts):
    displays = [
        p for p in catalog_parts if p.category is Category.DISPLAY and bus_pins(p, R.I2C_SDA) and bus_pins(p, R.I2C_SCL)
    ]
    assert len(displays) >= 3
    for part in displays:
        assert {"SDA", "SCL"} <= set(part.usage.required_pins), part.id


def test_spi_tft_needs_its_write_lines_but_not_miso_touch_or_reset(catalog):
    tft = catalog["ili9341-tft"]
    assert set(tft.usage.required_pins) == {"CS", "DC", "SDI", "SCK"}
    assert set(catalog["st7735-tft"].usage.required_pins) == {"CS", "A0", "SDA", "SCK"}


def test_either_or_entries_for_channels(catalog):
    assert {"IN1|IN3", "OUT1|OUT3"} <= set(catalog["l298n-module"].usage.required_pins)
    assert "IN1|IN2" in catalog["relay-module-2ch"].usage.required_pins
    assert "AO|DO" in catalog["mq2"].usage.required_pins


def test_resets_required_only_without_a_board_default(catalog):
    a4988 = required_names(catalog["a4988-module"])
    assert {"STEP", "DIR", "RESET", "1A", "1B", "2A", "2B"} <= a4988
    assert not {"ENABLE", "SLEEP", "MS1", "MS2", "MS3"} & a4988  # pulled up / down on the carrier
    assert "XSHUT" not in required_names(catalog["vl53l0x"])  # pulled up on the breakout
    assert {"SRCLR", "OE"} <= required_names(catalog["74hc595"])  # bare CMOS inputs must not float


def test_two_terminal_parts_need_both_pins(catalog_parts):
    for part in catalog_parts:
        if part.category in (Category.PASSIVE, Category.DISCRETE) and part.is_two_terminal:
            assert required_names(part) == {p.name for p in part.pins}, part.id


# --- straps and pins tied to a rail -------------------------------------------------------------


def test_strap_pins_are_signal_pins(catalog_parts):
    straps = [(part, pin) for part in catalog_parts for pin in part.pins if {R.ADDRESS, R.MODE} & set(pin.roles)]
    assert len(straps) >= 10
    for part, pin in straps:
        assert not is_power_pin(pin), f"{part.id}.{pin.name}"
        assert pin.type is not T.NO_CONNECT, f"{part.id}.{pin.name}"


@pytest.mark.parametrize(
    ("part_id", "pin", "role"),
    [
        ("bmp280", "SDO", R.ADDRESS),
        ("bmp280", "CSB", R.MODE),
        ("adxl345", "CS", R.MODE),
        ("mpu6050", "AD0", R.ADDRESS),
        ("bh1750", "ADDR", R.ADDRESS),
        ("ads1115-module", "ADDR", R.ADDRESS),
        ("mcp23017", "A2", R.ADDRESS),
        ("a4988-module", "MS3", R.MODE),
        ("drv8825-module", "M0", R.MODE),
        ("74hc595", "OE", R.OUTPUT_ENABLE),
        ("74hc595", "SRCLR", R.RESET),
    ],
)
def test_strap_roles(catalog, part_id, pin, role):
    assert role in catalog[part_id].find_pin(pin).roles


def test_pins_the_catalog_says_to_tie_to_a_rail_carry_a_rail_tie_role(catalog_parts):
    tie = re.compile(r"\btie\b[^;]*\b(to|high|low)\b", re.IGNORECASE)
    told = [
        (part.id, pin.name, pin)
        for part in catalog_parts
        for pin in signal_pins(part)
        if tie.search(pin.description) and pin.type is not T.PASSIVE
    ]
    assert len(told) >= 10
    untied = {(pid, name) for pid, name, pin in told if not RAIL_TIE_ROLES & set(pin.roles)}
    assert untied == RAIL_TIE_GAPS


# --- buses on boards -----------------------------------------------------------------------------


def test_pin_matrix_only_on_boards(catalog_parts):
    assert {p.id for p in catalog_parts if p.usage.pin_matrix} == PIN_MATRIX_BOARDS
    assert all(p.category is Category.MCU_BOARD for p in catalog_parts if p.usage.pin_matrix)


def test_fixed_bus_boards_have_no_pin_matrix(catalog):
    for board in FIXED_BUS_BOARDS:
        assert not catalog[board].usage.pin_matrix, board


def test_esp32_routes_buses_anywhere_except_its_input_only_pins(catalog):
    esp32 = catalog["esp32-devkit-v1"]
    assert esp32.usage.pin_matrix
    assert {p.name for p in esp32.pins if p.type is T.INPUT and R.ADC in p.roles} >= {
        "GPIO34",
        "GPIO35",
        "GPIO36",
        "GPIO39",
    }


@pytest.mark.parametrize(
    ("board", "sda", "scl"),
    [
        ("arduino-uno", {"A4"}, {"A5"}),
        ("arduino-nano", {"A4"}, {"A5"}),
        ("arduino-mega-2560", {"D20"}, {"D21"}),
        ("arduino-pro-micro", {"D2"}, {"D3"}),
        ("teensy-4-0", {"D18", "D17"}, {"D19", "D16"}),
        ("stm32-blue-pill", {"PB7", "PB9", "PB11"}, {"PB6", "PB8", "PB10"}),
    ],
)
def test_i2c_roles_exactly_on_the_hardware_i2c_pins(catalog, board, sda, scl):
    assert bus_pins(catalog[board], R.I2C_SDA) == sda
    assert bus_pins(catalog[board], R.I2C_SCL) == scl


def test_mega_has_its_four_uarts(catalog):
    mega = catalog["arduino-mega-2560"]
    assert bus_pins(mega, R.UART_TX) == {"D1", "D14", "D16", "D18"}
    assert bus_pins(mega, R.UART_RX) == {"D0", "D15", "D17", "D19"}


def test_pico_bus_roles_follow_the_rp2040_function_table(catalog):
    """GPIO n: SPI RX/CSn/SCK/TX by n % 4, UART TX/RX on n % 4 in (0, 1), I2C SDA on even and SCL on odd n."""
    spi = (R.SPI_MISO, R.SPI_CS, R.SPI_SCK, R.SPI_MOSI)
    uart = (R.UART_TX, R.UART_RX, None, None)
    pins = [p for p in catalog["raspberry-pi-pico"].pins if p.name.startswith("GP")]
    assert len(pins) == 26
    for pin in pins:
        n = int(pin.name[2:])
        expected = {spi[n % 4], (R.I2C_SDA, R.I2C_SCL)[n % 2]} | ({uart[n % 4]} - {None})
        assert BUS_ROLES & set(pin.roles) == expected, pin.name


def test_every_board_bus_pin_can_drive(catalog_parts):
    """Bus roles sit on pins that push both levels (an input-only pin cannot be SDA, SCK or TX)."""
    for board in (p for p in catalog_parts if p.category is Category.MCU_BOARD):
        for pin in board.pins:
            if BUS_ROLES & set(pin.roles):
                assert pin.type is T.BIDIRECTIONAL, f"{board.id}.{pin.name}"


# --- loads ---------------------------------------------------------------------------------------


def test_every_bare_load_has_a_rated_supply(catalog_parts):
    loads = [
        p
        for p in catalog_parts
        if p.category is Category.ACTUATOR
        and not any(pin.type in POWER_TYPES for pin in p.pins)
        and any({R.COIL, R.LOAD} & set(pin.roles) for pin in p.pins)
    ]
    assert len(loads) >= 10
    assert {p.id for p in loads if p.supply is None} == LOADS_WITHOUT_SUPPLY


def test_expander_and_adc_channels_are_spare_pins_but_their_bus_is_required(catalog):
    """Like a board's spare pins, an I/O expander's or ADC's channels are used as the project needs."""
    for part_id, channels in (("mcp23017", "GPA0"), ("pcf8574-module", "P0"), ("ads1115-module", "A0")):
        assert {"SDA", "SCL"} <= required_names(catalog[part_id]), part_id
        assert channels not in required_names(catalog[part_id]), part_id
    assert {"RESET", "A0", "A1", "A2"} <= required_names(catalog["mcp23017"])  # no default on the bare chip


def test_shift_register_outputs_and_mux_channels_are_spare_pins_but_their_control_lines_are_required(catalog):
    """A 74HC595 is an output expander and a CD4051 an ADC's: their channels are used as the project needs."""
    assert required_names(catalog["74hc595"]) == {"SER", "SRCLK", "RCLK", "SRCLR", "OE"}
    assert required_names(catalog["cd4051"]) == {"A", "B", "C", "INH", "COM"}
