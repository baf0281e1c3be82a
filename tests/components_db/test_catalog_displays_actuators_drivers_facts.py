"""Datasheet facts of the displays, actuators, audio parts and drivers added to grow the catalog (helper kb3).

Each test reads the real curated catalog and checks what a reviewer with the datasheet, the module's
silkscreen or the maker's schematic open would check: pin numbers and header orders, supply limits,
3.3 V-only logic, and the usage flags (inductive, flyback, pull-ups) the electrical-rule checks act on.
"""

from __future__ import annotations

import math

import pytest

from components_db.schema import Category, ElectricalType, Part, PinRole, SymbolKind

T = ElectricalType
R = PinRole
ADDED = {
    Category.DISPLAY: """oled-sh1106-i2c oled-ssd1306-128x32 oled-ssd1306-spi st7789-tft-240x240 st7789-tft-240x320
        gc9a01-round-tft epaper-2in9 epaper-1in54 nokia-5110-lcd lcd1602-parallel tm1638-led-key max7219-matrix-4in1
        max7219-7seg-8digit ws2812b-pixel neopixel-ring-16 apa102-strip""",
    Category.ACTUATOR: """dfplayer-mini speaker-8ohm max98357a-i2s-amp pam8403-amp-module lm386-amp-module mains-lamp
        led-strip-12v laser-ky008 electromagnet-12v linear-actuator-12v n20-gear-motor servo-mg90s servo-fs90r
        ssr-fotek-25da relay-module-4ch esc-30a brushless-motor-a2212 fan-12v-pwm""",
    Category.DRIVER: """l9110s-module mx1508-module drv8871-breakout bts7960-ibt2 vnh2sp30-monster-moto
        mosfet-module-d4184 tmc2208-stepstick tmc2209-stepstick tb6600-stepper-driver uln2003a-dip16 uln2803a""",
}
ADDED_IDS = [part_id for ids in ADDED.values() for part_id in ids.split()]


def pin(part: Part, token: str):
    found = part.find_pin(token)
    assert found is not None, f"{part.id} has no pin {token}"
    return found


def pinout(part: Part) -> dict[str, str]:
    return {p.number: p.name for p in part.pins}


def names(part: Part) -> list[str]:
    return [p.name for p in part.pins]


# --- presence and documentation ---------------------------------------------------------------------------


@pytest.mark.parametrize("category", sorted(ADDED))
def test_every_added_part_exists_in_its_category(catalog, category):
    for part_id in ADDED[category].split():
        assert part_id in catalog, part_id
        assert catalog[part_id].category is category, part_id


def test_added_parts_are_documented_for_people_and_retrieval(catalog):
    assert len(ADDED_IDS) == len(set(ADDED_IDS)) == 45
    for part_id in ADDED_IDS:
        part = catalog[part_id]
        assert 2 <= len(part.aliases) <= 6, part_id
        assert all(alias == alias.lower() for alias in part.aliases), part_id
        assert 40 <= len(part.description) <= 300, part_id
        assert part.datasheet and part.tags and part.usage.notes, part_id
        assert part.spice is not None and part.spice.kind == "module", part_id
        assert part.usage.required_pins, part_id


def test_numbering_runs_from_one_without_gaps(catalog):
    for part_id in ADDED_IDS:
        part = catalog[part_id]
        assert [p.number for p in part.pins] == [str(n) for n in range(1, len(part.pins) + 1)], part_id


# --- displays ---------------------------------------------------------------------------------------------


