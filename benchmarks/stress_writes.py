"""The stress benchmark's process-level checks, each in subprocesses on its own temporary studio home:

- ``kill_rounds``: a process adds many part files one after another (``parts add``, in-process calls
  of ``ui.cli.main.main``, each success printed and flushed) and is killed with SIGKILL at a random
  moment; afterwards every part it reported added must be in the database, which must open and pass
  SQLite's integrity check.
- ``concurrent_adds``: two processes, warmed up and waiting on a go-file, add the same id (or two ids
  with one alias) at the same instant; at most one may be told it succeeded.
- ``working_folder``: ``circuit-studio check`` (with SPICE) in a folder holding a ``.spiceinit`` that
  runs ``shell touch MARKER`` and a ``spice/__init__.py`` that writes a MARKER, and a ``$HOME`` with its
  own ``.spiceinit``; no MARKER may appear.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from studio.circuit.examples import EXAMPLES_DIR

ROOT = Path(__file__).resolve().parents[1]
ADD_DRIVER = """
import sys
from components_db import KnowledgeBase
from components_db.embeddings import encode
from ui.cli.main import main
KnowledgeBase.open()
encode(["warm up"])
print("ready", flush=True)
for path in sys.argv[1:]:
    main(["parts", "add", path])
    sys.stdout.flush()
