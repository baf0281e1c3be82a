"""The ONNX Runtime path of the embedding model: the same vectors as the torch reference, exported once
into the studio home and reused, a broken file exported again, and torch as the warned fallback.

The real export happens once per test run (tests/conftest.py shares the session home's models/
between xdist workers); tests that need an export in another home copy that file or stand in a copy
for the export, so no test pays for a second one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from components_db import embeddings
from components_db.embeddings import DIM, OnnxBackend, encode, onnx_path, torch_encode

TEXTS = [
    "a red LED",
    "",
    "measure distance with ultrasound",
    "ESP32 reads a DHT22 and switches a 12 V fan through a relay module",
    "Température et humidité — capteur numérique, ±0.5 °C",
    "I2C 16x2 character LCD with a PCF8574 backpack",
]
LONG = " ".join(f"sensor{i} reads voltage" for i in range(200))  # well over 256 tokens


@pytest.fixture(scope="session")
def exported(embedder) -> Path:
    """The session's ONNX file, made (or found) by the first ``encode``."""
    assert embeddings.backend_name() == "onnx"
    path = onnx_path()
    assert path.is_file()
    return path


@pytest.fixture
def fresh_home(tmp_path, monkeypatch) -> Path:
    """An empty studio home as ``$CIRCUIT_STUDIO_HOME``, with ``encode`` choosing its backend anew."""
    monkeypatch.setenv("CIRCUIT_STUDIO_HOME", str(tmp_path))
    monkeypatch.setattr(embeddings, "_backend", None)
    return tmp_path


def copying_export(source: Path, calls: list[Path]):
    """Stands in for ``export_onnx``: records the call and puts a copy of a real export in place."""

    def export(path: Path) -> None:
        calls.append(path)
        shutil.copy(source, path)

    return export


def test_single_texts_equal_the_torch_reference(exported):
    for text in [*TEXTS, LONG]:
        onnx_vector = encode([text])
        assert onnx_vector.shape == (1, DIM) and onnx_vector.dtype == np.float32
        np.testing.assert_allclose(onnx_vector, torch_encode([text]), atol=1e-5, err_msg=text[:40])


