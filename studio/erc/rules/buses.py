"""Buses and pull-ups: crossed I2C/UART/SPI lines, bus lines on board pins that cannot carry them, a
UART TX that reaches no RX, I2C pull-ups missing or doubled, and pins whose datasheet asks for a
pull-up (DHT22 DATA).

A board with fixed peripheral pins carries a bus only on the pins the knowledge base gives that role
(an Uno's I2C on A4/A5); a board whose knowledge-base entry says ``pin_matrix`` (ESP32) routes a bus
to any GPIO that can drive it, so there only input-only pins are refused for lines the board drives.
A line that is just as often bit-banged (a shift register's: the knowledge base gives it a plain CLOCK,
DATA or LATCH role beside its SPI one) goes on any GPIO.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from components_db.schema import ElectricalType, Part, Pin, PinRole
from studio.circuit.bound import BoundPin
from studio.erc.findings import Violation
from studio.erc.nodes import GPIO_TYPES, ErcContext, Node, is_board
from studio.erc.registry import violation

R = PinRole
# (a role, the role it must not meet on another part's pin, how the two should be wired)
CROSSED = (
    (R.I2C_SDA, R.I2C_SCL, "SDA goes to SDA and SCL to SCL"),
    (R.UART_TX, R.UART_TX, "TX goes to the other side's RX"),
    (R.UART_RX, R.UART_RX, "RX comes from the other side's TX"),
    (R.SPI_MOSI, R.SPI_MISO, "MOSI goes to MOSI (SDI/DIN) and MISO to MISO (SDO/DOUT)"),
)
I2C = frozenset({R.I2C_SDA, R.I2C_SCL})
UART = frozenset({R.UART_TX, R.UART_RX})
# a module's bus line -> the board pin role it needs, and whether the board drives that line
BOARD_SIDE: dict[PinRole, tuple[PinRole, bool]] = {
    R.I2C_SDA: (R.I2C_SDA, True),
    R.I2C_SCL: (R.I2C_SCL, True),
    R.SPI_MOSI: (R.SPI_MOSI, True),
    R.SPI_SCK: (R.SPI_SCK, True),
    R.SPI_MISO: (R.SPI_MISO, False),
    R.UART_RX: (R.UART_TX, True),
    R.UART_TX: (R.UART_RX, False),
}
BIT_BANGED = frozenset({R.CLOCK, R.DATA, R.LATCH})
# the role a module's line meets when it is crossed (reported as protocol-mismatch, not twice)
CROSSED_ROLE = {R.I2C_SDA: R.I2C_SCL, R.I2C_SCL: R.I2C_SDA, R.SPI_MOSI: R.SPI_MISO, R.SPI_MISO: R.SPI_MOSI}


def check(ctx: ErcContext) -> Iterator[Violation]:
    for node in ctx.nodes:
        if node.is_ground or node.is_power or len(node.pins) < 2:
            continue
        yield from _crossed(node)
        yield from _unsupported_bus_pins(node)
        yield from _uart_without_rx(node)
        yield from _pullups(ctx, node)
    yield from _required_pullups(ctx)


def takes_side(roles: Collection[PinRole], role: PinRole, other: PinRole) -> bool:
    """A pin with ``roles`` stands for ``role`` in a crossed pair (``CROSSED``) against ``other``: it has
    ``role`` and, for a pair of two roles, not ``other`` too (BMP280 SCL is I2C_SCL and SPI_SCK)."""
    return role in roles and (role == other or other not in roles)


def crossed(roles_a: Collection[PinRole], roles_b: Collection[PinRole]) -> bool:
    """Two pins with these roles are crossed bus lines (``CROSSED``) in either order: the pair
    ``protocol-mismatch`` reports when they are of two parts."""
    return any(
        takes_side(x, role_a, role_b) and takes_side(y, role_b, role_a)
        for role_a, role_b, _ in CROSSED
        for x, y in ((roles_a, roles_b), (roles_b, roles_a))
    )


def _crossed(node: Node) -> Iterator[Violation]:
    for role_a, role_b, rule in CROSSED:
        first = [bp for bp in node.pins if takes_side(bp.pin.roles, role_a, role_b)]
        second = [bp for bp in node.pins if takes_side(bp.pin.roles, role_b, role_a)]
        pairs = [
            (a, b)
            for a in first
            for b in second
            if a.label != b.label and (role_a != role_b or (a.ref != b.ref and a.label < b.label))
        ]
        if pairs:
            a, b = pairs[0]
            yield violation(
                "protocol-mismatch",
                f"Net {node.name} joins {a.label} ({role_a.value}) with {b.label} ({role_b.value}): the bus lines are "
                "crossed, so the parts cannot talk.",
                f"Rewire so that {rule}.",
                refs=[a.ref, b.ref],
                pins=[a.label, b.label],
                net=node.name,
            )


def _unsupported_bus_pins(node: Node) -> Iterator[Violation]:
    """A module's I2C, SPI or UART line on a board pin that cannot carry it."""
    boards = [bp for bp in node.pins if is_board(bp.part)]
    for device in (bp for bp in node.pins if not is_board(bp.part)):
        lines = module_bus_lines(device.pin)
        if not lines:
            continue
        for board in boards:
            if any(board_pin_carries(board.part, board.pin, role) for role in lines):
                continue
            if any(CROSSED_ROLE.get(role) in board.pin.roles for role in lines):
                continue  # crossed lines: protocol-mismatch says so
            role = lines[0]
            needed = BOARD_SIDE[role][0]
            if board.part.usage.pin_matrix:
                why = f"{board.label} is input-only, and the board has to drive {role.value}"
                fix = f"Move {device.label} to a GPIO of {board.ref} that can drive (not an input-only pin)."
            else:
                capable = [f"{board.ref}.{p.name}" for p in board.part.pins_with_role(needed)]
                why = f"{board.part.name} has {needed.value} only on {', '.join(capable) or 'no pin'}"
                fix = f"Wire {device.label} to {' or '.join(capable)}." if capable else f"Use a board with {needed}."
            yield violation(
                "bus-pin-unsupported",
                f"{device.label} ({role.value}) is wired to {board.label}, which cannot carry it: {why}.",
                fix,
                refs=[device.ref, board.ref],
                pins=[device.label, board.label],
                net=node.name,
            )


