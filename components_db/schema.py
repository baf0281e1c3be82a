"""The component knowledge base's data contract: a Part and its Pins.

Every curated entry and every user-added part is validated by these models before it reaches the
database, so the rest of the studio (ERC, SPICE, layout, agents) can trust what it reads. Values
are datasheet facts; a field left ``None`` means "not applicable / not known", never a guess.

Part files come from users, so the models admit nothing a later reader could trip on: numbers are
finite and of datasheet size (``Number``), SPICE parameters are the ones the netlister reads, each
in a range where its arithmetic stays finite (``SPICE_PARAMS``), a ``default_value`` is a value in
the design grammar, and one-line text holds no control characters.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from components_db.text import printable
from components_db.values import parse_value

PART_ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
PIN_NAME_PATTERN = r"^[A-Za-z0-9_+\-/#~.]{1,24}$"
# every number of a part is 0 or of a size some datasheet has; products and quotients of two of them
# (the simulator's and the designer's arithmetic) then stay far from float overflow and underflow
MIN_MAGNITUDE, MAX_MAGNITUDE = 1e-30, 1e12
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


def _datasheet_number(value: float) -> float:
    if value != 0 and not MIN_MAGNITUDE <= abs(value) <= MAX_MAGNITUDE:
        raise ValueError(f"{value!r} is no datasheet number (0, or between 1e-30 and 1e12 in size)")
    return value


Number = Annotated[float, AfterValidator(_datasheet_number)]


def _first_control(text: str) -> str | None:
    """The first character ``printable`` would escape (a control or bidi character), if any."""
    return next((c for c in text if printable(c) != c), None)


def _one_line(text: str) -> str:
    if (bad := _first_control(text)) is not None:
        raise ValueError(f"must be one line without control characters; it holds {printable(bad)}")
    return text


def _paragraphs(text: str) -> str:
    if (bad := _first_control(text.replace("\n", " "))) is not None:
        raise ValueError(f"must be text without control characters other than line breaks; it holds {printable(bad)}")
    return text


def _word(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return _one_line(text)


def _line(max_length: int) -> object:
    """One line of user text of at most ``max_length`` characters, as a field type."""
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_one_line)]


Word = Annotated[str, StringConstraints(max_length=80), AfterValidator(_word)]  # an alias or a tag


def _spec_value(value: object) -> str | float | int | bool:
    """A ``specs`` value: a short line of text, true/false, or a finite datasheet number."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if len(value) > 200:
            raise ValueError("a spec text has at most 200 characters")
        return _one_line(value)
    if isinstance(value, int):  # compared as an int: float() of a long one overflows
        if abs(value) > MAX_MAGNITUDE:
            raise ValueError("an integer beyond 1e12 is no datasheet number")  # not printed: it may be huge
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("Input should be a finite number")
        return _datasheet_number(value)
    raise ValueError("a spec is text, a number or true/false")


SpecValue = Annotated[str | float | int | bool, PlainValidator(_spec_value)]


class ElectricalType(StrEnum):
    """KiCad pin electrical types (eeschema); drive the pin-conflict matrix of the ERC."""

    INPUT = "input"
    OUTPUT = "output"
    BIDIRECTIONAL = "bidirectional"
    TRI_STATE = "tri_state"
    PASSIVE = "passive"
    FREE = "free"
    UNSPECIFIED = "unspecified"
    POWER_IN = "power_in"
    POWER_OUT = "power_out"
    OPEN_COLLECTOR = "open_collector"
    OPEN_EMITTER = "open_emitter"
    NO_CONNECT = "no_connect"


