"""``design_from_parts``: the textbook wiring of a part list (the reference designer).

Order matters and is fixed: the MCU and the supplies first (rails exist before anything takes one),
then driver modules with their loads, the buses, the other modules, the remaining loads, analog
circuits, dividers, switches and last the LEDs (which take whatever outputs are left).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agents.parts_list import PartsList
from agents.reference import analog, devices, drivers, loads
from agents.reference.builder import DesignBuilder, Placed, ReferenceDesignError
from agents.reference.levels import SHIFTER, Levels
from agents.reference.pins import McuPins
from agents.reference.power import PowerPlan, decouple, is_converter, is_source, named, supply_range
from agents.reference.wiring import Wiring
from components_db.schema import SUPPORT_SYMBOLS, Category, Part, PinRole, SymbolKind
from studio.circuit.design import Design
from studio.circuit.resolve import PartLookup, SuggestingLookup
from studio.erc.nodes import supply_pins

R = PinRole
DEFAULT_MCU = "esp32-devkit-v1"


class ReferenceResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    design: Design
    added: list[str]  # supporting parts the designer added, each with why
    notes: list[str]  # unknown parts, parts left unused, choices a reader should know


def design_from_parts(parts: PartsList, kb: PartLookup, title: str | None = None) -> ReferenceResult:
    """Wire the requested parts by textbook rules; unknown ids are left out and named in ``notes``."""
    b = DesignBuilder(kb)
    wanted = _known(parts, kb, b)
    if not wanted:
        raise ReferenceDesignError("none of the requested parts is in the knowledge base: " + "; ".join(b.notes))
    boards = [p for p, _ in wanted if p.category is Category.MCU_BOARD]
    b.stock = [p for p, _ in wanted if is_support(p)]
    others = [(p, v) for p, v in wanted if p.category is not Category.MCU_BOARD and not is_support(p)]
    mcu: Placed | None = None
    if boards:
        mcu = b.place(boards[0])
    elif any(_needs_controller(p) for p, _ in others):
        mcu = b.add(DEFAULT_MCU, "no controller was listed; this board reads and drives the modules")
    power = PowerPlan(b, mcu.part.logic_level_v if mcu else None)
    w = Wiring(b, power, Levels(b, power), mcu, McuPins(mcu) if mcu else None)
    if mcu:
        power.add_board(mcu)
    placed = [b.place(p, v) for p, v in others]
    peers = [b.place(p) for p in boards[1:]]
    _power(w, placed)
    if mcu:
        _with_mcu(w, placed, peers)
    else:
        _without_mcu(w, placed)
    for item in [*placed]:
        if item.part.usage.decoupling_required:
            decouple(b, item)
    b.notes.extend(f"{p.id} was listed but the textbook wiring does not use it" for p in b.stock)
    return ReferenceResult(design=b.design(title), added=b.added, notes=b.notes)


def _known(parts: PartsList, kb: PartLookup, b: DesignBuilder) -> list[tuple[Part, str | None]]:
    found: list[tuple[Part, str | None]] = []
    for request in parts.parts:
        part = kb.get(request.part)
        if part is None:
            near = [h.part_id for h in kb.nearest(request.part)] if isinstance(kb, SuggestingLookup) else []
            hint = f" (nearest known: {', '.join(near)})" if near else ""
            b.notes.append(f"'{request.part}' is not in the knowledge base and was left out{hint}")
            continue
        found += [(part, request.value)] * request.quantity
    return found


def _power(w: Wiring, placed: list[Placed]) -> None:
    """Listed supplies become rails, regulators chain from them, and the board takes the best fitting one."""
    rails = [w.power.add_source(p) for p in placed if is_source(p.part)]
    pending = [p for p in placed if is_converter(p.part)]
    regulated = []
    while pending:
        conv = min(pending, key=lambda p: (not _fed(w, p.part), placed.index(p)))
        pending.remove(conv)
        if analog.is_adjustable_regulator(conv.part):
            w.power.ground(conv)
            w.power.supply(conv, logic=False)
            continue
        rail = w.power.add_converter(conv)
        if rail is not None:
            regulated.append(rail)
    w.power.power_board_from(regulated + rails)


def _fed(w: Wiring, part: Part) -> bool:
    return all(
        any(r.fits(*(supply_range(part, pin) or (0.0, 60.0))) for r in w.power.rails) for pin in supply_pins(part)
    )


def _with_mcu(w: Wiring, placed: list[Placed], peers: list[Placed]) -> None:
    assert w.pins is not None
    rest = [p for p in placed if not is_source(p.part) and not is_converter(p.part)]
    rest = _drivers(w, rest)
    i2c = [p for p in rest if devices.is_i2c(p.part)]
    if i2c:
        devices.wire_i2c(w, i2c)
    spi = [p for p in rest if devices.is_spi(p.part)]
    if spi:
        devices.wire_spi(w, spi)
    registers = [p for p in spi if devices.is_shift_register(p.part)]
    for peer in peers:
        devices.wire_uart(w, peer)
    uart = [p for p in rest if devices.is_uart(p.part) and p not in i2c + spi]
    for dev in uart:
        devices.wire_uart(w, dev)
    done = set(map(id, i2c + spi + uart))
    rest = [p for p in rest if id(p) not in done]
    modules = [p for p in rest if _is_module(p.part)]
    _pair_front_ends(w, modules)
    for dev in modules:
        devices.wire_module(w, dev)
    relays = [(m, i) for m in modules for i in range(len(m.part.pins_with_role(R.CONTACT_COM)))]
    for load in [p for p in rest if loads.is_load(p.part)]:
        if relays:
            relay, channel = relays.pop(0)
            loads.wire_through_contacts(w, load, relay, channel)
        else:
            loads.wire_low_side(w, load)
    for item in rest:
        if analog.is_timer(item.part):
            out, volts = analog.wire_timer(w, item)
            w.read_from(out, volts)
        elif analog.is_adjustable_regulator(item.part):
            analog.wire_adjustable(w, item)
    signals = [p for p in rest if _is_resistive_sensor(p.part) or p.part.id == "potentiometer"]
    for amp in [p for p in rest if analog.is_amplifier(p.part)]:
        signal = _signal(w, _take_input(amp, signals), w.mcu_rail()) if signals else None
        out, volts, _ = analog.wire_amplifier(w, amp, signal, _take_threshold(amp, signals))
        w.read_from(out, volts, analog_out=True)
    muxes = [p for p in rest if analog.is_analog_mux(p.part)]
    if muxes:
        signals = analog.wire_muxes(w, muxes, signals)
    for item in signals:
        adc = w.pins.take(R.ADC, output=False)
        if item.part.id == "potentiometer":
            loads.wire_potentiometer(w, item, w.mcu_rail(), adc)
        else:
            loads.wire_resistive_sensor(w, item, w.mcu_rail(), adc)
    switches = [p for p in rest if loads.is_switch(p.part)]
    registers_in = [p for p in rest if devices.is_input_register(p.part)]
    if registers_in:
        switches = devices.wire_input_registers(w, registers_in, switches)
    for switch in switches:
        loads.wire_button(w, switch)
    outputs = _register_outputs(w, registers)
    for led in [p for p in rest if loads.is_led(p.part)]:
        while len(outputs) < loads.anodes(led.part):
            label = w.pins.take_first(R.PWM, R.GPIO) if loads.anodes(led.part) > 1 else w.pins.take(R.GPIO)
            outputs.append((label, w.logic_v or 0.0, w.pins.pin(label).max_current_ma))
        loads.wire_led(w, led, outputs)


def _without_mcu(w: Wiring, placed: list[Placed]) -> None:
    """Analog-only: the listed supply (or a 9 V battery) feeds the circuit; LEDs show its output."""
    rest = [p for p in placed if not is_source(p.part) and not is_converter(p.part)]
    leds = [p for p in rest if loads.is_led(p.part)]
    outputs: list[tuple[str, float, bool]] = []
    signals = [p for p in rest if _is_resistive_sensor(p.part) or p.part.id == "potentiometer"]
    for item in placed:
        if analog.is_adjustable_regulator(item.part):
            out, volts = analog.wire_adjustable(w, item)
            outputs.append((out, volts, False))
    timers = [p for p in rest if analog.is_timer(p.part)]
    driven = [p for p in rest if loads.is_load(p.part)] if timers else []  # the first 555 switches the loads
    for item in rest:
        if analog.is_timer(item.part):
            mine = driven if item is timers[0] else []
            fast = any(p.part.symbol is SymbolKind.MOTOR for p in mine) or not (leds or mine)  # PWM, a tone
            pots = [p for p in signals if p.part.id == "potentiometer"]
            pots = pots[len([p for p in rest if analog.is_comparator(p.part)]) :]  # the thresholds come first
            rate = pots[0] if pots and not fast and item is timers[0] else None  # a tempo knob
            if rate is not None:
                signals.remove(rate)
            out, volts = analog.wire_timer(w, item, fast=fast, rate=rate)
            for load in mine:
                analog.drive_from(w, load, out, volts)
            outputs.append((out, volts, False))
        elif analog.is_amplifier(item.part):
            rail = w.power.rail_for(*_range(item.part), prefer_logic=False, who=named(item))
            signal = _signal(w, _take_input(item, signals), rail.net) if signals else None
            out, volts, sinking = analog.wire_amplifier(w, item, signal, _take_threshold(item, signals))
            outputs.append((out, volts, sinking))
    switches = [p for p in rest if loads.is_switch(p.part)]
    feed: str | None = None
    for item in [*leds, *[p for p in rest if loads.is_load(p.part) and p not in driven]]:
        if outputs and loads.is_led(item.part):
            out, volts, sinking = outputs[0] if len(outputs) == 1 else outputs.pop(0)
            rail_net = w.b.net_of[_supply_label(w, out)] if sinking else ""
            analog.led_from(w, item, w.b.net_for(out), volts, sinking=sinking, rail_net=rail_net)
            continue
        rail_net = analog.load_rail(w, item) if loads.is_load(item.part) else w.power.rail_for(1.8, 12.0).net
        volts = next(r.voltage for r in w.power.rails if r.net == rail_net)
        if feed is None:
            feed = _switched(w, rail_net, switches.pop(0)) if switches else rail_net
        if loads.is_load(item.part):
            analog.load_on_rail(w, item, feed)
        else:
            analog.led_from(w, item, feed, volts, sinking=False, rail_net=rail_net)
    for timer in timers:
        if not w.b.wired(timer.pin("OUT")):  # nothing in the design takes its output: a test signal
            analog.signal_output(w, timer, timer.pin("OUT"), w.power.supply(timer) or _timer_volts(w, timer))
    for item in signals:  # a pot or sensor with nothing to read it: a divider on the rail
        rail = w.power.rail_for(1.8, 12.0)
        if item.part.id == "potentiometer":
            loads.wire_potentiometer(w, item, rail.net, item.pin("W"))
        else:
            analog.sensor_signal(w, item, rail.net)


def _timer_volts(w: Wiring, timer: Placed) -> float:
    rails = {r.net: r.voltage for r in w.power.rails}
    return rails.get(w.b.net_of.get(timer.label(supply_pins(timer.part)[0]), ""), 0.0)


def _pair_front_ends(w: Wiring, modules: list[Placed]) -> None:
    """A bridge sensor (load cell) on the amplifier made for it (HX711): pins of the same name meet, so its
    excitation comes from the amplifier's E+/E- and its outputs go to the amplifier's inputs, not to the MCU."""
    for sensor in modules:
        outputs = {p.name for p in sensor.part.pins_with_role(R.ANALOG_OUT)}
        for amp in modules:
            inputs = {p.name for p in amp.part.pins_with_role(R.ANALOG_IN)}
            if amp is sensor or not outputs or not outputs <= inputs:
                continue
            for pin in sensor.part.pins:
                other = amp.part.find_pin(pin.name)
                if other is not None and not w.b.wired(sensor.label(pin)):
                    w.b.link(amp.label(other), sensor.label(pin))
            break


def _switched(w: Wiring, rail_net: str, switch: Placed) -> str:
    """A switch between the rail and what it powers; returns the switched net. A changeover switch (SPDT)
    takes the rail on its common and feeds the load from one side (the other side is off)."""
    common = next((p for p in switch.part.pins if R.CONTACT_COM in p.roles), None)
    terminals = [p for p in switch.part.pins if p is not common]
    w.b.connect(rail_net, switch.label(common or terminals[0]))
    return w.b.connect(f"{switch.ref}_OUT", switch.label(terminals[0] if common else terminals[-1]))


def _drivers(w: Wiring, rest: list[Placed]) -> list[Placed]:
    """Give each driver module the loads it can take, in list order; returns what is left."""
    remaining = list(rest)
    for driver in [p for p in rest if p.part.category is Category.DRIVER]:
        fits = [p for p in remaining if p is not driver and _driven(p.part) and drivers.drives(driver.part, p.part)]
        taken, free = [], drivers.capacity(driver.part)
        for load in fits:  # a stepper takes every bridge of an H-bridge driver
            if drivers.slots(driver.part, load.part) <= free:
                taken.append(load)
                free -= drivers.slots(driver.part, load.part)
        if not taken:
            continue
        drivers.wire_driver(w, driver, taken)
        remaining = [p for p in remaining if p not in taken and (p is not driver or devices.is_i2c(p.part))]
    return remaining


def _driven(part: Part) -> bool:
    """A load a driver module can take: a bare motor/coil, or a servo."""
    return loads.is_load(part) or (part.category is Category.ACTUATOR and bool(part.pins_with_role(R.PWM)))


def _register_outputs(w: Wiring, registers: list[Placed]) -> list[tuple[str, float, float | None]]:
    """Outputs LEDs use before MCU pins: the Q outputs of the shift registers, in chain order, each held to
    its share of the chip's total supply current (a 74HC595: 70 mA over eight outputs)."""
    rails = {r.net: r.voltage for r in w.power.rails}
    found = []
    for item in registers:
        supply = next(item.label(p) for p in supply_pins(item.part))
        volts = rails.get(w.b.net_of.get(supply, ""), w.logic_v or 0.0)
        outputs = devices.register_outputs(item)
        total = item.part.specs.get("total_vcc_current_max_ma")
        share = float(total) / len(outputs) if isinstance(total, int | float) else None
        found += [(item.label(pin), volts, share) for pin in outputs]
    return found


