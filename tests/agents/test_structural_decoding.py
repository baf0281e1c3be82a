"""The synthesis decoder's connection rules (``agents.pin_conflicts`` through ``agents.design_decoding``),
on real catalog parts: each connection no design needs cannot be written, in either order; each
look-alike a design does need (an address strap on GND, a board's 3V3 with a sensor's VCC, an ESP32 GPIO
or an Uno's A4 as SDA) still can; when the grammar leaves nothing else the rules give way; and a whole
design decoded by a tiny model, pushed towards those connections, has none of them in its ERC.

The unit tests drive ``DesignRules`` byte by byte over a vocabulary of the 256 single bytes with the
grammar's mask left full, so a byte is refused by the rules alone.
"""

from __future__ import annotations

import copy

import pytest
import torch
from transformers import LogitsProcessor, PreTrainedTokenizerFast

from agents.checks import check_design
from agents.constrained import constrained_generate
from agents.design_decoding import STRUCTURAL_BYTES, DesignRules
from agents.grammar import design_grammar
from agents.pin_conflicts import COMPATIBLE_LINES, bus_lines_clash, pin_facts
from components_db.schema import Part
from studio.circuit.design import Design
from studio.circuit.resolve import resolve
from studio.erc.nodes import working_groups
from studio.erc.rules.buses import CROSSED
from tests.fixtures.tiny_models import pipeline_moe

BYTES = [bytes([i]) for i in range(256)]
STRUCTURAL = torch.tensor([i for i, piece in enumerate(BYTES) if any(b in piece for b in STRUCTURAL_BYTES)])
# the ERC rules whose findings the connection rules make impossible
FORBIDDEN_KINDS = {
    "short-rail-rail",
    "short-power-ground",
    "signal-on-rail",
    "output-on-rail",
    "protocol-mismatch",
    "bus-pin-unsupported",
    "gpio-short",
}

# every part the tests wire, by ref
PARTS = {
    "U1": "arduino-uno",
    "U2": "esp32-devkit-v1",
    "U3": "ams1117-3v3",
    "U4": "lm7805",
    "S1": "bmp280",
    "S2": "bme280",
    "M1": "neo6m-gps",
    "M2": "hc05-bluetooth",
    "M3": "nrf24l01",
    "D1": "a4988-module",
    "B1": "battery-9v",
    "R1": "resistor",
    "C1": "ds1307",
}


@pytest.fixture(scope="module")
def parts(catalog) -> list[tuple[str, Part]]:
    return [(ref, catalog[part_id]) for ref, part_id in PARTS.items()]


def _rules(parts: list[tuple[str, Part]]) -> DesignRules:
    grammar = design_grammar(parts, max_nets=16, max_pins_per_net=8, parts_in_prompt=True)
    return DesignRules(grammar, BYTES, STRUCTURAL)


def _write(rules: DesignRules, text: str, allowed_only: str | None = None) -> bool:
    """Feed ``text`` byte by byte while the rules allow each byte; False at the first they refuse. With
    ``allowed_only`` the grammar's mask holds just the next byte of that text (a grammar that forces it)."""
    for byte in text.encode():
        allowed = torch.zeros(256, dtype=torch.bool) if allowed_only is not None else torch.ones(256, dtype=torch.bool)
        allowed[byte] = True
        rules.restrict(allowed)
        if not allowed[byte]:
            return False
        rules.consume(bytes([byte]))
    return True


def _net(pins: tuple[str, ...], name: str = "N1") -> str:
    return '{"name":"' + name + '","pins":[' + ",".join(f'"{p}"' for p in pins) + "]}"


def _writable(parts: list[tuple[str, Part]], *pins: str, name: str = "N1") -> bool:
    """A net of ``pins`` (in this order) can be written whole."""
    return _write(_rules(parts), _net(pins, name))