def test_i2c_oleds_sit_at_0x3c_with_their_own_pullups(catalog):
    for part_id in ("oled-sh1106-i2c", "oled-ssd1306-128x32"):
        part = catalog[part_id]
        assert part.specs["i2c_address"] == "0x3C", part_id
        assert part.usage.onboard_pullups and set(part.usage.required_pins) == {"SCL", "SDA"}, part_id
        assert pin(part, "SDA").type is T.OPEN_COLLECTOR and pin(part, "SDA").roles == [R.I2C_SDA], part_id
    sh1106 = catalog["oled-sh1106-i2c"]
    assert names(sh1106) == ["VDD", "GND", "SCL", "SDA"]  # 1.3 inch boards print VDD first
    assert sh1106.specs["ram_columns"] == 132  # two columns more than the SSD1306: the 2-pixel shift
    assert names(catalog["oled-ssd1306-128x32"]) == ["GND", "VCC", "SCL", "SDA"]
    assert catalog["oled-ssd1306-128x32"].specs["resolution"] == "128x32"


def test_seven_pin_spi_oled_header(catalog):
    oled = catalog["oled-ssd1306-spi"]
    assert names(oled) == ["GND", "VCC", "D0", "D1", "RES", "DC", "CS"]
    assert pin(oled, "D0").roles == [R.SPI_SCK] and pin(oled, "D1").roles == [R.SPI_MOSI]
    assert not oled.pins_with_role(R.SPI_MISO)  # write-only
    assert R.RESET in pin(oled, "RES").roles


def test_st7789_and_gc9a01_are_3v3_logic(catalog):
    for part_id in ("st7789-tft-240x240", "st7789-tft-240x320", "gc9a01-round-tft", "nokia-5110-lcd"):
        part = catalog[part_id]
        assert part.logic_level_v == 3.3 and part.io_max_v <= 3.6, part_id
    square = catalog["st7789-tft-240x240"]
    assert names(square) == ["GND", "VCC", "SCL", "SDA", "RES", "DC", "BLK"]  # the 7-pin board has no CS
    assert not square.pins_with_role(R.SPI_CS) and square.specs["spi_mode"] == 3
    assert square.supply.max_v <= 3.6  # no regulator on the 1.3 inch board
    assert names(catalog["st7789-tft-240x320"]) == ["VCC", "GND", "DIN", "CLK", "CS", "DC", "RST", "BL"]
    round_tft = catalog["gc9a01-round-tft"]
    assert round_tft.specs["shape"] == "round" and round_tft.specs["resolution"] == "240x240"
    assert {"SCL", "SDA", "DC", "CS"} == set(round_tft.usage.required_pins)


def test_waveshare_epaper_header_and_busy_line(catalog):
    for part_id, resolution in (("epaper-2in9", "296x128"), ("epaper-1in54", "200x200")):
        part = catalog[part_id]
        assert names(part) == ["VCC", "GND", "DIN", "CLK", "CS", "DC", "RST", "BUSY"], part_id
        assert pin(part, "BUSY").type is T.OUTPUT, part_id
        assert part.specs["resolution"] == resolution and part.specs["colors"] == 2, part_id
        assert part.io_max_v is None  # the Waveshare board translates 5 V logic
    assert "SSD1680" in catalog["epaper-2in9"].datasheet and "SSD1681" in catalog["epaper-1in54"].datasheet


def test_nokia_5110_red_board_pinout(catalog):
    lcd = catalog["nokia-5110-lcd"]
    assert pinout(lcd) == {
        "1": "RST", "2": "CE", "3": "DC", "4": "DIN", "5": "CLK", "6": "VCC", "7": "LIGHT", "8": "GND",
    }  # fmt: skip
    assert lcd.supply.max_v == 3.3 and pin(lcd, "CE").roles == [R.SPI_CS]


def test_lcd1602_parallel_follows_the_hd44780_module_pinout(catalog):
    lcd = catalog["lcd1602-parallel"]
    expected = ["VSS", "VDD", "V0", "RS", "RW", "E", *(f"D{n}" for n in range(8)), "A", "K"]
    assert names(lcd) == expected
    assert R.GROUND in pin(lcd, "VSS").roles and R.GROUND in pin(lcd, "K").roles
    assert set(lcd.usage.required_pins) == {"RS", "E", "D4", "D5", "D6", "D7"}  # 4-bit mode
    assert all(not pin(lcd, f"D{n}").roles for n in range(4))  # unused in 4-bit mode
    assert R.MODE in pin(lcd, "RW").roles  # tied to GND for write-only use
    assert lcd.wokwi_type == "wokwi-lcd1602" and not lcd.wokwi_pins  # Wokwi uses the same pin names


