"""Modules that talk to the MCU: I2C on one shared bus, SPI with a chip select each, UART crossed,
and every other module pin by its role (inputs driven by a GPIO, outputs read by a GPIO or ADC)."""

from __future__ import annotations

import re

from agents.reference.builder import Placed
from agents.reference.levels import input_limit, output_level, shiftable
from agents.reference.pins import McuPins
from agents.reference.power import GND
from agents.reference.wiring import I2C_PULLUP_OHMS, Wiring
from components_db.schema import Category, ElectricalType, Part, Pin, PinRole
from studio.erc.nodes import supply_pins

R = PinRole
T = ElectricalType
OUTPUTS = frozenset({T.OUTPUT, T.OPEN_COLLECTOR, T.TRI_STATE})
SLEEP_NAMES = re.compile(r"SLEEP|SLP|STBY", re.IGNORECASE)  # active-low sleep/standby: tied high to run


def is_i2c(part: Part) -> bool:
    return bool(part.pins_with_role(R.I2C_SDA)) and bool(part.pins_with_role(R.I2C_SCL))


def is_spi(part: Part) -> bool:
    inputs = {role for p in part.pins if p.type is T.INPUT for role in p.roles}
    return not is_i2c(part) and {R.SPI_SCK, R.SPI_MOSI, R.SPI_CS} <= inputs


def is_shift_register(part: Part) -> bool:
    """A serial-in, parallel-out register on the SPI lines (74HC595): Q outputs and a serial out to chain."""
    return part.category is Category.IC and is_spi(part) and bool(part.pins_with_role(R.DIGITAL_OUT))


def register_outputs(dev: Placed) -> list[Pin]:
    """A shift register's parallel outputs, first bit first (QA..QH)."""
    return sorted(dev.part.pins_with_role(R.DIGITAL_OUT), key=lambda p: p.name)


def is_input_register(part: Part) -> bool:
    """A parallel-in, serial-out register (74HC165): load and clock inputs, parallel inputs, a serial out."""
    inputs = [p for p in part.pins if p.type is T.INPUT]
    return (
        part.category is Category.IC
        and any(R.LATCH in p.roles for p in inputs)
        and any(R.CLOCK in p.roles for p in inputs)
        and len([p for p in inputs if R.DIGITAL_IN in p.roles]) >= 4
        and any(R.DATA in p.roles and p.type in OUTPUTS for p in part.pins)
    )


def wire_input_registers(w: Wiring, registers: list[Placed], switches: list[Placed]) -> list[Placed]:
    """74HC165s in a chain: load and clock from two GPIOs, shared; the first chip's serial out to a third
    GPIO, each next chip's serial out into the serial in of the one before, the last one's serial in pulled
    down; clock inhibit to GND. Every parallel input has a 10k pull-down (the datasheet will not have them
    float) and, while there are switches, a switch to the chip's supply: pressed reads 1. Returns the
    switches left over."""
    switches = list(switches)
    for index, reg in enumerate(registers):
        volts = w.power.supply(reg) or w.logic_v
        vcc = w.b.net_of[reg.label(supply_pins(reg.part)[0])]
        controls = [p for p in reg.part.pins if p.type is T.INPUT and {R.LATCH, R.CLOCK} & set(p.roles)]
        if index == 0:
            w.read(R.GPIO, reg, _serial_out(reg.part), volts)
            for pin in controls:
                w.drive(R.GPIO, reg, pin, volts)
        else:
            before = registers[index - 1]
            w.b.link(reg.label(_serial_out(reg.part)), before.label(_serial_in(before.part)))
            for pin in controls:
                w.b.connect(w.b.net_of[registers[0].label(pin)], reg.label(pin))
        for pin in reg.part.pins:
            if pin.type is T.INPUT and R.ENABLE in pin.roles:
                w.b.connect(GND, reg.label(pin))  # clock inhibit: low lets the clock through
        parallel = [p for p in reg.part.pins if p.type is T.INPUT and R.DIGITAL_IN in p.roles]
        for pin in sorted(parallel, key=lambda p: p.name):
            label = reg.label(pin)
            if switches:
                _switch_to_input(w, switches.pop(0), label, vcc)
            w.pull_down(label, "10k", f"holds {label} low while its switch is open")
    last_in = registers[-1].label(_serial_in(registers[-1].part))
    w.pull_down(last_in, "10k", f"holds {last_in}, the end of the chain, low")
    return switches


