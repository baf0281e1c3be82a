"""What the design limits cost and save: `check --no-spice` and `export` on the largest realistic design
(a 200-part ESP32 project) and on designs at the limits, and the refusal of issue 13's 1.8 MB design
(400 parts, 1000 nets of 200 pins), each in a fresh process. Prints a Markdown table: wall time, peak
memory (the process's max RSS) and bytes written. The figures in the README's "Limits" come from it.

    .venv/bin/python benchmarks/design_limits.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sample_designs import esp32_project

from studio.circuit.design import MAX_NETS, MAX_PINS_PER_NET, MAX_TOTAL_PINS
from tests.fixtures.designs import resistor_mesh

CLI = [sys.executable, "-m", "ui.cli.main"]


def designs() -> dict[str, str]:
    """Name -> design JSON: realistic, at the limits, and the old worst case."""
    at_limits = resistor_mesh(200, MAX_NETS, MAX_TOTAL_PINS // MAX_NETS)
    one_big_net = resistor_mesh(200, MAX_TOTAL_PINS // MAX_PINS_PER_NET, MAX_PINS_PER_NET)
    return {
        "ESP32 project, 200 parts": esp32_project(200).model_dump_json(exclude_none=True),
        f"200 resistors, {MAX_NETS} nets": at_limits,
        f"200 resistors, nets of {MAX_PINS_PER_NET} pins": one_big_net,
        "issue 13's design (400 parts, 1000 x 200 pins)": resistor_mesh(400, 1000, 200),
    }


def run(argv: list[str], cwd: Path) -> tuple[int, float, float]:
    """(exit code, seconds, peak RSS in MB) of one CLI run in a fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen([*CLI, *argv], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    return os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss / 1024


def written_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6 if folder.exists() else 0.0


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for index, (name, text) in enumerate(designs().items()):
            path = work / f"design{index}.json"
            path.write_text(text, encoding="utf-8")
            pins = sum(len(net["pins"]) for net in json.loads(text)["nets"])
            size = f"{len(text) / 1000:,.0f} kB, {pins:,} pin refs"
            code, seconds, peak = run(["check", str(path), "--no-spice"], work)
            rows.append([name, size, "check --no-spice", code, f"{seconds:.2f}", f"{peak:.0f}", "-"])
            out = work / f"out{index}"
            code, seconds, peak = run(["export", str(path), "--out", str(out)], work)
            rows.append([name, size, "export", code, f"{seconds:.2f}", f"{peak:.0f}", f"{written_mb(out):.2f}"])
    header = ["design", "size", "command", "exit", "seconds", "peak MB", "written MB"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print("\nexit 0: passes, 1: the check fails (a mesh of resistors is no circuit), 2: refused (over a limit).")
    print("Each run is a fresh process: about 1 s of it is start-up (Python, torch, the knowledge base).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