class PinRole(StrEnum):
    """What a pin is for. A fixed vocabulary, so checks and the reference designer can rely on it."""

    # digital / analog I/O
    GPIO = "GPIO"
    ADC = "ADC"
    DAC = "DAC"
    PWM = "PWM"
    TOUCH = "TOUCH"
    INTERRUPT = "INTERRUPT"
    DIGITAL_IN = "DIGITAL_IN"
    DIGITAL_OUT = "DIGITAL_OUT"
    ANALOG_IN = "ANALOG_IN"
    ANALOG_OUT = "ANALOG_OUT"
    # buses
    I2C_SDA = "I2C_SDA"
    I2C_SCL = "I2C_SCL"
    SPI_MOSI = "SPI_MOSI"
    SPI_MISO = "SPI_MISO"
    SPI_SCK = "SPI_SCK"
    SPI_CS = "SPI_CS"
    UART_TX = "UART_TX"
    UART_RX = "UART_RX"
    ONEWIRE = "ONEWIRE"
    I2S_BCLK = "I2S_BCLK"
    I2S_WS = "I2S_WS"
    I2S_DOUT = "I2S_DOUT"
    I2S_DIN = "I2S_DIN"
    CAN_TX = "CAN_TX"
    CAN_RX = "CAN_RX"
    CAN_H = "CAN_H"
    CAN_L = "CAN_L"
    RS485_A = "RS485_A"
    RS485_B = "RS485_B"
    USB_DP = "USB_DP"
    USB_DM = "USB_DM"
    CLOCK = "CLOCK"
    DATA = "DATA"
    LATCH = "LATCH"
    # control
    ENABLE = "ENABLE"
    RESET = "RESET"
    ADDRESS = "ADDRESS"  # an address-select strap (BME280 SDO, PCF8574 A0): tied to a rail by design
    MODE = "MODE"  # a mode or configuration strap (A4988 MS1, a bus-select pin): tied to a rail by design
    BOOT = "BOOT"
    OUTPUT_ENABLE = "OUTPUT_ENABLE"
    DIRECTION = "DIRECTION"
    STEP = "STEP"
    # power
    POWER_IN = "POWER_IN"
    POWER_OUT = "POWER_OUT"
    GROUND = "GROUND"
    VREF = "VREF"
    FEEDBACK = "FEEDBACK"
    # discrete-part terminals
    ANODE = "ANODE"
    CATHODE = "CATHODE"
    BASE = "BASE"
    COLLECTOR = "COLLECTOR"
    EMITTER = "EMITTER"
    GATE = "GATE"
    DRAIN = "DRAIN"
    SOURCE = "SOURCE"
    WIPER = "WIPER"
    TERMINAL = "TERMINAL"
    XTAL = "XTAL"
    # loads and switching
    COIL = "COIL"
    CONTACT_COM = "CONTACT_COM"
    CONTACT_NO = "CONTACT_NO"
    CONTACT_NC = "CONTACT_NC"
    MOTOR_OUT = "MOTOR_OUT"
    LOAD = "LOAD"
    # op-amp / comparator / timer
    INVERTING_IN = "INVERTING_IN"
    NONINVERTING_IN = "NONINVERTING_IN"
    TRIGGER = "TRIGGER"
    THRESHOLD = "THRESHOLD"
    DISCHARGE = "DISCHARGE"
    CONTROL = "CONTROL"


class Category(StrEnum):
    """One curated source file per category (components_db/data/<category>.yaml)."""

    MCU_BOARD = "mcu_board"
    SENSOR = "sensor"
    DISPLAY = "display"
    ACTUATOR = "actuator"
    DRIVER = "driver"
    COMMUNICATION = "communication"
    POWER = "power"
    PASSIVE = "passive"
    DISCRETE = "discrete"
    IC = "ic"


class SymbolKind(StrEnum):
    """How the schematic renderer draws a part; anything with named pins is a chip box."""

    RESISTOR = "resistor"
    CAPACITOR = "capacitor"
    CAPACITOR_POLARIZED = "capacitor_polarized"
    INDUCTOR = "inductor"
    POTENTIOMETER = "potentiometer"
    DIODE = "diode"
    ZENER = "zener"
    LED = "led"
    NPN = "npn"
    PNP = "pnp"
    NMOS = "nmos"
    PMOS = "pmos"
    BUTTON = "button"
    SWITCH = "switch"
    BATTERY = "battery"
    CRYSTAL = "crystal"
    FUSE = "fuse"
    BUZZER = "buzzer"
    MOTOR = "motor"
    CHIP = "chip"


# the small parts a design places around the parts a request asks for (the reference designer adds them
# by itself; a part list is not scored on them; they never stand in for a part the request names)
SUPPORT_SYMBOLS = frozenset(
    {
        SymbolKind.RESISTOR,
        SymbolKind.CAPACITOR,
        SymbolKind.CAPACITOR_POLARIZED,
        SymbolKind.DIODE,
        SymbolKind.ZENER,
        SymbolKind.NPN,
        SymbolKind.PNP,
        SymbolKind.NMOS,
        SymbolKind.PMOS,
    }
)


