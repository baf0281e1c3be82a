"""Which two pins may never share a net: the connections no design needs, for the synthesis decoder.

Each pin of a design's parts is reduced once to its ``PinFacts`` (what the ERC asks of it: a supply
output and its voltage, ground, a signal pin that may not sit on a rail, its bus lines, what a board pin
can carry), and ``clash`` says whether two pins' facts forbid one net, naming the ERC rule the net
would break:

- ``short-rail-rail``: two supply outputs (``studio.erc.nodes.is_rail_pin``: a regulator's OUT, a
  board's 3V3 or 5V, a battery's +) whose voltages differ by more than the ERC's tolerance;
- ``short-power-ground``: a supply output with a GROUND-role pin (a net with one is ground, as
  ``studio.circuit.rails.classify_net`` decides);
- ``signal-on-rail``: a signal pin (``studio.erc.nodes.SIGNAL_TYPES``) with a supply output or a
  ground pin, unless one of its roles is a strap a design ties to a rail on purpose (the ERC's
  ``TIED_ON_PURPOSE``: address, mode, enable, reset, boot, output-enable, direction, ...);
- ``protocol-mismatch``: bus lines that cannot share a net (``bus_lines_clash``);
- ``bus-pin-unsupported``: a module's I2C, SPI or UART line on a board pin that cannot carry it (the
  ERC's ``board_pin_carries``: an Uno's I2C on A4/A5 only, an ESP32 any GPIO able to drive it);
- ``supply-out-of-range``: a part's only supply input (``studio.erc.nodes.supply_pins``) on ground,
  where it gets 0 V (a second supply input, such as a DS1307's VBAT, may be grounded on purpose);
- ``gpio-short``: two driving pins (``studio.erc.nodes.GPIO_TYPES``) of one part; facts do not know
  the part, so ``drives`` marks the pin and the decoder's ``PinTable`` compares the parts.

Every clash is pairwise, so a net is free of them when each pin is free of them with every other pin
of the net; the decoder (``agents.design_decoding``) checks a pin against the open net's pins only.
Design judgement stays the model's: nothing here adds a part or a pin, it only says what two pins
cannot be.
"""

from __future__ import annotations

from typing import NamedTuple

from components_db.schema import Category, ElectricalType, Part, Pin, PinRole
from studio.erc.nodes import (
    GPIO_TYPES,
    SIGNAL_TYPES,
    VOLT_TOLERANCE,
    is_ground_pin,
    is_rail_pin,
    is_supply_pin,
    supply_pins,
)
from studio.erc.rules.buses import BOARD_SIDE, CROSSED, board_pin_carries, crossed, module_bus_lines
from studio.erc.rules.conflicts import TIED_ON_PURPOSE

R = PinRole
# the bus lines ``bus_lines_clash`` compares: each is one signal of its bus
BUS_LINES = frozenset({R.I2C_SDA, R.I2C_SCL, R.SPI_MOSI, R.SPI_MISO, R.SPI_SCK, R.SPI_CS, R.UART_TX, R.UART_RX})
# the pairs of bus lines that may share a net: the same signal (SDA with SDA, CS with CS), but never two
# UART outputs or two UART inputs (the ERC's crossed pairs), and a UART's TX with the other side's RX
COMPATIBLE_LINES = frozenset(
    {(line, line) for line in BUS_LINES if not any(a == b == line for a, b, _ in CROSSED)}
    | {(R.UART_TX, R.UART_RX), (R.UART_RX, R.UART_TX)}
)


class PinFacts(NamedTuple):
    """What the connection rules ask of one pin of one part, computed once per grammar."""

    rail_v: float | None = None  # a supply output's voltage (``is_rail_pin``), else None
    ground: bool = False  # a GROUND-role pin
    signal: bool = False  # a signal pin no design ties to a rail (not a strap, not ground)
    bus: frozenset[PinRole] = frozenset()  # its bus lines (``BUS_LINES``)
    gpio: bool = False  # also a plain GPIO: its bus lines are a choice, not what it must be
    module_lines: frozenset[PinRole] = frozenset()  # a module's lines a board pin must carry
    board_carries: frozenset[PinRole] | None = None  # a board's signal pin: the module lines it carries
    sole_supply: bool = False  # the part's only supply input: never on ground
    drives: bool = False  # pushes a high and a low level (``GPIO_TYPES``): two of one part may not meet


NEUTRAL = PinFacts()  # a pin no rule judges (a resistor's lead, a supply input)


def pin_facts(part: Part, pin: Pin) -> PinFacts:
    """The facts of ``pin`` of ``part`` (see ``PinFacts``)."""
    roles = frozenset(pin.roles)
    ground = is_ground_pin(pin)
    board = part.category is Category.MCU_BOARD
    power = pin.type in (ElectricalType.POWER_IN, ElectricalType.POWER_OUT) or ground
    carries = None
    if board and not power:
        carries = frozenset(line for line in BOARD_SIDE if board_pin_carries(part, pin, line))
    facts = PinFacts(
        rail_v=pin.voltage if is_rail_pin(pin) else None,
        ground=ground,
        signal=pin.type in SIGNAL_TYPES and not ground and not TIED_ON_PURPOSE.intersection(roles),
        bus=roles & BUS_LINES,
        gpio=R.GPIO in roles,
        module_lines=frozenset() if board else frozenset(module_bus_lines(pin)),
        board_carries=carries,
        sole_supply=is_supply_pin(pin) and len(supply_pins(part)) == 1,
        drives=pin.type in GPIO_TYPES,
    )
    return NEUTRAL if facts == NEUTRAL else facts


def clash(a: PinFacts, b: PinFacts) -> str | None:
    """The ERC rule a net holding pins with facts ``a`` and ``b`` breaks, or None when they may share one."""
    if a.rail_v is not None and b.rail_v is not None and abs(a.rail_v - b.rail_v) > VOLT_TOLERANCE:
        return "short-rail-rail"
    if (a.rail_v is not None and b.ground) or (b.rail_v is not None and a.ground):
        return "short-power-ground"
    if (a.signal and (b.rail_v is not None or b.ground)) or (b.signal and (a.rail_v is not None or a.ground)):
        return "signal-on-rail"
    if (a.sole_supply and b.ground) or (b.sole_supply and a.ground):
        return "supply-out-of-range"
    if a.bus and b.bus and bus_lines_clash(a, b):
        return "protocol-mismatch"
    if _unsupported(a, b) or _unsupported(b, a):
        return "bus-pin-unsupported"
    return None


def bus_lines_clash(a: PinFacts, b: PinFacts) -> bool:
    """Two bus pins that cannot share a net: lines the ERC calls crossed (``crossed``: SDA with SCL, TX
    with TX, RX with RX, MOSI with MISO; two TX pins of one part too, a gpio-short to the ERC), or,
    unless one pin is also a plain GPIO (an ESP32's default TX pin is a fine SDA), lines of different
    signals (MOSI with SCK or CS, TX with SCL). A pin with several lines (BMP280 SDA is I2C_SDA and
    SPI_MOSI) fits when any of them does."""
    if crossed(a.bus, b.bus):
        return True
    if a.gpio or b.gpio:
        return False
    return not any((x, y) in COMPATIBLE_LINES for x in a.bus for y in b.bus)


def _unsupported(module: PinFacts, board: PinFacts) -> bool:
    return (
        bool(module.module_lines) and board.board_carries is not None and not module.module_lines & board.board_carries
    )
