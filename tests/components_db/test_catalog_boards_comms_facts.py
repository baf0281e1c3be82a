"""Datasheet facts of the boards and communication modules added by helper kb1 (the catalog's other boards and
modules: test_catalog_module_facts.py and test_catalog_wiring_facts.py)."""

from __future__ import annotations

import re

import pytest

from components_db.schema import Category, ElectricalType, Part, PinRole

R = PinRole
T = ElectricalType

BOARDS = [
    "arduino-leonardo",
    "arduino-micro",
    "arduino-nano-every",
    "arduino-nano-33-iot",
    "arduino-nano-esp32",
    "arduino-uno-r4-minima",
    "arduino-pro-mini-3v3",
    "arduino-due",
    "xiao-esp32c3",
    "xiao-esp32s3",
    "xiao-rp2040",
    "xiao-nrf52840",
    "esp32-c6-devkitc-1",
    "esp32-cam",
    "lolin-s2-mini",
    "franzininho-wifi",
    "esp32-devkitc-v4",
    "nucleo-f401re",
    "stm32-black-pill-f411",
    "feather-nrf52840",
    "raspberry-pi-pico-w",
    "digispark-attiny85",
    "raspberry-pi-4-gpio",
]
COMMS = [
    "esp-01s",
    "nrf905-module",
    "rfm95w-lora",
    "max3232-rs232-module",
    "sn65hvd230-can-module",
    "hc06-bluetooth",
    "hm10-ble",
    "enc28j60-ethernet",
    "cc1101-module",
    "fs1000a-433mhz-tx",
    "xy-mk-5v-433mhz-rx",
    "sim800c-gsm",
    "rylr896-lora",
    "tja1050-can-module",
    "max3485-module",
    "ch340g-usb-serial",
    "cp2102-usb-serial",
    "e32-433t20d-lora",
    "hc12-433mhz",
]
# the parts the knowledge base must not know (its out-of-knowledge test cases)
RESERVED = ["pn532", "mlx90614", "sct013", "ld2410", "ad8232", "inmp441", "max31865", "bno055", "veml7700", "a9g"]
RESERVED += ["sim7000", "tfmini", "mpr121", "hx710b", "as5600", "ads1256", "drv2605", "lsm6ds3", "icm20948", "tmp117"]
PIN_MATRIX = {
    "arduino-nano-esp32",
    "xiao-esp32c3",
    "xiao-esp32s3",
    "xiao-nrf52840",
    "esp32-c6-devkitc-1",
    "esp32-cam",
    "lolin-s2-mini",
    "franzininho-wifi",
    "esp32-devkitc-v4",
    "feather-nrf52840",
}


def pin(part: Part, token: str):
    found = part.find_pin(token)
    assert found is not None, f"{part.id} has no pin {token}"
    return found


def names_with(part: Part, role: PinRole) -> set[str]:
    return {p.name for p in part.pins_with_role(role)}


def uart_pairs(part: Part) -> list[tuple[str, str]]:
    """TX and RX pins paired in pin order, as the reference designer pairs them."""
    tx = [p.name for p in part.pins_with_role(R.UART_TX) if p.type is T.BIDIRECTIONAL]
    rx = [p.name for p in part.pins_with_role(R.UART_RX) if p.type is T.BIDIRECTIONAL]
    return list(zip(tx, rx, strict=False))


# --- presence, naming ---------------------------------------------------------------------------


@pytest.mark.parametrize(("ids", "category"), [(BOARDS, Category.MCU_BOARD), (COMMS, Category.COMMUNICATION)])
def test_every_kb1_part_is_in_its_category(catalog, ids, category):
    assert len(set(ids)) == len(ids)
    for part_id in ids:
        assert part_id in catalog, part_id
        assert catalog[part_id].category is category, part_id


def test_no_kb1_part_names_a_reserved_part(catalog):
    for part_id in BOARDS + COMMS:
        part = catalog[part_id]
        keys = [part.id, *part.aliases, part.name]
        text = " ".join(k.lower().replace("-", "").replace(" ", "") for k in keys)
        assert not [r for r in RESERVED if r in text], part_id