def _serial_out(part: Part) -> Pin:
    """The true serial output (QH, not its inverse QH_BAR)."""
    outs = [p for p in part.pins if R.DATA in p.roles and p.type in OUTPUTS]
    return next((p for p in outs if R.SPI_MISO in p.roles), outs[0])


def _serial_in(part: Part) -> Pin:
    return next(p for p in part.pins if R.DATA in p.roles and p.type is T.INPUT)


def _switch_to_input(w: Wiring, switch: Placed, label: str, vcc: str) -> None:
    """A switch from the supply to the input; a changeover switch by its common, the other side to GND."""
    common = next((p for p in switch.part.pins if R.CONTACT_COM in p.roles), None)
    terminals = [p for p in switch.part.pins if p is not common]
    w.b.link(label, switch.label(common or terminals[0]))
    w.b.connect(vcc, switch.label(terminals[-1] if common is None else terminals[0]))
    if common is not None:
        w.b.connect(GND, switch.label(terminals[-1]))


def is_uart(part: Part) -> bool:
    return _uart_pin(part, R.UART_TX) is not None and _uart_pin(part, R.UART_RX) is not None


def wire_i2c(w: Wiring, devices: list[Placed]) -> None:
    """One bus: devices at the MCU's level share its SDA/SCL; 5 V modules with 5 V pull-ups sit behind a shifter."""
    assert w.pins is not None
    bus = w.pins.take_bus(R.I2C_SDA, R.I2C_SCL)
    sda, scl = bus[R.I2C_SDA], bus[R.I2C_SCL]
    limit = w.mcu_limit(sda) or 0.0
    low_side, low_side_pullups = 0, False
    for dev in devices:
        volts = w.power.supply(dev) or w.logic_v
        dev_sda, dev_scl = dev.part.pins_with_role(R.I2C_SDA)[0], dev.part.pins_with_role(R.I2C_SCL)[0]
        if dev.part.usage.onboard_pullups and volts is not None and volts > limit + 0.05 and shiftable(volts, limit):
            _behind_shifter(w, dev.label(dev_sda), sda, volts, limit)
            _behind_shifter(w, dev.label(dev_scl), scl, volts, limit)
        else:
            w.b.link(sda, dev.label(dev_sda), "SDA")
            w.b.link(scl, dev.label(dev_scl), "SCL")
            low_side += 1
            low_side_pullups |= dev.part.usage.onboard_pullups
        _control_pins(w, dev, volts, bus=True)
    if low_side and not low_side_pullups:
        for line in (sda, scl):
            w.pull_up(line, w.mcu_rail(), I2C_PULLUP_OHMS, f"I2C pull-up on {line} (no module on the bus has one)")


def _behind_shifter(w: Wiring, module_pin: str, mcu_pin: str, volts: float, limit: float) -> None:
    """All 5 V modules share one shifted line: the first makes it, the rest join its high side."""
    high_net = f"{mcu_pin.replace('.', '_')}_HV"
    if high_net not in w.b.nets:
        w.levels.shift(module_pin, volts, mcu_pin, limit)
    w.b.connect(high_net, module_pin)


def wire_spi(w: Wiring, devices: list[Placed]) -> None:
    """One bus: MOSI and SCK to every device, MISO from those that answer, a chip select each."""
    assert w.pins is not None
    answering = any(_miso(dev.part) for dev in devices)
    bus = w.pins.take_bus(R.SPI_MOSI, R.SPI_SCK, *([R.SPI_MISO] if answering else []))
    chained: dict[str, Placed] = {}
    for dev in devices:
        if is_shift_register(dev.part) and dev.part.id in chained:
            _chain(w, chained[dev.part.id], dev)
            chained[dev.part.id] = dev
            continue
        if is_shift_register(dev.part):
            chained[dev.part.id] = dev
        volts = w.power.supply(dev) or w.logic_v
        if _needs_shifter(w, dev, volts):
            _spi_shifted(w, dev, volts, bus)
            continue
        for role in (R.SPI_MOSI, R.SPI_SCK):
            pin = _spi_input(dev.part, role)
            _shared(w, bus[role], w.logic_v, dev.label(pin), input_limit(dev.part, pin, volts))
        miso = _miso(dev.part)
        if miso is not None:
            level = output_level(dev.part, miso, volts)
            _shared(w, dev.label(miso), level, bus[R.SPI_MISO], w.mcu_limit(bus[R.SPI_MISO]))
        cs = _spi_input(dev.part, R.SPI_CS)
        label = w.pins.take_cs()
        w.levels.join(label, w.logic_v, dev.label(cs), input_limit(dev.part, cs, volts), bidirectional=False)
        _control_pins(w, dev, volts, bus=True)


