"""The bundled sentence-embedding model: offline, normalised, deterministic; stored as float32 blobs."""

from __future__ import annotations

import numpy as np

from components_db.embeddings import DIM
from components_db.store import from_blob, to_blob


def test_vectors_are_normalised_float32_and_deterministic(embedder):
    vectors = embedder(["a red LED", "a red LED", "a stepper motor driver"])
    assert vectors.shape == (3, DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[1])
    assert float(vectors[0] @ vectors[2]) < 0.9


def test_similar_meanings_are_closer_than_unrelated_ones(embedder):
    lamp, light, motor = embedder(["a small lamp that glows", "an indicator light", "a stepper motor"])
    assert float(lamp @ light) > float(lamp @ motor)


def test_blob_round_trip_is_exact(embedder):
    vector = embedder(["a temperature sensor"])[0]
    blob = to_blob(vector)
    assert len(blob) == DIM * 4
    np.testing.assert_array_equal(from_blob(blob), vector)