def test_pin_matrix_exactly_on_the_new_esp32_and_nrf52_boards(catalog):
    assert {b for b in BOARDS if catalog[b].usage.pin_matrix} == PIN_MATRIX


# --- Arduino ------------------------------------------------------------------------------------


def test_leonardo_and_micro_spi_is_off_d11_d13(catalog):
    leonardo, micro = catalog["arduino-leonardo"], catalog["arduino-micro"]
    assert {p.number for p in leonardo.pins if {R.SPI_MISO, R.SPI_MOSI, R.SPI_SCK} & set(p.roles)} == {
        "ICSP1",
        "ICSP3",
        "ICSP4",
    }
    for board in (leonardo, micro):
        assert names_with(board, R.I2C_SDA) == {"D2"} and names_with(board, R.I2C_SCL) == {"D3"}
        assert names_with(board, R.PWM) == {"D3", "D5", "D6", "D9", "D10", "D11", "D13"}
        assert board.logic_level_v == 5.0 and board.supply.min_v == 7.0
    assert len(micro.pins) == 34 and pin(micro, "D17").name == "SS" and pin(micro, "SS").roles == [R.GPIO, R.SPI_CS]


def test_nano_every_has_ss_on_d8_and_digital_a6_a7(catalog):
    every = catalog["arduino-nano-every"]
    assert names_with(every, R.SPI_CS) == {"D8"}
    assert names_with(every, R.PWM) == {"D3", "D5", "D6", "D9", "D10"}
    for name in ("A6", "A7"):
        assert pin(every, name).type is T.BIDIRECTIONAL and R.GPIO in pin(every, name).roles
    assert pin(every, "A4").aliases[0] == "PF2" and R.I2C_SDA in pin(every, "A4").roles
    assert pin(every, "VIN").max_v == 21.0


def test_nano_33_iot_is_a_3v3_samd21_with_7ma_pins(catalog):
    iot = catalog["arduino-nano-33-iot"]
    assert iot.logic_level_v == 3.3 and iot.io_max_v <= 3.6
    assert all(p.max_current_ma == 7 for p in iot.pins if R.GPIO in p.roles)
    assert pin(iot, "VUSB").type is T.NO_CONNECT  # open unless the VUSB jumper is soldered
    assert (pin(iot, "VIN").min_v, pin(iot, "VIN").max_v) == (4.5, 21.0)
    assert pin(iot, "A4").aliases[0] == "PB08" and pin(iot, "D13").aliases[0] == "PA17"


def test_nano_esp32_labels_map_to_esp32_s3_gpios(catalog):
    nano = catalog["arduino-nano-esp32"]
    expected = {"D0": "GPIO44", "D1": "GPIO43", "D2": "GPIO5", "D10": "GPIO21", "D13": "GPIO48"}
    expected |= {"A0": "GPIO1", "A4": "GPIO11", "A5": "GPIO12", "A7": "GPIO14", "B0": "GPIO46", "B1": "GPIO0"}
    for label, gpio in expected.items():
        assert pin(nano, label).name == gpio, label
    assert names_with(nano, R.I2C_SDA) == {"GPIO11"} and nano.logic_level_v == 3.3
    assert (pin(nano, "VIN").min_v, pin(nano, "VIN").max_v) == (6.0, 21.0)


def test_uno_r4_minima_limits(catalog):
    r4 = catalog["arduino-uno-r4-minima"]
    assert (r4.supply.min_v, r4.supply.max_v) == (6.0, 24.0) and r4.logic_level_v == 5.0
    assert all(p.max_current_ma == 8 for p in r4.pins if R.GPIO in p.roles)
    assert names_with(r4, R.CAN_TX) == {"D4"} and names_with(r4, R.CAN_RX) == {"D5"}
    assert names_with(r4, R.DAC) == {"A0"} and pin(r4, "5V").max_current_ma == 1200