def _take_input(amp: Placed, signals: list[Placed]) -> Placed:
    """What an amplifier amplifies, or a comparator compares: a sensor before a pot (a comparator's pot
    is its threshold knob)."""
    if analog.is_comparator(amp.part):
        sensor = next((s for s in signals if s.part.id != "potentiometer"), signals[0])
        signals.remove(sensor)
        return sensor
    return signals.pop(0)


def _take_threshold(amp: Placed, signals: list[Placed]) -> Placed | None:
    """A listed pot sets a comparator's threshold (else the rule adds one)."""
    pot = next((s for s in signals if s.part.id == "potentiometer"), None) if analog.is_comparator(amp.part) else None
    if pot is not None:
        signals.remove(pot)
    return pot


def _signal(w: Wiring, item: Placed, rail_net: str) -> str:
    if item.part.id == "potentiometer":
        w.b.connect(rail_net, item.pin("1"))
        w.b.connect("GND", item.pin("3"))
        return item.pin("W")
    return w.b.nets[loads.wire_resistive_sensor(w, item, rail_net, None)][0]


def _supply_label(w: Wiring, out: str) -> str:
    ref = out.partition(".")[0]
    return next(pin for pin, net in w.b.net_of.items() if pin.startswith(f"{ref}.") and net and _is_rail(w, net))