def test_a_padded_batch_of_mixed_lengths_equals_the_torch_reference(exported):
    tokenizer = embeddings._tokenizer()
    assert len(tokenizer.encode(LONG).ids) == 256
    tokenizer.no_truncation()
    assert len(tokenizer.encode(LONG).ids) > 256
    texts = [*TEXTS, LONG, *reversed(TEXTS)]  # one batch, every row padded to the truncated LONG
    onnx_vectors = encode(texts)
    assert onnx_vectors.shape == (len(texts), DIM) and onnx_vectors.flags.c_contiguous
    np.testing.assert_allclose(onnx_vectors, torch_encode(texts), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    # padding does not leak into a text's vector
    np.testing.assert_allclose(onnx_vectors[0], encode([TEXTS[0]])[0], atol=1e-6)


def test_more_texts_than_a_batch_equal_the_torch_reference(exported):
    texts = [f"{text} #{i}" for i, text in enumerate(TEXTS * 12)]  # 72 texts: batches of 64 and 8
    assert len(texts) > embeddings.BATCH
    onnx_vectors = encode(texts)
    assert onnx_vectors.shape == (72, DIM)
    np.testing.assert_allclose(onnx_vectors, torch_encode(texts), atol=1e-5)


def test_texts_are_truncated_at_the_models_256_tokens(exported):
    assert embeddings.max_seq_length() == 256  # sentence-transformers' length, not tokenizer.json's 128
    tail_a, tail_b = LONG + " relay motor driver", LONG + " a completely different ending"
    np.testing.assert_array_equal(encode([tail_a]), encode([tail_b]))


def test_the_file_is_named_for_the_weights_and_the_exporter(exported, monkeypatch, tmp_path):
    name = exported.name
    assert name.startswith(f"{embeddings.MODEL_NAME}-{embeddings.weights_digest()[:16]}-")
    assert f"-opset{embeddings.OPSET}-" in name and embeddings.EXPORTER in name
    monkeypatch.setattr(embeddings, "weights_digest", lambda: "0" * 64)
    assert onnx_path(tmp_path).name != name  # changed weights: another file, exported anew


def test_an_existing_export_is_reused_not_exported_again(exported, fresh_home, monkeypatch):
    target = onnx_path()
    target.parent.mkdir()
    shutil.copy(exported, target)
    before = target.stat().st_mtime_ns
    calls: list[Path] = []
    monkeypatch.setattr(embeddings, "export_onnx", copying_export(exported, calls))
    for _ in range(2):
        OnnxBackend(target)
    vectors = encode(["a red LED"])
    assert calls == [] and target.stat().st_mtime_ns == before
    assert embeddings.backend_name() == "onnx"
    np.testing.assert_allclose(vectors, torch_encode(["a red LED"]), atol=1e-5)


def test_a_missing_export_is_made_once_even_by_racing_threads(exported, fresh_home, monkeypatch):
    calls: list[Path] = []
    real = copying_export(exported, calls)

    def slow_export(path: Path) -> None:
        time.sleep(0.3)  # long enough for the other threads to find no file and wait on the lock
        real(path)

    monkeypatch.setattr(embeddings, "export_onnx", slow_export)
    backends: list[OnnxBackend] = []
    threads = [threading.Thread(target=lambda: backends.append(OnnxBackend(onnx_path()))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [onnx_path()] and len(backends) == 3
    assert not list(onnx_path().parent.glob("*.tmp"))


@pytest.mark.parametrize("garbage", [b"", b"not an onnx model at all\x00\xff" * 100, "truncated"])
def test_a_corrupted_export_is_discarded_with_a_warning_and_exported_again(exported, fresh_home, monkeypatch, garbage):
    target = onnx_path()
    target.parent.mkdir()
    if garbage == "truncated":
        target.write_bytes(exported.read_bytes()[: exported.stat().st_size // 2])
    else:
        target.write_bytes(garbage)
    calls: list[Path] = []
    monkeypatch.setattr(embeddings, "export_onnx", copying_export(exported, calls))
    with pytest.warns(RuntimeWarning, match="discarding unreadable .* exporting it again"):
        vectors = encode(TEXTS)
    assert calls == [target] and embeddings.backend_name() == "onnx"
    assert target.read_bytes()[:64] == exported.read_bytes()[:64]
    np.testing.assert_allclose(vectors, torch_encode(TEXTS), atol=1e-5)


def test_a_loadable_file_of_other_weights_is_refused(exported, monkeypatch):
    backend = OnnxBackend(exported)
    backend._check(backend.session)  # the real file passes its self-check
    monkeypatch.setattr(embeddings, "weights_digest", lambda: "f" * 64)  # as if the wheel's weights changed
    with pytest.raises(ValueError, match="exported from other weights"):
        backend._check(backend.session)
    monkeypatch.undo()
    monkeypatch.setattr(embeddings, "PROBE", ("a different probe", "b"))  # other vectors than the stored ones
    with pytest.raises(ValueError, match="vectors differ"):
        backend._check(backend.session)


def test_a_failing_export_falls_back_to_torch_with_one_warning(exported, fresh_home, monkeypatch):
    def broken_export(path: Path) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(embeddings, "export_onnx", broken_export)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        first = encode(TEXTS)
        second = encode(["a red LED"])
    fallbacks = [w for w in record if "falling back to torch" in str(w.message)]
    assert len(fallbacks) == 1 and "exporter exploded" in str(fallbacks[0].message)
    assert fallbacks[0].category is RuntimeWarning
    assert embeddings.backend_name() == "torch"
    np.testing.assert_array_equal(first, torch_encode(TEXTS))
    assert second.shape == (1, DIM)


def test_a_missing_onnxruntime_falls_back_without_touching_the_export(exported, fresh_home, monkeypatch):
    target = onnx_path()
    target.parent.mkdir()
    shutil.copy(exported, target)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    with pytest.warns(RuntimeWarning, match="ONNX embedding unavailable .*onnxruntime.*falling back to torch"):
        encode(["x"])
    assert embeddings.backend_name() == "torch"
    assert target.read_bytes() == exported.read_bytes()


def test_encoding_from_several_threads_gives_the_serial_results(exported):
    expected = encode(TEXTS)
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = encode(TEXTS)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    for vectors in results.values():
        np.testing.assert_array_equal(vectors, expected)


def test_a_query_with_an_existing_export_imports_neither_torch_nor_sentence_transformers(exported):
    code = (
        "import sys; from components_db.embeddings import encode, backend_name; encode(['x']); "
        "print(backend_name(), 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    env = {**os.environ, "CIRCUIT_STUDIO_HOME": str(exported.parent.parent)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["onnx", "False", "False"]
