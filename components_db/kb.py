"""The knowledge base the studio reads parts from: the shipped parts plus the user's own.

``KnowledgeBase.open`` compiles the curated data (``load_catalog``) into ``kb.sqlite`` in the studio
home, rewriting only the parts whose content changed and embedding only the parts whose retrieval
text changed; while the curated files are byte-for-byte unchanged it does not even re-read them.
The user's parts live in ``user_parts.sqlite`` beside it. Both files are read once at open; the
search index is built in memory on the first search. Writes go to disk in one transaction, then the
in-memory view is reloaded.

Shipped parts are read-only and win: a user part may not reuse a shipped id or alias, and one that
clashes after the curated data changed is hidden and reported in ``conflicts``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from components_db.catalog import DATA_DIR, CatalogError, check_unique, load_catalog
from components_db.embeddings import DIM, MODEL_NAME, Encoder, encode
from components_db.retrieval import SearchHit, SearchIndex, compact, retrieval_text
from components_db.schema import Part
from components_db.store import PartStore, StoredPart, content_hash

HOME_ENV = "CIRCUIT_STUDIO_HOME"
BUILTIN_FILE = "kb.sqlite"
USER_FILE = "user_parts.sqlite"
CATALOG_DIGEST = "catalog_digest"

Source = Literal["builtin", "user"]


class KnowledgeBaseError(ValueError):
    """A refused change: the message names the part and what clashes."""


def default_home() -> Path:
    """``$CIRCUIT_STUDIO_HOME``, else ``~/.local/share/moe-circuit-studio``."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured) if configured else Path.home() / ".local" / "share" / "moe-circuit-studio"


