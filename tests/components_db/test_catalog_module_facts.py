"""Datasheet facts of the catalog's boards, sensors, displays and communication modules (the other categories:
test_catalog_component_facts.py)."""

from __future__ import annotations

from components_db.schema import Category, ElectricalType, Part, PinRole

T = ElectricalType
MODULE_CATEGORIES = (Category.MCU_BOARD, Category.SENSOR, Category.DISPLAY, Category.COMMUNICATION)
I2C_BREAKOUTS = [
    "bme280",
    "bmp280",
    "sht31",
    "aht20",
    "mpu6050",
    "adxl345",
    "vl53l0x",
    "bh1750",
    "ina219",
    "max30102",
    "oled-ssd1306-i2c",
    "lcd1602-i2c",
    "lcd2004-i2c",
]


def pin(part: Part, token: str):
    found = part.find_pin(token)
    assert found is not None, f"{part.id} has no pin {token}"
    return found


def boards(catalog: dict[str, Part]) -> list[Part]:
    return [p for p in catalog.values() if p.category is Category.MCU_BOARD]


def test_boards_sensors_displays_and_radios_are_all_there(catalog):
    counts = {c: sum(p.category is c for p in catalog.values()) for c in MODULE_CATEGORIES}
    assert counts[Category.MCU_BOARD] >= 12
    assert counts[Category.SENSOR] >= 29
    assert counts[Category.DISPLAY] >= 9
    assert counts[Category.COMMUNICATION] >= 11


def test_every_board_has_ground_a_rail_and_protected_gpio(catalog):
    for board in boards(catalog):
        assert board.pins_with_role(PinRole.GROUND), board.id
        rails = [p for p in board.pins if p.type is T.POWER_OUT]
        assert rails and all(p.voltage in (3.3, 5.0) for p in rails), board.id
        gpios = [p for p in board.pins if p.type is T.BIDIRECTIONAL and PinRole.GPIO in p.roles]
        assert gpios and all(p.max_current_ma for p in gpios), board.id
        assert board.io_max_v is not None and board.logic_level_v in (3.3, 5.0), board.id
        assert board.spice is not None and board.spice.kind == "board", board.id


NO_HARDWARE_UART = {"digispark-attiny85"}  # the ATtiny85 has a USI, no UART (datasheet section 15)


def test_every_board_names_its_buses(catalog):
    for board in boards(catalog):
        for role in (PinRole.I2C_SDA, PinRole.I2C_SCL, PinRole.UART_TX, PinRole.UART_RX):
            if board.id in NO_HARDWARE_UART and role in (PinRole.UART_TX, PinRole.UART_RX):
                assert not board.pins_with_role(role), f"{board.id} has no UART to list"
                continue
            assert board.pins_with_role(role), f"{board.id} lacks {role}"
        for role in (PinRole.SPI_MOSI, PinRole.SPI_MISO, PinRole.SPI_SCK):
            assert board.pins_with_role(role), f"{board.id} lacks {role}"


def test_esp32_input_only_pins(catalog):
    esp32 = catalog["esp32-devkit-v1"]
    for name in ("GPIO34", "GPIO35", "GPIO36", "GPIO39"):
        assert pin(esp32, name).type is T.INPUT
        assert PinRole.GPIO not in pin(esp32, name).roles
    assert pin(esp32, "VP").name == "GPIO36"
    assert pin(esp32, "D21").roles == [PinRole.GPIO, PinRole.PWM, PinRole.I2C_SDA]


def test_nano_a6_a7_are_analog_inputs_only(catalog):
    nano = catalog["arduino-nano"]
    for name in ("A6", "A7"):
        assert pin(nano, name).type is T.INPUT and pin(nano, name).roles == [PinRole.ADC]
    assert PinRole.I2C_SDA in pin(nano, "A4").roles and PinRole.I2C_SCL in pin(nano, "A5").roles


def test_mega_buses_sit_on_their_own_pins(catalog):
    mega = catalog["arduino-mega-2560"]
    assert len([p for p in mega.pins if PinRole.GPIO in p.roles]) == 70  # D0-D53 + A0-A15
    assert [p.name for p in mega.pins_with_role(PinRole.I2C_SDA)] == ["D20"]
    assert [p.name for p in mega.pins_with_role(PinRole.SPI_SCK)] == ["D52"]
    assert len(mega.pins_with_role(PinRole.UART_TX)) == 4
    assert {p.name for p in mega.pins_with_role(PinRole.PWM)} == {f"D{n}" for n in [*range(2, 14), 44, 45, 46]}


