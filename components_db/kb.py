"""The knowledge base the studio reads parts from: the shipped parts plus the user's own.

``KnowledgeBase.open`` compiles the curated data (``load_catalog``) into ``kb.sqlite`` in the studio
home, rewriting only the parts whose content changed and embedding only the parts whose retrieval
text changed; while the curated files are byte-for-byte unchanged it does not even re-read them.
The user's parts live in ``user_parts.sqlite`` beside it. Both files are read once at open; the
search index is built in memory on the first search. A write checks and writes inside one
``BEGIN IMMEDIATE`` transaction on the user file, against the rows as they are then (another process
may have written since this one opened), so concurrent adds queue and the second is refused exactly
as it would be run after the first; then the in-memory view is reloaded.

Shipped parts are read-only and win: a user part may not reuse a shipped id or alias, and one that
clashes after the curated data changed is hidden and reported in ``conflicts``, as is a stored part
that no longer validates (it is left out, and can still be removed or replaced).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from components_db.catalog import DATA_DIR, CatalogError, check_unique, load_catalog
from components_db.embeddings import DIM, MODEL_NAME, Encoder, encode
from components_db.home import default_home
from components_db.refusal import Refusal
from components_db.retrieval import SearchHit, SearchIndex, compact, retrieval_text
from components_db.schema import Part
from components_db.store import Contents, PartStore, StoredPart, content_hash

BUILTIN_FILE = "kb.sqlite"
USER_FILE = "user_parts.sqlite"
CATALOG_DIGEST = "catalog_digest"

Source = Literal["builtin", "user"]


class KnowledgeBaseError(Refusal, ValueError):
    """A refused change: the message names the part and what clashes."""


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
        self._write(parts, replacing=False)

    def update(self, part: Part) -> None:
        self.update_all([part])

    def update_all(self, parts: Sequence[Part]) -> None:
        """Replace user parts (or stored ones that no longer validate) with new versions of the same ids, all
        or none."""
        for part in parts:
            if part.id in self._builtin:
                raise KnowledgeBaseError(f"part {part.id!r} is a shipped part and cannot be changed")
        self._write(parts, replacing=True)

    def remove(self, part_id: str) -> None:
        """Remove a user part; a stored one that no longer validates can be removed too."""
        if part_id in self._builtin:
            raise KnowledgeBaseError(f"part {part_id!r} is a shipped part and cannot be removed")
        with self._write_lock, self._user_store.transaction() as tx:
            current = tx.load()
            if part_id not in {s.part.id for s in current.parts} | set(current.unreadable):
                raise KnowledgeBaseError(f"part {part_id!r} is not one of your parts")
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

    def _write(self, parts: Sequence[Part], *, replacing: bool) -> None:
        """Check ``parts`` against the user rows as they are inside the write transaction, then write them.

        The embeddings are made first: they are slow, and the transaction holds the file's write lock.
        """
        try:
            check_unique(list(parts))
        except CatalogError as exc:
            raise KnowledgeBaseError(str(exc)) from None
        vectors = self._embed(parts)
        with self._write_lock, self._user_store.transaction() as tx:
            current = tx.load()
            self._check_ids(parts, current, replacing)
            self._check_clashes(parts, current, replacing={p.id for p in parts} if replacing else set())
            for part, vector in zip(parts, vectors, strict=True):
                tx.put(part, embedding_key(part), vector)
        self._reload()

    @staticmethod
    def _check_ids(parts: Sequence[Part], current: Contents, replacing: bool) -> None:
        stored = {s.part.id for s in current.parts}
        for part in parts:
            if replacing and part.id not in stored and part.id not in current.unreadable:
                raise KnowledgeBaseError(f"part {part.id!r} is not one of your parts; add it instead")
            if not replacing and part.id in stored:
                raise KnowledgeBaseError(f"part {part.id!r} is already one of your parts; update it instead")
            if not replacing and part.id in current.unreadable:
                raise KnowledgeBaseError(
                    f"part {part.id!r} is already one of your parts but cannot be read; "
                    f"replace it with `parts edit`, or run `parts remove {part.id}` first"
                )

    def _check_clashes(self, parts: Sequence[Part], current: Contents, replacing: set[str]) -> None:
        """Refuse ids or aliases that name a shipped part, another user part, or each other.

        Names are compared as search compares them (``compact``: without case, spaces or dashes, as
        people type part numbers), so ``dur-b11-0`` and ``dur-b1-10`` clash; the message says so.
        """
        shipped = self._owners(s.part for s in self._builtin.values())
        yours = self._owners(s.part for s in current.parts if s.part.id not in replacing)
        new: dict[str, tuple[str, str]] = {}
        for part in parts:
            for text in [part.id, *part.aliases]:
                key = compact(text)
                if key in shipped:
                    owner_text, owner = shipped[key]
                    whose = f"the shipped part {owner} ({self._builtin[owner].part.name})"
                elif key in yours:
                    owner_text, owner = yours[key]
                    whose = f"your part {owner}"
                elif key in new and new[key][1] != part.id:
                    owner_text, owner = new[key]
                    whose = f"the part {owner} in the same file"
                else:
                    new[key] = (text, part.id)
                    continue
                raise KnowledgeBaseError(f"part {part.id}: {text!r} already names {whose}" + _why(text, owner_text))

    @staticmethod
    def _owners(parts: Iterable[Part]) -> dict[str, tuple[str, str]]:
        """Compact id or alias -> (that id or alias, the id of the part it names)."""
        return {compact(text): (text, part.id) for part in parts for text in [part.id, *part.aliases]}

    def _embed(self, parts: Sequence[Part]) -> np.ndarray:
        return self._encode([retrieval_text(p) for p in parts]) if parts else np.zeros((0, 0), dtype=np.float32)

    def _reload(self) -> None:
        shipped, yours = self._builtin_store.load(), self._user_store.load()
        builtin = {s.part.id: s for s in shipped.parts}
        owners = self._owners(s.part for s in builtin.values())
        user: dict[str, StoredPart] = {}
        conflicts = [
            f"shipped part {pid} cannot be read; delete {self._builtin_store.path} to have it rebuilt"
            for pid in shipped.unreadable
        ]
        for stored in yours.parts:
            clash = next((t for t in [stored.part.id, *stored.part.aliases] if compact(t) in owners), None)
            if clash is None:
                user[stored.part.id] = stored
            else:
                conflicts.append(
                    f"your part {stored.part.id} is hidden: {clash!r} names shipped part {owners[compact(clash)][1]}"
                )
        conflicts += [
            f"your part {pid} cannot be read (a value in it is no longer accepted) and is left out; "
            f"run `circuit-studio parts remove {pid}`, then add it again"
            for pid in yours.unreadable
        ]
        with self._index_lock:
            self._builtin, self._user, self.conflicts, self._index = builtin, user, conflicts, None

    def _search_index(self) -> SearchIndex:
        with self._index_lock:
            if self._index is None:
                entries = [*self._builtin.values(), *self._user.values()]
                vectors = np.stack([s.embedding for s in entries]) if entries else np.zeros((0, DIM), np.float32)
                self._index = SearchIndex([s.part for s in entries], vectors)
            return self._index


def _why(text: str, owner_text: str) -> str:
    """Why two different-looking names clash: they read the same once case, spaces and dashes go."""
    if text.lower() == owner_text.lower():
        return ""
    return (
        f": names are compared without case, spaces or dashes, as people type part numbers, "
        f"so {text!r} and {owner_text!r} both read {compact(text)!r}; choose another"
    )
