"""Smoke test of benchmarks/stress.py: its inputs are deterministic per seed, a case can be replayed,
and a quick run (100 inputs, no studio) prints the table with a zero wherever a zero is due: no
exception escapes, nothing is injected, no part is lost (issue 13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
ROWS = (
    "| inputs tried | 100 (",
    "| clear errors",
    "| other exceptions",
    "| injections",
    "| parts lost after kill -9",
    "| concurrent clashing adds both accepted",
    "| working-folder files run by `check`",
    "| p95 time to refuse |",
    "### By family",
)


@pytest.fixture(scope="module")
def stress_modules():
    sys.path.insert(0, str(BENCHMARKS))
    from stress_cases import make_case
    from stress_inputs import Bases

    yield make_case, Bases.load()
    sys.path.remove(str(BENCHMARKS))


def test_cases_are_deterministic_per_seed(stress_modules):
    make_case, bases = stress_modules
    first = [make_case(0, i, 400, bases) for i in range(0, 400, 7)]
    again = [make_case(0, i, 400, bases) for i in range(0, 400, 7)]
    other = [make_case(1, i, 400, bases) for i in range(0, 400, 7)]
    assert first == again
    assert first != other
    assert {c.family for c in first} == {"design", "part", "profile", "request"}


def test_replay_prints_the_commands_of_a_case(tmp_path):
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "stress.py"), "--inputs", "100", "--replay", "3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "circuit-studio " in done.stdout
    assert (tmp_path / "stress-case-3").is_dir()


@pytest.mark.slow
def test_quick_run_prints_the_table(tmp_path, built_home):
    command = [sys.executable, str(BENCHMARKS / "stress.py"), "--quick", "--skip-studio", "--inputs", "100"]
    command += ["--workers", "1", "--template-home", str(built_home)]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    for row in ROWS:
        assert row in done.stdout, f"{row!r} missing from:\n{done.stdout}"
    due_zero = [line.split("|")[2].strip() for line in done.stdout.splitlines() if line.endswith("| 0 |")]
    measured = [value for value in due_zero if not value.startswith("not run")]
    assert len(measured) >= 10 and all(value == "0" for value in measured), done.stdout
