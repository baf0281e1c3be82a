"""The circuit toolkit's speed on this machine: retrieval at 1k/10k/100k parts, and ERC, SPICE and
layout+SVG on 10- and 30-part designs. Prints Markdown tables with the issue's targets beside them.

    .venv/bin/python benchmarks/toolkit.py [--repeats 30] [--skip-retrieval]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from retrieval import markdown, retrieval_rows
from sample_designs import esp32_project

from components_db.catalog import load_catalog
from spice.simulate import simulate
from studio.circuit.resolve import resolve
from studio.erc import run_erc
from studio.schematic.placement import layout_design
from studio.schematic.svg import render_svg

TARGETS_MS = {("ERC", 30): 20.0, ("SPICE", 30): 100.0, ("layout+SVG", 30): 300.0}


def timed_ms(action: Callable[[], object], repeats: int) -> tuple[float, float]:
    action()  # warm-up: first ngspice load, imports
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def design_rows(repeats: int) -> list[dict]:
    lookup = {p.id: p for p in load_catalog()}
    rows = []
    for size in (10, 30):
        resolved = resolve(esp32_project(size), lookup)
        stages: dict[str, Callable[[], object]] = {
            "ERC": lambda r=resolved: run_erc(r),
            "SPICE": lambda r=resolved: simulate(r),
            "layout+SVG": lambda r=resolved: render_svg(r, layout_design(r)),
        }
        for stage, action in stages.items():
            p50, p95 = timed_ms(action, repeats)
            target = TARGETS_MS.get((stage, size))
            rows.append(
                {
                    "stage": stage,
                    "parts": size,
                    "p50_ms": round(p50, 2),
                    "p95_ms": round(p95, 2),
                    "target_ms": target or "",
                    "ok": "" if target is None else ("yes" if p50 <= target else "NO"),
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--skip-retrieval", action="store_true")
    args = parser.parse_args()
    if not args.skip_retrieval:
        print("## Retrieval (query latency, embedding of the query included)\n")
        print(markdown(retrieval_rows()))
        print()
    print("## Design checks and drawing\n")
    print(markdown(design_rows(args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