FType = Literal[
    "simple_resistor",
    "simple_capacitor",
    "simple_inductor",
    "simple_diode",
    "simple_led",
    "simple_transistor",
    "simple_mosfet",
    "simple_op_amp",
    "simple_potentiometer",
    "simple_push_button",
    "simple_switch",
    "simple_battery",
    "simple_power_source",
    "simple_crystal",
    "simple_fuse",
    "simple_pin_header",
    "simple_chip",
]

SpiceKind = Literal[
    "resistor",  # value from the design (ohm)
    "capacitor",  # value (F)
    "inductor",  # value (H)
    "potentiometer",  # value (ohm); params: wiper (0..1, default 0.5)
    "diode",  # params: is_a, n, rs_ohm, bv_v (breakdown, optional), cjo_f (optional)
    "led",  # params: vf_v (forward voltage at if_ma), if_ma (rated current), max_ma
    "bjt",  # params: polarity (+1 npn / -1 pnp), bf, is_a, vaf_v (optional)
    "mosfet",  # params: polarity (+1 n / -1 p), vto_v, kp, rds_on_ohm (optional)
    "source",  # battery / bench supply / USB: params: voltage_v, r_internal_ohm
    "regulator",  # linear regulator: params: vout_v, dropout_v, iq_ma, max_ma
    "switching_regulator",  # buck/boost module modelled as ideal: vout_v, efficiency, max_ma
    "opamp",  # params: gain (open loop), gbw_hz, vos_v (optional), rail_drop_v
    "timer555",  # NE555 behavioural model
    "board",  # MCU board: power_out pins from Pin.voltage; GPIO = source with r_out_ohm
    "module",  # anything else: a load of Part.current_draw_ma on its supply pins; a bare two-terminal
    # load (motor, fan, pump, solenoid, relay coil): a resistor of params r_coil_ohm (or rated V / current)
    "switch",  # button/switch: params: r_on_ohm (default state open)
]

# The params each kind's netlister reads (spice/devices.py, spice/behavioural.py), each with the
# inclusive range in which its model is plausible and its arithmetic finite. The LED's are tight
# because its saturation current is i_f / expm1((vf_v - i_f rs_ohm) / (n Vt)): with these bounds
# (and the netlister's defaults inside them) the exponent stays within 2..390.
LED_SERIES_OHM = 1.0  # an LED's rs_ohm when its part gives none (the netlister's default too)
SPICE_PARAMS: dict[str, dict[str, tuple[float, float]]] = {
    "resistor": {},
    "capacitor": {},
    "inductor": {},
    "potentiometer": {"wiper": (0, 1)},
    "diode": {"is_a": (1e-30, 1), "n": (0.5, 10), "rs_ohm": (0, 1e4), "bv_v": (0.1, 1e4), "cjo_f": (0, 1e-6)},
    # power LEDs run at 350-1500 mA; the fit also needs vf above the drop on rs (checked below)
    "led": {"vf_v": (1, 10), "if_ma": (0.01, 3000), "max_ma": (0.01, 5000), "n": (1, 10), "rs_ohm": (0, 5)},
    "bjt": {"polarity": (-1, 1), "bf": (1, 1e4), "is_a": (1e-30, 1), "vaf_v": (1, 1e4)},
    "mosfet": {"polarity": (-1, 1), "vto_v": (-50, 50), "kp": (1e-6, 1e3), "rds_on_ohm": (0, 1e4)},
    "source": {"voltage_v": (-1000, 1000), "r_internal_ohm": (0, 1e6)},
    "regulator": {"vout_v": (0, 1000), "dropout_v": (0, 100), "iq_ma": (0, 1e4), "max_ma": (0, 1e5)},
    "switching_regulator": {"vout_v": (-1000, 1000), "efficiency": (0.01, 1), "max_ma": (0, 1e5)},
    "opamp": {"gain": (1, 1e9), "gbw_hz": (1, 1e10), "vos_v": (-1, 1), "rail_drop_v": (0, 10)},
    "timer555": {},
    "board": {"r_out_ohm": (0, 1e6)},
    "module": {"r_coil_ohm": (1e-3, 1e9)},
    "switch": {"r_on_ohm": (0, 1e6)},
}


class SupplyRange(BaseModel):
    """Accepted supply voltage on the part's power_in pins (datasheet recommended range)."""

    model_config = STRICT

    min_v: Number = Field(ge=0, le=1000)
    max_v: Number = Field(ge=0, le=1000)
    nominal_v: Number | None = Field(default=None, ge=0, le=1000)

    @model_validator(mode="after")
    def _coherent(self) -> SupplyRange:
        if self.min_v > self.max_v:
            raise ValueError(f"supply min_v {self.min_v} is above max_v {self.max_v}")
        if self.nominal_v is not None and not self.min_v <= self.nominal_v <= self.max_v:
            raise ValueError(f"supply nominal_v {self.nominal_v} is outside {self.min_v}..{self.max_v}")
        return self


