"""Which model the pipeline runs on: the bundled one by default, or any MoE by hub id or local path.
The CLI, the studio and the benchmarks all open models here.

A model folder may carry ``circuit_studio.json``: the pipeline settings it was trained for (the bundled
model: compact prompts) and ``runtime.torch_threads``, torch's thread count while it runs unless
``OMP_NUM_THREADS`` says otherwise (the bundled model decodes faster on one thread). Any other model
gets the defaults.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from pydantic import BaseModel, PositiveInt, ValidationError

from agents.orchestrator import PipelineSettings
from components_db.documents import DocumentError, read_json
from components_db.refusal import Refusal
from studio.moe.distributed import Plan
from studio.moe.engine import MoEEngine

BUNDLED_DIR = Path(__file__).parent / "bundled_model" / "weights"
SETTINGS_FILE = "circuit_studio.json"
MAX_SETTINGS_BYTES = 100_000
BUNDLED_NAME = "bundled"


class ModelNotAvailable(Refusal, RuntimeError):
    """The requested model cannot be opened here; the message says what to do."""


def resolve_model(model: str | None) -> str:
    """``None`` or "bundled" -> the bundled model's folder; anything else is passed on as given."""
    if model in (None, "", BUNDLED_NAME):
        if not (BUNDLED_DIR / "config.json").is_file():
            raise ModelNotAvailable(
                f"the bundled model is not in {BUNDLED_DIR}; train it with `circuit-studio train` "
                "or pass --model with a hub id or a local MoE checkpoint"
            )
        return str(BUNDLED_DIR)
    return model


class RuntimeSettings(BaseModel):
    torch_threads: PositiveInt | None = None  # None: leave torch's thread count as it is


class FolderSettings(BaseModel):
    """What a model folder's ``circuit_studio.json`` asks for (all defaults when it has none)."""

    pipeline: PipelineSettings = PipelineSettings()
    runtime: RuntimeSettings = RuntimeSettings()


def folder_settings(source: str) -> FolderSettings:
    """The settings of a model folder (or hub id: the defaults); a malformed file is refused."""
    path = Path(source) / SETTINGS_FILE
    if not path.exists():
        return FolderSettings()
    try:
        return FolderSettings.model_validate(read_json(path, MAX_SETTINGS_BYTES, "settings file"))
    except DocumentError as exc:
        raise ModelNotAvailable(str(exc)) from None
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise ModelNotAvailable(f"{path}: {reasons}") from None


def open_engine(model: str | None = None) -> tuple[MoEEngine, PipelineSettings]:
    """The engine and its pipeline settings; never downloads when the hub is offline (the default)."""
    engine, settings = _open(model, None)
    assert engine is not None
    return engine, settings


def open_distributed_engine(model: str | None, plan: Plan) -> tuple[MoEEngine, PipelineSettings] | None:
    """Under ``torchrun``: the model split across the ranks by ``plan``. Rank 0 gets the engine that serves;
    every other rank follows rank 0's calls until it closes its engine, then gets None
    (``studio.moe.replicated``)."""
    engine, settings = _open(model, plan)
    return (engine, settings) if engine is not None else None


def _open(model: str | None, plan: Plan | None) -> tuple[MoEEngine | None, PipelineSettings]:
    source = resolve_model(model)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = folder_settings(source)
    threads = settings.runtime.torch_threads
    if threads is not None and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(threads)
    name = BUNDLED_NAME if source == str(BUNDLED_DIR) else source
    try:
        if plan is None:
            return MoEEngine.load(source, name=name), settings.pipeline
        from studio.moe.replicated import open_replicated

        return open_replicated(source, plan, name=name), settings.pipeline
    except OSError as exc:
        raise ModelNotAvailable(f"cannot open model {source!r}: {exc}") from None
