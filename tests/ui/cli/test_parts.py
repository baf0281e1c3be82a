"""`circuit-studio parts ...` through the real entry point, in a temporary studio home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components_db.home import HOME_ENV
from components_db.schema import Part
from tests.components_db.test_kb import store_unreadable_row
from ui.cli.main import main

GOOD = {
    "id": "garden-soil-fork",
    "name": "Garden soil fork",
    "aliases": ["soil fork"],
    "category": "sensor",
    "description": "Resistive two-prong soil moisture probe with an analog output.",
    "pins": [
        {"number": "1", "name": "VCC", "type": "power_in", "roles": ["POWER_IN"]},
        {"number": "2", "name": "GND", "type": "power_in", "roles": ["GROUND"]},
        {"number": "3", "name": "AO", "type": "output", "roles": ["ANALOG_OUT"]},
    ],
}


@pytest.fixture
def studio_home(home, monkeypatch, embedder):
    monkeypatch.setenv(HOME_ENV, str(home))
    return home


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["parts", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_part_with_its_source(studio_home, capsys, kb):
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["id", "name", "category", "source"]
    assert set(lines[1]) <= {"-", " "}
    assert len(lines) == 2 + len(kb.parts())
    code, out, _ = run(capsys, "list", "--json")
    rows = json.loads(out)
    assert {"id": "dht22", "name": kb.get("dht22").name, "category": "sensor", "source": "builtin"} in rows


def test_search_prints_a_ranked_table_or_json(studio_home, capsys):
    code, out, _ = run(capsys, "search", "am2302", "--top", "3")
    assert code == 0
    header, _rule, first, *rest = out.splitlines()
    assert header.split() == ["id", "name", "category", "score", "matched"]
    assert first.startswith("dht22 ") and len(rest) == 2
    code, out, _ = run(capsys, "search", "temperature and humidity", "--json")
    hits = json.loads(out)
    assert len(hits) == 5 and {"part_id", "name", "category", "score", "matched"} == set(hits[0])


def test_show_prints_the_pinout(studio_home, capsys, kb):
    code, out, _ = run(capsys, "show", "dht22")
    assert code == 0
    assert out.startswith("dht22 - ")
    assert "pin  name" in out
    for pin in kb.get("dht22").pins:
        assert any(line.split()[:3] == [pin.number, pin.name, pin.type.value] for line in out.splitlines())
    code, out, _ = run(capsys, "show", "dht22", "--json")
    shown = json.loads(out)
    assert shown["source"] == "builtin" and shown["part"]["id"] == "dht22"


def test_unknown_part_is_an_error_with_suggestions(studio_home, capsys):
    code, out, err = run(capsys, "show", "dht-23")
    assert code == 2 and out == ""
    assert err.startswith("error: no part 'dht-23'") and "did you mean: dht22" in err
    assert "Traceback" not in err


def test_add_then_remove_a_user_part(studio_home, capsys, tmp_path):
    second = {**GOOD, "id": "garden-soil-fork-2", "aliases": ["soil fork two"]}
    file = tmp_path / "mine.json"
    file.write_text(json.dumps([GOOD, second]))
    code, out, _ = run(capsys, "add", str(file))
    assert code == 0 and out.strip() == "added 2 part(s): garden-soil-fork, garden-soil-fork-2"
    _, out, _ = run(capsys, "list", "--json")
    assert {"id": "garden-soil-fork", "name": "Garden soil fork", "category": "sensor", "source": "user"} in (
        json.loads(out)
    )
    _, out, _ = run(capsys, "search", "soil fork", "--json")
    assert json.loads(out)[0]["part_id"] == "garden-soil-fork"

    code, out, _ = run(capsys, "remove", "garden-soil-fork")
    assert code == 0 and out.strip() == "removed garden-soil-fork"
    _, out, _ = run(capsys, "list", "--json")
    assert [r["id"] for r in json.loads(out) if r["source"] == "user"] == ["garden-soil-fork-2"]


def test_edit_replaces_a_user_part_and_refuses_shipped_ones(studio_home, capsys, tmp_path):
    file = tmp_path / "mine.yaml"
    file.write_text(yaml.safe_dump(GOOD))
    assert run(capsys, "add", str(file))[0] == 0
    file.write_text(yaml.safe_dump({**GOOD, "name": "Garden soil fork v2"}))
    code, out, _ = run(capsys, "edit", str(file))
    assert code == 0 and out.strip() == "updated 1 part(s): garden-soil-fork"
    _, out, _ = run(capsys, "show", "garden-soil-fork", "--json")
    assert json.loads(out)["part"]["name"] == "Garden soil fork v2"
    file.write_text(yaml.safe_dump({**GOOD, "id": "dht22", "aliases": []}))
    code, _, err = run(capsys, "edit", str(file))
    assert code == 2 and "shipped part" in err


def test_add_a_single_part_from_yaml(studio_home, capsys, tmp_path):
    file = tmp_path / "mine.yaml"
    file.write_text(yaml.safe_dump(GOOD))
    assert run(capsys, "add", str(file))[0] == 0
    code, out, _ = run(capsys, "show", "garden-soil-fork")
    assert code == 0 and "(sensor, user)" in out.splitlines()[0]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({**GOOD, "pins": [{"number": "1", "name": "A", "type": "sideways"}]}, "field pins.0.type"),
        ({**GOOD, "category": "gizmo"}, "field category"),
        ({**GOOD, "aliases": ["am2302"]}, "already names the shipped part dht22"),
        ({**GOOD, "id": "resistor"}, "already names the shipped part resistor"),
    ],
)
def test_add_refuses_an_invalid_or_clashing_part(studio_home, capsys, tmp_path, entry, message):
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump([entry]))
    code, out, err = run(capsys, "add", str(file))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    _, out, _ = run(capsys, "list", "--json")
    assert all(r["source"] == "builtin" for r in json.loads(out))


def test_add_reports_unreadable_files(studio_home, capsys, tmp_path):
    code, _, err = run(capsys, "add", str(tmp_path / "missing.yaml"))
    assert code == 2 and "missing.yaml: No such file or directory" in err
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    code, _, err = run(capsys, "add", str(broken))
    assert code == 2 and "broken.json: not valid JSON" in err


def test_remove_refuses_shipped_and_unknown_parts(studio_home, capsys):
    code, _, err = run(capsys, "remove", "dht22")
    assert code == 2 and "shipped part" in err
    code, _, err = run(capsys, "remove", "nothing-here")
    assert code == 2 and "not one of your parts" in err


def test_control_characters_in_user_text_are_refused_and_never_reach_the_terminal(studio_home, capsys, tmp_path):
    file = tmp_path / "evil.json"
    file.write_text(json.dumps({**GOOD, "name": "Evil \x1b[2J part", "description": "Clears \x1b]0;x\x07 screens."}))
    code, out, err = run(capsys, "add", str(file))
    assert code == 2 and out == ""
    assert "field name: must be one line without control characters; it holds \\x1b" in err
    assert "field description:" in err and "\x1b" not in err and "\x07" not in err
    assert run(capsys, "show", "garden-soil-fork")[0] == 2  # nothing was added


def one_line_error(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("inf.yaml", "spice: {kind: module, params: {r_coil_ohm: .inf}}", "a number at spice.params.r_coil_ohm is inf"),
        ("nan.yaml", "specs: {vz_v: .nan}", "a number at specs.vz_v is nan"),
        ("nan.json", '"current_draw_ma": NaN', "a number at current_draw_ma is nan"),
        ("big.yaml", "current_draw_ma: 1.0e+9", "field current_draw_ma: Input should be less than or equal to 100000"),
        ("led.yaml", "spice: {kind: led, params: {vf_v: 1000}}", "vf_v = 1000 is outside 1..10 for a led"),
        ("value.yaml", 'default_value: "1\\n0k"', "field default_value: value '1\\n0k' is not a number"),
        ("value-nan.yaml", "default_value: nan", "field default_value: value 'nan' is not a number"),
    ],
)
def test_a_part_file_with_unusable_numbers_is_refused_and_the_database_stays_readable(
    studio_home, capsys, tmp_path, name, text, reason
):
    """Such parts were stored (NaN as JSON null) and then every parts command failed reading them."""
    file = tmp_path / name
    if name.endswith(".json"):
        file.write_text(json.dumps(GOOD)[:-1] + ", " + text + "}")
    else:
        file.write_text(yaml.safe_dump(GOOD) + text + "\n")
    assert reason in one_line_error(capsys, "add", str(file))
    code, out, err = run(capsys, "list")
    assert code == 0 and err == "" and "garden-soil-fork" not in out


def test_an_unreadable_stored_part_is_named_and_can_be_removed(studio_home, capsys):
    store_unreadable_row(studio_home, Part.model_validate(GOOD))  # what the version before stored
    code, out, err = run(capsys, "list")
    assert code == 0 and "dht22" in out and "garden-soil-fork" not in out
    assert err == (
        "warning: your part garden-soil-fork cannot be read (a value in it is no longer accepted) and is left out; "
        "run `circuit-studio parts remove garden-soil-fork`, then add it again\n"
    )
    assert run(capsys, "show", "dht22")[0] == 0
    assert run(capsys, "remove", "garden-soil-fork")[:2] == (0, "removed garden-soil-fork\n")
    assert run(capsys, "list")[2] == ""


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("deep.json", "[" * 100_000, "nested deeper than 32 levels"),
        ("deep.yaml", "[" * 100_000, "nested deeper than 32 levels"),
        ("digits.json", "[" + "9" * 5000 + "]", "an integer has more than 30 digits"),
        ("digits.yaml", "x: " + "9" * 5000, "an integer has more than 30 digits"),
        ("binary.yaml", b"\xff\xfe\x00id: x", "not UTF-8 text"),
        ("twice.json", '{"id": "a", "id": "b"}', "the key 'id' is given twice"),
        ("twice.yaml", "id: a\nname: A\nid: b\n", "the key 'id' is given twice"),
    ],
)
def test_hostile_part_files_give_a_one_line_error(studio_home, capsys, tmp_path, name, content, reason):
    file = tmp_path / name
    file.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert reason in one_line_error(capsys, "add", str(file))


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/proc/self/status", "not a regular file"), ("/proc/self/mem", "not a regular file"), ("/tmp", "is a folder")],
)
def test_special_files_give_a_one_line_error(studio_home, capsys, path, reason):
    assert reason in one_line_error(capsys, "add", path)


def test_duplicate_keys_in_a_part_file_are_refused_not_last_wins(studio_home, capsys, tmp_path):
    file = tmp_path / "part.yaml"
    file.write_text(yaml.safe_dump(GOOD) + "name: The name given second\n")
    assert "part.yaml: the key 'name' is given twice" in one_line_error(capsys, "add", str(file))
    assert run(capsys, "show", "garden-soil-fork")[0] == 2


SENSORS = Path("/usr/share/kicad/symbols/Sensor.kicad_sym")


@pytest.mark.skipif(not SENSORS.is_file(), reason="Debian's kicad-symbols is missing (make test installs it)")
def test_import_kicad_writes_a_draft_that_parts_add_accepts(studio_home, capsys, tmp_path):
    draft = tmp_path / "bme280-chip.yaml"
    code, out, err = run(capsys, "import-kicad", str(SENSORS), "BME280", "--id", "bme280-chip", "--out", str(draft))
    assert code == 0 and out == "" and f"parts add {draft}" in err
    assert draft.read_text().startswith("# Draft part from KiCad symbol BME280 (Sensor.kicad_sym)")
    code, out, _ = run(capsys, "add", str(draft))
    assert code == 0 and "bme280-chip" in out
    code, out, _ = run(capsys, "show", "bme280-chip")
    assert code == 0 and "SDI" in out and "bidirectional" in out and "GND2" in out
    # an existing --out is never overwritten (it may be a draft already completed); a wrong symbol is named
    assert run(capsys, "import-kicad", str(SENSORS), "BME280", "--out", str(draft))[0] == 2
    code, out, err = run(capsys, "import-kicad", str(SENSORS), "BME28")
    assert code == 2 and err.startswith("error: Sensor.kicad_sym has no symbol 'BME28'; similar: BME280")
    code, out, _ = run(capsys, "import-kicad", str(SENSORS), "DHT11")
    assert code == 0 and "name: DHT11" in out and "{number: '2', name: IO, type: bidirectional}" in out
