"""Finding parts from descriptions that never name them (tests/data/retrieval_queries.yaml)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from components_db.retrieval import MIN_KEY_LENGTH, compact

QUERIES = Path(__file__).parents[1] / "data" / "retrieval_queries.yaml"
TOP = 3
REQUIRED_RECALL = 0.95


def load_queries(kb) -> list[dict]:
    """Queries whose part exists in the catalog now (the curated data grows over time)."""
    return [q for q in yaml.safe_load(QUERIES.read_text(encoding="utf-8")) if kb.get(q["part"]) is not None]


def test_the_query_file_covers_every_category(kb):
    queries = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    assert len(queries) >= 70
    categories = {p.category for p in kb.parts()}
    covered = {kb.get(q["part"]).category for q in load_queries(kb)}
    assert covered == categories


def test_queries_do_not_name_their_part(kb):
    naming = []
    for q in load_queries(kb):
        part = kb.get(q["part"])
        words = re.findall(r"[a-z0-9]+", q["query"].lower())
        phrases = {"".join(words[i : i + n]) for n in range(1, 5) for i in range(len(words))}
        named = [t for t in [part.id, *part.aliases] if len(compact(t)) >= MIN_KEY_LENGTH and compact(t) in phrases]
        if named:
            naming.append(f"{q['query']!r} names {part.id} by {named}")
    assert not naming, "\n".join(naming)


def test_paraphrased_queries_find_their_part_in_the_top_3(kb):
    queries = load_queries(kb)
    misses = []
    for q in queries:
        hits = kb.search(q["query"], top=TOP)
        if q["part"] not in [h.part_id for h in hits]:
            misses.append(f"{q['query']!r}: wanted {q['part']}, got {[h.part_id for h in hits]}")
    recall = 1 - len(misses) / len(queries)
    print(f"\nparaphrase recall@{TOP}: {recall:.1%} over {len(queries)} queries; misses:\n" + "\n".join(misses))
    assert recall >= REQUIRED_RECALL, "\n".join(misses)
