"""The one reader of user documents refuses every hostile shape with a DocumentError, never another error."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components_db.documents import DocumentError, parse_json, parse_yaml, read_text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": 1, "a": 2}', "given twice"),
        ("[NaN]", "finite"),
        ("[Infinity]", "finite"),
        ("[1e999]", "only finite numbers"),
        ("1" + "0" * 5000, "digits"),
        ("[" * 100_000, "nested deeper"),
        ('{"a": ' * 50 + "1" + "}" * 50, "nested deeper"),
        ("{", "not valid JSON"),
    ],
)
def test_hostile_json_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        parse_json(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: 1\na: 2\n", "given twice"),
        ("x: .inf\n", "finite"),
        ("x: [.nan]\n", "finite"),
        ("x: 1" + "0" * 5000, "digits"),
        ("a: &x [1, 2]\nb: *x\n", "aliases"),
        ("- " * 100_000 + "x", "nested deeper"),
        ('x: !!python/object/apply:os.system ["true"]', "not valid YAML"),
        ("x: [", "not valid YAML"),
    ],
)
def test_hostile_yaml_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        parse_yaml(text)


def test_ordinary_documents_read_as_before() -> None:
    assert parse_json('{"parts": [{"ref": "R1", "value": 1.5e3}], "n": -3}') == {
        "parts": [{"ref": "R1", "value": 1500.0}],
        "n": -3,
    }
    assert parse_yaml("id: led-red\npins: [{number: '1', v: 2.0}]\n") == {
        "id": "led-red",
        "pins": [{"number": "1", "v": 2.0}],
    }


@pytest.mark.parametrize("path", ["/proc/self/status", "/dev/zero", "/dev/null", "/"])
def test_special_files_and_folders_are_not_read(path: str) -> None:
    with pytest.raises(DocumentError, match=r"not a regular file|is a folder"):
        read_text(Path(path), 1000)


def test_missing_large_and_binary_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="No such file"):
        read_text(tmp_path / "missing.json", 1000)
    big = tmp_path / "big.json"
    big.write_text("x" * 2001)
    with pytest.raises(DocumentError, match="larger than 2 kB"):
        read_text(big, 2000, "design")
    binary = tmp_path / "profile.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(DocumentError, match="not UTF-8"):
        read_text(binary, 1000)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.text() | _json_values.map(json.dumps))
def test_any_json_text_gives_a_value_or_a_document_error(text: str) -> None:
    with contextlib.suppress(DocumentError):
        parse_json(text)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_yaml_text_gives_a_value_or_a_document_error(text: str) -> None:
    with contextlib.suppress(DocumentError):
        parse_yaml(text)
