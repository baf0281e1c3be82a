"""`circuit-studio design` and `eval` end to end on a tiny random MoE saved as a model folder."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agents import model_opening as models
from agents.evaluation.scoring import EvaluationSummary
from agents.model_opening import SETTINGS_FILE
from agents.run_report import RunReport
from agents.synthesize import GrammarBounds
from components_db import KnowledgeBase
from tests.fixtures.tiny_models import TEST_SETTINGS, train_stage_tokenizer
from tests.fixtures.tiny_models import pipeline_moe as tiny_moe
from ui.cli.design import format_summary
from ui.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
BENCHMARK = ROOT / "benchmarks" / "prompts" / "dev.jsonl"
EXPORTS = {"circuit.json", "diagram.json", "circuit.cir", "netlist.net", "bom.csv", "schematic.svg"}
# a random model writes as long as a grammar lets it: small bounds keep these runs to seconds
SETTINGS = TEST_SETTINGS.model_copy(
    update={"reason_tokens": 8, "grammar": GrammarBounds(max_nets=2, max_pins_per_net=2, max_net_name=4)}
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, built_home) -> Path:
    """A tiny random Qwen3-MoE with its tokenizer and pipeline settings, as `--model` reads a folder."""
    folder = tmp_path_factory.mktemp("tiny-moe")
    tokenizer = train_stage_tokenizer(KnowledgeBase.open(built_home))
    tiny_moe(tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / SETTINGS_FILE).write_text(json.dumps({"pipeline": SETTINGS.model_dump(mode="json")}), encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def studio_home(tmp_path, built_home, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(built_home, home)
    monkeypatch.setenv("CIRCUIT_STUDIO_HOME", str(home))
    return home


def test_design_writes_exports_report_plan_and_suggestion(model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["design", "Blink a red LED from an Arduino Uno.", "--model", str(model_dir), "--out", str(out), "--json"]
    code = main(args)
    captured = capsys.readouterr()
    report = RunReport.model_validate_json((out / "report.json").read_text(encoding="utf-8"))
    assert RunReport.model_validate_json(captured.out) == report  # --json: the report on stdout
    assert report.status == "ok", report.error
    assert code == (0 if report.passed else 1)
    assert EXPORTS | {"report.json", "plan.txt", "suggestion"} <= {p.name for p in out.iterdir()}
    assert EXPORTS | {"plan.txt"} <= {p.name for p in (out / "suggestion").iterdir()}
    for folder in (out, out / "suggestion"):
        assert json.loads((folder / "circuit.json").read_text(encoding="utf-8"))  # Circuit JSON parses
        assert (folder / "schematic.svg").read_text(encoding="utf-8").startswith("<svg")
    assert (out / "plan.txt").read_text(encoding="utf-8").strip() == report.plan
    # progress on stderr: every stage started and done with seconds
    for stage in ("identify", "pinouts", "reason", "synthesize", "check", "render"):
        assert f"[{stage}] started" in captured.err and f"[{stage}] done in " in captured.err
    # the readable summary: parts with refs, the ERC verdict with its findings, the suggestion
    summary = format_summary(report, [out / "report.json"])
    assert f"  {report.bill[0].ref}  {report.bill[0].part}" in summary
    assert ("ERC: PASS" if report.passed else "ERC: FAIL") in summary
    assert all(v.rule in summary for v in report.check.erc.violations)
    assert "Suggestion (reference designer): ERC PASS, in suggestion/" in summary
    assert all(line in summary for line in report.plan_departures)
    departed = format_summary(
        report.model_copy(update={"plan_departures": ["plan net X (U1.D2): written otherwise"]}), []
    )
    assert "Where the design departs from the plan:\n  - plan net X (U1.D2): written otherwise" in departed


@pytest.mark.parametrize("empty", ["", "   \t "])
def test_an_empty_request_exits_2_with_a_message_and_writes_nothing(model_dir, tmp_path, capsys, empty):
    out = tmp_path / "out"
    assert main(["design", empty, "--model", str(model_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the request is empty") and "Traceback" not in err
    assert not out.exists()


def test_a_model_that_cannot_be_opened_exits_2(tmp_path, capsys):
    assert main(["design", "uno + led", "--model", str(tmp_path / "no-such-model")]) == 2
    assert "cannot open model" in capsys.readouterr().err


def test_the_bundled_model_missing_exits_2_and_says_what_to_do(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(models, "BUNDLED_DIR", tmp_path / "weights")
    assert main(["design", "uno + led", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "bundled model is not in" in err and "--model" in err


def test_a_profile_for_another_model_exits_2(model_dir, tmp_path, capsys):
    profile = tmp_path / "profile.json"
    profile.write_text(
        json.dumps({"model": {"name": "x", "moe_layers": [0, 1, 2], "experts_per_layer": 8, "top_k": 2}}),
        encoding="utf-8",
    )
    args = ["design", "uno + led", "--model", str(model_dir), "--profile", str(profile), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    assert "was made for" in capsys.readouterr().err


def test_eval_writes_csv_markdown_json_and_plot(model_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    args = ["eval", "--prompts", str(BENCHMARK), "--model", str(model_dir), "--baseline", "reference"]
    assert main([*args, "--limit", "3", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    first = [json.loads(line)["id"] for line in BENCHMARK.read_text(encoding="utf-8").splitlines()[:3]]
    assert captured.err.count("] b") == 3 and f"[3/3] {first[2]} pipeline F1" in captured.err
    with (out / "results.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["system"]) for r in rows] == [
        (pid, system) for pid in first for system in ("pipeline", "reference")
    ]
    expected = {"f1", "erc_pass", "intent_score", "right", "design_valid", "seconds", "tokens", "seconds_identify"}
    assert expected <= set(rows[0])
    summary = EvaluationSummary.model_validate_json((out / "summary.json").read_text(encoding="utf-8"))
    assert list(summary.systems) == ["pipeline", "reference"] and summary.prompts == 3
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    assert "| metric | pipeline | reference |" in markdown and "## By difficulty" in markdown
    assert f"| {first[2]} |" in markdown and "| right-rate (ERC pass and intent met, after repair) |" in markdown
    assert "| right-rate@1 (first synthesis) |" in markdown and "| ERC pass after repair |" in markdown
    assert (out / "summary.png").read_bytes().startswith(b"\x89PNG")
    assert "| part F1 |" in captured.out


def test_eval_refuses_a_bad_prompt_file(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    assert main(["eval", "--prompts", str(bad), "--baseline", "reference", "--baseline-only"]) == 2
    assert f"{bad}:1: not a benchmark prompt" in capsys.readouterr().err
    assert main(["eval", "--prompts", str(BENCHMARK), "--limit", "0"]) == 2
    assert "--limit must be at least 1" in capsys.readouterr().err
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    args = ["eval", "--prompts", str(BENCHMARK), "--baseline", "reference", "--baseline-only", "--limit", "1"]
    assert main([*args, "--out", str(blocked)]) == 2
    assert f"error: {blocked}" in capsys.readouterr().err


def test_eval_sets_several_files_side_by_side(tmp_path, capsys):
    out = tmp_path / "eval"
    args = ["eval", "--split", "dev", "--split", "wild", "--baseline", "reference", "--baseline-only", "--limit", "2"]
    assert main([*args, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "[dev 2/2]" in captured.err and "[wild 2/2]" in captured.err
    for split in ("dev", "wild"):
        summary = EvaluationSummary.model_validate_json((out / split / "summary.json").read_text(encoding="utf-8"))
        assert summary.prompts == 2 and summary.prompts_file.endswith(f"{split}.jsonl")
    comparison = (out / "comparison.md").read_text(encoding="utf-8")
    assert (
        "| metric | dev reference | wild reference |" in comparison
        and "| right-rate after repair, hard |" in comparison
    )
    assert "| right-rate@1, hard |" in comparison
    assert comparison.split("\n\n", 1)[1].strip() in captured.out
    assert main(["eval", "--baseline", "reference", "--baseline-only"]) == 2
    assert "name the prompts" in capsys.readouterr().err


def test_design_batch_writes_a_folder_per_request_and_an_index(model_dir, tmp_path, capsys):
    batch = tmp_path / "requests.jsonl"
    lines = [
        {"id": "led", "prompt": "Blink a red LED from an Arduino Uno."},
        {"id": "food", "prompt": "make me a sandwich"},
    ]
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "batch"
    code = main(["design", "--batch", str(batch), "--model", str(model_dir), "--out", str(out)])
    captured = capsys.readouterr()
    index = [json.loads(line) for line in (out / "index.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in index] == ["led", "food"]
    assert index[1]["status"] == "not_understood" and index[1]["erc"] == "none" and not index[1]["right"]
    assert set(index[0]) >= {"status", "erc", "intent_score", "right", "seconds"}
    assert code == (0 if all(row["right"] for row in index) else 1)
    assert (out / "led" / "report.json").is_file() and (out / "food" / "report.json").is_file()
    assert "[1/2] led" in captured.err and "[2/2] food not_understood" in captured.err
    assert "of 2 designs right" in captured.out


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"id": "../x", "prompt": "uno led"}\n', "must be 1-64 letters"),
        ('{"id": "a", "prompt": "uno led"}\n{"id": "a", "prompt": "uno"}\n', "used twice"),
        ('{"id": "a"}\n', 'expected an object with a "prompt"'),
        ("\n\n", "no requests"),
        ('{"id": "a", "prompt": "uno led"' + "[" * 100_000 + "\n", "nested deeper"),
        ('{"id": "a", "prompt": "uno led", "id": "b"}\n', "given twice"),
    ],
)
def test_a_bad_batch_file_is_refused_before_a_model_loads(tmp_path, capsys, text, says):
    batch = tmp_path / "requests.jsonl"
    batch.write_text(text, encoding="utf-8")
    assert main(["design", "--batch", str(batch), "--model", str(tmp_path / "no-model")]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


@pytest.mark.parametrize("special", ["/dev/zero", "/proc/self/mem", "fifo", "binary"])
def test_batch_and_prompt_files_that_are_no_text_files_are_refused_at_once(tmp_path, capsys, special):
    """/dev/zero was read until memory ran out; a FIFO hung; /proc/self/mem and binary bytes gave tracebacks."""
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "requests.jsonl"
        os.mkfifo(path)
    elif special == "binary":
        path = tmp_path / "requests.jsonl"
        path.write_bytes(b"\xc4\x00\xff")
    commands = (
        ["design", "--batch", str(path), "--model", str(tmp_path / "no-model")],
        ["eval", "--prompts", str(path), "--baseline", "reference", "--baseline-only"],
    )
    for argv in commands:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and "Traceback" not in err and str(path) in err


def test_a_plain_text_batch_takes_a_request_per_line(tmp_path):
    from agents.batch import read_batch

    batch = tmp_path / "requests.txt"
    batch.write_text("uno + led\n\nesp32 bme280 i2c\n", encoding="utf-8")
    assert [(r.id, r.prompt) for r in read_batch(batch)] == [("r001", "uno + led"), ("r002", "esp32 bme280 i2c")]


# what `design` loads before refusing: run in a fresh interpreter, since this one has the model stack loaded
REFUSED_BEFORE_LOADING = """
import sys, time
started = time.perf_counter()
from ui.cli.main import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("torch", "transformers", "agents.orchestrator") if m in sys.modules)
print(code, f"{time.perf_counter() - started:.2f}", ",".join(heavy) or "-")
"""


def design_in_a_fresh_process(*args: str) -> tuple[int, float, str, str]:
    done = subprocess.run(
        [sys.executable, "-c", REFUSED_BEFORE_LOADING, "design", *args], capture_output=True, text=True, cwd=ROOT
    )
    code, seconds, heavy = done.stdout.split()
    return int(code), float(seconds), heavy, done.stderr


def test_an_empty_request_is_refused_before_the_model_stack_loads(tmp_path):
    code, seconds, heavy, err = design_in_a_fresh_process("  ", "--out", str(tmp_path / "out"))
    assert (code, heavy) == (2, "-"), err
    assert err.startswith("error: the request is empty") and seconds < 3
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["a file", "under a file", "/dev/null", "/proc/no-such-folder"])
def test_an_out_that_cannot_be_a_folder_is_refused_before_the_run(tmp_path, where):
    afile = tmp_path / "report.txt"
    afile.write_text("keep")
    out = {"a file": afile, "under a file": afile / "sub"}.get(where, Path(where))
    code, _, heavy, err = design_in_a_fresh_process("blink an LED from an Uno", "--out", str(out))
    assert (code, heavy) == (2, "-"), err
    assert err.startswith(f"error: {out}: ") and "Traceback" not in err and len(err.splitlines()) == 1
    assert afile.read_text() == "keep"


def test_an_unknown_part_stops_the_run_and_a_substitute_lets_it_design(model_dir, tmp_path, capsys):
    request = "ESP32 reads an MLX90614 IR thermometer"
    out = tmp_path / "out"
    assert main(["design", request, "--model", str(model_dir), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "no design (out_of_knowledge): not in the knowledge base: MLX90614" in captured.err
    assert "--substitute NAME=ID" in captured.err and "parts import-kicad" in captured.err
    report = RunReport.model_validate_json((out / "report.json").read_text(encoding="utf-8"))
    assert report.design is None and [o.name for o in report.out_of_knowledge] == ["MLX90614"]
    args = ["design", request, "--model", str(model_dir), "--out", str(tmp_path / "sub"), "--json"]
    main([*args, "--substitute", "MLX90614=ds18b20"])
    report = RunReport.model_validate_json(capsys.readouterr().out)
    assert report.status == "ok" and report.out_of_knowledge == [] and report.design is not None
    assert "ds18b20" in {line.part for line in report.bill}, (report.parts, report.notices)


@pytest.mark.parametrize(
    ("given", "said"), [("MLX90614", "write NAME=ID"), ("MLX90614=nope", "'nope' is not a knowledge-base id")]
)
def test_a_bad_substitute_is_refused_in_one_line(model_dir, tmp_path, capsys, given, said):
    args = ["design", "ESP32 reads an MLX90614", "--model", str(model_dir), "--out", str(tmp_path / "o")]
    assert main([*args, "--substitute", given]) == 2
    err = capsys.readouterr().err
    assert said in err and len(err.strip().splitlines()) == 1
