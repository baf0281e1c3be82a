"""Ranking parts for a query: exact names, part numbers inside the query, near-miss part numbers,
keywords and sentence-embedding similarity, fused into one list of ``SearchHit``.

1. A query equal to a part's id, alias or name (ignoring case, spaces and punctuation) ranks that
   part first, with score 1.0.
2. Every other part scores ``SEMANTIC_WEIGHT * cosine + KEYWORD_WEIGHT * tf-idf + NAME_WEIGHT * name``.
   The cosine compares sentence embeddings (meaning); tf-idf compares the words of the query with
   the part's description and notes (rare words such as "Sensirion" or "flyback" that a small
   embedding model blurs); ``name`` is 1 when one of the part's part numbers (an id or alias with a
   digit) appears in the query as a phrase ("esp32 reads a dht22"), ``WORD_CONTAINMENT`` when a
   plain-word alias does ("relay"), and scales with the rapidfuzz ratio when a part number nearly
   appears (a typo, "ssd1036"). Plain words count for less because a description mentions other
   parts ("a 12 V motor's spike" asks for a diode).

Fuzzy matching runs over a candidate set only (the ``CANDIDATES`` best by meaning and keywords plus
the parts whose names appear in the query), so a query costs one matrix-vector product, one sparse
product, a dictionary lookup per query phrase and a few hundred string comparisons.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel
from rapidfuzz import fuzz, process

from components_db.schema import Category, Part

SEMANTIC_WEIGHT = 0.6
KEYWORD_WEIGHT = 0.2
NAME_WEIGHT = 0.2
CANDIDATES = 40  # shortlist that fuzzy matching re-scores
MAX_PHRASE_WORDS = 4  # longest query phrase looked up as a part number or alias
MIN_KEY_LENGTH = 3  # shorter aliases only count when they are the whole query
WORD_CONTAINMENT = 0.3  # lexical score of a plain-word alias found in the query
FUZZY_FLOOR = 75.0  # rapidfuzz ratio below which a near-miss counts for nothing
MAX_QUERY_CHARS = 1000


class SearchHit(BaseModel):
    part_id: str
    name: str
    category: Category
    score: float  # 1.0 for an exact match; otherwise the fused score in [0, 1)
    matched: str  # what matched, for people: "exact alias 'am2302'", "semantic 0.62 + alias 'dht22' in query"


def compact(text: str) -> str:
    """The form names are compared in: lowercase letters and digits only ("HC-SR04" -> "hcsr04")."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def retrieval_text(part: Part) -> str:
    """What is embedded for a part: how people name it and what it does."""
    words = [part.name, ", ".join(part.aliases), part.category.value.replace("_", " "), part.description]
    return ". ".join(w for w in words if w) + (" " + " ".join(part.tags) if part.tags else "")


def keyword_text(part: Part) -> str:
    """What tf-idf indexes: the embedded text plus maker and usage notes."""
    return " ".join([retrieval_text(part), part.manufacturer or "", *part.usage.notes])


@dataclass(frozen=True)
class _Key:
    row: int
    kind: str  # id | alias | name
    text: str

    @property
    def is_part_number(self) -> bool:
        return self.kind != "name" and any(c.isdigit() for c in self.text)