FORBIDDEN = [
    # 1. supply outputs of different voltages
    ("U1.5V", "U3.OUT", "a board's 5 V with a 3.3 V regulator's output"),
    ("U1.5V", "U1.3V3", "a board's 5 V and 3V3 pins"),
    ("B1.+", "U4.OUT", "a 9 V battery with a 5 V regulator's output"),
    # 2. a supply output on ground
    ("U4.OUT", "U1.GND", "a regulator's output on a board's ground"),
    ("B1.+", "B1.-", "a battery's terminals"),
    ("U2.3V3", "S1.GND", "a board's 3V3 on a sensor's ground"),
    # 3. bus lines that cannot share a net
    ("S1.SDA", "S2.SCL", "I2C SDA with SCL"),
    ("M1.TX", "M2.TXD", "UART TX with TX"),
    ("M1.RX", "M2.RXD", "UART RX with RX"),
    ("M1.TX", "S2.SCL", "UART TX with I2C SCL"),
    ("M3.MOSI", "M3.MISO", "SPI MOSI with MISO"),
    ("M3.MOSI", "S1.SCL", "SPI MOSI with a pin that is SCL or SCK"),
    ("M3.CSN", "S1.SDO", "SPI CS with MISO"),
    # 4. a module's bus line on a board pin that cannot carry it
    ("S2.SDA", "U1.D4", "I2C SDA on an Uno's plain GPIO"),
    ("S2.SCL", "U1.A4", "I2C SCL on the Uno's SDA pin"),
    ("M1.TX", "U1.D5", "a GPS TX on an Uno's plain GPIO"),
    ("S2.SCL", "U2.GPIO34", "I2C SCL on an ESP32 input-only pin (the board drives SCL)"),
    # 5. a signal pin on a rail
    ("U1.D2", "U1.GND", "a GPIO on ground"),
    ("M2.STATE", "U2.3V3", "an output on a 3.3 V rail"),
    ("S2.SDA", "U1.GND", "I2C SDA on ground"),
    ("M1.RX", "B1.-", "a UART input on a battery's minus"),
    # 6. a part's only supply input on ground
    ("S2.VIN", "U1.GND", "a sensor's supply pin on ground"),
    ("M3.VCC", "B1.-", "a radio's supply pin on a battery's minus"),
    # 7. two driving pins of one part
    ("U1.D2", "U1.D3", "two GPIOs of one board"),
    ("U2.GPIO4", "U2.GPIO5", "two ESP32 GPIOs"),
]

ALLOWED = [
    ("U1.3V3", "S2.VIN", "a board's 3V3 with a sensor's supply input"),
    ("U1.3V3", "U3.OUT", "two 3.3 V supply outputs"),
    ("B1.+", "U4.IN", "a battery into a regulator's input"),
    ("U1.GND", "S1.GND", "two grounds"),
    ("B1.-", "U1.GND", "a battery's minus on a board's ground"),
    ("S1.SDO", "U1.GND", "an address strap on ground"),
    ("S1.CSB", "U2.3V3", "a mode strap on a rail"),
    ("D1.DIR", "U1.GND", "a direction strap on ground"),
    ("M3.CE", "U2.3V3", "an enable tied high"),
    ("S1.SDA", "S2.SDA", "SDA with SDA"),
    ("S1.SDA", "U1.A4", "SDA on an Uno's A4"),
    ("S2.SCL", "U1.A5", "SCL on an Uno's A5"),
    ("S1.SDA", "U2.GPIO4", "an ESP32 GPIO as SDA (its pin matrix)"),
    ("S2.SDA", "U2.GPIO17", "an ESP32 GPIO whose default is UART TX as SDA"),
    ("M1.TX", "M2.RXD", "UART TX to RX"),
    ("M1.TX", "U1.D0", "a GPS TX on the Uno's RX"),
    ("M1.TX", "U2.GPIO34", "a GPS TX on an ESP32 input-only pin (the board only reads it)"),
    ("S1.SDA", "M3.MOSI", "a BMP280 SDA (I2C SDA and SPI MOSI) with MOSI"),
    ("S1.SCL", "U1.D13", "a BMP280 SCL (I2C SCL and SPI SCK) on the Uno's SCK"),
    ("R1.1", "U1.GND", "a resistor to ground"),
    ("R1.1", "U1.D2", "a resistor to a GPIO"),
    ("U1.D2", "U2.GPIO4", "GPIOs of two boards"),
    ("C1.VBAT", "U1.GND", "a DS1307's backup input grounded (no cell fitted, as its datasheet says)"),
    ("U2.GPIO34", "U2.GPIO35", "two input-only pins of one board (neither drives)"),
]


@pytest.mark.parametrize(("first", "second", "what"), FORBIDDEN, ids=[w for *_, w in FORBIDDEN])
def test_a_connection_no_design_needs_cannot_be_written_in_either_order(parts, first, second, what) -> None:
    assert not _writable(parts, first, second), what
    assert not _writable(parts, second, first), what


