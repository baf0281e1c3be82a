"""Ready-made prompt-set pairs for the Attribution view, taken from the benchmark prompts (hand-written
requests with a domain and a style) of the dev split: behaviour A against contrast B."""

from __future__ import annotations

import json
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "prompts" / "dev.jsonl"  # the tuning split
PER_SET = 8

FALLBACK = {
    "analog circuits vs microcontroller projects": (
        ["Blink an LED with a 555 timer on a 9 V battery.", "lm358 amplifier for an ldr, 5 v usb"],
        ["Blink a red LED from an ESP32 DevKit.", "uno + push button"],
    )
}


def _lines(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError):
        return []


def example_sets(path: Path = BENCHMARK, per_set: int = PER_SET) -> dict[str, tuple[list[str], list[str]]]:
    """Name -> (set A, set B), each at most ``per_set`` prompts; a small built-in pair if the file is absent."""
    rows = _lines(path)
    if not rows:
        return dict(FALLBACK)

    def pick(**where: str) -> list[str]:
        return [r["prompt"] for r in rows if all(r.get(k) == v for k, v in where.items())][:per_set]

    pairs = {
        "analog circuits vs microcontroller projects": (pick(domain="analog"), pick(domain="embedded")),
        "power supplies vs microcontroller projects": (pick(domain="power"), pick(domain="embedded")),
        "questions vs terse requests": (pick(style="question"), pick(style="terse")),
        "hard vs easy requests": (pick(difficulty="hard"), pick(difficulty="easy")),
    }
    return {name: (a, b) for name, (a, b) in pairs.items() if a and b} or dict(FALLBACK)


def parse_prompts(text: str | None) -> list[str]:
    """One prompt per non-blank line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
