"""`circuit-studio design` and `eval` end to end on a tiny random MoE saved as a model folder."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from agents.evaluation import EvaluationSummary
from agents.report import RunReport
from agents.synthesize import GrammarBounds
from components_db import KnowledgeBase
from studio import models
from studio.cli import main
from studio.models import SETTINGS_FILE
from studio.pipeline_cli import format_summary
from tests.agents.conftest import TEST_SETTINGS, tiny_moe, train_stage_tokenizer

ROOT = Path(__file__).resolve().parents[2]
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
    assert captured.err.count("] b00") == 3 and "[3/3] b003 pipeline F1" in captured.err
    with (out / "results.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["system"]) for r in rows] == [
        (pid, system) for pid in ("b001", "b002", "b003") for system in ("pipeline", "reference")
    ]
    assert {"f1", "erc_pass", "design_valid", "seconds", "tokens", "seconds_identify"} <= set(rows[0])
    summary = EvaluationSummary.model_validate_json((out / "summary.json").read_text(encoding="utf-8"))
    assert list(summary.systems) == ["pipeline", "reference"] and summary.prompts == 3
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    assert "| metric | pipeline | reference |" in markdown and "## By difficulty" in markdown
    assert "| b003 |" in markdown
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