def module_bus_lines(pin: Pin) -> list[PinRole]:
    """The I2C, SPI (not CS) or UART lines a module's pin is, which a board pin must be able to carry
    (``BOARD_SIDE``); none for a line that is as often bit-banged (``BIT_BANGED``)."""
    if BIT_BANGED.intersection(pin.roles):
        return []
    return [role for role in pin.roles if role in BOARD_SIDE]


def board_pin_carries(board: Part, pin: Pin, line: PinRole) -> bool:
    """A pin of ``board`` can carry a module's bus ``line`` (a ``BOARD_SIDE`` role): on a ``pin_matrix``
    board any GPIO (an input-only one just for lines the board reads), else a pin with the matching role."""
    role, drives = BOARD_SIDE[line]
    if board.usage.pin_matrix:
        return pin.type in GPIO_TYPES or (not drives and pin.type is ElectricalType.INPUT)
    return role in pin.roles


def _uart_without_rx(node: Node) -> Iterator[Violation]:
    """A dedicated TX pin, or a TX pin used as a UART, whose net has no RX pin of another part."""
    uart_parts = {bp.ref for bp in node.pins if UART.intersection(bp.pin.roles)}
    for bp in node.pins:
        if R.UART_TX not in bp.pin.roles:
            continue
        dedicated = R.GPIO not in bp.pin.roles
        if not dedicated and len(uart_parts) < 2:
            continue  # a GPIO that can also be TX, used as a plain GPIO
        if any(R.UART_RX in o.pin.roles for o in node.pins if o.ref != bp.ref):
            continue
        if any(R.UART_TX in o.pin.roles for o in node.pins if o.ref != bp.ref):
            continue  # TX to TX: reported as a protocol mismatch
        others = [o.label for o in node.pins if o.ref != bp.ref]
        where = f"goes to {', '.join(others)}, which is not a UART RX pin" if others else "reaches no other part"
        yield violation(
            "uart-tx-no-rx",
            f"UART output {bp.label} {where}; the data will only be read by a software serial port, if at all.",
            f"Connect {bp.label} to the RX pin of the receiving UART (and its TX back to {bp.ref}'s RX).",
            refs=[bp.ref, *(o.partition(".")[0] for o in others)],
            pins=[bp.label, *others],
            net=node.name,
        )


def i2c_line(node: Node) -> list[BoundPin]:
    """The I2C pins on a node that joins two or more parts' I2C pins (a bus line); [] otherwise."""
    i2c = [bp for bp in node.pins if I2C.intersection(bp.pin.roles)]
    return i2c if len({bp.ref for bp in i2c}) >= 2 else []


def pulled_up(ctx: ErcContext, node: Node) -> bool:
    return bool(ctx.pull_ups(node) or ctx.onboard_pullups(node))


def _pullups(ctx: ErcContext, node: Node) -> Iterator[Violation]:
    resistors = ctx.pull_ups(node)
    onboard = ctx.onboard_pullups(node)
    i2c = i2c_line(node)
    if i2c and not pulled_up(ctx, node):
        yield violation(
            "i2c-no-pullups",
            f"I2C line {node.name} ({', '.join(bp.label for bp in i2c)}) has no pull-up resistor and no module on it "
            "carries one; I2C pins only pull low, so the line never goes high.",
            f"Add a 4.7k resistor from net {node.name} to the 3.3 V (or the bus's) supply.",
            refs=[bp.ref for bp in i2c],
            pins=[bp.label for bp in i2c],
            net=node.name,
        )
    if len(resistors) + (1 if onboard else 0) >= 2:
        names = [bp.ref for bp, _ in resistors] + [f"{bp.ref} (on-board)" for bp in onboard[:1]]
        yield violation(
            "redundant-pullups",
            f"Net {node.name} has more than one pull-up ({', '.join(names)}); in parallel they make a stronger "
            "pull-up than intended.",
            f"Keep one pull-up on net {node.name}"
            + (f"; {onboard[0].ref} already has one, so remove {resistors[0][0].ref}." if onboard else "."),
            refs=[bp.ref for bp, _ in resistors] + [bp.ref for bp in onboard],
            net=node.name,
        )


def _required_pullups(ctx: ErcContext) -> Iterator[Violation]:
    for ref, part in ctx.parts():
        if part.usage.onboard_pullups:
            continue
        for name in part.usage.pullup_required:
            pin = part.find_pin(name)
            node = ctx.node(ref, pin) if pin else None
            if node is None or len(node.pins) < 2 or node.is_power or node.is_ground:
                continue
            if ctx.pull_ups(node) or ctx.onboard_pullups(node):
                continue
            label = f"{ref}.{name}"
            yield violation(
                "pullup-missing",
                f"{label} needs a pull-up resistor (the datasheet asks for one) but net {node.name} has none; "
                "without it the line never returns high and the part does not answer.",
                f"Add a 4.7k-10k resistor from {label} (net {node.name}) to {ref}'s supply pin.",
                refs=[ref],
                pins=[label],
                net=node.name,
            )