class Pin(BaseModel):
    """One pin of a part.

    Pin voltages: ``voltage`` is the rail a power_out pin provides (an ESP32 board's 3V3 pin: 3.3);
    ``min_v``/``max_v`` override the part's supply range on a power_in pin (Uno VIN: 7..12) or give
    the absolute maximum input on a signal pin. ``logic_level_v`` overrides the part's logic level.
    ``domain`` names the power pin whose voltage sets this pin's logic level (level shifters).
    """

    model_config = STRICT

    number: str = Field(pattern=r"^[A-Za-z0-9_]{1,8}$")
    name: str = Field(pattern=PIN_NAME_PATTERN)
    aliases: list[str] = Field(default_factory=list)
    type: ElectricalType
    roles: list[PinRole] = Field(default_factory=list)
    description: _line(300) = ""
    voltage: Number | None = Field(default=None, ge=-1000, le=1000)
    min_v: Number | None = Field(default=None, ge=-1000, le=1000)
    max_v: Number | None = Field(default=None, ge=-1000, le=1000)
    logic_level_v: Number | None = Field(default=None, ge=0, le=60)
    max_current_ma: Number | None = Field(default=None, ge=0, le=1e5)
    domain: str | None = None

    @field_validator("aliases")
    @classmethod
    def _alias_names(cls, aliases: list[str]) -> list[str]:
        for alias in aliases:
            if not re.fullmatch(PIN_NAME_PATTERN, alias):
                raise ValueError(f"pin alias {alias!r} must match {PIN_NAME_PATTERN}")
        return aliases

    @model_validator(mode="after")
    def _coherent(self) -> Pin:
        if self.min_v is not None and self.max_v is not None and self.min_v > self.max_v:
            raise ValueError(f"pin {self.name}: min_v {self.min_v} is above max_v {self.max_v}")
        if self.voltage is not None and self.type not in (ElectricalType.POWER_OUT, ElectricalType.POWER_IN):
            raise ValueError(f"pin {self.name}: only power pins carry a rail voltage")
        return self

    def tokens(self) -> list[str]:
        """Every string a design may use to name this pin: name, number, aliases."""
        return [self.name, self.number, *self.aliases]


class Usage(BaseModel):
    """Usage facts the electrical-rule checks and the reference designer act on."""

    model_config = STRICT

    pullup_required: list[str] = Field(default_factory=list)  # pin names needing a pull-up
    onboard_pullups: bool = False  # the breakout carries its own I2C / data pull-ups
    inductive: bool = False  # coil or motor: needs a flyback diode or a driver
    flyback_included: bool = False  # module carries its own flyback diode / driver transistor
    series_resistor_required: bool = False  # LED-like: needs a current-limiting resistor
    decoupling_required: bool = False  # bare IC: wants a 100 nF capacitor at its supply pin
    # signal pins the part needs wired to do its job (HC-SR04 TRIG and ECHO, a display's bus pins, a
    # driver's inputs); "AO|DO" means either will do. Power pins have rules of their own.
    required_pins: list[str] = Field(default_factory=list)
    pin_matrix: bool = False  # a board whose I2C, SPI and UART go on any output-capable GPIO (ESP32)
    notes: list[_line(500)] = Field(default_factory=list)  # plain-language notes for people and agents


def _led_series_drop(params: dict[str, float]) -> float:
    return params.get("if_ma", 20) / 1000 * params.get("rs_ohm", LED_SERIES_OHM)