@pytest.mark.parametrize(("first", "second", "what"), ALLOWED, ids=[w for *_, w in ALLOWED])
def test_its_look_alikes_a_design_does_need_stay_possible(parts, first, second, what) -> None:
    assert _writable(parts, first, second), what
    assert _writable(parts, second, first), what


def test_a_pin_is_refused_against_every_pin_of_the_net_not_just_the_last(parts) -> None:
    assert _writable(parts, "U1.GND", "S1.GND", "R1.1")
    assert not _writable(parts, "U1.GND", "S1.GND", "R1.1", "U4.OUT")  # the third pin is neutral, the first is not
    assert not _writable(parts, "U1.A4", "S1.SDA", "S2.SCL")  # SCL against the SDA already there
    assert _writable(parts, "U1.A4", "S1.SDA", "S2.SDA")


def test_a_net_named_as_ground_takes_no_signal_pin(parts) -> None:
    assert not _writable(parts, "U1.D2", name="GND")  # the ERC reads a net named GND as ground
    assert not _writable(parts, "R1.1", "U1.D2", name="AGND")
    assert _writable(parts, "R1.1", "U1.GND", name="GND")
    assert _writable(parts, "S1.SDO", name="GND")  # a strap
    assert _writable(parts, "U1.D2", "R1.1", name="LED")


def test_the_refusal_comes_at_the_first_byte_with_no_allowed_completion(parts) -> None:
    rules = _rules(parts)
    assert _write(rules, '{"name":"SDA","pins":["S1.SDA","S2.S')  # S2.SDA is still possible
    assert not _write(copy.copy(rules), "C")  # S2.SCL is not
    assert _write(rules, 'DA"]}')


def test_after_a_net_the_rules_judge_the_next_net_afresh(parts) -> None:
    rules = _rules(parts)
    assert _write(rules, _net(("U1.GND", "S1.GND"), "GND") + ",")
    assert not _write(copy.copy(rules), _net(("U1.GND",), "X"))  # a pin stays in one net
    assert not _write(copy.copy(rules), '{"name":"V5","pins":["U1.5V","U3.OUT"')  # U3.OUT is 3.3 V
    assert _write(rules, '{"name":"V5","pins":["U1.5V","U4.IN"]},' + _net(("U3.OUT", "S2.VIN"), "V3"))


def test_when_the_grammar_leaves_only_a_forbidden_token_the_step_keeps_the_grammars_mask(parts) -> None:
    """The rules never empty a mask: with a grammar that forces the text (only its next byte allowed),
    the forbidden connection is written and the design completes; the rules hold again afterwards."""
    rules = _rules(parts)
    forced = _net(("U1.5V", "U3.OUT", "U1.D2"), "V") + ","
    assert _write(rules, forced, allowed_only=forced)  # every step kept the one token it was given
    assert not _write(copy.copy(rules), '{"name":"W","pins":["U1.D3","U1.GND"')  # the rules are back
    rest = _net(("U1.GND", "S1.GND"), "G") + "]}"
    assert _write(rules, rest, allowed_only=rest)


def test_the_decoder_table_agrees_with_the_ercs_crossed_pairs(catalog) -> None:
    for role_a, role_b, _ in CROSSED:
        assert (role_a, role_b) not in COMPATIBLE_LINES
    sda, scl = catalog["bme280"].find_pin("SDA"), catalog["bme280"].find_pin("SCL")
    esp32 = catalog["esp32-devkit-v1"]
    facts = {name: pin_facts(esp32, esp32.find_pin(name)) for name in ("GPIO21", "GPIO22", "GPIO1")}
    device_sda, device_scl = pin_facts(catalog["bme280"], sda), pin_facts(catalog["bme280"], scl)
    assert bus_lines_clash(device_sda, facts["GPIO22"])  # crossed even on a pin-matrix board: the ERC says so
    assert not bus_lines_clash(device_sda, facts["GPIO21"])
    assert bus_lines_clash(device_scl, facts["GPIO1"])  # GPIO1 is the USB serial TX, not a GPIO


# -- a whole design on a tiny model --------------------------------------------------------------------

TINY_PARTS = {"U1": "arduino-uno", "U2": "ams1117-3v3", "S1": "bme280", "M1": "neo6m-gps", "B1": "battery-9v"}
# the pins the adversary pushes: each pair of them is a connection the rules forbid
LURES = ['"U1.5V"', '"U2.OUT"', '"U1.GND"', '"S1.SDA"', '"S1.SCL"', '"M1.TX"', '"U1.D4"', '"B1.+"', '"B1.-"']