def test_esp8266_silkscreen_labels_resolve_to_gpio_numbers(catalog):
    for board_id in ("nodemcu-esp8266", "wemos-d1-mini"):
        board = catalog[board_id]
        assert pin(board, "D1").name == "GPIO5" and PinRole.I2C_SCL in pin(board, "D1").roles
        assert pin(board, "D2").name == "GPIO4" and PinRole.I2C_SDA in pin(board, "D2").roles
        assert pin(board, "D4").name == "GPIO2"
        assert pin(board, "A0").type is T.INPUT and pin(board, "A0").max_v <= 3.3
    flash = [p for p in catalog["nodemcu-esp8266"].pins if p.description.startswith(("SPI flash", "flash pin"))]
    assert len(flash) == 6 and all(p.type is T.NO_CONNECT for p in flash)


def test_pico_physical_pins(catalog):
    pico = catalog["raspberry-pi-pico"]
    grounds = sorted(int(p.number) for p in pico.pins_with_role(PinRole.GROUND))
    assert grounds == [3, 8, 13, 18, 23, 28, 33, 38]
    assert pin(pico, "36").name == "3V3" and pin(pico, "36").voltage == 3.3
    assert pin(pico, "39").name == "VSYS" and pin(pico, "40").name == "VBUS"
    assert {p.name for p in pico.pins_with_role(PinRole.ADC)} == {"GP26", "GP27", "GP28"}
    assert all(p.max_current_ma == 12 for p in pico.pins if PinRole.GPIO in p.roles)


def test_blue_pill_five_volt_tolerance_follows_the_datasheet(catalog):
    pill = catalog["stm32-blue-pill"]
    not_tolerant = {f"PA{n}" for n in range(8)} | {"PB0", "PB1", "PB5", "PC13", "PC14", "PC15"}
    for p in pill.pins:
        if PinRole.GPIO in p.roles:
            assert (p.max_v == 5.5) == (p.name not in not_tolerant), p.name
    assert pin(pill, "PC13").max_current_ma == 3


def test_three_volt_boards_are_not_five_volt_tolerant(catalog):
    for board in boards(catalog):
        if board.logic_level_v == 3.3:
            assert board.io_max_v <= 3.6, board.id
        else:
            assert board.io_max_v == 5.5, board.id


def test_i2c_modules_have_both_lines_and_declare_pullups(catalog):
    for part_id in I2C_BREAKOUTS:
        part = catalog[part_id]
        sda, scl = part.pins_with_role(PinRole.I2C_SDA), part.pins_with_role(PinRole.I2C_SCL)
        assert len(sda) == 1 and len(scl) == 1, part_id
        assert sda[0].type is T.OPEN_COLLECTOR and scl[0].type in (T.INPUT, T.OPEN_COLLECTOR), part_id
        assert part.usage.onboard_pullups, part_id
        assert "i2c_address" in part.specs, part_id


def test_bare_open_drain_sensors_ask_for_a_pullup(catalog):
    for part_id, line in [("dht11", "DATA"), ("dht22", "DATA"), ("ds18b20", "DQ"), ("hall-a3144", "OUT")]:
        part = catalog[part_id]
        assert part.usage.pullup_required == [line], part_id
        assert pin(part, line).type is T.OPEN_COLLECTOR, part_id
        assert not part.usage.onboard_pullups, part_id
    assert catalog["rotary-encoder-ky040"].usage.pullup_required == ["SW"]


def test_to92_sensor_pinouts(catalog):
    assert [p.name for p in catalog["ds18b20"].pins] == ["GND", "DQ", "VDD"]
    assert [p.name for p in catalog["lm35"].pins] == ["VS", "VOUT", "GND"]
    assert [p.name for p in catalog["tmp36"].pins] == ["VS", "VOUT", "GND"]
    assert [p.name for p in catalog["hall-a3144"].pins] == ["VCC", "GND", "OUT"]
    assert catalog["lm35"].supply.min_v == 4.0 and catalog["tmp36"].supply.min_v == 2.7


