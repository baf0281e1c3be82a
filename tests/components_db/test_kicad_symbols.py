"""Draft parts from real KiCad symbols (Debian's kicad-symbols, installed by the set-up)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components_db.kicad_symbols import KicadImportError, draft_from_kicad, draft_yaml, pin_name
from components_db.schema import Part

LIBRARIES = Path("/usr/share/kicad/symbols")
pytestmark = pytest.mark.skipif(
    not (LIBRARIES / "Sensor.kicad_sym").is_file(),
    reason="Debian's kicad-symbols is not installed (make test installs it)",
)


def test_a_sensor_symbol_becomes_a_part_with_kicad_pins_and_types():
    part = draft_from_kicad(LIBRARIES / "Sensor.kicad_sym", "BME280")
    pins = {p.number: (p.name, p.type.value) for p in part.pins}
    assert part.id == "bme280" and "humidity" in part.description and part.datasheet.startswith("https://")
    assert pins["3"] == ("SDI", "bidirectional") and pins["8"] == ("VDD", "power_in")
    assert (pins["1"], pins["7"]) == (("GND", "power_in"), ("GND2", "power_in"))  # a repeated name numbered


def test_a_regulator_and_a_board_keep_every_pin_once():
    regulator = draft_from_kicad(LIBRARIES / "Regulator_Linear.kicad_sym", "L7805", "my-7805")
    assert regulator.id == "my-7805"
    assert [(p.name, p.type.value) for p in regulator.pins] == [
        ("IN", "power_in"),
        ("GND", "power_in"),
        ("OUT", "power_out"),
    ]
    board = draft_from_kicad(LIBRARIES / "MCU_Module.kicad_sym", "Arduino_UNO_R3")
    assert len({p.number for p in board.pins}) == len(board.pins) == 32
    assert len({p.name for p in board.pins}) == 32 and board.find_pin("~RESET") is not None


def test_the_draft_file_reads_back_as_the_same_part():
    part = draft_from_kicad(LIBRARIES / "Timer.kicad_sym", "NE555P")
    text = draft_yaml(part, "KiCad symbol NE555P (Timer.kicad_sym)")
    assert text.startswith("# Draft part from KiCad symbol NE555P") and "roles" in text.split("id:")[0]
    assert Part.model_validate(yaml.safe_load(text)) == part


def test_a_renumbered_name_never_takes_a_name_the_symbol_already_has():
    """XC9536PC44 names pins 2 and 14 both M12 beside others: each draft name is unique (as Part requires)."""
    part = draft_from_kicad(LIBRARIES / "CPLD_Xilinx.kicad_sym", "XC9536PC44")
    names = [p.name.upper() for p in part.pins]
    assert len(names) == len(set(names)) == len(part.pins)


def test_pin_names_enter_the_pin_grammar():
    assert pin_name("~{CS}", "2") == "~CS"
    assert pin_name("~", "7") == "7" and pin_name("", "A1") == "A1"
    assert pin_name("VDD(3.3V)", "1") == "VDD_3.3V_"


@pytest.mark.parametrize(
    ("library", "symbol", "says"),
    [
        ("Sensor.kicad_sym", "BME28", "no symbol 'BME28'; similar: BME280"),
        ("Nothing.kicad_sym", "X", "Nothing.kicad_sym"),
    ],
)
def test_an_unknown_symbol_or_library_is_refused_in_words(library, symbol, says):
    with pytest.raises(KicadImportError, match=says):
        draft_from_kicad(LIBRARIES / library, symbol)


def test_a_file_that_is_not_a_symbol_library_is_refused(tmp_path):
    text = tmp_path / "x.kicad_sym"
    text.write_text("hello")
    with pytest.raises(KicadImportError, match="not a KiCad symbol library"):
        draft_from_kicad(text, "X")
    damaged = tmp_path / "damaged.kicad_sym"
    damaged.write_text("(kicad_symbol_lib (version 20211014) (symbol " + "(" * 5000)
    with pytest.raises(KicadImportError, match="a damaged KiCad symbol library"):
        draft_from_kicad(damaged, "X")
