"""Part-retrieval latency at 1k, 10k and 100k parts: p50/p95 of one query, its embedding included.

The knowledge bases are synthetic copies of the curated catalog: copy ``i`` of a part gets its own id,
name and aliases, and the part's real embedding nudged by seeded noise (encoding 100k texts would
take longer than the measurement and tells nothing about query time). Queries are the paraphrases of
tests/data/retrieval_queries.yaml plus real aliases, each timed as ``KnowledgeBase.search`` runs it:
encode the query, then rank.

    .venv/bin/python benchmarks/retrieval.py [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from components_db.catalog import load_catalog
from components_db.embeddings import encode
from components_db.retrieval import SearchIndex, retrieval_text
from components_db.schema import Part

SIZES = (1_000, 10_000, 100_000)
TARGET_P50_MS = {1_000: 10.0, 100_000: 60.0}
QUERY_FILE = Path(__file__).parents[1] / "tests" / "data" / "retrieval_queries.yaml"
NOISE = 0.05
SEED = 0


def synthetic_catalog(parts: list[Part], vectors: np.ndarray, size: int) -> tuple[list[Part], np.ndarray]:
    """``size`` parts cycling through ``parts``; the originals first, then renamed copies."""
    rng = np.random.default_rng(SEED)
    copies: list[Part] = []
    rows = np.arange(size) % len(parts)
    for i, row in enumerate(rows.tolist()):
        part = parts[row]
        if i < len(parts):
            copies.append(part)
            continue
        copies.append(
            part.model_copy(
                update={
                    "id": f"{part.id}-v{i}",
                    "name": f"{part.name} variant {i}",
                    "aliases": [f"{alias} v{i}" for alias in part.aliases],
                }
            )
        )
    noisy = vectors[rows] + rng.normal(0.0, NOISE, size=(size, vectors.shape[1])).astype(np.float32)
    originals = min(size, len(parts))
    noisy[:originals] = vectors[:originals]
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return copies, noisy


def queries(parts: list[Part]) -> list[str]:
    paraphrases = [q["query"] for q in yaml.safe_load(QUERY_FILE.read_text(encoding="utf-8"))]
    aliases = [part.aliases[0] for part in parts if part.aliases]
    return paraphrases + aliases[::3]


def query_latencies_ms(index: SearchIndex, texts: list[str]) -> list[float]:
    for text in texts[:5]:  # warm-up
        index.search(text, encode([text])[0], top=5)
    samples = []
    for text in texts:
        start = time.perf_counter()
        index.search(text, encode([text])[0], top=5)
        samples.append((time.perf_counter() - start) * 1000)
    return sorted(samples)


def retrieval_rows(sizes: tuple[int, ...] = SIZES) -> list[dict]:
    """One row per knowledge-base size: build time, query p50/p95 and the issue's target."""
    catalog = load_catalog()
    vectors = encode([retrieval_text(p) for p in catalog])
    texts = queries(catalog)
    rows = []
    for size in sizes:
        parts, matrix = synthetic_catalog(catalog, vectors, size)
        start = time.perf_counter()
        index = SearchIndex(parts, matrix)
        build_s = time.perf_counter() - start
        samples = query_latencies_ms(index, texts)
        p50 = statistics.median(samples)
        target = TARGET_P50_MS.get(size)
        rows.append(
            {
                "parts": size,
                "queries": len(samples),
                "index_build_s": round(build_s, 2),
                "p50_ms": round(p50, 2),
                "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
                "target_p50_ms": target or "",
                "ok": "" if target is None else ("yes" if p50 <= target else "NO"),
            }
        )
    return rows


def markdown(rows: list[dict]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(row[h]) for h in header) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    print(markdown(retrieval_rows(tuple(args.sizes))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
