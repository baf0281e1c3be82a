"""Property tests of the request cleaner (issue 13, "a fuzz and stress suite"): any text gives a clean
request, one line of at most ``MAX_REQUEST_CHARS`` printable characters with no model control tokens,
or a ``RequestError``; the intent reader then reads any clean request without failing."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.request import MAX_REQUEST_CHARS, CleanRequest, RequestError, clean_request
from studio.intent import RequestReader

SPECIAL = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "</s>"]
_texts = st.text() | st.lists(st.text(max_size=20) | st.sampled_from(SPECIAL), max_size=30).map("".join)
_texts |= st.text(min_size=MAX_REQUEST_CHARS - 10, max_size=3 * MAX_REQUEST_CHARS)


def cleaned_or_none(text: str | None) -> CleanRequest | None:
    try:
        return clean_request(text, special_tokens=SPECIAL)
    except RequestError:
        return None


@settings(max_examples=300, deadline=None)
@given(st.none() | _texts)
def test_any_text_gives_a_clean_request_or_a_request_error(text: str | None) -> None:
    clean = cleaned_or_none(text)
    if clean is None:
        return
    assert clean.text and clean.text == clean.text.strip() and len(clean.text) <= MAX_REQUEST_CHARS
    assert not any(unicodedata.category(c)[0] == "C" for c in clean.text)
    assert not any(token in clean.text for token in SPECIAL) and "  " not in clean.text
    assert clean_request(clean.text, special_tokens=SPECIAL) == CleanRequest(text=clean.text, notices=[])


@pytest.fixture(scope="module")
def reader(kb) -> RequestReader:
    return RequestReader(kb)


@settings(max_examples=100, deadline=None)
@given(text=_texts)
def test_any_clean_request_is_read_for_its_intent(reader, text: str) -> None:
    clean = cleaned_or_none(text)
    if clean is not None:
        reader.read(clean.text)
