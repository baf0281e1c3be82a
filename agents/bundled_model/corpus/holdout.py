"""The benchmark, held out of the corpus: every prompt file under benchmarks/prompts/ (the dev, test and
wild splits, which must be there, and the steering harness's behaviour sets), and the near-copy test
every generated request must pass."""

from __future__ import annotations

import json
from pathlib import Path

from rapidfuzz import fuzz, process

from agents.evaluation.benchmark import PROMPTS_DIR, SPLITS

NEAR_COPY = 90.0  # a request this similar (rapidfuzz ratio, 0-100) to a benchmark prompt is a near-copy
GENERATION_MARGIN = 5.0  # the generator drops requests already this close below NEAR_COPY
LONG_PROMPT = 40  # benchmark prompts at least this long are also looked for inside longer requests


class MissingBenchmark(FileNotFoundError):
    """A benchmark file the corpus must hold out is not there (the corpus would hold out nothing of it)."""


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


class Benchmark:
    """The benchmark prompts (dev, test, wild and the steering harness's sets) and the near-copy test
    the corpus must pass. Raises ``MissingBenchmark`` when a split's file is not in ``folder``."""

    def __init__(self, folder: Path = PROMPTS_DIR) -> None:
        for split in SPLITS:
            if not (folder / f"{split}.jsonl").is_file():
                raise MissingBenchmark(
                    f"the corpus must hold out the benchmark, but {folder / f'{split}.jsonl'} is missing"
                )
        lines = [
            line for path in sorted(folder.rglob("*.jsonl")) for line in path.read_text(encoding="utf-8").splitlines()
        ]
        self.prompts = [_norm(json.loads(line)["prompt"]) for line in lines if line.strip()]
        self.long = [p for p in self.prompts if len(p) >= LONG_PROMPT]

    def similarity(self, request: str) -> float:
        """The highest similarity of ``request`` to any benchmark prompt: the whole-text ratio, and for
        long prompts also the best alignment of the prompt inside the request (a copied sentence)."""
        text = _norm(request)
        best = process.extractOne(text, self.prompts, scorer=fuzz.ratio) if self.prompts else None
        score = best[1] if best else 0.0
        if self.long and len(text) > LONG_PROMPT:
            inner = process.extractOne(text, self.long, scorer=fuzz.partial_ratio)
            score = max(score, inner[1] if inner else 0.0)
        return float(score)

    def near_copy(self, request: str, threshold: float = NEAR_COPY) -> bool:
        """``similarity(request) >= threshold``, stopping at the first prompt that reaches it."""
        text = _norm(request)
        if self.prompts and process.extractOne(text, self.prompts, scorer=fuzz.ratio, score_cutoff=threshold):
            return True
        return bool(
            self.long
            and len(text) > LONG_PROMPT
            and process.extractOne(text, self.long, scorer=fuzz.partial_ratio, score_cutoff=threshold)
        )