def test_led_driver_modules(catalog):
    panel = catalog["tm1638-led-key"]
    assert names(panel) == ["VCC", "GND", "STB", "CLK", "DIO"]
    assert panel.specs["digits"] == panel.specs["leds"] == panel.specs["buttons"] == 8
    assert pin(panel, "DIO").type is T.OPEN_COLLECTOR and panel.usage.pullup_required == ["DIO"]
    for part_id in ("max7219-matrix-4in1", "max7219-7seg-8digit"):
        part = catalog[part_id]
        assert names(part)[:5] == ["VCC", "GND", "DIN", "CS", "CLK"], part_id
        assert part.specs["input_high_min_v"] == 3.5 and part.logic_level_v == 5.0, part_id
    matrix = catalog["max7219-matrix-4in1"]
    assert matrix.specs["leds"] == 256 and matrix.wokwi_attrs == {"chain": "4"}
    assert matrix.specs["max_current_ma"] == 4 * catalog["max7219-matrix"].specs["max_current_ma"]


def test_addressable_leds(catalog):
    pixel = catalog["ws2812b-pixel"]
    assert pinout(pixel) == {"1": "VDD", "2": "DOUT", "3": "VSS", "4": "DIN"}  # 5050 package
    ring = catalog["neopixel-ring-16"]
    assert ring.specs["leds"] == 16 and ring.current_draw_ma == 16 * ring.specs["current_per_led_ma"]
    for part in (pixel, ring):
        assert pin(part, "DOUT").roles == []  # chained on, never read by the MCU
        assert not part.usage.series_resistor_required and part.ftype != "simple_led"
    apa = catalog["apa102-strip"]
    assert pin(apa, "CI").roles == [R.SPI_SCK, R.CLOCK] and pin(apa, "DI").roles == [R.SPI_MOSI, R.DATA]
    assert set(apa.usage.required_pins) == {"CI", "DI"}


# --- audio ------------------------------------------------------------------------------------------------


def test_dfplayer_mini_pinout_and_uart(catalog):
    player = catalog["dfplayer-mini"]
    assert names(player) == [
        "VCC", "RX", "TX", "DAC_R", "DAC_L", "SPK_1", "GND", "SPK_2",
        "IO_1", "GND2", "IO_2", "ADKEY_1", "ADKEY_2", "USB+", "USB-", "BUSY",
    ]  # fmt: skip
    assert pin(player, "RX").type is T.INPUT and pin(player, "RX").max_v < 5.0  # 1k from a 5 V board
    assert pin(player, "TX").type is T.OUTPUT and pin(player, "TX").roles == [R.UART_TX]
    assert player.supply.min_v == 3.2 and player.supply.max_v == 5.0
    assert player.specs["baud"] == 9600 and "RX" in player.usage.required_pins


def test_speaker_rating_matches_its_power_and_impedance(catalog):
    speaker = catalog["speaker-8ohm"]
    ohms, watts = speaker.specs["impedance_ohm"], speaker.specs["power_w"]
    assert speaker.spice.params["r_coil_ohm"] == ohms == 8
    assert speaker.supply.max_v == pytest.approx(math.sqrt(watts * ohms))  # 2 W across 8 ohm is 4 V rms
    assert speaker.is_two_terminal and not speaker.usage.inductive  # driven by an amplifier, no flyback
    assert speaker.symbol is SymbolKind.BUZZER