class _Prefer(LogitsProcessor):
    """An adversary: lifts every token whose text occurs in one of ``texts`` far above the rest."""

    def __init__(self, tokenizer: PreTrainedTokenizerFast, texts: list[str], boost: float = 1e4) -> None:
        ids = [i for i in range(len(tokenizer)) if (piece := tokenizer.decode([i])) and any(piece in t for t in texts)]
        self._ids = torch.tensor(ids)
        self._boost = boost

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores = scores.clone()
        scores[:, self._ids] += self._boost
        return scores


def _decode(kb, tokenizer, model, grammar, seed_text: str):
    prompt = tokenizer(seed_text)["input_ids"]
    adversary = _Prefer(tokenizer, LURES)
    result = constrained_generate(model, tokenizer, prompt, grammar, grammar.max_bytes, logits_processors=[adversary])
    assert result.finish_reason == "complete", result
    design = Design.from_json(grammar.prefix + result.text)
    report = check_design(resolve(design, kb), run_spice=False)
    return design, {v.rule for v in report.erc.violations}


@pytest.mark.parametrize("seed_text", ["Power a BME280 and a GPS from an Uno.", "battery, regulator, sensor"])
def test_a_tiny_model_pushed_towards_forbidden_connections_writes_none(kb, stage_tokenizer, seed_text) -> None:
    model = pipeline_moe(stage_tokenizer, seed=3)
    parts = [(ref, kb.get(part_id)) for ref, part_id in TINY_PARTS.items()]
    grammar = design_grammar(parts, max_nets=8, max_pins_per_net=4, max_net_name=6, parts_in_prompt=True)
    design, found = _decode(kb, stage_tokenizer, model, grammar, seed_text)
    assert sum(len(net.pins) for net in design.nets) >= len(TINY_PARTS)  # it wired something
    assert not found & FORBIDDEN_KINDS, (found, design.model_dump_json())
    # the same model and adversary without the connection rules do write them: the rules made the difference
    _, unruled = _decode(kb, stage_tokenizer, model, grammar.model_copy(update={"pin_facts": ()}), seed_text)
    assert unruled & FORBIDDEN_KINDS, unruled


def test_no_new_net_opens_once_every_pin_is_placed(catalog) -> None:
    """With every pin in a net (here all written before the answer, as a followed plan's nets are), the
    nets close: a new net could only repeat a pin (the ERC's pin-on-two-nets)."""
    small = [("BT1", catalog["battery-9v"]), ("R1", catalog["resistor"]), ("LED1", catalog["led-red"])]
    written = ('{"name":"9V","pins":["BT1.+","R1.1"]}', '{"name":"A","pins":["R1.2","LED1.A"]}')
    grammar = design_grammar(small, max_nets=8, max_pins_per_net=4, parts_in_prompt=True, written_nets=written)
    assert not _write(DesignRules(grammar, BYTES, STRUCTURAL), ',{"name":"GND","pins":["BT1.-","LED1.K"]},{')
    assert _write(DesignRules(grammar, BYTES, STRUCTURAL), ',{"name":"GND","pins":["BT1.-","LED1.K"]}]}')


def test_the_nets_close_only_once_each_part_can_work(catalog) -> None:
    """A part wired by one pin is not enough: one pin of each of its working groups (supply, ground,
    required pins: ``working_groups``) must be in a net before the nets array closes."""
    small = [("U1", catalog["arduino-uno"]), ("S1", catalog["bme280"])]
    groups = tuple(tuple(f"{ref}.{pin.name}" for pin in group) for ref, part in small for group in working_groups(part))
    assert ("S1.VIN",) in groups and ("S1.GND",) in groups
    grammar = design_grammar(small, max_nets=8, max_pins_per_net=4, parts_in_prompt=True)
    grammar = grammar.model_copy(update={"required_groups": groups})
    data = '{"name":"SDA","pins":["U1.A4","S1.SDA"]},{"name":"SCL","pins":["U1.A5","S1.SCL"]}'
    assert _write(DesignRules(grammar.model_copy(update={"required_groups": ()}), BYTES, STRUCTURAL), data + "]}")
    assert not _write(DesignRules(grammar, BYTES, STRUCTURAL), data + "]}")  # S1 has no supply or ground yet
    power = ',{"name":"3V3","pins":["U1.3V3","S1.VIN"]},{"name":"GND","pins":["U1.GND","S1.GND"]}'
    assert _write(DesignRules(grammar, BYTES, STRUCTURAL), data + power + "]}")