class SpiceSpec(BaseModel):
    """How the SPICE netlister models the part (see ``SpiceKind`` for each kind's params)."""

    model_config = STRICT

    kind: SpiceKind
    params: dict[str, Number] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _known_and_in_range(cls, params: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        kind = info.data.get("kind")
        if kind is None:  # the kind itself was refused
            return params
        ranges = SPICE_PARAMS[kind]
        for name, value in params.items():
            if name not in ranges:
                reads = ", ".join(ranges) or "no params"
                raise ValueError(f"{name!r} is not a parameter of a {kind} (it reads {reads})")
            low, high = ranges[name]
            if not low <= value <= high:
                raise ValueError(f"{name} = {value:g} is outside {low:g}..{high:g} for a {kind}")
        if kind == "led" and _led_series_drop(params) >= params.get("vf_v", 2) - 0.5:
            raise ValueError("if_ma x rs_ohm must stay at least 0.5 V below vf_v (the diode fit needs a junction drop)")
        return params


class Part(BaseModel):
    """A component of the knowledge base: datasheet facts plus what drawing and checks need."""

    model_config = STRICT

    id: str = Field(pattern=PART_ID_PATTERN, max_length=64)
    name: Annotated[str, StringConstraints(min_length=1, max_length=120), AfterValidator(_word)]
    aliases: list[Word] = Field(default_factory=list)
    category: Category
    description: Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_paragraphs)]
    manufacturer: _line(120) | None = None
    datasheet: _line(500) | None = None  # where the pinout was taken from (document or board reference)
    supply: SupplyRange | None = None
    logic_level_v: Number | None = Field(default=None, ge=0, le=60)  # None: follows its supply rail
    io_max_v: Number | None = Field(default=None, ge=0, le=60)  # highest voltage its inputs accept
    current_draw_ma: Number | None = Field(default=None, ge=0, le=1e5)  # typical supply current (load)
    default_value: str | None = None  # passives: the usual value when a design gives none (value grammar)
    pins: list[Pin] = Field(min_length=1)
    specs: dict[_line(60), SpecValue] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    spice: SpiceSpec | None = None
    ftype: FType = "simple_chip"
    symbol: SymbolKind = SymbolKind.CHIP
    wokwi_type: _line(60) | None = None  # e.g. "wokwi-led"; None when Wokwi has no such part
    wokwi_pins: dict[str, _line(60)] = Field(default_factory=dict)  # our pin name -> Wokwi's, where they differ
    wokwi_attrs: dict[_line(60), _line(200)] = Field(default_factory=dict)  # fixed attributes, e.g. {"pins": "i2c"}
    tags: list[Word] = Field(default_factory=list)

    @field_validator("default_value")
    @classmethod
    def _a_value(cls, value: str | None) -> str | None:
        """Netlists, the BOM and the Wokwi export parse it; a value they cannot parse never gets in."""
        if value is not None:
            parse_value(value)  # InvalidValueError is a ValueError: pydantic reports it on the field
        return value

    @model_validator(mode="after")
    def _pins_unique(self) -> Part:
        numbers = [p.number for p in self.pins]
        duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
        if duplicates:
            raise ValueError(f"pins: duplicate pin number(s) {duplicates}")
        seen: dict[str, str] = {}
        for pin in self.pins:
            for token in {pin.name, *pin.aliases}:
                key = token.upper()
                if key in seen and seen[key] != pin.number:
                    raise ValueError(f"pins: name or alias {token!r} is used by pins {seen[key]} and {pin.number}")
                seen[key] = pin.number
        lowered = [a.lower() for a in self.aliases]
        if len(set(lowered)) != len(lowered):
            raise ValueError("aliases: an alias is listed twice")
        names = {p.name for p in self.pins}
        for name in self.usage.pullup_required:
            if name not in names:
                raise ValueError(f"usage.pullup_required: {name!r} is not a pin of this part")
        for entry in self.usage.required_pins:
            for name in entry.split("|"):
                if name not in names:
                    raise ValueError(f"usage.required_pins: {name!r} is not a pin of this part")
        for name in self.wokwi_pins:
            if name not in names:
                raise ValueError(f"wokwi_pins: {name!r} is not a pin of this part")
        for pin in self.pins:
            if pin.domain is not None and pin.domain not in names:
                raise ValueError(f"pins: {pin.name}.domain {pin.domain!r} is not a pin of this part")
        return self

    def find_pin(self, token: str) -> Pin | None:
        """The pin a design names by pin name, number or alias (names case-insensitive)."""
        for pin in self.pins:
            if token == pin.number or token == pin.name:
                return pin
        wanted = token.upper()
        for pin in self.pins:
            if any(t.upper() == wanted for t in pin.tokens()):
                return pin
        return None

    def required_groups(self) -> list[list[Pin]]:
        """``usage.required_pins`` as pins: the part works only with one pin of each group wired."""
        return [[p for n in entry.split("|") if (p := self.find_pin(n))] for entry in self.usage.required_pins]

    def pins_with_role(self, role: PinRole) -> list[Pin]:
        return [p for p in self.pins if role in p.roles]

    @property
    def is_two_terminal(self) -> bool:
        return len(self.pins) == 2