def test_class_d_amplifiers_have_bridged_outputs(catalog):
    i2s = catalog["max98357a-i2s-amp"]
    assert names(i2s) == ["LRC", "BCLK", "DIN", "GAIN", "SD", "GND", "Vin", "SPK+", "SPK-"]
    assert R.I2S_WS in pin(i2s, "LRC").roles and R.I2S_BCLK in pin(i2s, "BCLK").roles
    assert R.I2S_DIN in pin(i2s, "DIN").roles and R.MODE in pin(i2s, "GAIN").roles
    assert i2s.supply.min_v == 2.5 and i2s.supply.max_v == 5.5
    stereo = catalog["pam8403-amp-module"]
    assert stereo.supply.max_v == 5.5 and stereo.specs["channels"] == 2
    for part in (i2s, stereo, catalog["dfplayer-mini"]):
        assert any("never" in note and "GND" in note for note in part.usage.notes) or any(
            "never to GND" in p.description for p in part.pins
        ), part.id
    lm386 = catalog["lm386-amp-module"]
    assert lm386.supply.min_v == 4.0 and lm386.supply.max_v == 12.0 and lm386.specs["gain"] == 20


# --- loads and actuators ----------------------------------------------------------------------------------


def test_motors_and_coils_are_inductive_and_need_a_driver_or_diode(catalog):
    for part_id in ("electromagnet-12v", "linear-actuator-12v", "n20-gear-motor", "brushless-motor-a2212"):
        part = catalog[part_id]
        assert part.usage.inductive and not part.usage.flyback_included, part_id
        assert any("diode" in note or "driver" in note or "ESC" in note for note in part.usage.notes), part_id
        assert part.supply is not None and part.current_draw_ma > 20, part_id
    for part_id in ("servo-mg90s", "servo-fs90r", "relay-module-4ch", "fan-12v-pwm"):
        part = catalog[part_id]
        assert part.usage.inductive and part.usage.flyback_included, part_id
    assert len(catalog["brushless-motor-a2212"].pins_with_role(R.COIL)) == 3


def test_servos_wire_brown_red_orange(catalog):
    for part_id in ("servo-mg90s", "servo-fs90r"):
        servo = catalog[part_id]
        assert pinout(servo) == {"1": "GND", "2": "VCC", "3": "PWM"}, part_id
        assert servo.supply.min_v == 4.8 and servo.supply.max_v == 6.0, part_id
        assert servo.specs["current_draw_basis"] == "stall" and servo.current_draw_ma >= 500, part_id
    assert catalog["servo-mg90s"].wokwi_type == "wokwi-servo" and catalog["servo-mg90s"].wokwi_pins == {"VCC": "V+"}
    assert catalog["servo-fs90r"].wokwi_type is None  # Wokwi has no continuous-rotation servo
    assert catalog["servo-fs90r"].specs["stop_pulse_ms"] == 1.5


def test_four_wire_pwm_fan_follows_the_intel_pinout(catalog):
    fan = catalog["fan-12v-pwm"]
    assert names(fan) == ["GND", "+12V", "TACH", "PWM"]
    assert pin(fan, "TACH").type is T.OPEN_COLLECTOR and fan.usage.pullup_required == ["TACH"]
    assert fan.specs["pwm_khz"] == 25 and fan.specs["tach_pulses_per_rev"] == 2
    assert pin(fan, "PWM").max_v == 5.25


def test_mains_parts_say_so(catalog):
    lamp = catalog["mains-lamp"]
    assert lamp.supply.min_v >= 100 and lamp.supply.max_v <= 250 and lamp.specs["mains"] is True
    assert "mains" in lamp.tags and "MAINS" in lamp.name and "MAINS VOLTAGE" in lamp.description
    assert lamp.spice.params["r_coil_ohm"] == pytest.approx(230**2 / lamp.specs["power_w"], rel=0.01)
    assert any("relay" in note for note in lamp.usage.notes)
    ssr = catalog["ssr-fotek-25da"]
    assert pinout(ssr) == {"1": "OUT1", "2": "OUT2", "3": "IN+", "4": "IN-"}
    assert pin(ssr, "OUT1").roles == [R.CONTACT_COM] and pin(ssr, "OUT2").roles == [R.CONTACT_NO]
    assert ssr.supply.min_v == 3.0 and ssr.supply.max_v == 32.0 and ssr.specs["load_a"] == 25
    assert not ssr.usage.inductive  # no coil inside
    assert any("mains" in note for note in ssr.usage.notes)