class SearchIndex:
    """An immutable index over parts and their embeddings (row i of ``vectors`` belongs to ``parts[i]``)."""

    def __init__(self, parts: Sequence[Part], vectors: np.ndarray) -> None:
        if len(parts) != len(vectors):
            raise ValueError(f"{len(parts)} parts but {len(vectors)} embeddings")
        self._parts = list(parts)
        self._matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        self._keys: dict[str, list[_Key]] = {}
        self._part_numbers: list[list[str]] = []  # per row: compact ids and aliases with a digit, for fuzzy matching
        for row, part in enumerate(self._parts):
            named = [
                _Key(row, "id", part.id),
                *(_Key(row, "alias", a) for a in part.aliases),
                _Key(row, "name", part.name),
            ]
            for key in named:
                self._keys.setdefault(compact(key.text), []).append(key)
            self._part_numbers.append(sorted({compact(k.text) for k in named if k.is_part_number}))
        from sklearn.feature_extraction.text import TfidfVectorizer  # here: importing scikit-learn takes a second

        tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english", dtype=np.float32)
        # terms x parts: a query's scores are a weighted sum of the rows of its few terms
        self._postings = tfidf.fit_transform([keyword_text(p) for p in self._parts]).T.tocsr() if parts else None
        self._analyze = tfidf.build_analyzer()
        self._vocabulary: dict[str, int] = tfidf.vocabulary_ if parts else {}
        self._idf = tfidf.idf_.astype(np.float32) if parts else np.zeros(0, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._parts)

    def search(self, query: str, query_vector: np.ndarray, top: int = 5) -> list[SearchHit]:
        """The ``top`` parts for ``query``; ``query_vector`` is its embedding (same model as the index)."""
        query = query.strip()[:MAX_QUERY_CHARS]
        if not query or not self._parts or top <= 0:
            return []
        exact: dict[int, _Key] = {}
        for key in self._keys.get(compact(query), []):
            exact.setdefault(key.row, key)  # id before alias before name
        phrases = _phrases(query)
        contained: dict[int, _Key] = {}
        for key in (k for p in phrases if len(p) >= MIN_KEY_LENGTH for k in self._keys.get(p, [])):
            if key.row not in contained or key.is_part_number > contained[key.row].is_part_number:
                contained[key.row] = key

        semantic = np.maximum(self._matrix @ np.asarray(query_vector, dtype=np.float32), 0.0)
        keywords = self._keyword_scores(query)
        base = SEMANTIC_WEIGHT * semantic + KEYWORD_WEIGHT * keywords
        shortlist = min(len(self._parts), max(CANDIDATES, top))
        candidates = set(np.argpartition(-base, shortlist - 1)[:shortlist].tolist())
        candidates |= exact.keys() | contained.keys()
        fuzzy = self._fuzzy(phrases, sorted(candidates - contained.keys() - exact.keys()))

        ranked: list[tuple[bool, float, str, SearchHit]] = []
        for row in candidates:
            part = self._parts[row]
            if row in exact:
                key = exact[row]
                score, matched = 1.0, f"exact {key.kind}" + (f" {key.text!r}" if key.kind == "alias" else "")
            else:
                name, why = 0.0, []
                if row in contained:
                    key = contained[row]
                    name = 1.0 if key.is_part_number else WORD_CONTAINMENT
                    why.append(f"{key.kind} {key.text!r} in query")
                elif row in fuzzy:
                    ratio, key_text = fuzzy[row]
                    name = (ratio - FUZZY_FLOOR) / (100.0 - FUZZY_FLOOR)
                    why.append(f"near {key_text!r} ({ratio:.0f})")
                if keywords[row] > 0:
                    why.insert(0, f"keywords {keywords[row]:.2f}")
                score = min(0.999, float(base[row]) + NAME_WEIGHT * name)
                matched = " + ".join([f"semantic {semantic[row]:.2f}", *why])
            hit = SearchHit(part_id=part.id, name=part.name, category=part.category, score=score, matched=matched)
            ranked.append((row in exact, score, part.id, hit))
        ranked.sort(key=lambda item: (not item[0], -item[1], item[2]))
        return [hit for *_, hit in ranked[:top]]

    def _keyword_scores(self, query: str) -> np.ndarray:
        """Cosine of the query's tf-idf vector with every part's (0 for parts sharing no term).

        The query vector is built as ``TfidfVectorizer.transform`` would (sublinear tf, idf, L2 norm),
        without its per-call input validation, which costs more than the product itself.
        """
        counts = Counter(self._vocabulary[t] for t in self._analyze(query) if t in self._vocabulary)
        if not counts:
            return np.zeros(len(self._parts), dtype=np.float32)
        terms = np.fromiter(counts, dtype=np.int64)
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32))) * self._idf[terms]
        weights /= np.linalg.norm(weights)
        return self._postings[terms].T @ weights

    def _fuzzy(self, phrases: list[str], rows: list[int]) -> dict[int, tuple[float, str]]:
        """Best ratio of a query phrase against each row's part numbers, where it passes FUZZY_FLOOR."""
        words = [p for p in phrases if len(p) > MIN_KEY_LENGTH and any(c.isdigit() for c in p)]
        owners = [(row, key) for row in rows for key in self._part_numbers[row] if len(key) > MIN_KEY_LENGTH]
        if not words or not owners:
            return {}
        scores = process.cdist(words, [key for _, key in owners], scorer=fuzz.ratio, score_cutoff=FUZZY_FLOOR)
        best: dict[int, tuple[float, str]] = {}
        for column, ratio in enumerate(scores.max(axis=0).tolist()):
            row, key = owners[column]
            if ratio > FUZZY_FLOOR and ratio > best.get(row, (0.0, ""))[0]:
                best[row] = (ratio, key)
        return best


def _phrases(query: str) -> list[str]:
    """Compact forms of every run of 1..MAX_PHRASE_WORDS consecutive query words."""
    words = re.findall(r"[a-z0-9]+", query.lower())
    return list(
        dict.fromkeys(
            "".join(words[i : i + n]) for n in range(1, MAX_PHRASE_WORDS + 1) for i in range(len(words) - n + 1)
        )
    )
