"""Many requests in one run (`circuit-studio design --batch FILE`): the file read into (id, request)
pairs, and the line of ``index.jsonl`` each run leaves.

A batch file is JSONL, one object per line with an ``id`` and a ``prompt`` (other fields are kept out of
the way, so a benchmark file works as it is), or plain text with one request per line (ids ``r001``,
``r002``, ...). Each id names a folder, so it is held to letters, digits, ``-``, ``_`` and ``.``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from agents.run_report import RunReport, Status
from components_db.documents import DocumentError, json_record, read_lines
from components_db.refusal import Refusal

MAX_BATCH = 10_000
MAX_BATCH_BYTES = 20_000_000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class BatchError(Refusal, ValueError):
    """A batch file that cannot be used; the message names the file and line."""


class BatchRequest(BaseModel):
    id: str
    prompt: str


class BatchRow(BaseModel):
    """One line of ``index.jsonl``."""

    id: str
    status: Status
    error: str | None = None
    erc: str  # "pass", "fail" or "none" (no design)
    intent_score: float | None = None
    right: bool  # the ERC passes and the intent is met
    seconds: float

    @classmethod
    def of(cls, request_id: str, report: RunReport) -> BatchRow:
        check = report.check
        return cls(
            id=request_id,
            status=report.status,
            error=report.error,
            erc="none" if check is None else "pass" if check.passed else "fail",
            intent_score=check.intent.score if check is not None and check.intent is not None else None,
            right=report.right,
            seconds=report.total_seconds,
        )

    def line(self) -> str:
        """The progress line: "b001 ok ERC pass intent 1.00 right 2.1 s"."""
        intent = f" intent {self.intent_score:.2f}" if self.intent_score is not None else ""
        stopped = f" ({self.error})" if self.error else ""
        return (
            f"{self.id} {self.status}{stopped} ERC {self.erc}{intent} {'right' if self.right else 'not right'} "
            f"{self.seconds:.1f} s"
        )


def read_batch(path: Path) -> list[BatchRequest]:
    try:
        lines = read_lines(path, MAX_BATCH_BYTES, "batch of requests")
    except DocumentError as exc:
        raise BatchError(str(exc)) from None
    if not lines:
        raise BatchError(f"{path}: no requests (the file is empty)")
    if len(lines) > MAX_BATCH:
        raise BatchError(f"{path}: {len(lines):,} requests; a batch holds at most {MAX_BATCH:,}")
    as_json = path.suffix == ".jsonl" or lines[0][1].startswith("{")
    requests = [_json_line(path, n, line) for n, line in lines] if as_json else _text_lines(lines)
    seen: set[str] = set()
    for request in requests:
        if request.id in seen:
            raise BatchError(f"{path}: the id {request.id!r} is used twice; ids name the output folders")
        seen.add(request.id)
    return requests


def _json_line(path: Path, number: int, line: str) -> BatchRequest:
    try:
        data = json_record(path, number, line, "prompt", ' (and an "id")')
    except DocumentError as exc:
        raise BatchError(str(exc)) from None
    request_id = data.get("id", f"r{number:03d}")
    if not isinstance(request_id, str) or not _ID.match(request_id) or request_id in {".", ".."}:
        raise BatchError(
            f"{path}:{number}: the id {str(request_id)[:40]!r} must be 1-64 letters, digits, '-', '_' or '.' "
            "(it names a folder)"
        )
    return BatchRequest(id=request_id, prompt=data["prompt"])


def _text_lines(lines: list[tuple[int, str]]) -> list[BatchRequest]:
    width = max(3, len(str(len(lines))))
    return [BatchRequest(id=f"r{i:0{width}d}", prompt=line) for i, (_, line) in enumerate(lines, start=1)]