def _is_rail(w: Wiring, net: str) -> bool:
    return any(r.net == net for r in w.power.rails)


def _range(part: Part) -> tuple[float, float]:
    return (part.supply.min_v, part.supply.max_v) if part.supply else (3.0, 12.0)


def _is_module(part: Part) -> bool:
    """Anything with its own supply pins that the bus rules did not take: sensors, relay modules, servos..."""
    return bool(supply_pins(part)) and not (
        analog.is_timer(part)
        or analog.is_amplifier(part)
        or part.id == "level-shifter-bss138-4ch"
        or (devices.is_spi(part) and part.category is Category.IC)
        or devices.is_input_register(part)
        or analog.is_analog_mux(part)
    )


def _needs_controller(part: Part) -> bool:
    return (
        (
            part.category in (Category.SENSOR, Category.DISPLAY, Category.COMMUNICATION)
            and not _is_resistive_sensor(part)
        )
        or devices.is_i2c(part)
        or (part.category is Category.ACTUATOR and bool(part.pins_with_role(R.PWM)))
    )


def is_support(part: Part) -> bool:
    """Resistors, capacitors, diodes, transistors, the level shifter: kept in stock for the rules that need
    them (the evaluation's ``is_supporting`` adds the power parts, which the supply rules place)."""
    return (part.symbol in SUPPORT_SYMBOLS and not _is_resistive_sensor(part)) or part.id == SHIFTER


def is_supporting(part: Part | None) -> bool:
    """A part any design may add by its own judgement, which the evaluation never counts as a false
    positive and identification always admits; unknown ids are not. The designer's stock (``is_support``)
    plus the power category, which it adds by its supply rules rather than from stock."""
    if part is None:
        return False
    return is_support(part) or part.category is Category.POWER


def _is_resistive_sensor(part: Part) -> bool:
    return loads.is_resistive_sensor(part)
