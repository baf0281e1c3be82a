"""Power domains: the rails a design has, where each comes from, and which rail feeds each part.

A rail is one net at one voltage with one source (a board's 3V3/5V pin, a regulator output, a
battery or bench supply). Parts take the rail in their supply range that matches the MCU's logic
level when they talk to it; heavy loads skip a rail whose source pin cannot give their current
(a board's 5V pin: 500 mA) and get an external supply. Every source's minus terminal and every
part's ground pins go on one GND net.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.reference.builder import DesignBuilder, Placed, ReferenceDesignError
from components_db.schema import Category, ElectricalType, Part, Pin
from studio.erc.nodes import ground_pins, is_rail_pin, supply_pins

GND = "GND"
# the supply a rail of each standard voltage gets when the part list brings none
SUPPLY_FOR_VOLTAGE = {12.0: "dc-supply-12v", 9.0: "battery-9v", 6.0: "battery-pack-4xaa", 5.0: "usb-power-5v"}
REGULATOR_3V3 = "ams1117-3v3"
BATTERY_1S = "battery-lipo-1s"  # 3.7 V cell: modules like the SIM800L that want 3.4-4.4 V
STANDARD_VOLTS = (3.3, 3.7, *sorted(SUPPLY_FOR_VOLTAGE))  # what ``_new_supply`` can add, for messages


@dataclass
class Rail:
    net: str
    voltage: float
    source: str  # "U1.3V3"
    capacity_ma: float | None  # None: not limited by a pin rating we know
    board: bool  # a board's own regulator output
    load_ma: float = 0.0

    def fits(self, low: float, high: float) -> bool:
        return low - 0.05 <= self.voltage <= high + 0.05

    def can_take(self, ma: float) -> bool:
        return self.capacity_ma is None or self.load_ma + ma <= self.capacity_ma


def rail_name(volts: float) -> str:
    """3.3 -> '3V3', 5 -> '5V', 3.7 -> '3V7', 12 -> '12V' (names the rails module understands)."""
    whole, frac = divmod(round(volts * 10), 10)
    return f"{whole}V{frac}" if frac else f"{whole}V"


def named(placed: Placed) -> str:
    """How messages name a placed part: 'U2 (A4988 stepper driver module)'."""
    return f"{placed.ref} ({placed.part.name})"


def supply_range(part: Part, pin: Pin) -> tuple[float, float] | None:
    if pin.min_v is not None or pin.max_v is not None:
        return pin.min_v or 0.0, pin.max_v if pin.max_v is not None else 60.0
    if part.supply is not None:
        return part.supply.min_v, part.supply.max_v
    return None


class PowerPlan:
    """The rails of one design; creates supplies and regulators on demand, one net per rail."""

    def __init__(self, builder: DesignBuilder, logic_v: float | None) -> None:
        self.b = builder
        self.logic_v = logic_v  # the MCU's logic level, None without an MCU
        self.rails: list[Rail] = []
        self.board: Placed | None = None
        self.board_fed = False

    # --- sources ------------------------------------------------------------------------------
    def add_board(self, board: Placed) -> None:
        """A board's regulator outputs become rails (first pin of each voltage)."""
        self.board = board
        self.ground(board, first_only=True)
        for pin in board.part.pins:
            if is_rail_pin(pin) and not any(r.voltage == pin.voltage for r in self.rails if r.board):
                self._new_rail(board, pin, capacity=pin.max_current_ma, board=True)

    def add_source(self, source: Placed) -> Rail:
        """A battery or bench supply: its + is a rail, its - is ground."""
        self.ground(source)
        out = next(p for p in source.part.pins if is_rail_pin(p))
        return self._new_rail(source, out, capacity=None, board=False)

    def add_converter(self, conv: Placed) -> Rail | None:
        """A regulator, buck, boost or charger: inputs from a rail in range, output a new rail."""
        self.ground(conv)
        for pin in supply_pins(conv.part):
            low, high = supply_range(conv.part, pin) or (0.0, 60.0)
            self.feed(conv, pin, low, high, load_ma=conv.part.current_draw_ma or 0.0, external=True)
        out = next((p for p in conv.part.pins if is_rail_pin(p)), None)
        if out is None:
            return None  # adjustable output (LM317): wired by the analog rules
        capacity = conv.part.spice.params.get("max_ma") if conv.part.spice else None
        return self._new_rail(conv, out, capacity=capacity, board=False)

    def power_board_from(self, rails: list[Rail]) -> None:
        """Feed the board's supply input from a listed rail its range accepts (regulated rails first)."""
        if self.board is None:
            return
        for rail in rails:
            for pin in supply_pins(self.board.part):
                span = supply_range(self.board.part, pin)
                if span and rail.fits(*span):
                    self.b.connect(rail.net, self.board.label(pin))
                    self.board_fed = True
                    return

    # --- loads --------------------------------------------------------------------------------
    def ground(self, placed: Placed, *, first_only: bool = False) -> None:
        pins = ground_pins(placed.part)
        for pin in pins[:1] if first_only else pins:
            self.b.connect(GND, placed.label(pin))

    def supply(self, placed: Placed, *, logic: bool = True, load_ma: float | None = None) -> float | None:
        """Wire a part's ground and supply pins; returns the voltage of its (first) supply rail.

        A part with several supply inputs (a TFT's VCC and LED, a W5500's 3V3 and 5V) gets each
        input that has a rail in range; inputs meant as alternatives are left open when one is wired.
        """
        self.ground(placed)
        volts: float | None = None
        draw = (placed.part.current_draw_ma or 0.0) if load_ma is None else load_ma
        for pin in supply_pins(placed.part):
            span = supply_range(placed.part, pin)
            if span is None or self.b.wired(placed.label(pin)):
                continue
            if volts is not None and self.logic_v is not None and not span[0] <= self.logic_v <= span[1] + 0.05:
                continue  # an alternative supply input (W5500 5V when its 3V3 is used)
            rail = self.feed(placed, pin, *span, load_ma=draw, external=not logic)
            volts = rail.voltage if volts is None else volts
            draw = 0.0
        return volts

    def feed(self, placed: Placed, pin: Pin, low: float, high: float, *, load_ma: float, external: bool) -> Rail:
        rail = self.rail_for(low, high, load_ma=load_ma, prefer_logic=not external, who=f"{named(placed)} {pin.name}")
        rail.load_ma += load_ma
        self.b.connect(rail.net, placed.label(pin))
        return rail

    def rail_for(
        self, low: float, high: float, *, load_ma: float = 0.0, prefer_logic: bool = True, who: str = "a part"
    ) -> Rail:
        """The rail in range that can take the load, the MCU's logic rail first; else a new supply (``who``
        needs it: named if none can be made)."""
        fitting = [r for r in self.rails if r.fits(low, high) and r.can_take(load_ma)]
        if fitting:
            logic = self.logic_v if prefer_logic else None
            return min(fitting, key=lambda r: (r.voltage != logic, r.board and not prefer_logic, self.rails.index(r)))
        return self._new_supply(low, high, load_ma, who)

    def rail_at(self, volts: float) -> Rail:
        return self.rail_for(volts, volts)

    # --- internals ----------------------------------------------------------------------------
    def _new_rail(self, placed: Placed, pin: Pin, *, capacity: float | None, board: bool) -> Rail:
        volts = pin.voltage or 0.0
        net = self.b.fresh(rail_name(volts)) if rail_name(volts) in self.b.nets else rail_name(volts)
        rail = Rail(net, volts, placed.label(pin), capacity, board)
        self.b.connect(net, rail.source)
        self.rails.append(rail)
        return rail

    def _new_supply(self, low: float, high: float, load_ma: float, who: str) -> Rail:
        """A supply for a range no rail covers: a bench supply, battery or 3.3 V regulator; refused
        (``ReferenceDesignError``) for a range none of them is in."""
        if low > high + 0.05:
            raise ReferenceDesignError(f"no supply can feed {who}: it would need {low:g}-{high:g} V, an empty range")
        for volts, part_id in SUPPLY_FOR_VOLTAGE.items():
            if low - 0.05 <= volts <= high + 0.05:
                placed = self.b.add(part_id, f"supplies {rail_name(volts)} ({low:g}-{high:g} V needed, {load_ma:g} mA)")
                rail = self.add_source(placed)
                if volts == 5.0 and self.board is not None and not self.board_fed:
                    self.power_board_from([rail])
                return rail
        if low <= 3.3 <= high:
            reg = self.b.add(REGULATOR_3V3, f"regulates 3.3 V for {load_ma:g} mA the board's 3V3 pin cannot give")
            rail = self.add_converter(reg)
            assert rail is not None
            self._decouple(reg)
            return rail
        if low <= 3.7 <= high:
            return self.add_source(self.b.add(BATTERY_1S, f"a 3.7 V cell for a part that wants {low:g}-{high:g} V"))
        standard = ", ".join(f"{v:g}" for v in STANDARD_VOLTS)
        raise ReferenceDesignError(
            f"no standard supply in {low:g}-{high:g} V for {who} (the designer adds {standard} V supplies); "
            "list a supply or regulator in that range"
        )

    def _decouple(self, placed: Placed) -> None:
        decouple(self.b, placed)


def decouple(b: DesignBuilder, placed: Placed) -> None:
    """100 nF from each wired supply/output pin of an IC to ground (datasheet decoupling)."""
    for pin in placed.part.pins:
        label = placed.label(pin)
        is_power = pin.type is ElectricalType.POWER_IN or is_rail_pin(pin)
        if is_power and pin not in ground_pins(placed.part) and b.wired(label):
            cap = b.add("capacitor-ceramic", f"decouples {label} (datasheet asks for it)", "100nF")
            b.connect(b.net_of[label], cap.pin("1"))
            b.connect(GND, cap.pin("2"))


def is_source(part: Part) -> bool:
    """A battery, USB or bench supply: a positive supply output and no supply input."""
    return any(is_rail_pin(p) for p in part.pins) and not supply_pins(part)


def is_converter(part: Part) -> bool:
    return part.category is Category.POWER and bool(supply_pins(part)) and not is_source(part)