def test_pro_mini_3v3_runs_at_3v3(catalog):
    mini = catalog["arduino-pro-mini-3v3"]
    assert mini.logic_level_v == 3.3 and mini.specs["clock_mhz"] == 8
    assert pin(mini, "VCC").type is T.POWER_OUT and pin(mini, "VCC").voltage == 3.3
    assert pin(mini, "VCC").max_current_ma == 150 and pin(mini, "RAW").min_v == 3.35
    for name in ("A6", "A7"):
        assert pin(mini, name).type is T.INPUT and pin(mini, name).roles == [R.ADC]


def test_due_is_3v3_with_spi_on_its_own_header(catalog):
    due = catalog["arduino-due"]
    assert due.logic_level_v == 3.3 and due.io_max_v <= 3.6
    assert {p.number for p in due.pins if R.SPI_SCK in p.roles} == {"SPI3"}
    assert not {R.SPI_MISO, R.SPI_MOSI, R.SPI_SCK, R.SPI_CS} & {
        r for n in range(50, 54) for r in pin(due, f"D{n}").roles
    }
    assert uart_pairs(due) == [("D1", "D0"), ("D14", "D15"), ("D16", "D17"), ("D18", "D19")]
    assert names_with(due, R.DAC) == {"DAC0", "DAC1"}
    assert names_with(due, R.I2C_SDA) == {"D20", "SDA1"} and names_with(due, R.I2C_SCL) == {"D21", "SCL1"}
    assert len([p for p in due.pins if R.GPIO in p.roles and re.fullmatch(r"D\d+", p.name)]) == 54


# --- Seeed XIAO -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("board", "gpios"),
    [
        (
            "xiao-esp32c3",
            ["GPIO2", "GPIO3", "GPIO4", "GPIO5", "GPIO6", "GPIO7", "GPIO21", "GPIO20", "GPIO8", "GPIO9", "GPIO10"],
        ),
        (
            "xiao-esp32s3",
            ["GPIO1", "GPIO2", "GPIO3", "GPIO4", "GPIO5", "GPIO6", "GPIO43", "GPIO44", "GPIO7", "GPIO8", "GPIO9"],
        ),
        ("xiao-rp2040", ["GP26", "GP27", "GP28", "GP29", "GP6", "GP7", "GP0", "GP1", "GP2", "GP4", "GP3"]),
        (
            "xiao-nrf52840",
            ["P0.02", "P0.03", "P0.28", "P0.29", "P0.04", "P0.05", "P1.11", "P1.12", "P1.13", "P1.14", "P1.15"],
        ),
    ],
)
def test_xiao_pins_1_to_14(catalog, board, gpios):
    xiao = catalog[board]
    assert [p.number for p in xiao.pins] == [str(n) for n in range(1, 15)]
    assert [pin(xiao, f"D{n}").name for n in range(11)] == gpios
    assert pin(xiao, "12").voltage == 3.3 and R.GROUND in pin(xiao, "13").roles and pin(xiao, "14").name == "5V"
    assert R.I2C_SDA in pin(xiao, "D4").roles and R.I2C_SCL in pin(xiao, "D5").roles
    assert R.UART_TX in pin(xiao, "D6").roles and R.UART_RX in pin(xiao, "D7").roles
    assert (
        R.SPI_SCK in pin(xiao, "D8").roles
        and R.SPI_MISO in pin(xiao, "D9").roles
        and R.SPI_MOSI in pin(xiao, "D10").roles
    )


def test_rp2040_boards_follow_the_function_table(catalog):
    """GPIO n: SPI RX/CSn/SCK/TX by n % 4, UART TX/RX on n % 4 in (0, 1), I2C SDA on even and SCL on odd n."""
    bus = {R.I2C_SDA, R.I2C_SCL, R.SPI_MOSI, R.SPI_MISO, R.SPI_SCK, R.SPI_CS, R.UART_TX, R.UART_RX}
    spi = (R.SPI_MISO, R.SPI_CS, R.SPI_SCK, R.SPI_MOSI)
    uart = (R.UART_TX, R.UART_RX, None, None)
    for board in ("xiao-rp2040", "raspberry-pi-pico-w"):
        for p in (p for p in catalog[board].pins if p.name.startswith("GP")):
            n = int(p.name[2:])
            assert bus & set(p.roles) == {spi[n % 4], (R.I2C_SDA, R.I2C_SCL)[n % 2]} | ({uart[n % 4]} - {None}), p.name
    assert names_with(catalog["xiao-rp2040"], R.ADC) == {"GP26", "GP27", "GP28", "GP29"}