def _chain(w: Wiring, previous: Placed, dev: Placed) -> None:
    """A daisy-chained shift register: its data from the previous one's serial out, clock and latch shared."""
    volts = w.power.supply(dev) or w.logic_v
    serial_out = next(p for p in previous.part.pins if R.DATA in p.roles and p.type in OUTPUTS)
    w.b.link(previous.label(serial_out), dev.label(_spi_input(dev.part, R.SPI_MOSI)))
    for role in (R.SPI_SCK, R.SPI_CS):
        w.b.connect(w.b.net_of[previous.label(_spi_input(previous.part, role))], dev.label(_spi_input(dev.part, role)))
    _control_pins(w, dev, volts, bus=True)


def _spi_input(part: Part, role: PinRole) -> Pin:
    return next(p for p in part.pins_with_role(role) if p.type is T.INPUT)


def _miso(part: Part) -> Pin | None:
    """The device's data output (a write-only display has none)."""
    return next((p for p in part.pins_with_role(R.SPI_MISO) if p.type in OUTPUTS), None)


def _needs_shifter(w: Wiring, dev: Placed, volts: float | None) -> bool:
    """A 3.3 V-only SPI device on a 5 V MCU: every line goes through a shifter (MISO too, since the MCU's
    MISO pin is a GPIO the ERC sees driving)."""
    limit = input_limit(dev.part, _spi_input(dev.part, R.SPI_MOSI), volts)
    return w.logic_v is not None and limit is not None and w.logic_v > limit + 0.05 and shiftable(w.logic_v, limit)


def _spi_shifted(w: Wiring, dev: Placed, volts: float | None, bus: dict[PinRole, str]) -> None:
    """Each line through a shifter channel: the device's side at the level its inputs take (a 5 V-powered
    TFT still wants 3.3 V logic), its MISO at the level it drives."""
    assert w.pins is not None and w.logic_v is not None
    for role, mcu_pin in ((R.SPI_MOSI, bus[R.SPI_MOSI]), (R.SPI_SCK, bus[R.SPI_SCK]), (R.SPI_CS, w.pins.take_cs())):
        pin = _spi_input(dev.part, role)
        w.levels.shift(mcu_pin, w.logic_v, dev.label(pin), input_limit(dev.part, pin, volts) or w.logic_v)
    miso = _miso(dev.part)
    if miso is not None:
        w.levels.shift(bus[R.SPI_MISO], w.logic_v, dev.label(miso), output_level(dev.part, miso, volts) or w.logic_v)
    _control_pins(w, dev, volts, bus=True)


def _shared(w: Wiring, source: str, volts: float | None, target: str, limit: float | None) -> None:
    """A bus line: the shared end keeps its net name (MOSI, SCK, MISO), a shifted branch hangs off it."""
    w.levels.join(source, volts, target, limit, bidirectional=False)


def wire_uart(w: Wiring, dev: Placed) -> None:
    """TX to RX and RX to TX; a second board is a UART peer on its own USB power."""
    assert w.pins is not None
    if dev.part.category is Category.MCU_BOARD:
        w.power.ground(dev, first_only=True)
        volts = dev.part.logic_level_v
        dev_tx, dev_rx = (dev.part.find_pin(x.partition(".")[2]) for x in McuPins(dev).take_uart())
    else:
        volts = w.power.supply(dev) or w.logic_v
        dev_tx, dev_rx = _uart_pin(dev.part, R.UART_TX), _uart_pin(dev.part, R.UART_RX)
    assert dev_tx is not None and dev_rx is not None
    tx, rx = w.pins.take_uart()
    w.levels.join(dev.label(dev_tx), output_level(dev.part, dev_tx, volts), rx, w.mcu_limit(rx), bidirectional=False)
    w.levels.join(tx, w.logic_v, dev.label(dev_rx), input_limit(dev.part, dev_rx, volts), bidirectional=False)
    if dev.part.category is not Category.MCU_BOARD:
        _control_pins(w, dev, volts, bus=True)


