"""Projects the corpus is about: a board (or none: the designer then adds an ESP32) with sensors,
displays, radios, loads and their drivers, LEDs, buttons and a power chain; an analog circuit without a
controller; or names the knowledge base lacks. ``ProjectSampler.sample`` draws one the reference
designer wires without error."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from agents.bundled_model.corpus import phrasings as P
from agents.parts_list import PartRequest, PartsList, role_of
from agents.reference.designer import design_from_parts
from components_db.schema import Category, PinRole
from studio.erc.nodes import supply_pins
from studio.intent import RequestReader


@dataclass
class Unit:
    """Parts a request names together: a load and its driver, an amplifier and its load cell, a power
    chain, LEDs of several colours, or one part (``quantity`` for a single-part unit)."""

    kind: str  # "part", "driven", "pair", "power", "leds", "shift"
    parts: list[tuple[str, int]]  # (id, quantity), in the order the request names them
    implied: frozenset[str] = frozenset()  # ids the design needs but the request does not name


@dataclass
class Project:
    id: str
    board: str | None  # the board the request names (None: no board named)
    units: list[Unit]
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (name, what it is)
    analog: bool = False

    def core(self, kb) -> PartsList:
        """The parts the request is about, with roles; unknown names as the request will write them."""
        requests: list[PartRequest] = []
        ids = ([self.board] if self.board else []) + [pid for u in self.units for pid, _ in u.parts]
        quantities = {}
        for u in self.units:
            for pid, q in u.parts:
                quantities[pid] = quantities.get(pid, 0) + q
        for pid in dict.fromkeys(ids):
            part = kb.get(pid)
            requests.append(PartRequest(part=pid, quantity=quantities.get(pid, 1), role=role_of(part)))
        return PartsList(parts=requests, unknown=[name for name, _ in self.unknown])


BOARD_WEIGHTS = {
    "esp32-devkit-v1": 22,
    "arduino-uno": 18,
    "arduino-nano": 10,
    "raspberry-pi-pico": 7,
    "nodemcu-esp8266": 5,
    "wemos-d1-mini": 5,
    "arduino-mega-2560": 5,
    "esp32-s3-devkitc-1": 5,
    "esp32-c3-devkitm-1": 5,
    "stm32-blue-pill": 4,
    "teensy-4-0": 4,
    "arduino-pro-micro": 4,
}
SENSORS_PAIRED = {"hx711", "load-cell-5kg"}
LED_COLOURS = ["led-red", "led-green", "led-blue", "led-yellow", "led-white"]
# loads and the drivers a request may route them through (None: the designer adds a MOSFET or drives it)
DRIVEN = {
    "dc-motor-6v": [None, "l298n-module", "l298n-module", "drv8833-module", "tb6612fng-module", "l293d"],
    "stepper-28byj48": ["uln2003-board", "uln2003-board", None],
    "stepper-nema17": ["a4988-module", "drv8825-module"],
    "servo-sg90": [None, None, "pca9685-servo-driver"],
    "servo-mg996r": [None, "pca9685-servo-driver"],
    "fan-12v": [None, None, "relay-module-1ch", "irf520-mosfet-module"],
    "water-pump-5v": [None, "relay-module-1ch", "irf520-mosfet-module", "tb6612fng-module"],
    "solenoid-12v": [None, None, "relay-module-1ch", "irf520-mosfet-module"],
    "vibration-motor": [None],
    "buzzer-active": [None],
    "buzzer-passive": [None],
    "relay-5v": [None],
}
MULTI = {"dc-motor-6v": (1, 2), "servo-sg90": (1, 4), "water-pump-5v": (1, 2), "servo-mg996r": (1, 2)}
POWER_CHAINS = [
    ["battery-9v", "lm7805"],
    ["battery-9v"],
    ["dc-supply-12v", "lm2596-buck"],
    ["dc-supply-12v"],
    ["battery-18650", "tp4056-charger", "mt3608-boost"],
    ["battery-lipo-1s", "tp4056-charger", "mt3608-boost"],
    ["usb-power-5v"],
    ["usb-power-5v", "ams1117-3v3"],
    ["battery-pack-4xaa"],
    ["dc-supply-12v", "lm7805"],
    ["battery-lipo-1s"],
    ["solar-panel-6v", "tp4056-charger", "battery-18650"],
]
ANALOG = [
    (["ne555", "LED", "SUPPLY"], 10),
    (["lm393", "ldr-gl5528", "LED", "SUPPLY"], 5),
    (["lm393", "thermistor-ntc-10k", "LED", "SUPPLY"], 3),
    (["lm358", "ldr-gl5528", "SUPPLY"], 3),
    (["lm358", "thermistor-ntc-10k", "SUPPLY"], 3),
    (["lm358", "potentiometer", "SUPPLY"], 2),
    (["lm741", "SUPPLY"], 2),
    (["potentiometer", "SUPPLY"], 3),
    (["SUPPLY", "LED"], 6),
    (["SUPPLY", "LEDS"], 3),
    (["SUPPLY", "push-button", "LED"], 4),
    (["SUPPLY", "SWITCH", "LED"], 3),
    (["SUPPLY", "SWITCH", "dc-motor-6v"], 3),
    (["SUPPLY", "dc-motor-6v"], 2),
    (["battery-9v", "lm7805", "LED"], 3),
    (["battery-9v", "lm7805"], 2),
    (["usb-power-5v", "ams1117-3v3"], 2),
    (["usb-power-5v", "ams1117-3v3", "LED"], 2),
    (["dc-supply-12v", "lm317", "LED"], 2),
    (["dc-supply-12v", "lm317"], 1),
    (["dc-supply-12v", "lm2596-buck", "LED"], 2),
    (["dc-supply-12v", "fan-12v"], 2),
    (["dc-supply-12v", "SWITCH", "fan-12v"], 2),
    (["SUPPLY", "buzzer-active", "push-button"], 2),
    (["ldr-gl5528", "SUPPLY"], 1),
]
# regulators a designer puts between a supply and a board whose supply pins it would overdrive
REGULATORS_FOR = {
    "dc-supply-12v": ["lm2596-buck", "lm7805"],
    "battery-9v": ["lm7805"],
    "battery-pack-4xaa": ["ams1117-3v3"],
    "solar-panel-6v": ["ams1117-3v3"],
}
IMPLIED_REGULATOR = 0.5  # a named chain's regulator left for the designer to add, when the board needs it
SUPPLIES = ["battery-9v", "usb-power-5v", "battery-pack-4xaa", "dc-supply-12v", "battery-9v"]
SWITCHES = ["toggle-switch", "slide-switch", "push-button"]


class ProjectSampler:
    """Draws projects; ``sample`` returns one the reference designer wires without error."""

    def __init__(self, kb, rng: random.Random) -> None:
        self.kb = kb
        self.rng = rng
        reader = RequestReader(kb)  # the knowledge base grows: a name it now holds is no longer unknown
        self.unknown_real = [u for u in P.UNKNOWN_REAL if not reader.names_a_part(u[0])]
        by: dict[Category, list[str]] = {}
        for p in sorted(kb.parts(), key=lambda p: p.id):  # the same draws whatever order the lookup keeps
            by.setdefault(p.category, []).append(p.id)
        self.sensors = [s for s in by[Category.SENSOR] if s not in SENSORS_PAIRED]
        self.displays = by[Category.DISPLAY]
        self.comms = by[Category.COMMUNICATION]
        self.ics = ["ads1115-module", "ds3231-rtc", "mcp23017", "pcf8574-module", "cd4051", "74hc165"]
        self.counter = 0

    def _unit_for(self, group: str) -> Unit:
        r = self.rng
        if group == "sensor":
            if r.random() < 0.05:
                return Unit("pair", [("hx711", 1), ("load-cell-5kg", 1)])
            return Unit("part", [(r.choice(self.sensors), 1)])
        if group == "display":
            return Unit("part", [(r.choice(self.displays), 1)])
        if group == "comm":
            return Unit("part", [(r.choice(self.comms), 1)])
        if group == "ic":
            if r.random() < 0.3:
                colour = r.choice(LED_COLOURS)
                return Unit("shift", [("74hc595", 1), (colour, r.choice([4, 8, 8]))])
            return Unit("part", [(r.choice(self.ics), 1)])
        if group == "load":
            load = r.choice(list(DRIVEN))
            driver = r.choice(DRIVEN[load])
            low, high = MULTI.get(load, (1, 1))
            if driver == "pca9685-servo-driver":
                high = 6
            q = r.randint(low, high) if r.random() < 0.4 else low
            if driver is None:
                return Unit("part", [(load, q)])
            return Unit("driven", [(load, q), (driver, 1)])
        if group == "relay":
            return Unit("part", [(r.choice(["relay-module-1ch", "relay-module-1ch", "relay-module-2ch"]), 1)])
        if group == "leds":
            return self._leds()
        if group == "input":
            choice = r.choice(["push-button", "push-button", "potentiometer", "rotary-encoder-ky040", "joystick-ky023"])
            q = r.choice([1, 1, 2, 3]) if choice == "push-button" else 1
            return Unit("part", [(choice, q)])
        if group == "analog-sensor":
            return Unit("part", [(r.choice(["ldr-gl5528", "thermistor-ntc-10k", "potentiometer"]), 1)])
        raise ValueError(group)

    def _leds(self) -> Unit:
        r = self.rng
        x = r.random()
        if x < 0.55:
            return Unit("part", [(r.choice([*LED_COLOURS, "led-red", "led-red"]), 1)])
        if x < 0.7:
            return Unit("part", [(r.choice(LED_COLOURS), r.randint(2, 4))])
        if x < 0.9:
            colours = r.sample(LED_COLOURS, r.randint(2, 3))
            return Unit("leds", [(c, 1) for c in colours])
        return Unit("part", [("led-rgb-cc", 1)])

    def _mcu_project(self) -> Project:
        r = self.rng
        board = r.choices(list(BOARD_WEIGHTS), weights=list(BOARD_WEIGHTS.values()))[0]
        n = r.choices([1, 2, 3, 4], weights=[36, 34, 20, 10])[0]
        groups = r.choices(
            ["sensor", "display", "comm", "ic", "load", "relay", "leds", "input", "analog-sensor"],
            weights=[30, 14, 10, 5, 16, 5, 12, 7, 4],
            k=n,
        )
        units, seen = [], set()
        for g in groups:
            u = self._unit_for(g)
            ids = tuple(pid for pid, _ in u.parts)
            if any(pid in seen for pid in ids):
                continue
            seen.update(ids)
            units.append(u)
        if r.random() < 0.22:
            units.append(self._power_chain(board))
        if r.random() < 0.5:
            r.shuffle(units)
        named = board if r.random() > 0.07 else None
        return Project(id="", board=named, units=units)

    def _power_chain(self, board: str) -> Unit:
        """A power chain for ``board``. A bare supply above the board's supply range gets a regulator the
        request does not name (what an expert adds), as does, half the time, a named chain's regulator."""
        r = self.rng
        chain = r.choice(POWER_CHAINS)
        supply = chain[0]
        if not over_range(self.kb, board, supply):
            return Unit("power", [(pid, 1) for pid in chain])
        if len(chain) == 1:
            return Unit(
                "power", [(supply, 1), (regulator := r.choice(REGULATORS_FOR[supply]), 1)], frozenset({regulator})
            )
        implied = frozenset(chain[1:2]) if r.random() < IMPLIED_REGULATOR else frozenset()
        return Unit("power", [(pid, 1) for pid in chain], implied)

    def _peer_project(self) -> Project:
        r = self.rng
        a, b = r.sample(list(BOARD_WEIGHTS), 2)
        units = [Unit("part", [(b, 1)])]
        if r.random() < 0.4:
            units.append(self._unit_for(r.choice(["sensor", "leds", "display"])))
        return Project(id="", board=a, units=units)

    def _analog_project(self) -> Project:
        r = self.rng
        recipe = r.choices([a for a, _ in ANALOG], weights=[w for _, w in ANALOG])[0]
        units = []
        for slot in recipe:
            if slot == "LED":
                units.append(Unit("part", [(r.choice([*LED_COLOURS, "led-red"]), 1)]))
            elif slot == "LEDS":
                units.append(self._leds())
            elif slot == "SUPPLY":
                units.append(Unit("power", [(r.choice(SUPPLIES), 1)]))
            elif slot == "SWITCH":
                units.append(Unit("part", [(r.choice(SWITCHES), 1)]))
            else:
                units.append(Unit("part", [(slot, 1)]))
        if r.random() < 0.5:
            r.shuffle(units)
        return Project(id="", board=None, units=units, analog=True)

    def _with_unknown(self, project: Project) -> Project:
        r = self.rng
        for _ in range(1 if r.random() < 0.85 else 2):
            project.unknown.append(self.unknown_name())
        return project

    def unknown_name(self) -> tuple[str, str]:
        r = self.rng
        x = r.random()
        if x < 0.5:
            return r.choice(self.unknown_real)
        if x < 0.68:
            return (r.choice(P.UNKNOWN_WHIMSY), "")
        return (invented_part_number(r), r.choice(P.UNKNOWN_SUFFIXES))

    def draw(self) -> Project:
        r = self.rng
        x = r.random()
        if x < 0.74:
            project = self._mcu_project()
        elif x < 0.77:
            project = self._peer_project()
        else:
            project = self._analog_project()
        if r.random() < 0.09:
            project = self._with_unknown(project)
        return project

    def sample(self) -> tuple[Project, PartsList]:
        """A project whose core parts the reference designer wires (checked), and that core."""
        while True:
            project = self.draw()
            if not project.units and not project.board:
                continue
            core = project.core(self.kb)
            try:
                design_from_parts(core, self.kb)
            except Exception:  # ReferenceDesignError, or a gap of the designer on this combination: skip it
                continue
            self.counter += 1
            project.id = f"p{self.counter:06d}"
            return project, core

    def unknown_only(self) -> Project:
        """A request about parts the knowledge base lacks only (identify answers ``"parts":[]``)."""
        self.counter += 1
        names = [self.unknown_name() for _ in range(1 if self.rng.random() < 0.8 else 2)]
        return Project(id=f"p{self.counter:06d}", board=None, units=[], unknown=names)


def over_range(kb, board: str, supply: str) -> bool:
    """Whether ``supply``'s output is above every supply input of ``board`` (it needs a regulator)."""
    volts = [p.voltage for p in kb.get(supply).pins if PinRole.POWER_OUT in p.roles and p.voltage is not None]
    part = kb.get(board)
    limits = [p.max_v if p.max_v is not None else part.supply.max_v if part.supply else None for p in supply_pins(part)]
    known = [v for v in limits if v is not None]
    return bool(volts and known) and max(volts) > max(known) and supply in REGULATORS_FOR


_CONSONANTS = "BCDFGHJKLMNPQRSTVWXZ"


def invented_part_number(r: random.Random) -> str:
    letters = "".join(r.choice(_CONSONANTS + "AEIOUY") for _ in range(r.randint(2, 4)))
    digits = str(r.randint(10, 99999))
    sep = r.choice(["", "-", "-", " "])
    tail = r.choice(["", "", "", r.choice("ABCDEFLSX")])
    return f"{letters}{sep}{digits}{tail}"