def test_supply_limits_that_destroy_modules(catalog):
    for part_id in ("nrf24l01", "rc522-rfid", "ra02-lora-sx1278", "bmp280"):
        assert catalog[part_id].supply.max_v <= 3.7, part_id
    sim = catalog["sim800l-gsm"]
    assert sim.supply.min_v >= 3.4 and sim.supply.max_v <= 4.4 and sim.current_draw_ma >= 2000
    for part_id in ("hc-sr04", "mq2", "mq135", "max485-module", "mcp2515-can-module", "lcd1602-i2c"):
        assert catalog[part_id].supply.min_v >= 4.5, part_id
    assert catalog["nrf24l01"].io_max_v > 5.0  # 3.3 V supply, 5 V tolerant inputs


def test_five_volt_outputs_are_flagged_for_three_volt_boards(catalog):
    assert catalog["hc-sr04"].logic_level_v == 5.0 and pin(catalog["hc-sr04"], "ECHO").type is T.OUTPUT
    assert catalog["pir-hc-sr501"].logic_level_v == 3.3  # 5 V supply, 3.3 V output
    for part_id in ("hc05-bluetooth", "neo6m-gps", "sim800l-gsm"):
        rx = catalog[part_id].pins_with_role(PinRole.UART_RX)[0]
        assert rx.type is T.INPUT and rx.max_v is not None and rx.max_v < 5.0, part_id


def test_uart_modules_pair_an_output_with_an_input(catalog):
    for part in catalog.values():
        if part.category in MODULE_CATEGORIES[1:]:
            for tx in part.pins_with_role(PinRole.UART_TX):
                assert tx.type is T.OUTPUT, part.id
            for rx in part.pins_with_role(PinRole.UART_RX):
                assert rx.type is T.INPUT, part.id


def test_spi_slaves_follow_the_convention(catalog):
    for part in catalog.values():
        if part.category in MODULE_CATEGORIES[1:]:
            for p in part.pins_with_role(PinRole.SPI_MISO):
                assert p.type is T.TRI_STATE, f"{part.id}.{p.name}"
            for role in (PinRole.SPI_SCK, PinRole.SPI_CS):
                for p in part.pins_with_role(role):
                    assert p.type is T.INPUT, f"{part.id}.{p.name}"


def test_modules_have_ground_and_supply(catalog):
    """Bare passive sensors (an LDR, a reed switch, a keypad matrix) have neither, as in test_catalog.py."""
    for part in catalog.values():
        bare_passive = all(p.type is T.PASSIVE for p in part.pins)
        if part.category in MODULE_CATEGORIES[1:] and part.id != "seven-segment-cc" and not bare_passive:
            assert part.pins_with_role(PinRole.GROUND), part.id
            assert part.supply is not None and part.current_draw_ma is not None, part.id


def test_passive_parts_are_two_terminal_or_led_segments(catalog):
    ldr = catalog["ldr-gl5528"]
    assert ldr.is_two_terminal and ldr.spice.kind == "resistor" and ldr.default_value == "10k"
    display = catalog["seven-segment-cc"]
    assert display.usage.series_resistor_required
    assert len(display.pins_with_role(PinRole.ANODE)) == 8 and len(display.pins_with_role(PinRole.CATHODE)) == 2


def test_load_cell_meets_its_amplifier(catalog):
    cell, amp = catalog["load-cell-5kg"], catalog["hx711"]
    for name in ("E+", "E-", "A+", "A-"):
        assert amp.find_pin(name) is not None and cell.find_pin(name) is not None
    assert pin(amp, "E+").type is T.POWER_OUT and pin(cell, "E+").type is T.POWER_IN
    assert PinRole.GROUND in pin(amp, "E-").roles and PinRole.GROUND in pin(cell, "E-").roles


def test_wokwi_pin_maps_name_real_pins_and_differ(catalog):
    mapped = 0
    for part in catalog.values():
        if part.category in MODULE_CATEGORIES:
            assert not part.wokwi_pins or part.wokwi_type, part.id
            for ours, theirs in part.wokwi_pins.items():
                assert ours != theirs, f"{part.id}.{ours}"
                mapped += 1
    assert catalog["arduino-uno"].wokwi_pins["D13"] == "13"
    assert catalog["esp32-devkit-v1"].wokwi_pins["GPIO1"] == "TX0"
    assert catalog["raspberry-pi-pico"].wokwi_pins["AGND"] == "GND.7"
    assert mapped > 100


def test_entries_are_findable(catalog):
    for part in catalog.values():
        if part.category in MODULE_CATEGORIES:
            assert 2 <= len(part.aliases) <= 6, part.id
            assert part.datasheet and part.tags and part.usage.notes, part.id
            assert 40 <= len(part.description) <= 300, part.id