def catalog_digest(data_dir: Path = DATA_DIR) -> str:
    """sha256 over the curated files' names and bytes."""
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("*.yaml")):
        digest.update(f"{path.name}\0{path.stat().st_size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def embedding_key(part: Part) -> str:
    return hashlib.sha256(f"{MODEL_NAME}\n{retrieval_text(part)}".encode()).hexdigest()


class KnowledgeBase:
    def __init__(self, builtin: PartStore, user: PartStore, encoder: Encoder) -> None:
        self._builtin_store = builtin
        self._user_store = user
        self._encode = encoder
        self._write_lock = threading.Lock()
        self._builtin: dict[str, StoredPart] = {}
        self._user: dict[str, StoredPart] = {}
        self._index_lock = threading.Lock()
        self._index: SearchIndex | None = None  # built on the first search
        self.conflicts: list[str] = []

    @classmethod
    def open(
        cls, home: Path | None = None, *, catalog: Sequence[Part] | None = None, encoder: Encoder = encode
    ) -> KnowledgeBase:
        """Open (creating or updating) the knowledge base in ``home``.

        ``catalog`` replaces the curated data (benchmarks, tests); ``encoder`` the embedding model.
        """
        home = home or default_home()
        home.mkdir(parents=True, exist_ok=True)
        kb = cls(PartStore(home / BUILTIN_FILE), PartStore(home / USER_FILE), encoder)
        if catalog is not None:
            kb._compile(list(catalog), digest="")
        elif kb._builtin_store.meta(CATALOG_DIGEST) != (digest := catalog_digest()):
            kb._compile(load_catalog(), digest)
        kb._reload()
        return kb

    # -- reading ---------------------------------------------------------------------------------

    def get(self, part_id: str) -> Part | None:
        stored = self._builtin.get(part_id) or self._user.get(part_id)
        return stored.part if stored else None

    def parts(self) -> list[Part]:
        """Shipped parts, then the user's, each ordered by id."""
        return [s.part for s in self._builtin.values()] + [s.part for s in self._user.values()]

    def source_of(self, part_id: str) -> Source | None:
        if part_id in self._builtin:
            return "builtin"
        return "user" if part_id in self._user else None

    def search(self, query: str, top: int = 5) -> list[SearchHit]:
        """Parts ranked for a name, a part number or a description of what the part does."""
        if not query.strip():
            return []
        return self._search_index().search(query, self._encode([query.strip()])[0], top)

    def nearest(self, text: str, n: int = 3) -> list[SearchHit]:
        """The known parts closest to a name the knowledge base does not know, for "did you mean ..."."""
        return self.search(text, top=n)

    # -- the user's parts ------------------------------------------------------------------------

    def add(self, part: Part) -> None:
        self.add_all([part])

    def add_all(self, parts: Sequence[Part]) -> None:
        """Add new user parts, all or none."""
        with self._write_lock:
            for part in parts:
                if part.id in self._user:
                    raise KnowledgeBaseError(f"part {part.id!r} is already one of your parts; update it instead")
            self._check_clashes(parts, replacing=set())
            self._write_user(parts)

    def update(self, part: Part) -> None:
        """Replace a user part with a new version of the same id."""
        with self._write_lock:
            if part.id in self._builtin:
                raise KnowledgeBaseError(f"part {part.id!r} is a shipped part and cannot be changed")
            if part.id not in self._user:
                raise KnowledgeBaseError(f"part {part.id!r} is not one of your parts; add it instead")
            self._check_clashes([part], replacing={part.id})
            self._write_user([part])

    def remove(self, part_id: str) -> None:
        with self._write_lock:
            if part_id in self._builtin:
                raise KnowledgeBaseError(f"part {part_id!r} is a shipped part and cannot be removed")
            if part_id not in self._user:
                raise KnowledgeBaseError(f"part {part_id!r} is not one of your parts")
            with self._user_store.transaction() as tx:
                tx.delete(part_id)
            self._reload()

    # -- internals -------------------------------------------------------------------------------

    def _compile(self, catalog: list[Part], digest: str) -> None:
        """Bring kb.sqlite up to date with the curated data: only changed rows are written or embedded.

        ``digest`` identifies the curated files compiled ("" for a catalog given in code).
        """
        check_unique(catalog)
        stored = self._builtin_store.states()
        changed = [p for p in catalog if p.id not in stored or stored[p.id].content_hash != content_hash(p)]
        removed = stored.keys() - {p.id for p in catalog}
        reused = {pid: state.embedding_key for pid, state in stored.items()}
        to_embed = [p for p in changed if reused.get(p.id) != embedding_key(p)]
        vectors = dict(zip((p.id for p in to_embed), self._embed(to_embed), strict=True))
        kept = self._builtin_store.embeddings() if len(to_embed) < len(changed) else {}
        with self._builtin_store.transaction() as tx:
            for part in changed:
                tx.put(part, embedding_key(part), vectors[part.id] if part.id in vectors else kept[part.id])
            for part_id in removed:
                tx.delete(part_id)
            tx.set_meta(CATALOG_DIGEST, digest)

    def _check_clashes(self, parts: Sequence[Part], replacing: set[str]) -> None:
        """Refuse ids or aliases that name a shipped part, another user part, or each other."""
        try:
            check_unique(list(parts))
        except CatalogError as exc:
            raise KnowledgeBaseError(str(exc)) from None
        owners = self._owners(s.part for s in self._builtin.values())
        user_owners = self._owners(s.part for pid, s in self._user.items() if pid not in replacing)
        for part in parts:
            for text in [part.id, *part.aliases]:
                key = compact(text)
                if key in owners:
                    shipped = self._builtin[owners[key]].part
                    raise KnowledgeBaseError(
                        f"part {part.id}: {text!r} already names the shipped part {shipped.id} ({shipped.name})"
                    )
                if key in user_owners:
                    raise KnowledgeBaseError(f"part {part.id}: {text!r} already names your part {user_owners[key]}")

    @staticmethod
    def _owners(parts: Iterable[Part]) -> dict[str, str]:
        """Compact id or alias -> the id of the part it names."""
        return {compact(text): part.id for part in parts for text in [part.id, *part.aliases]}

    def _write_user(self, parts: Sequence[Part]) -> None:
        vectors = self._embed(parts)
        with self._user_store.transaction() as tx:
            for part, vector in zip(parts, vectors, strict=True):
                tx.put(part, embedding_key(part), vector)
        self._reload()

    def _embed(self, parts: Sequence[Part]) -> np.ndarray:
        return self._encode([retrieval_text(p) for p in parts]) if parts else np.zeros((0, 0), dtype=np.float32)

    def _reload(self) -> None:
        builtin = {s.part.id: s for s in self._builtin_store.load()}
        owners = self._owners(s.part for s in builtin.values())
        user: dict[str, StoredPart] = {}
        conflicts: list[str] = []
        for stored in self._user_store.load():
            clash = next((t for t in [stored.part.id, *stored.part.aliases] if compact(t) in owners), None)
            if clash is None:
                user[stored.part.id] = stored
            else:
                conflicts.append(
                    f"your part {stored.part.id} is hidden: {clash!r} names shipped part {owners[compact(clash)]}"
                )
        with self._index_lock:
            self._builtin, self._user, self.conflicts, self._index = builtin, user, conflicts, None

    def _search_index(self) -> SearchIndex:
        with self._index_lock:
            if self._index is None:
                entries = [*self._builtin.values(), *self._user.values()]
                vectors = np.stack([s.embedding for s in entries]) if entries else np.zeros((0, DIM), np.float32)
                self._index = SearchIndex([s.part for s in entries], vectors)
            return self._index