def test_relay_board_and_esc(catalog):
    board = catalog["relay-module-4ch"]
    assert names(board)[:6] == ["GND", "IN1", "IN2", "IN3", "IN4", "VCC"]
    assert len(board.pins_with_role(R.CONTACT_COM)) == 4 and board.specs["input_active"] == "low"
    esc = catalog["esc-30a"]
    bec = pin(esc, "BEC+")
    assert bec.type is T.POWER_OUT and bec.voltage == 5.0 and bec.max_current_ma == 2000
    assert [p.name for p in esc.pins_with_role(R.MOTOR_OUT)] == ["A", "B", "C"]
    assert esc.supply.max_v == pytest.approx(12.6)  # 3S LiPo fully charged
    assert pin(esc, "SIG").roles == [R.PWM]


def test_low_voltage_loads(catalog):
    strip = catalog["led-strip-12v"]
    assert strip.supply.nominal_v == 12.0 and not strip.usage.series_resistor_required
    assert strip.spice.params["r_coil_ohm"] == pytest.approx(12.0 / (strip.current_draw_ma / 1000))
    laser = catalog["laser-ky008"]
    assert names(laser) == ["S", "NC", "-"] and pin(laser, "NC").type is T.FREE
    assert laser.supply.nominal_v == 5.0 and laser.specs["wavelength_nm"] == 650


# --- drivers ----------------------------------------------------------------------------------------------


def test_stepsticks_fit_the_pololu_footprint(catalog):
    a4988 = catalog["a4988-module"]
    for part_id in ("tmc2208-stepstick", "tmc2209-stepstick"):
        part = catalog[part_id]
        assert (pinout(part)["1"], pinout(part)["7"], pinout(part)["8"]) == ("EN", "STEP", "DIR"), part_id
        assert [pinout(part)[str(n)] for n in range(9, 17)] == [
            "VM", "GND2", "M2B", "M2A", "M1A", "M1B", "VIO", "GND",
        ], part_id  # fmt: skip
        for number in ("11", "12", "13", "14"):  # the same coil pins as the A4988 socket
            ours = next(p for p in part.pins if p.number == number)
            theirs = next(p for p in a4988.pins if p.number == number)
            assert theirs.name in ours.aliases, (part_id, number)
        assert pin(part, "EN").roles == [R.OUTPUT_ENABLE]  # pulled up on the board: tied low to run
        assert pin(part, "STEP").roles == [R.STEP] and pin(part, "DIR").roles == [R.DIRECTION]
        assert part.usage.flyback_included, part_id
    assert pin(catalog["tmc2208-stepstick"], "VM").max_v == 36.0
    tmc2209 = catalog["tmc2209-stepstick"]
    assert pin(tmc2209, "VM").max_v == 29.0 and pinout(tmc2209)["4"] == "SPREAD"
    assert R.ADDRESS in pin(tmc2209, "MS1").roles and tmc2209.specs["uart_addresses"] == 4
    assert pin(tmc2209, "DIAG").roles == [R.INTERRUPT]


def test_stepper_coils_reach_the_new_drivers(catalog):
    motor = catalog["stepper-nema17"]
    for part_id in ("tmc2208-stepstick", "tmc2209-stepstick"):
        for coil_pin in motor.pins:
            driver_names = [alias for alias in coil_pin.aliases if alias[:1].isdigit()]
            assert catalog[part_id].find_pin(driver_names[0]) is not None, (part_id, coil_pin.name)


