"""The MCU's pins, handed out by role, each once, in a fixed order.

General-purpose lines take the plainest pins first (no bus, UART, boot or USB function, full drive
current), so the bus pins stay free for the buses. A bus takes all its lines from one instance of the
peripheral, on pins no other line uses: the board's default pins first (named plainly SDA, SCL, MOSI,
MISO, SCK, CS/SS, TX, RX), then the pins of one numbered instance (SDA1 and SCL1, SPI1_RX ...), then
the pins that line up in the board's pin order.
"""

from __future__ import annotations

import re

from agents.reference.builder import Placed, ReferenceDesignError
from components_db.schema import ElectricalType, Pin, PinRole
from studio.erc.nodes import GPIO_TYPES

R = PinRole
SPECIAL = frozenset(
    {
        R.I2C_SDA,
        R.I2C_SCL,
        R.SPI_MOSI,
        R.SPI_MISO,
        R.SPI_SCK,
        R.SPI_CS,
        R.UART_TX,
        R.UART_RX,
        R.BOOT,
        R.USB_DP,
        R.USB_DM,
        R.CAN_TX,
        R.CAN_RX,
        R.DAC,
    }
)
LED_CURRENT_MA = 10.0

DEFAULT = "default"
# what a bus line's pin is called on a board, by role: a plain name marks a default pin, a digit the instance
_LINE_NAMES = {
    R.I2C_SDA: r"I2C(\d)_SDA|SDA(\d?)",
    R.I2C_SCL: r"I2C(\d)_SCL|SCL(\d?)",
    R.SPI_MOSI: r"SPI(\d)_(?:TX|MOSI)|MOSI(\d?)",
    R.SPI_MISO: r"SPI(\d)_(?:RX|MISO)|MISO(\d?)",
    R.SPI_SCK: r"SPI(\d)_SCLK?|SCK(\d?)|SCLK(\d?)",
    R.SPI_CS: r"SPI(\d)_(?:CSN?|NSS|SS)|(?:CS|SS|NSS)(\d?)",
    R.UART_TX: r"U(?:S?ART)?(\d)_?TXD?|TXD?(\d?)",
    R.UART_RX: r"U(?:S?ART)?(\d)_?RXD?|RXD?(\d?)",
}


class McuPins:
    def __init__(self, board: Placed) -> None:
        self.board = board
        self.used: set[str] = set()

    def take(self, role: PinRole = R.GPIO, *, output: bool = True) -> str:
        """A free pin for ``role``: an output needs a GPIO-type pin, an input may be input-only."""
        types = GPIO_TYPES if output else GPIO_TYPES | {ElectricalType.INPUT}
        candidates = [p for p in self.board.part.pins if role in p.roles and p.type in types and self._free(p)]
        if not candidates:
            raise ReferenceDesignError(f"{self.board.part.name} has no free {role.value} pin left")
        return self._use(min(candidates, key=self._plainness))

    def take_first(self, *roles: PinRole) -> str:
        """A free output pin of the first role that still has one (PWM for dimming, else plain GPIO)."""
        for role in roles[:-1]:
            if any(role in p.roles and p.type in GPIO_TYPES and self._free(p) for p in self.board.part.pins):
                return self.take(role)
        return self.take(roles[-1])

    def take_bus(self, *roles: PinRole) -> dict[PinRole, str]:
        """The pins of one bus instance for ``roles`` (SDA and SCL; MOSI, MISO and SCK), all free, the
        board's default instance first. A bus is shared by its devices, so it is taken once per design."""
        for group in self._bus_groups(roles):
            pins = [group[role] for role in roles]
            if len(set(map(id, pins))) == len(pins) and all(self._free(p) for p in pins):
                return {role: self._use(pin) for role, pin in group.items()}
        names = "/".join(role.value for role in roles)
        raise ReferenceDesignError(f"{self.board.part.name} has no free {names} pins left for that bus")

    def take_cs(self) -> str:
        """A chip-select line: the board's default CS/SS pin while it is free, else any free output."""
        default = [p for p in self._bus_pins(R.SPI_CS) if self._free(p) and DEFAULT in _units(p, R.SPI_CS)]
        return self._use(default[0]) if default else self.take_first(R.SPI_CS, R.GPIO)

    def take_uart(self) -> tuple[str, str]:
        """A TX/RX pair, paired in pin order; the first pair (the USB serial port) only when it is the only one."""
        tx = [p for p in self.board.part.pins if R.UART_TX in p.roles and p.type in GPIO_TYPES]
        rx = [p for p in self.board.part.pins if R.UART_RX in p.roles and p.type in GPIO_TYPES]
        pairs = [(t, r) for t, r in zip(tx, rx, strict=False) if self._free(t) and self._free(r)]
        if not pairs:
            raise ReferenceDesignError(f"{self.board.part.name} has no free UART left")
        t, r = pairs[1] if len(pairs) > 1 and pairs[0] == (tx[0], rx[0]) else pairs[0]
        return self._use(t), self._use(r)

    def pin(self, label: str) -> Pin:
        return self.board.part.find_pin(label.partition(".")[2])  # type: ignore[return-value]

    def _free(self, pin: Pin) -> bool:
        return self.board.label(pin) not in self.used

    def _use(self, pin: Pin) -> str:
        label = self.board.label(pin)
        self.used.add(label)
        return label

    def _bus_pins(self, role: PinRole) -> list[Pin]:
        return [p for p in self.board.part.pins if role in p.roles and p.type in GPIO_TYPES]

    def _bus_groups(self, roles: tuple[PinRole, ...]) -> list[dict[PinRole, Pin]]:
        """Candidate instances, best first: the default pins, each numbered instance, then the i-th pin of
        each role in board order (the RP2040's I2C1 on GP2/GP3 carries no instance name)."""
        by_role = {role: self._bus_pins(role) for role in roles}
        units = sorted({u for role, pins in by_role.items() for p in pins for u in _units(p, role)} - {DEFAULT})
        groups = []
        for unit in (DEFAULT, *units):
            group = {}
            for role, pins in by_role.items():
                named = [p for p in pins if unit in _units(p, role)]
                free = [p for p in named if self._free(p)]
                if named:
                    group[role] = (free or named)[0]
            if len(group) == len(roles):
                groups.append(group)
        groups += [dict(zip(roles, pins, strict=True)) for pins in zip(*by_role.values(), strict=False)]
        return groups

    def _plainness(self, pin: Pin) -> tuple[bool, int, int]:
        weak = pin.max_current_ma is not None and pin.max_current_ma < LED_CURRENT_MA
        return weak, len(SPECIAL.intersection(pin.roles)), self.board.part.pins.index(pin)


def _units(pin: Pin, role: PinRole) -> set[str]:
    """The bus instances a pin's names put it in for ``role``: DEFAULT for a plain name, else the digit."""
    pattern = re.compile(_LINE_NAMES[role])
    found = set()
    for token in (pin.name, *pin.aliases):
        match = pattern.fullmatch(token.upper())
        if match:
            found.add(next((g for g in match.groups() if g), DEFAULT))
    return found
