"""Ranking: exact names first, part numbers inside a query, near-miss part numbers, meaning."""

from __future__ import annotations

import numpy as np
import pytest

from components_db.retrieval import SearchIndex, compact


def test_every_id_and_alias_ranks_its_part_first_even_against_meaning(kb):
    """The query vector is another part's own embedding, so meaning points at the wrong part."""
    parts = kb.parts()
    vectors = np.random.default_rng(0).standard_normal((len(parts), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = SearchIndex(parts, vectors)
    for row, part in enumerate(parts):
        decoy = vectors[(row + 1) % len(parts)]
        for text in [part.id, *part.aliases]:
            top = index.search(text, decoy, top=3)[0]
            assert top.part_id == part.id, (text, top)
            assert top.score == 1.0 and top.matched.startswith("exact")


def test_ids_and_aliases_rank_first_through_the_knowledge_base(kb):
    for part_id in ["dht22", "esp32-devkit-v1", "resistor", "led-red", "lm7805"]:
        part = kb.get(part_id)
        for text in [part.id, *part.aliases[:2]]:
            assert kb.search(text, top=3)[0].part_id == part_id, text


def test_exact_match_ignores_case_spaces_and_punctuation(kb):
    hits = kb.search("  DHT 22 ", top=5)
    assert hits[0].part_id == "dht22" and hits[0].matched == "exact id"
    assert all(h.score < 1.0 for h in hits[1:])


def test_an_exact_name_ranks_first(kb):
    part = kb.get("bme280")
    assert kb.search(part.name.upper(), top=1)[0].part_id == "bme280"


def test_part_numbers_inside_a_sentence_are_found(kb):
    hits = kb.search("an esp32 that reads a dht22 and switches a relay", top=4)
    ids = [h.part_id for h in hits]
    assert {"esp32-devkit-v1", "dht22"} <= set(ids[:3]), hits
    assert any("in query" in h.matched for h in hits)


@pytest.mark.parametrize(
    ("typo", "part_id"), [("dht23 humidity", "dht22"), ("bme208 sensor", "bme280"), ("arduino unoo", "arduino-uno")]
)
def test_mistyped_part_numbers_still_find_the_part(kb, typo, part_id):
    hits = kb.search(typo, top=3)
    assert part_id in [h.part_id for h in hits], hits


def test_nearest_suggests_known_parts_for_an_unknown_name(kb):
    near = kb.nearest("dht-23", n=3)
    assert len(near) == 3 and near[0].part_id == "dht22"


def test_hits_are_ranked_and_bounded(kb):
    hits = kb.search("temperature sensor", top=4)
    assert len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0.0 <= h.score < 1.0 for h in hits)
    assert kb.search("   ", top=5) == []
    assert kb.search("temperature", top=0) == []


def test_index_with_a_tie_orders_by_id(kb):
    parts = [kb.get("led-red"), kb.get("dht22")]
    vectors = np.eye(2, 384, dtype=np.float32)
    index = SearchIndex(parts, vectors)
    hits = index.search("something unrelated", np.zeros(384, dtype=np.float32), top=2)
    assert [h.part_id for h in hits] == ["dht22", "led-red"]
    with pytest.raises(ValueError, match="2 parts but 1 embeddings"):
        SearchIndex(parts, vectors[:1])


def test_compact_form():
    assert compact("HC-SR04 ") == "hcsr04"
    assert compact("ESP32 DevKit v1") == "esp32devkitv1"