"""
RACE_DRIVER = """
import os, sys, time
from components_db import KnowledgeBase
from components_db.embeddings import encode
from ui.cli.main import main
KnowledgeBase.open()
encode(["warm up"])
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.0005)
code = main(["parts", "add", sys.argv[2]])
print(f"exit {code}", flush=True)
"""


@dataclass
class WriteReport:
    rounds: int = 0
    reported: int = 0  # parts the killed processes said they added
    lost: list[str] = field(default_factory=list)  # reported added, missing afterwards
    unreadable: list[str] = field(default_factory=list)  # databases that did not open afterwards
    race_trials: int = 0
    race_both: list[str] = field(default_factory=list)  # trials where both adds were accepted
    folder_markers: list[str] = field(default_factory=list)  # working-folder files that ran
    folder_note: str = ""


def child_env(home: Path, tmp: Path, extra: dict | None = None) -> dict:
    """The environment of every subprocess: this checkout's code first, a temporary home and TMPDIR."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CIRCUIT_STUDIO_HOME": str(home), "TMPDIR": str(tmp)}
    env.update({"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "0", "OMP_NUM_THREADS": "1"})
    env.update(extra or {})
    return env


def fresh_home(template: Path, home: Path) -> Path:
    """A studio home with the template's compiled shipped parts and its embedding model (linked)."""
    home.mkdir(parents=True)
    shutil.copy2(template / "kb.sqlite", home / "kb.sqlite")
    if (template / "models").exists():
        (home / "models").symlink_to((template / "models").resolve(), target_is_directory=True)
    return home


def part_file(folder: Path, round_no: int, number: int, count: int) -> Path:
    """A YAML file of ``count`` new LEDs with ids and aliases no other file uses."""
    parts = []
    for k in range(count):
        pid = f"kill-r{round_no}-f{number}-p{k}"
        parts.append(
            {
                "id": pid,
                "name": f"Kill test LED {round_no}.{number}.{k}",
                "aliases": [f"kill led r{round_no} f{number} p{k}"],
                "category": "discrete",
                "description": "An LED added while the process may be killed.",
                "pins": [
                    {"number": "1", "name": "A", "type": "passive", "roles": ["ANODE"]},
                    {"number": "2", "name": "K", "type": "passive", "roles": ["CATHODE"]},
                ],
                "specs": {"vf_v": 2.0, "if_ma": 20},
                "symbol": "led",
            }
        )
    path = folder / f"r{round_no}-f{number}.json"
    path.write_text(json.dumps(parts), encoding="utf-8")
    return path


def reported_ids(stdout: str) -> list[str]:
    ids = []
    for line in stdout.splitlines():
        if line.startswith("added ") and ": " in line:
            ids += [x.strip() for x in line.split(": ", 1)[1].split(",")]
    return ids


def kill_round(rng: random.Random, round_no: int, template: Path, root: Path, files: int) -> tuple[list, list, list]:
    """One process adding ``files`` part files, killed at a random moment; (reported, lost, unreadable)."""
    base = root / f"kill-{round_no}"
    home = fresh_home(template, base / "home")
    inputs = base / "in"
    inputs.mkdir(parents=True)
    paths = [part_file(inputs, round_no, n, rng.randint(1, 3)) for n in range(files)]
    command = [sys.executable, "-c", ADD_DRIVER, *map(str, paths)]
    proc = subprocess.Popen(
        command, cwd=base, env=child_env(home, base / "tmp"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # "ready": imports done, the adds begin
    time.sleep(rng.uniform(0.05, 4.0))
    os.kill(proc.pid, signal.SIGKILL)
    stdout = proc.stdout.read().decode("utf-8", "replace")
    proc.wait()
    reported = reported_ids(stdout)
    lost, unreadable = verify_home(home, reported)
    return reported, lost, unreadable


def verify_home(home: Path, reported: list[str]) -> tuple[list[str], list[str]]:
    """(reported parts missing, reasons the database does not open) after a kill."""
    problems = []
    db = home / "user_parts.sqlite"
    if db.exists():
        try:
            with sqlite3.connect(db) as connection:
                verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                problems.append(f"{db}: integrity check says {verdict}")
        except sqlite3.Error as exc:
            problems.append(f"{db}: {exc}")
    from components_db.kb import KnowledgeBase

    try:
        kb = KnowledgeBase.open(home)
    except Exception as exc:  # any failure to open is the finding
        return reported, [*problems, f"{home}: does not open ({type(exc).__name__}: {exc})"]
    return [pid for pid in reported if kb.source_of(pid) != "user"], problems


def race_trial(trial: int, template: Path, root: Path) -> str | None:
    """Two processes add clashing parts at once; a description when both were accepted, else None."""
    base = root / f"race-{trial}"
    home = fresh_home(template, base / "home")
    go = base / "go"
    same_id = trial % 2 == 0
    files = []
    for side in (0, 1):
        pid = "race-led" if same_id else f"race-led-{side}"
        part = json.loads(part_file(base, trial, side, 1).read_text(encoding="utf-8"))[0]
        part.update({"id": pid, "aliases": ["race alias"], "name": f"Race LED version {side}"})
        path = base / f"side-{side}.json"
        path.write_text(json.dumps(part), encoding="utf-8")
        files.append(path)
    env = child_env(home, base / "tmp")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_DRIVER, str(go), str(f)],
            cwd=base,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for f in files
    ]
    for proc in procs:
        assert proc.stdout is not None
        proc.stdout.readline()
    go.touch()
    codes = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        codes.append(out.decode().strip().splitlines()[-1] if out.strip() else f"died {proc.returncode}")
    if codes == ["exit 0", "exit 0"]:
        what = "the same id" if same_id else "one alias"
        return f"trial {trial}: two processes adding {what} at once were both told they succeeded"
    return None


def working_folder(template: Path, root: Path, design: Path, hostile: str) -> tuple[list[str], str]:
    """``check`` in a folder holding ``hostile`` files (``spiceinit``: a ``.spiceinit`` there and in
    ``$HOME``; ``package``: a ``spice/`` package); (markers that appeared, the SPICE line of the output)."""
    base = root / f"working-folder-{hostile}"
    folder, markers, fake_home = base / "folder", base / "markers", base / "user-home"
    for path in (folder, markers, fake_home):
        path.mkdir(parents=True)
    home = fresh_home(template, base / "studio-home")
    if hostile == "spiceinit":
        (folder / ".spiceinit").write_text(f"shell touch {markers}/spiceinit-in-folder\n", encoding="utf-8")
        (fake_home / ".spiceinit").write_text(f"shell touch {markers}/spiceinit-in-home\n", encoding="utf-8")
    else:
        (folder / "spice").mkdir()
        code = f"open({str(markers / 'spice-package-in-folder')!r}, 'w').close()\n"
        (folder / "spice" / "__init__.py").write_text(code, encoding="utf-8")
        (folder / "spice" / "worker.py").write_text(code.replace("package", "worker"), encoding="utf-8")
    shutil.copy2(design, folder / "design.json")
    script = Path(sys.executable).parent / "circuit-studio"
    command = [str(script)] if script.exists() else [sys.executable, "-P", "-m", "ui.cli.main"]
    env = child_env(home, base / "tmp", {"HOME": str(fake_home)})
    done = subprocess.run(
        [*command, "check", "design.json"], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )
    last = next((x for x in reversed(done.stdout.splitlines()) if x.startswith("SPICE")), "")
    return sorted(p.name for p in markers.iterdir()), f"{hostile}: exit {done.returncode}; {last[:100]}"


def run_writes(seed: int, template: Path, root: Path, rounds: int, files: int, races: int, say=print) -> WriteReport:
    rng = random.Random(f"{seed}:writes")
    report = WriteReport()
    for round_no in range(rounds):
        reported, lost, unreadable = kill_round(rng, round_no, template, root, files)
        report.rounds += 1
        report.reported += len(reported)
        report.lost += lost
        report.unreadable += unreadable
        say(f"kill -9 round {round_no + 1}/{rounds}: {len(reported)} part(s) reported added, {len(lost)} lost")
    for trial in range(races):
        report.race_trials += 1
        finding = race_trial(trial, template, root)
        if finding:
            report.race_both.append(finding)
        say(f"concurrent add trial {trial + 1}/{races}: {'both accepted' if finding else 'one refused'}")
    design = EXAMPLES_DIR / "uno-led-button.json"
    notes = []
    for hostile in ("spiceinit", "package"):
        found, note = working_folder(template, root, design, hostile)
        report.folder_markers += found
        notes.append(note)
        say(f"working folder ({hostile}): markers {found or 'none'} ({note})")
    report.folder_note = " | ".join(notes)
    return report