def wire_module(w: Wiring, dev: Placed) -> None:
    """Any other module: supply, then each signal pin by its role."""
    volts = w.power.supply(dev) or w.logic_v
    _control_pins(w, dev, volts, bus=False)


def _control_pins(w: Wiring, dev: Placed, volts: float | None, *, bus: bool) -> None:
    """Inputs a GPIO drives, outputs a GPIO or ADC reads, pins tied to a level; bus devices skip their extras."""
    assert w.pins is not None
    required = {p.name for group in dev.part.required_groups() for p in group}
    for pin in dev.part.pins:
        label = dev.label(pin)
        if w.b.wired(label) or label in w.b.spare or not pin.roles or pin.type in (T.POWER_IN, T.POWER_OUT):
            continue
        roles = set(pin.roles)
        if R.ADDRESS in roles:
            if pin.name in required and pin.type is T.INPUT:
                _strap_address(w, dev, pin)
            continue  # else the module's own pull-down sets the address
        if pin.type is T.INPUT:
            if R.OUTPUT_ENABLE in roles:
                w.b.connect(GND, label)  # active-low output enable
            elif R.RESET in roles or (R.ENABLE in roles and SLEEP_NAMES.search(pin.name)):
                _tie_high(w, dev, pin, volts)  # active-low reset / sleep: held high to run
            elif R.ENABLE in roles and R.PWM in roles:
                w.drive(R.PWM, dev, pin, volts)
            elif R.ENABLE in roles:
                if dev.part.category is Category.COMMUNICATION:
                    w.drive(R.GPIO, dev, pin, volts)
            elif R.PWM in roles:
                w.drive(R.PWM, dev, pin, volts)
            elif roles & {R.DIGITAL_IN, R.TRIGGER, R.CLOCK, R.DATA, R.STEP, R.DIRECTION, R.LATCH}:
                w.drive(R.GPIO, dev, pin, volts)
        elif pin.type in OUTPUTS and not bus:
            if R.ANALOG_OUT in roles:
                w.read(R.ADC, dev, pin, volts)
            elif roles & {R.DIGITAL_OUT, R.DATA, R.ONEWIRE}:
                w.read(R.GPIO, dev, pin, volts)
            else:
                continue
            if pin.name in dev.part.usage.pullup_required and not dev.part.usage.onboard_pullups:
                w.pull_up(label, w.mcu_rail(), why=f"pull-up on {label} (datasheet asks for one)")


def _strap_address(w: Wiring, dev: Placed, pin: Pin) -> None:
    """Address straps without a default: the n-th chip of a kind gets address n (A0 the lowest bit), so two
    MCP23017s sit at 0x20 and 0x21; a strap's 1 goes to the chip's own supply."""
    same = [p.ref for p in w.b.parts if p.part == dev.part.id]
    straps = [p for p in dev.part.pins if R.ADDRESS in p.roles and p.type is T.INPUT]
    high = (same.index(dev.ref) >> straps.index(pin)) & 1
    supply = next((w.b.net_of[dev.label(p)] for p in supply_pins(dev.part) if w.b.wired(dev.label(p))), None)
    w.b.connect(supply if high and supply else GND, dev.label(pin))


def _tie_high(w: Wiring, dev: Placed, pin: Pin, volts: float | None) -> None:
    """To the logic rail (the MCU's, else the part's lowest supply) when the pin accepts it; else left to the
    module's own pull-up."""
    nets = [w.b.net_of[dev.label(p)] for p in supply_pins(dev.part) if dev.label(p) in w.b.net_of]
    rails = {r.net: r.voltage for r in w.power.rails}
    if w.logic_v is not None:
        nets.insert(0, w.mcu_rail())
    limit = input_limit(dev.part, pin, volts)
    for net in sorted(nets, key=lambda n: rails.get(n, 99.0)):
        if limit is None or rails.get(net, 99.0) <= limit + 0.05:
            w.b.connect(net, dev.label(pin))
            return


def _uart_pin(part: Part, role: PinRole) -> Pin | None:
    wanted = T.INPUT if role is R.UART_RX else T.OUTPUT
    return next((p for p in part.pins_with_role(role) if p.type in (wanted, T.BIDIRECTIONAL)), None)
