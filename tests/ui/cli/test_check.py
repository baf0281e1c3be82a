"""`circuit-studio check` and `export` end to end: exit codes, reports, files, hostile input."""

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from components_db import KnowledgeBase
from components_db.embeddings import DIM
from tests.fixtures.designs import resistor_mesh
from ui.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "studio" / "circuit" / "examples"
DESIGNS = ROOT / "tests" / "data" / "designs"
EXPORTS = {"circuit.json", "diagram.json", "circuit.cir", "netlist.net", "bom.csv", "schematic.svg"}


@pytest.fixture(autouse=True)
def studio_home(tmp_path, built_home, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(built_home, home)
    monkeypatch.setenv("CIRCUIT_STUDIO_HOME", str(home))
    return home


def test_check_passes_a_good_design(capsys):
    assert main(["check", str(EXAMPLES / "ne555-blinker.json")]) == 0
    out = capsys.readouterr().out
    assert "ERC: PASS" in out and "555 astable" in out


def test_check_fails_a_bad_design_and_says_why(capsys):
    assert main(["check", str(DESIGNS / "uno-led-no-resistor.json"), "--no-spice"]) == 1
    out = capsys.readouterr().out
    assert "ERC: FAIL" in out and "led-no-resistor" in out and "fix:" in out


def test_check_holds_a_design_against_a_request(capsys):
    design = str(EXAMPLES / "esp32-bme280-oled.json")
    assert main(["check", design, "--no-spice", "--request", "ESP32 shows a BME280 on an SSD1306 over I2C"]) == 0
    out = capsys.readouterr().out
    assert "Intent: MET - score 1.00" in out and "[met] interface I2C" in out
    assert main(["check", design, "--no-spice", "--request", "ESP32 shows a BME280 on an SSD1306 over SPI"]) == 1
    assert "Intent: NOT MET" in capsys.readouterr().out
    assert main(["check", design, "--no-spice", "--request", "make me a sandwich"]) == 1
    assert "Intent: not understood" in capsys.readouterr().out
    assert main(["check", design, "--request", "  "]) == 2


def test_check_json_report(capsys):
    assert main(["check", str(DESIGNS / "esp32-dht22-no-pullup.json"), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["erc"]["passed"] is False
    assert "pullup-missing" in {v["rule"] for v in report["erc"]["violations"]}
    assert report["spice"]["ok"] is True


def test_unknown_part_fails_with_suggestions(capsys):
    assert main(["check", str(DESIGNS / "unknown-part.json")]) == 1
    out = capsys.readouterr().out
    assert "unknown-part" in out and "did you mean esp32-devkit-v1" in out


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"parts": [', "not valid JSON"),
        ('{"parts": [{"ref": "R1", "part": "resistor"}, {"ref": "R1", "part": "led-red"}]}', "duplicate part ref"),
        ('{"parts": [{"ref": "R1", "part": "resistor", "value": "1k\\n.control\\nshell touch /tmp/x"}]}', "value"),
        ("", "not valid JSON"),
    ],
)
def test_invalid_input_exits_2_with_a_clear_message(tmp_path, capsys, text, says):
    path = tmp_path / "design.json"
    path.write_text(text)
    out_dir = tmp_path / "out"
    assert main(["check", str(path)]) == 2
    assert says in capsys.readouterr().err
    assert main(["export", str(path), "--out", str(out_dir)]) == 2
    assert not out_dir.exists()


def test_missing_file(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err.lower()


def test_injection_through_a_net_name_executes_nothing(tmp_path, capsys):
    target = tmp_path / "pwned"
    design = {
        "parts": [{"ref": "R1", "part": "resistor"}, {"ref": "BT1", "part": "battery-9v"}],
        "nets": [{"name": f".control\nshell touch {target}", "pins": ["R1.1", "BT1.+"]}],
    }
    path = tmp_path / "design.json"
    path.write_text(json.dumps(design))
    assert main(["check", str(path)]) == 2
    assert not target.exists()


@pytest.mark.parametrize("spice", [True, False])
def test_injection_through_a_value_executes_and_writes_nothing(tmp_path, capsys, spice):
    target = tmp_path / "x"
    design = {
        "parts": [
            {"ref": "R1", "part": "resistor", "value": f"1k\n.control\nshell touch {target}"},
            {"ref": "BT1", "part": "battery-9v"},
        ],
        "nets": [{"name": "A", "pins": ["R1.1", "BT1.+"]}, {"name": "GND", "pins": ["R1.2", "BT1.-"]}],
    }
    path = tmp_path / "design.json"
    path.write_text(json.dumps(design))
    out_dir = tmp_path / "out"
    assert main(["check", str(path), *([] if spice else ["--no-spice"])]) == 2
    assert "parts.0.value" in capsys.readouterr().err
    assert main(["export", str(path), "--out", str(out_dir)]) == 2
    assert not target.exists() and not out_dir.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.json", "home"]


def test_unknown_pin_fails_check_and_export_writes_nothing(tmp_path, capsys):
    design = json.loads((EXAMPLES / "ne555-blinker.json").read_text())
    ref = design["nets"][0]["pins"][0].split(".", 1)[0]
    design["nets"][0]["pins"][0] = f"{ref}.NOPIN"
    path = tmp_path / "design.json"
    path.write_text(json.dumps(design))
    assert main(["check", str(path), "--no-spice"]) == 1
    out = capsys.readouterr().out
    assert "unknown-pin" in out and f"{ref}.NOPIN" in out and "fix:" in out
    out_dir = tmp_path / "out"
    assert main(["export", str(path), "--out", str(out_dir)]) == 2
    assert f"{ref}.NOPIN" in capsys.readouterr().err
    assert not out_dir.exists()


def test_export_writes_every_format(tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["export", str(EXAMPLES / "esp32-dht22-fan.json"), "--out", str(out_dir)]) == 0
    assert {p.name for p in out_dir.iterdir()} == EXPORTS
    assert json.loads((out_dir / "circuit.json").read_text())[0]["type"].startswith("source_")
    assert ".control" not in (out_dir / "circuit.cir").read_text()
    design = json.loads((EXAMPLES / "esp32-dht22-fan.json").read_text())
    kb = KnowledgeBase.open()
    not_in_wokwi = {p["ref"] for p in design["parts"] if kb.get(p["part"]).wokwi_type is None}
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note: ")]
    assert not_in_wokwi and {line.split()[1] for line in notes} == not_in_wokwi
    assert all("left out of diagram.json" in line for line in notes)


def test_export_refuses_unknown_parts_and_writes_nothing(tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["export", str(DESIGNS / "unknown-part.json"), "--out", str(out_dir)]) == 2
    assert "esp32-wroom-board" in capsys.readouterr().err
    assert not out_dir.exists() or not any(out_dir.iterdir())


# -- hostile files and folders (issue 13, failures 5 to 8) ---------------------------------------

ONE_PART = '{"parts": [{"ref": "R1", "part": "resistor"}], '


def one_line_error(err: str) -> None:
    """A refusal a person reads: an ``error:`` line (and the problems under it), no traceback."""
    assert err.startswith("error: ") and "Traceback" not in err and len(err.splitlines()) <= 3


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[" * 100_000, "nested deeper than"),
        (ONE_PART + '"title": ' + "9" * 5000 + "}", "more than 30 digits"),
        (ONE_PART + '"parts": []}', "'parts' is given twice"),
    ],
)
def test_hostile_json_exits_2_in_one_line(tmp_path, capsys, text, says):
    path = tmp_path / "design.json"
    path.write_text(text)
    for command in (["check", str(path)], ["export", str(path), "--out", str(tmp_path / "out")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        one_line_error(err)
        assert says in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("path", ["/proc/self/mem", "/proc/self/environ", "/proc/1/environ", "/dev/zero", "/"])
def test_a_proc_file_or_a_device_as_the_design_exits_2_in_one_line(tmp_path, capsys, path):
    for command in (["check", path], ["export", path, "--out", str(tmp_path / "out")]):
        assert main(command) == 2
        one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_the_old_worst_case_is_refused_fast(tmp_path, capsys):
    path = tmp_path / "big.json"
    path.write_text(resistor_mesh(400, 1000, 200))
    started = time.perf_counter()
    assert main(["export", str(path), "--out", str(tmp_path / "out")]) == 2
    assert time.perf_counter() - started < 1.0
    assert "larger than 200 kB" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["a file", "under a file", "/dev/null", "/proc/no-such-folder", "/proc/self"])
def test_export_out_that_is_not_a_writable_folder_exits_2_in_one_line(tmp_path, capsys, where):
    afile = tmp_path / "afile"
    afile.write_text("keep")
    out = {"a file": afile, "under a file": afile / "sub"}.get(where, Path(where))
    assert main(["export", str(EXAMPLES / "uno-led-button.json"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    one_line_error(err)
    assert str(out) in err
    assert afile.read_text() == "keep"


def test_export_replaces_a_link_in_the_folder_and_leaves_its_target_alone(tmp_path, capsys):
    target = tmp_path / "precious.txt"
    target.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "bom.csv").symlink_to(target)
    assert main(["export", str(EXAMPLES / "uno-led-button.json"), "--out", str(out)]) == 0
    assert target.read_text() == "precious"
    assert not (out / "bom.csv").is_symlink() and (out / "bom.csv").read_text().startswith("refs,")


def test_an_export_that_fails_part_way_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "schematic.svg").mkdir(parents=True)  # the last file cannot be written
    assert main(["export", str(EXAMPLES / "uno-led-button.json"), "--out", str(out)]) == 2
    one_line_error(capsys.readouterr().err)
    assert [p.name for p in out.iterdir()] == ["schematic.svg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "out"]  # no staging folder left


def test_a_part_name_with_escape_sequences_never_reaches_the_terminal(tmp_path, capsys):
    """Refused by parts add (named escaped); one stored by an older version is left out of check, named escaped."""
    from components_db import KnowledgeBase
    from components_db.home import default_home
    from components_db.kb import USER_FILE, embedding_key
    from components_db.schema import Part
    from components_db.store import PartStore

    kb = KnowledgeBase.open()
    part = kb.get("resistor").model_dump(mode="json", exclude_none=True)
    part.update(id="evil-resistor", name="Evil \x1b[2J\x1b]0;pwned\x07 resistor", aliases=[])
    (tmp_path / "evil.yaml").write_text(yaml.safe_dump(part))
    capsys.readouterr()
    assert main(["parts", "add", str(tmp_path / "evil.yaml")]) == 2
    refused = capsys.readouterr().err
    assert "\\x1b" in refused and "\x1b" not in refused and "\x07" not in refused
    old = Part.model_construct(**{**kb.get("resistor").__dict__, "id": "evil-resistor", "name": part["name"]})
    with PartStore(default_home() / USER_FILE).transaction() as tx:
        tx.put(old, embedding_key(old), np.ones(DIM, np.float32) / DIM**0.5)
    design = tmp_path / "design.json"
    design.write_text(json.dumps({"parts": [{"ref": "R1", "part": "evil-resistor"}], "nets": []}))
    capsys.readouterr()
    assert main(["check", str(design), "--no-spice"]) in (1, 2)
    out, err = capsys.readouterr()
    assert "evil-resistor" in out + err
    assert "\x1b" not in out + err and "\x07" not in out + err