def test_nrf52840_pins_are_weak(catalog):
    for board in ("xiao-nrf52840", "feather-nrf52840"):
        assert all(p.max_current_ma == 2 for p in catalog[board].pins if R.GPIO in p.roles), board
    feather = catalog["feather-nrf52840"]
    assert (pin(feather, "TX").name, pin(feather, "RX").name) == ("P0.25", "P0.24")
    assert (pin(feather, "SDA").name, pin(feather, "SCL").name) == ("P0.12", "P0.11")
    assert len(feather.pins) == 28 and pin(feather, "VBAT").max_v == 4.2


# --- Espressif boards ---------------------------------------------------------------------------


def test_esp32_c6_devkitc_header(catalog):
    c6 = catalog["esp32-c6-devkitc-1"]
    assert len(c6.pins) == 32 and pin(c6, "J1_1").voltage == 3.3 and pin(c6, "J1_14").name == "5V"
    assert pin(c6, "J1_16").type is T.NO_CONNECT and pin(c6, "J3_16").type is T.NO_CONNECT
    assert names_with(c6, R.I2C_SDA) == {"GPIO23"} and names_with(c6, R.I2C_SCL) == {"GPIO22"}
    assert (pin(c6, "TX").name, pin(c6, "RX").name) == ("GPIO16", "GPIO17")
    assert (pin(c6, "J3_13").name, pin(c6, "J3_14").name) == ("GPIO13", "GPIO12")  # USB D+ / D-


def test_esp32_cam_keeps_its_camera_and_sd_caveats(catalog):
    cam = catalog["esp32-cam"]
    assert len(cam.pins) == 16 and cam.current_draw_ma == 180
    assert pin(cam, "IO16").roles == [R.GPIO]  # PSRAM chip select: no bus on it
    assert R.BOOT in pin(cam, "IO0").roles and "XCLK" in pin(cam, "IO0").description
    assert (pin(cam, "U0T").name, pin(cam, "U0R").name) == ("GPIO1", "GPIO3")
    assert pin(cam, "VCC").type is T.POWER_OUT and pin(cam, "VCC").voltage == 3.3
    assert "microSD" in pin(cam, "IO2").description and "flash LED" in pin(cam, "IO4").description


def test_esp32_s2_boards(catalog):
    s2 = catalog["lolin-s2-mini"]
    assert len(s2.pins) == 32 and len([p for p in s2.pins if R.GPIO in p.roles]) == 27
    assert names_with(s2, R.I2C_SDA) == {"GPIO33"} and names_with(s2, R.I2C_SCL) == {"GPIO35"}
    assert names_with(s2, R.DAC) == {"GPIO17", "GPIO18"} and "bluetooth" not in s2.specs
    fr = catalog["franzininho-wifi"]
    assert len(fr.pins) == 40 and pin(fr, "46").type is T.INPUT
    assert names_with(fr, R.I2C_SDA) == {"GPIO8"} and names_with(fr, R.SPI_CS) == {"GPIO34"}


def test_esp32_devkitc_v4_header(catalog):
    kit = catalog["esp32-devkitc-v4"]
    assert len(kit.pins) == 38
    assert {p.name for p in kit.pins if p.type is T.NO_CONNECT} == {f"GPIO{n}" for n in range(6, 12)}
    assert {p.name for p in kit.pins if p.type is T.INPUT and R.ADC in p.roles} == {
        "GPIO34",
        "GPIO35",
        "GPIO36",
        "GPIO39",
    }
    assert pin(kit, "J3_6").name == "GPIO21" and R.I2C_SDA in pin(kit, "J3_6").roles


