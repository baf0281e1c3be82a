"""The MCU's pins, handed out by role, each once, in a fixed order.

General-purpose lines take the plainest pins first (no bus, UART, boot or USB function, full drive
current), so the bus pins stay free for the buses; each bus takes the pins its role names.
"""

from __future__ import annotations

from agents.reference.builder import Placed, ReferenceDesignError
from components_db.schema import ElectricalType, Pin, PinRole
from studio.erc.context import GPIO_TYPES

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

    def take_bus(self, role: PinRole) -> str:
        """The board's pin for a bus line (the first with the role; buses are shared, so taken once)."""
        for pin in self.board.part.pins:
            if role in pin.roles and pin.type in GPIO_TYPES:
                label = self.board.label(pin)
                self.used.add(label)
                return label
        raise ReferenceDesignError(f"{self.board.part.name} has no {role.value} pin")

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

    def _plainness(self, pin: Pin) -> tuple[bool, int, int]:
        weak = pin.max_current_ma is not None and pin.max_current_ma < LED_CURRENT_MA
        return weak, len(SPECIAL.intersection(pin.roles)), self.board.part.pins.index(pin)
