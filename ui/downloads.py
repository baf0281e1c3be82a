"""The files the Export tab offers, written into a fresh folder per request: every design export
(``studio.exports.write_exports``), the design JSON itself, the steering profile and the run report."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from agents.run_report import RunReport
from spice.exports import EXPORTS
from studio.exports import write_exports
from studio.moe.profile import SteeringProfile
from ui.html import slug
from ui.session import ShownDesign, StudioError

ROOT = Path(tempfile.gettempdir()) / "moe-circuit-studio-downloads"
MAX_UPLOAD_BYTES = 2_000_000
KEEP_S = 3600  # download folders older than this are removed when a new one is made


def export_folder(root: Path = ROOT) -> Path:
    """A fresh folder for one request's files (Gradio serves copies, so old folders can go)."""
    root.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_S
    for old in root.iterdir():
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    folder = root / uuid.uuid4().hex
    folder.mkdir()
    return folder


def download_stem(shown: ShownDesign | None, report: RunReport | None) -> str:
    """The name every file of one download starts with: the design's title (else the request) as a slug,
    so the files of two designs saved in one folder never overwrite each other."""
    title = shown.design.title if shown is not None and shown.design.title else None
    return slug(title or (report.request if report is not None else None))


def write_downloads(
    shown: ShownDesign | None, profile: SteeringProfile | None, report: RunReport | None, folder: Path
) -> list[Path]:
    """Write what exists, each file named ``<design slug>.<kind>`` (``esp32-dht22-relay.circuit.json``); a
    design the knowledge base cannot resolve raises ``ExportError`` before any design file is written (the
    profile and report are still written first)."""
    stem = download_stem(shown, report)
    return [path.rename(path.with_name(f"{stem}.{path.name}")) for path in _write(shown, profile, report, folder)]


def _write(
    shown: ShownDesign | None, profile: SteeringProfile | None, report: RunReport | None, folder: Path
) -> list[Path]:
    files: list[Path] = []
    if profile is not None:
        files.append(folder / "profile.json")
        profile.save(files[-1])
    if report is not None:
        files.append(folder / "report.json")
        files[-1].write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    if shown is not None:
        written = write_exports(shown.resolved, folder, exports=EXPORTS)
        files = list(written.values()) + files
        files.append(folder / "design.json")
        data = shown.design.model_dump(mode="json", exclude_none=True)
        files[-1].write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return files


def read_upload(path: str | Path | None, what: str, *, suffix: str | None = None) -> str:
    """An uploaded text file's content, refused readably when missing, of another kind (``suffix``), huge
    or not UTF-8."""
    if not path:
        raise StudioError(f"choose a {what} file first")
    file = Path(path)
    if suffix and file.suffix.lower() != suffix:
        raise StudioError(f"{file.name} is not a {what} file: choose a {suffix} file")
    if file.stat().st_size > MAX_UPLOAD_BYTES:
        raise StudioError(f"the {what} file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StudioError(f"the {what} file is not UTF-8 text") from None
