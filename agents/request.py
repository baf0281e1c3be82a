"""The user's request as the pipeline reads it: never empty, bounded, free of control characters and of
the markers a tokenizer would read as special tokens (so a request cannot close a prompt and open a new
one). What was changed is said in ``notices``, never done silently."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from components_db.refusal import Refusal

MAX_REQUEST_CHARS = 1000
_MARKER = re.compile(r"<\|[^|<>]{0,40}\|>|</?s>")


class RequestError(Refusal, ValueError):
    """A request the pipeline cannot start from (empty, or nothing left after cleaning)."""


class CleanRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    notices: list[str]


def clean_request(text: str | None, *, special_tokens: Iterable[str] = ()) -> CleanRequest:
    """One line of at most ``MAX_REQUEST_CHARS`` characters, or a ``RequestError`` saying why not."""
    if text is None or not text.strip():
        raise RequestError("the request is empty: describe the circuit, e.g. 'ESP32 reads a DHT22 and switches a fan'")
    notices: list[str] = []
    printable = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    stripped = _MARKER.sub(" ", printable)
    for token in sorted(set(special_tokens), key=len, reverse=True):
        if len(token) > 1:
            stripped = stripped.replace(token, " ")
    if stripped != printable:
        notices.append("removed text that looked like model control tokens from the request")
    cleaned = " ".join(stripped.split())
    if not cleaned:
        raise RequestError("the request holds no readable text after removing control characters")
    if len(cleaned) > MAX_REQUEST_CHARS:
        cut = cleaned[:MAX_REQUEST_CHARS]
        cut = cut[: cut.rfind(" ")] if " " in cut[MAX_REQUEST_CHARS // 2 :] else cut
        notices.append(f"the request was {len(cleaned):,} characters long; only the first {len(cut):,} were used")
        cleaned = cut
    return CleanRequest(text=cleaned, notices=notices)
