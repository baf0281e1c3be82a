"""What a request asks for, read without a language model: the parts it names (by knowledge-base id,
alias, name or a near-miss of a part number), with their counts; the part numbers the knowledge base
does not know; the voltages, frequencies and currents it states; the interfaces it asks for; and
whether it is about a circuit at all.

    reading = RequestReader(kb).read("Two DHT22s and an SSD1306 over I2C on a 3.3 V ESP32")
    reading.parts        # dht22 x2, oled-ssd1306-i2c, esp32-devkit-v1
    reading.interfaces   # ["I2C"]
    reading.quantities   # 3.3 V, a supply

Names are found as runs of up to ``MAX_PHRASE_WORDS`` words that spell a part's id, alias or name
(longest first; a plural's last word singular; number words as digits: "two-channel relay"), with a
count from the words just before them ("four SG90", "a pair of LEDs") or an ``x4`` beside them. A
generic name stands for its *family*: every part of the same kind whose names contain the same words
("an LED" is any LED colour; "DHT22" is only the DHT22). The intent check (``studio.intent.check``)
holds a design against this reading; the reference baseline identifies parts with it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from components_db.retrieval import compact
from components_db.schema import Category, Part

MAX_PHRASE_WORDS = 4  # longest run of words looked up as a part name
MIN_KEY_CHARS = 3  # shorter names ("d1") only count inside longer phrases
TYPO_RATIO = 85.0  # rapidfuzz ratio at which a part number is read as a typo of a known one
COUNT_LOOKBACK = 3  # words before a part name searched for its count ("two 6 V DC motors")
MAX_COUNT = 16
MAX_UNKNOWN = 4
MAX_REQUEST_CHARS = 1000  # the pipeline's cut (agents.request); a longer text is read up to here
CONTEXT_WORDS = 5  # words each side of a number (or an unknown part) that tell what it is about
NEAREST_SCORE = 0.2  # a known part this close to an unknown one's words may stand in for it
NUMBER_WORDS = {
    word: str(n)
    for n, word in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"), start=1
    )
} | {"pair": "2", "dozen": "12", "single": "1"}
_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*", re.IGNORECASE)
_VERSION = re.compile(r"(v|mk)\d+(\.\d+)?", re.IGNORECASE)
_MEASURE = re.compile(r"\d+(\.\d+)?(v|mv|a|ma|ua|mah|w|kg|g|mm|cm|m|hz|khz|mhz|k|ohms?|[munp]f|bits?|x\d+|inch)?")
_UNIT = re.compile(r"v|mv|a|ma|ua|mah|w|kg|g|mm|cm|hz|khz|mhz|ohms?|[munp]f|bits?|inch|volts?|amps?")
_TIMES = re.compile(r"^(?:x(\d+)|(\d+)x)$")  # "x4" after a name, "4x" before it

# -- numbers: value, unit and the words around them -------------------------------------------------
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_VOLTS = re.compile(rf"(?<![\w.])(?:(\d+)v(\d+)|{_NUMBER}\s*(?:v(?:olts?)?|vdc|vac))(?![a-z\d])", re.I)
_HERTZ = re.compile(rf"(?<![\w.]){_NUMBER}\s*(k|m)?hz(?![a-z])", re.I)
_AMPS = re.compile(rf"(?<![\w.]){_NUMBER}(?:\s*(m)a|\s*(m)?(?:illi)?amps?|a)(?![a-z])", re.I)
_RATE = re.compile(r"\b(once|twice|(\d+(?:\.\d+)?) times)\s+(?:a|per|each)\s+second\b", re.I)
_EVERY = re.compile(r"\bevery\s+(\d+(?:\.\d+)?)?\s*(second|seconds|sec|s)\b", re.I)
# what the words near a number say it is about, tried in this order among those that apply to its kind
_CONTEXT = (
    ("mains", re.compile(r"\b(mains|ac|wall socket|230|240|110|120)\b", re.I)),
    ("supply", re.compile(r"\b(rails?|suppl\w*|power\w*|batter\w*|adapter|regulat\w*|psu|lipo|cells?)\b", re.I)),
    ("filter", re.compile(r"\b(cut-?off|corner|filter|low-?pass|high-?pass|-3\s*db|3db)\b", re.I)),
    ("measure", re.compile(r"\b(measur\w*|read\w*|sens\w*|monitor\w*|detect\w*|up to|range|max\w*|divider)\b", re.I)),
    ("logic", re.compile(r"\b(logic|level|signal|tolerant)\b", re.I)),
    ("oscillator", re.compile(r"\b(555|astable|oscillat\w*|blink\w*|flash\w*|square|tone|pwm|clock|timer)\b", re.I)),
    ("led", re.compile(r"\bleds?\b", re.I)),
)
QuantityKind = Literal["voltage", "frequency", "cutoff", "current"]
Context = Literal["supply", "mains", "filter", "measure", "logic", "oscillator", "led", "other"]

Interface = Literal["I2C", "SPI", "UART", "1-Wire"]
_INTERFACES: tuple[tuple[Interface, re.Pattern[str]], ...] = (
    ("I2C", re.compile(r"\b(i2c|i²c|iic|twi)\b", re.I)),
    ("SPI", re.compile(r"\bspi\b", re.I)),
    ("UART", re.compile(r"\b(uart|(?:over|via|using|through|by|hardware|software)\s+serial)\b", re.I)),
    ("1-Wire", re.compile(r"\b(1-?wire|one-?wire)\b", re.I)),
)
# words that make a request about electronics even when it names no part
CIRCUIT_WORDS = frozenset(
    word
    for line in (Path(__file__).parent / "circuit_words.txt").read_text(encoding="utf-8").splitlines()
    if not line.startswith("#")
    for word in line.split()
)


class Lookup(Protocol):
    """What the reader needs of a knowledge base: its parts, and a search for "nearest" suggestions."""

    def parts(self) -> list[Part]: ...

    def nearest(self, text: str, n: int = 3) -> list: ...


class NamedPart(BaseModel):
    """A part the request names, and every knowledge-base part that fits the name."""

    model_config = ConfigDict(frozen=True)

    text: str  # as written: "DHT22", "red LEDs"
    part: str  # the id the name spells
    category: Category
    family: list[str]  # ids that satisfy the name ("LED": every LED colour)
    quantity: int = Field(default=1, ge=1)
    counted: bool = False  # the request gave a number


class UnknownPart(BaseModel):
    """A part number the request names that the knowledge base does not have."""

    model_config = ConfigDict(frozen=True)

    name: str
    nearest: list[str] = Field(default_factory=list)  # known ids that might do instead
    categories: list[Category] = Field(default_factory=list)  # theirs: what a stand-in for it would be

    @property
    def message(self) -> str:
        near = f"; nearest: {', '.join(self.nearest)}" if self.nearest else ""
        return (
            f"{self.name} is not in the knowledge base{near}; add it with `circuit-studio parts add` "
            "(or under Parts in the studio) to design with it"
        )


class Quantity(BaseModel):
    """A number the request states, in base units (V, Hz, A)."""

    model_config = ConfigDict(frozen=True)

    kind: QuantityKind
    value: float = Field(gt=0, allow_inf_nan=False)
    text: str  # as written: "3v3", "about 1 Hz", "twice a second"
    context: Context = "supply"  # what the words around it say: a voltage is a supply's unless they say else


class RequestReading(BaseModel):
    request: str
    parts: list[NamedPart] = Field(default_factory=list)
    unknown: list[UnknownPart] = Field(default_factory=list)
    quantities: list[Quantity] = Field(default_factory=list)
    interfaces: list[Interface] = Field(default_factory=list)
    understood: bool = True  # False: nothing in it is about a circuit


@dataclass(frozen=True)
class Mention:
    start: int  # word span in the request
    end: int
    part: str
    quantity: int = 1
    counted: bool = False


class RequestReader:
    """Reads requests against one knowledge base (the name tables are built once)."""

    def __init__(self, kb: Lookup) -> None:
        self.kb = kb
        self._parts = {p.id: p for p in kb.parts()}
        self._names: dict[str, str] = {}  # compact id, alias or name -> part id
        self._name_words: dict[str, list[tuple[str, ...]]] = {}  # part id -> its names as word tuples
        for part in self._parts.values():
            for text in [part.id, *part.aliases, part.name]:
                self._names.setdefault(compact(text), part.id)
                self._name_words.setdefault(part.id, []).append(tuple(_normalised(w) for w in _WORD.findall(text)))
        self._numbers = sorted({key for key in self._names if is_part_number(key)})
        self._vocabulary = CIRCUIT_WORDS | {
            _singular(w.lower())
            for part in self._parts.values()
            for text in [*part.aliases, *part.tags, part.category.value.replace("_", " ")]
            for w in _WORD.findall(text)
            if len(w) >= 4 and w.isalpha()
        }

    # -- the whole reading ---------------------------------------------------------------------------

    def read(self, request: str) -> RequestReading:
        words = _WORD.findall(request)
        keys = [_normalised(w) for w in words]
        mentions = self.mentions(keys)
        typos, unknown = self.part_numbers(words, mentions)
        named: dict[str, NamedPart] = {}
        for m in sorted(mentions + typos, key=lambda m: m.start):
            text = " ".join(words[m.start : m.end])
            seen = named.get(m.part)
            if seen is None or m.quantity > seen.quantity:
                family = self.family(m.part, keys[m.start : m.end])
                counted = m.counted or (seen is not None and seen.counted)
                named[m.part] = NamedPart(
                    text=text,
                    part=m.part,
                    category=self._parts[m.part].category,
                    family=family,
                    quantity=m.quantity,
                    counted=counted,
                )
        parts = list(named.values())
        missing = [self._unknown(request, u, parts) for u in dict.fromkeys(unknown)]
        quantities = read_quantities(request)
        interfaces = [name for name, pattern in _INTERFACES if pattern.search(request)]
        understood = bool(parts or missing or quantities or interfaces) or any(
            _singular(w.lower()) in self._vocabulary for w in words
        )
        return RequestReading(
            request=request,
            parts=parts,
            unknown=missing[:MAX_UNKNOWN],
            quantities=quantities,
            interfaces=interfaces,
            understood=understood,
        )

    # -- names -----------------------------------------------------------------------------------------

    def mentions(self, keys: list[str]) -> list[Mention]:
        """Part names in the (normalised) word list, longest first, with their counts."""
        found: list[Mention] = []
        taken: set[int] = set()
        for size in range(MAX_PHRASE_WORDS, 0, -1):
            for start in range(len(keys) - size + 1):
                span = range(start, start + size)
                if taken.intersection(span):
                    continue
                part = self._lookup(keys[start : start + size])
                if part is not None:
                    found.append(Mention(start, start + size, part))
                    taken.update(span)
        kept = [m for m in found if not self._describes_previous(m, found, keys)]
        return [_counted(keys, m, kept) for m in kept]

    def names_a_part(self, text: str) -> bool:
        return bool(self.mentions([_normalised(w) for w in _WORD.findall(text)]))

    def part_numbers(self, words: list[str], mentions: list[Mention]) -> tuple[list[Mention], list[str]]:
        """Part-number-like words no name matched: typos of known part numbers, and unknown parts."""
        taken = {i for m in mentions for i in range(m.start, m.end)}
        typos, unknown = [], []
        for i, word in enumerate(words):
            key = compact(word)
            if i in taken:
                continue
            if i + 1 < len(words) and i + 1 not in taken and _is_product_name(word, words[i + 1]):
                unknown.append(f"{word} {words[i + 1]}")  # "LIDAR-Lite v3": a product's name and version
                continue
            if not is_part_number(key):
                continue
            typo = self._typo_of(key)
            if typo is not None:
                typos.append(Mention(i, i + 1, typo))
            elif not any(key in name for name in self._numbers):  # "rs-485" is part of "rs485 module"
                unknown.append(word)
        return typos, unknown

    def family(self, part_id: str, keys: list[str]) -> list[str]:
        """The parts a name stands for: ``part_id`` and every part of its kind whose names hold the same
        words (a part number names one part; "LED" names every LED)."""
        part = self._parts[part_id]
        words = tuple(keys)
        if any(is_part_number(k) for k in keys):
            return [part_id]
        kin = [
            other.id
            for other in self._parts.values()
            if other.symbol is part.symbol
            and other.category is part.category
            and any(_contains(name, words) for name in self._name_words[other.id])
        ]
        return sorted(set(kin) | {part_id})

    def _lookup(self, keys: list[str]) -> str | None:
        phrase = "".join(keys)
        plural = len(keys[-1]) > 3 and keys[-1].endswith("s")
        for candidate in [phrase, phrase[:-1]] if plural else [phrase]:
            if len(candidate) >= MIN_KEY_CHARS and candidate in self._names:
                return self._names[candidate]
        return None

    def _describes_previous(self, mention: Mention, mentions: list[Mention], keys: list[str]) -> bool:
        """A generic word right after a part whose own names contain it: "NEMA 17 stepper", "MAX7219 LED"."""
        phrase = "".join(keys[mention.start : mention.end])
        previous = next((m for m in mentions if m.end == mention.start), None)
        if previous is None or previous.part == mention.part or is_part_number(phrase):
            return False
        return any(phrase in name for name, part in self._names.items() if part == previous.part)

    def _typo_of(self, key: str) -> str | None:
        best = max(self._numbers, key=lambda name: fuzz.ratio(key, name), default=None)
        return self._names[best] if best is not None and fuzz.ratio(key, best) >= TYPO_RATIO else None

    def _unknown(self, request: str, name: str, named: list[NamedPart]) -> UnknownPart:
        """An unknown part with the known parts that might stand in for it: a search for its name with the
        words around it (a bare part number says little), leaving out the kinds of part the request names
        itself (the TMC2209 "to drive a NEMA 17 from an Uno" is neither a motor nor a board)."""
        words = request.split()
        at = next((i for i, w in enumerate(words) if name in w), 0)
        window = " ".join(words[max(0, at - CONTEXT_WORDS) : at + CONTEXT_WORDS + 1])
        kinds = {p.category for p in named}
        hits = [
            h.part_id
            for h in self.kb.nearest(window, 8)
            if h.part_id in self._parts and self._parts[h.part_id].category not in kinds and h.score >= NEAREST_SCORE
        ][:3]
        categories = list(dict.fromkeys(self._parts[h].category for h in hits))
        return UnknownPart(name=name, nearest=hits, categories=categories)


def _counted(keys: list[str], mention: Mention, mentions: list[Mention]) -> Mention:
    """The count just before a part name, skipping measurements ("four SG90", "two 6 V DC motors"), or an
    ``x4`` / ``4x`` beside it."""
    if mention.end < len(keys) and (times := _TIMES.match(keys[mention.end])) and times[1]:
        return replace(mention, quantity=min(int(times[1]), MAX_COUNT), counted=True)
    taken = {i for m in mentions if m is not mention for i in range(m.start, m.end)}
    for i in range(mention.start - 1, max(mention.start - 1 - COUNT_LOOKBACK, -1), -1):
        if i in taken:
            break
        key = keys[i]
        if i == mention.start - 1 and (times := _TIMES.match(key)) and times[2]:
            return replace(mention, quantity=min(int(times[2]), MAX_COUNT), counted=True)
        followed_by_unit = i + 1 < mention.start and _UNIT.fullmatch(keys[i + 1]) is not None
        if key.isdigit() and int(key) > 0 and not followed_by_unit:
            return replace(mention, quantity=min(int(key), MAX_COUNT), counted=True)
    return mention


def read_quantities(request: str) -> list[Quantity]:
    """Every voltage, frequency (a blink rate too) and current the request states, with its context; a
    number that is not a finite positive value ("0 V", a hundred nines) states nothing and is left out."""
    found: list[tuple[QuantityKind, float, re.Match[str], Context]] = []
    for m in _VOLTS.finditer(request):
        value = float(f"{m[1]}.{m[2]}") if m[1] else _float(m[3])
        found.append(("voltage", value, m, _context(request, m, "voltage")))
    for m in _HERTZ.finditer(request):
        value = _float(m[1]) * {"k": 1e3, "m": 1e6}.get((m[2] or "").lower(), 1.0)
        context = _context(request, m, "frequency")
        found.append(("cutoff" if context == "filter" else "frequency", value, m, context))
    for m in _RATE.finditer(request):
        value = 1.0 if m[1].lower() == "once" else 2.0 if m[1].lower() == "twice" else float(m[2])
        found.append(("frequency", value, m, _context(request, m, "frequency")))
    for m in _EVERY.finditer(request):
        seconds = float(m[1] or 1)
        found.append(("frequency", 1.0 / seconds if seconds > 0 else 0.0, m, _context(request, m, "frequency")))
    for m in _AMPS.finditer(request):
        amps = _float(m[1]) / (1000 if m[2] or m[3] else 1)
        found.append(("current", amps, m, _context(request, m, "current")))
    return [
        Quantity(kind=kind, value=value, text=m[0], context=context)
        for kind, value, m, context in found
        if math.isfinite(value) and value > 0
    ]


_KIND_CONTEXTS: dict[QuantityKind, tuple[tuple[Context, ...], Context]] = {
    "voltage": (("mains", "supply", "measure", "logic"), "supply"),
    "frequency": (("filter", "oscillator"), "other"),
    "current": (("measure", "led"), "supply"),
}


def _context(request: str, match: re.Match[str], kind: QuantityKind) -> Context:
    before = request[: match.start()].split()[-CONTEXT_WORDS:]
    after = request[match.end() :].split()[:CONTEXT_WORDS]
    near = " ".join([*before, match[0], *after])
    contexts, default = _KIND_CONTEXTS[kind]
    for name, pattern in _CONTEXT:
        if name in contexts and pattern.search(near):
            return name
    return default


def _float(text: str) -> float:
    return float(text.replace(",", "."))


def _contains(name: tuple[str, ...], words: tuple[str, ...]) -> bool:
    n = len(words)
    singular = tuple(_singular(w) for w in words)
    return any(name[i : i + n] in (words, singular) for i in range(len(name) - n + 1))


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _normalised(word: str) -> str:
    """A word as names are compared: compact, number words as digits ("Two-channel" -> "2channel")."""
    return "".join(NUMBER_WORDS.get(piece, piece) for piece in re.split(r"[.\-]", word.lower()))


def _is_product_name(word: str, after: str) -> bool:
    """A name no part matched followed by a version ("LIDAR-Lite v3", "Grove-Mk2"): the way products
    without a part number are named. The name has a capital inside it or a hyphen, so plain words
    ("sensor v2") are left alone."""
    versioned = _VERSION.fullmatch(after) is not None
    styled = "-" in word or any(c.isupper() for c in word[1:])
    return versioned and styled and word.replace("-", "").isalpha() and len(word) >= 4


def is_part_number(key: str) -> bool:
    """Letters and digits, at least four characters, and not a measurement ("12v", "128x64")."""
    return (
        len(key) >= 4
        and any(c.isdigit() for c in key)
        and any(c.isalpha() for c in key)
        and not _MEASURE.fullmatch(key)
    )