# --- STM32 --------------------------------------------------------------------------------------


def test_nucleo_arduino_names_map_to_stm32_ports(catalog):
    nucleo = catalog["nucleo-f401re"]
    expected = {
        "D0": "PA3",
        "D1": "PA2",
        "D7": "PA8",
        "D10": "PB6",
        "D11": "PA7",
        "D13": "PA5",
        "D14": "PB9",
        "D15": "PB8",
    }
    expected |= {"A0": "PA0", "A3": "PB0", "A4": "PC1", "A5": "PC0"}
    for label, port in expected.items():
        assert pin(nucleo, label).name == port, label
    assert pin(nucleo, "D14").number == "CN10_5" and pin(nucleo, "PC13").number == "CN7_23"
    assert (pin(nucleo, "VIN").min_v, pin(nucleo, "VIN").max_v) == (7.0, 12.0)
    assert uart_pairs(nucleo) == [("PA2", "PA3"), ("PA9", "PA10"), ("PC6", "PC7"), ("PA11", "PA12")]


def test_black_pill_f411_pins(catalog):
    pill = catalog["stm32-black-pill-f411"]
    assert len(pill.pins) == 40 and pill.find_pin("PB11") is None  # VCAP on the F411
    assert names_with(pill, R.I2C_SDA) == {"PB3", "PB4", "PB7", "PB9"}
    assert names_with(pill, R.I2C_SCL) == {"PA8", "PB6", "PB8", "PB10"}
    assert all(pin(pill, n).max_current_ma == 3 for n in ("PC13", "PC14", "PC15"))
    assert uart_pairs(pill) == [("PA2", "PA3"), ("PB6", "PB7"), ("PA15", "PB3"), ("PA11", "PA12"), ("PA9", "PA10")]


# --- others -------------------------------------------------------------------------------------


def test_pico_w_keeps_the_pico_header(catalog):
    pico, pico_w = catalog["raspberry-pi-pico"], catalog["raspberry-pi-pico-w"]
    assert [(p.number, p.name, p.type, p.roles) for p in pico_w.pins] == [
        (p.number, p.name, p.type, p.roles) for p in pico.pins
    ]
    assert pico_w.specs["wifi"] is True


def test_digispark_has_usi_buses_but_no_uart(catalog):
    spark = catalog["digispark-attiny85"]
    assert [p.name for p in spark.pins if R.GPIO in p.roles] == [f"P{n}" for n in range(6)]
    assert names_with(spark, R.I2C_SDA) == {"P0"} and names_with(spark, R.I2C_SCL) == {"P2"}
    assert not names_with(spark, R.UART_TX) and not names_with(spark, R.UART_RX)
    assert names_with(spark, R.USB_DM) == {"P3"} and names_with(spark, R.USB_DP) == {"P4"}


def test_raspberry_pi_4_header(catalog):
    pi = catalog["raspberry-pi-4-gpio"]
    assert [p.number for p in pi.pins] == [str(n) for n in range(1, 41)]
    assert sorted(int(p.number) for p in pi.pins_with_role(R.GROUND)) == [6, 9, 14, 20, 25, 30, 34, 39]
    assert {p.number for p in pi.pins if p.type is T.POWER_OUT} == {"1", "17"}
    assert {p.number for p in pi.pins_with_role(R.POWER_IN)} == {"2", "4"}
    assert (pin(pi, "3").name, pin(pi, "5").name, pin(pi, "8").name) == ("GPIO2", "GPIO3", "GPIO14")
    assert not pi.pins_with_role(R.ADC) and all(p.max_current_ma == 16 for p in pi.pins if R.GPIO in p.roles)


# --- communication modules ----------------------------------------------------------------------


