"""SQLite persistence of parts: ``kb.sqlite`` (the compiled curated data) and ``user_parts.sqlite``.

Both files have the same schema::

    parts(id            TEXT PRIMARY KEY,  -- Part.id
          body          TEXT NOT NULL,     -- the validated Part as JSON
          content_hash  TEXT NOT NULL,     -- sha256 of body: an incremental rebuild rewrites only changed rows
          embedding_key TEXT NOT NULL,     -- sha256 of model name + retrieval text the embedding was made from
          embedding     BLOB NOT NULL)     -- DIM little-endian float32, L2-normalised
    meta(key TEXT PRIMARY KEY, value TEXT) -- schema_version; catalog_digest (kb.sqlite: the curated
                                           -- files it was compiled from, so an unchanged catalog is not re-read)

Every write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``) in SQLite's rollback-journal mode,
so a process that dies mid-write leaves the file holding exactly what it held before, and writers
queue: a check made on ``Transaction.load`` still holds when the transaction commits. A connection
is opened per operation, which keeps the store safe to use from any thread.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from components_db.embeddings import DIM
from components_db.refusal import Refusal
from components_db.schema import Part

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS parts (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    embedding_key TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class StoreError(Refusal, RuntimeError):
    """A database file this version of the studio cannot read."""


def part_body(part: Part) -> str:
    return part.model_dump_json(exclude_defaults=True)


def content_hash(part: Part) -> str:
    return hashlib.sha256(part_body(part).encode()).hexdigest()


@dataclass(frozen=True)
class StoredPart:
    part: Part
    content_hash: str
    embedding_key: str
    embedding: np.ndarray


@dataclass(frozen=True)
class Contents:
    """What a store holds: the parts that validate, and the ids of the rows that do not.

    A row that no longer validates (written by an older version that let a non-finite number through,
    or edited by hand) is left out rather than failing every read, so it can be named and removed.
    """

    parts: list[StoredPart]
    unreadable: list[str]


def _read(connection: sqlite3.Connection) -> Contents:
    rows = connection.execute(
        "SELECT id, body, content_hash, embedding_key, embedding FROM parts ORDER BY id"
    ).fetchall()
    parts: list[StoredPart] = []
    unreadable: list[str] = []
    for part_id, body, digest, key, blob in rows:
        try:
            part = Part.model_validate_json(body)
        except ValueError:  # pydantic's ValidationError, for a bad value and for bad JSON alike
            unreadable.append(part_id)
            continue
        parts.append(StoredPart(part, digest, key, from_blob(blob)))
    return Contents(parts, unreadable)


@dataclass(frozen=True)
class RowState:
    """What an incremental rebuild compares, without parsing the part."""

    content_hash: str
    embedding_key: str


class Transaction:
    """The writes of one transaction; obtained from ``PartStore.transaction``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def load(self) -> Contents:
        """The rows as they are inside this transaction: what a check before a write must look at."""
        return _read(self._connection)

    def put(self, part: Part, embedding_key: str, embedding: np.ndarray) -> None:
        body = part_body(part)
        self._connection.execute(
            "INSERT OR REPLACE INTO parts (id, body, content_hash, embedding_key, embedding) VALUES (?, ?, ?, ?, ?)",
            (part.id, body, hashlib.sha256(body.encode()).hexdigest(), embedding_key, to_blob(embedding)),
        )

    def delete(self, part_id: str) -> None:
        self._connection.execute("DELETE FROM parts WHERE id = ?", (part_id,))

    def set_meta(self, key: str, value: str) -> None:
        self._connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


class PartStore:
    """One SQLite file of parts with their embeddings."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as connection:
            connection.executescript(_SCHEMA)
            # OR IGNORE: two processes may create the file at the same moment
            connection.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            (version,) = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version != SCHEMA_VERSION:
                raise StoreError(f"{path}: schema version {version}, this studio reads version {SCHEMA_VERSION}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as connection:
            yield connection

    def meta(self, key: str) -> str | None:
        with self._connect() as connection:
            row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def states(self) -> dict[str, RowState]:
        with self._connect() as connection:
            rows = connection.execute("SELECT id, content_hash, embedding_key FROM parts").fetchall()
        return {part_id: RowState(digest, key) for part_id, digest, key in rows}

    def embeddings(self) -> dict[str, np.ndarray]:
        with self._connect() as connection:
            rows = connection.execute("SELECT id, embedding FROM parts").fetchall()
        return {part_id: from_blob(blob) for part_id, blob in rows}

    def load(self) -> Contents:
        """Every part, ordered by id. Rows were validated when written; they are validated again here."""
        with self._connect() as connection:
            return _read(connection)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """All writes inside the block commit together, or not at all."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")


def to_blob(vector: np.ndarray) -> bytes:
    """One embedding as it is stored in SQLite: DIM little-endian float32."""
    return np.asarray(vector, dtype="<f4").reshape(DIM).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)