def test_tb6600_terminal_order(catalog):
    tb = catalog["tb6600-stepper-driver"]
    assert names(tb) == ["ENA-", "ENA+", "DIR-", "DIR+", "PUL-", "PUL+", "B-", "B+", "A-", "A+", "GND", "VCC"]
    assert pin(tb, "PUL+").roles == [R.STEP] and pin(tb, "DIR+").roles == [R.DIRECTION]
    assert tb.supply.min_v == 9.0 and tb.supply.max_v == 42.0 and tb.specs["iout_max_a"] == 4.0


def test_h_bridge_modules(catalog):
    ibt2 = catalog["bts7960-ibt2"]
    assert [pinout(ibt2)[str(n)] for n in range(1, 9)] == ["RPWM", "LPWM", "R_EN", "L_EN", "R_IS", "L_IS", "VCC", "GND"]
    assert pin(ibt2, "B+").max_v == 27.0 and pin(ibt2, "M+").max_current_ma == 43000
    assert {"R_EN", "L_EN"} <= set(ibt2.usage.required_pins)  # no pull-up: must be driven or tied high
    moto = catalog["vnh2sp30-monster-moto"]
    assert pin(moto, "VIN").max_v == 16.0 and len(moto.pins_with_role(R.MOTOR_OUT)) == 4
    shield_pins = {"INA1": "D7", "INB1": "D8", "PWM1": "D5", "INA2": "D4", "INB2": "D9", "PWM2": "D6"}
    for name, arduino_pin in shield_pins.items():  # SparkFun's schematic: fixed Uno pins
        assert pin(moto, arduino_pin).name == name
    assert catalog["l9110s-module"].supply.max_v == 12.0 and catalog["mx1508-module"].supply.max_v == 10.0
    drv = catalog["drv8871-breakout"]
    assert drv.supply.min_v == 6.5 and drv.supply.max_v == 45.0 and drv.specs["iout_peak_a"] == 3.6
    for part_id in ("l9110s-module", "mx1508-module", "drv8871-breakout", "bts7960-ibt2", "vnh2sp30-monster-moto"):
        part = catalog[part_id]
        assert part.usage.flyback_included, part_id
        assert all(p.type is T.OUTPUT for p in part.pins_with_role(R.MOTOR_OUT)), part_id


def test_mosfet_trigger_module_switches_the_low_side_without_a_diode(catalog):
    module = catalog["mosfet-module-d4184"]
    drain = pin(module, "OUT-")
    assert drain.type is T.OPEN_COLLECTOR and {R.DRAIN, R.LOAD} <= set(drain.roles)
    assert module.supply.min_v == 5.0 and module.supply.max_v == 36.0 and module.specs["id_max_a"] == 15
    assert not module.usage.flyback_included  # put a diode across inductive loads


def test_darlington_arrays_follow_the_ti_pinouts(catalog):
    uln2003 = catalog["uln2003a-dip16"]
    assert [pinout(uln2003)[str(n)] for n in range(1, 8)] == [f"I{n}" for n in range(1, 8)]
    assert (pinout(uln2003)["8"], pinout(uln2003)["9"]) == ("GND", "COM")
    assert [pinout(uln2003)[str(n)] for n in range(16, 9, -1)] == [f"O{n}" for n in range(1, 8)]
    uln2803 = catalog["uln2803a"]
    assert [pinout(uln2803)[str(n)] for n in range(1, 9)] == [f"I{n}" for n in range(1, 9)]
    assert (pinout(uln2803)["9"], pinout(uln2803)["10"]) == ("GND", "COM")
    assert [pinout(uln2803)[str(n)] for n in range(18, 10, -1)] == [f"O{n}" for n in range(1, 9)]
    for chip in (uln2003, uln2803):
        outputs = chip.pins_with_role(R.MOTOR_OUT)
        assert all(p.type is T.OPEN_COLLECTOR and p.max_current_ma == 500 for p in outputs), chip.id
        assert pin(chip, "COM").type is T.PASSIVE  # KiCad's type: the clamp-diode common
        assert chip.usage.decoupling_required and chip.usage.flyback_included, chip.id
        assert chip.specs["vce_max_v"] == 50, chip.id