def test_three_volt_radios_and_transceivers(catalog):
    for part_id in (
        "esp-01s",
        "nrf905-module",
        "rfm95w-lora",
        "cc1101-module",
        "sn65hvd230-can-module",
        "rylr896-lora",
    ):
        part = catalog[part_id]
        assert part.supply.max_v <= 3.7 and part.io_max_v <= 3.6, part_id
    assert catalog["max3485-module"].supply.max_v == 3.6 and catalog["enc28j60-ethernet"].io_max_v == 5.5
    for part_id in ("tja1050-can-module", "xy-mk-5v-433mhz-rx"):
        assert catalog[part_id].supply.min_v >= 4.5, part_id


def test_esp01_header(catalog):
    esp = catalog["esp-01s"]
    assert [p.name for p in esp.pins] == ["GND", "GPIO2", "GPIO0", "RXD", "VCC", "RST", "EN", "TXD"]
    assert R.BOOT in pin(esp, "GPIO0").roles and R.ENABLE in pin(esp, "CH_PD").roles
    assert esp.usage.required_pins == ["TXD", "RXD"]


@pytest.mark.parametrize(
    ("part_id", "names"),
    [
        (
            "rfm95w-lora",
            [
                "GND",
                "MISO",
                "MOSI",
                "SCK",
                "NSS",
                "RESET",
                "DIO5",
                "GND2",
                "ANT",
                "GND3",
                "DIO3",
                "DIO4",
                "3.3V",
                "DIO0",
                "DIO1",
                "DIO2",
            ],
        ),
        ("cc1101-module", ["GND", "VCC", "GDO0", "CSN", "SCK", "MOSI", "MISO", "GDO2"]),
        ("hc12-433mhz", ["VCC", "GND", "RXD", "TXD", "SET", "ANT"]),
        ("e32-433t20d-lora", ["M0", "M1", "RXD", "TXD", "AUX", "VCC", "GND"]),
        ("rylr896-lora", ["VDD", "NRST", "RXD", "TXD", "NC", "GND"]),
        ("hm10-ble", ["STATE", "VCC", "GND", "TXD", "RXD", "BRK"]),
    ],
)
def test_module_pin_order(catalog, part_id, names):
    assert [p.name for p in catalog[part_id].pins] == names


def test_sim800c_pads(catalog):
    sim = catalog["sim800c-gsm"]
    assert [p.number for p in sim.pins] == [str(n) for n in range(1, 43)]
    assert (pin(sim, "1").name, pin(sim, "2").name, pin(sim, "39").name) == ("UART1_TXD", "UART1_RXD", "PWRKEY")
    for vbat in ("34", "35"):
        assert (pin(sim, vbat).min_v, pin(sim, vbat).max_v) == (3.4, 4.4)
    assert sim.logic_level_v == 2.8 and pin(sim, "40").voltage == 2.8 and sim.current_draw_ma >= 2000


def test_can_transceivers_carry_the_controller_lines(catalog):
    for part_id in ("sn65hvd230-can-module", "tja1050-can-module"):
        part = catalog[part_id]
        assert pin(part, "CTX").type is T.INPUT and pin(part, "CTX").roles == [R.CAN_TX], part_id
        assert pin(part, "CRX").type is T.OUTPUT and pin(part, "CRX").roles == [R.CAN_RX], part_id
        assert names_with(part, R.CAN_H) == {"CANH"} and names_with(part, R.CAN_L) == {"CANL"}, part_id


def test_usb_serial_adapters_are_powered_by_usb(catalog):
    for part_id in ("ch340g-usb-serial", "cp2102-usb-serial"):
        part = catalog[part_id]
        assert not part.pins_with_role(R.POWER_IN), part_id
        assert sorted(p.voltage for p in part.pins if p.type is T.POWER_OUT) == [3.3, 5.0], part_id
    assert pin(catalog["cp2102-usb-serial"], "3V3").max_current_ma == 100
    assert pin(catalog["cp2102-usb-serial"], "RXD").max_v == 5.5  # 5 V tolerant input


def test_mode_pins_are_optional_straps(catalog):
    for part_id, names in (("e32-433t20d-lora", ("M0", "M1")), ("hc12-433mhz", ("SET",))):
        part = catalog[part_id]
        for name in names:
            assert R.MODE in pin(part, name).roles and name not in part.usage.required_pins, (part_id, name)
