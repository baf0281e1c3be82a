"""The curated part data: one reviewed YAML file per category in ``components_db/data/``.

``load_catalog`` reads and validates every entry; an invalid entry fails with the file, the part id
and the field, so a reviewer can fix the source rather than the database.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from components_db.refusal import Refusal
from components_db.schema import Part

DATA_DIR = Path(__file__).parent / "data"
PART_FILE_MAX_BYTES = 1_000_000  # a user's part file or the studio's editor: hundreds of parts fit
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


class CatalogError(Refusal, ValueError):
    """An entry of the curated data (or a user's part file) that does not validate."""


def parse_parts(entries: object, source: str) -> list[Part]:
    """Validate a list of part mappings; the error names the source, the part and the field."""
    if isinstance(entries, dict) and "parts" in entries:
        entries = entries["parts"]
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise CatalogError(f"{source}: expected a list of parts (or a mapping with 'parts')")
    parts: list[Part] = []
    for index, entry in enumerate(entries):
        label = entry.get("id", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            parts.append(Part.model_validate(entry))
        except ValidationError as exc:
            reasons = "; ".join(_field_error(e) for e in exc.errors())
            raise CatalogError(f"{source}: part {label}: {reasons}") from None
    return parts


def load_catalog(data_dir: Path = DATA_DIR) -> list[Part]:
    """Every curated part, validated, with ids and aliases unique across all files."""
    parts: list[Part] = []
    for path in sorted(data_dir.glob("*.yaml")):
        try:
            entries = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or []
        except yaml.YAMLError as exc:
            raise CatalogError(f"{path.name}: not valid YAML: {exc}") from None
        parts.extend(parse_parts(entries, path.name))
    check_unique(parts)
    return parts


def check_unique(parts: list[Part]) -> None:
    """Part ids unique, and no alias naming two parts (aliases are how users name parts)."""
    ids: set[str] = set()
    owner: dict[str, str] = {}
    for part in parts:
        if part.id in ids:
            raise CatalogError(f"part id {part.id!r} is defined twice")
        ids.add(part.id)
    for part in parts:
        for alias in part.aliases:
            key = alias.lower()
            if key in ids and key != part.id:
                raise CatalogError(f"alias {alias!r} of {part.id} is the id of another part")
            if key in owner and owner[key] != part.id:
                raise CatalogError(f"alias {alias!r} is used by both {owner[key]} and {part.id}")
            owner[key] = part.id


def _field_error(err: dict) -> str:
    where = ".".join(str(x) for x in err.get("loc", ())) or "entry"
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"field {where}: {message}"
