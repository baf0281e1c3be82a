"""Reading the files users hand the studio (part files, designs, steering profiles) without surprises.

One reader for every user document, so each refuses the same hostile inputs with one readable
``DocumentError``: not a regular file (a folder, ``/dev/zero``, a ``/proc`` file), larger than the
kind's limit, not UTF-8, not valid JSON or YAML, a key given twice (JSON would keep the last one
silently), nesting deeper than any real document, an integer too long to be a datum, or a
non-finite number (``NaN``, ``Infinity``, ``1e999``, YAML's ``.nan``/``.inf``): those become JSON
null in the database and lock every reader out, so they never get past the door. A refusal inside
the data says where (``at pins.0.max_current_ma``).
"""

from __future__ import annotations

import json
import math
import stat
from pathlib import Path

import yaml

from components_db.refusal import Refusal

MAX_DEPTH = 32  # a part is ~5 levels deep, a design 4, a profile 6
MAX_INTEGER_DIGITS = 30  # longer integers are no datasheet value; Python refuses > 4300 digits anyway


class DocumentError(Refusal, ValueError):
    """A file or text the studio refuses to read; the message is one sentence naming why."""


def read_text(path: Path, max_bytes: int, what: str = "file") -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes``."""
    try:
        info = path.stat()
    except OSError as exc:
        raise DocumentError(f"{path}: {exc.strerror or 'cannot be read'}") from None
    if stat.S_ISDIR(info.st_mode):
        raise DocumentError(f"{path}: is a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode) or str(path.resolve()).startswith(("/proc/", "/sys/", "/dev/")):
        raise DocumentError(f"{path}: not a regular file, so not a {what}")
    if info.st_size > max_bytes:
        raise DocumentError(f"{path}: larger than {_size(max_bytes)}; not a {what}")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise DocumentError(f"{path}: {exc.strerror or 'cannot be read'}") from None
    if len(data) > max_bytes:
        raise DocumentError(f"{path}: larger than {_size(max_bytes)}; not a {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentError(f"{path}: not UTF-8 text, so not a {what}") from None


def read_json(path: Path, max_bytes: int, what: str = "file") -> object:
    """A JSON file by the rules of ``read_text`` and ``parse_json``; every refusal names the file."""
    text = read_text(path, max_bytes, what)
    try:
        return parse_json(text)
    except DocumentError as exc:
        raise DocumentError(f"{path}: {exc}") from None


def read_lines(path: Path, max_bytes: int, what: str = "file") -> list[tuple[int, str]]:
    """The non-blank lines of a text file (a JSONL or one-request-per-line file), with their numbers."""
    text = read_text(path, max_bytes, what)
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def json_record(path: Path, number: int, line: str, needs: str, hint: str = "") -> dict[str, object]:
    """Line ``number`` of a JSONL file: a JSON object with a string field ``needs``; a refusal names the
    file and line (``hint`` says what else the object may hold)."""
    try:
        record = parse_json(line)
    except DocumentError as exc:
        raise DocumentError(f"{path}:{number}: {exc}") from None
    if not isinstance(record, dict) or not isinstance(record.get(needs), str):
        raise DocumentError(f'{path}:{number}: expected an object with a "{needs}" string{hint}')
    return record


def parse_json(text: str | bytes) -> object:
    """JSON with unique keys, finite numbers, short integers and at most ``MAX_DEPTH`` levels."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError("not UTF-8 text") from None
    _check_bracket_depth(text)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_int=_short_int,
        )
    except json.JSONDecodeError as exc:
        raise DocumentError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise DocumentError(f"not valid JSON: nested deeper than {MAX_DEPTH} levels") from None
    check_plain(data)
    return data


def parse_yaml(text: str) -> object:
    """YAML (safe subset) with the same guarantees as ``parse_json``; aliases are refused."""
    _check_bracket_depth(text)
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except DocumentError:
        raise
    except yaml.YAMLError as exc:
        raise DocumentError(f"not valid YAML: {_one_line(str(exc))}") from None
    except RecursionError:
        raise DocumentError(f"not valid YAML: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # an integer past Python's conversion limit
        raise DocumentError(f"an integer has more than {MAX_INTEGER_DIGITS} digits") from None
    check_plain(data)
    return data


def check_plain(data: object) -> None:
    """Refuse nesting beyond ``MAX_DEPTH``, non-finite floats and over-long integers anywhere in ``data``;
    the message says where (``at pins.0.max_current_ma``), so a long file can be fixed."""
    stack: list[tuple[object, tuple[object, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise DocumentError(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, bool):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise DocumentError(f"a number{_at(path)} is {value!r}: only finite numbers are accepted")
        if isinstance(value, int) and abs(value) >= 10**MAX_INTEGER_DIGITS:
            raise DocumentError(f"an integer has more than {MAX_INTEGER_DIGITS} digits{_at(path)}")
        if isinstance(value, dict):
            stack.extend((v, (*path, k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(value))


def _at(path: tuple[object, ...]) -> str:
    return f" at {'.'.join(str(key)[:40] for key in path)}" if path else ""


def _check_bracket_depth(text: str) -> None:
    """Refuse absurd nesting before a recursive parser sees it (a cheap over-estimate: brackets in
    strings count too, which no real document comes near)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > 4 * MAX_DEPTH:
                raise DocumentError(f"nested deeper than {MAX_DEPTH} levels")
        elif char in "]}":
            depth = max(depth - 1, 0)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise DocumentError(f"the key {key!r} is given twice")
        result[key] = value
    return result


def _short_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise DocumentError(f"an integer has more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys and anchors/aliases (the 'billion laughs'); the pure-Python
    loader, whose composer can be told to refuse aliases."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise DocumentError("YAML aliases (*name) are not accepted")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise DocumentError(f"the key {key!r} is given twice")
            seen.add(key if isinstance(key, str | int | float | bool) else id(key))
        return super().construct_mapping(node, deep=deep)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _size(n_bytes: int) -> str:
    return f"{n_bytes // 1_000_000} MB" if n_bytes >= 1_000_000 else f"{n_bytes // 1000} kB"
