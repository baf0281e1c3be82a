"""docs/ARCHITECTURE.md matches the code: every path it names exists, every package is named, every ERC
rule is listed beside the module that raises it, and every architecture with a routing spec is named."""

from __future__ import annotations

import re
from pathlib import Path

from studio.erc.registry import RULES
from studio.moe.specs import SPECS

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
PACKAGES = ["components_db", "studio", "spice", "agents", "ui"]


def test_every_path_named_exists() -> None:
    named = set(re.findall(r"`((?:components_db|studio|spice|agents|ui|tests)/[\w/.*-]*)`", DOC))
    assert len(named) > 40
    missing = [p for p in sorted(named) if "*" not in p and not (ROOT / p).exists()]
    assert not missing, f"docs/ARCHITECTURE.md names paths that do not exist: {missing}"


def test_every_package_is_named() -> None:
    packages = sorted(
        str(init.parent.relative_to(ROOT)) for top in PACKAGES for init in (ROOT / top).rglob("__init__.py")
    )
    unnamed = [p for p in packages if f"`{p}/" not in DOC and f"{Path(p).name}/" not in DOC]
    assert not unnamed, f"packages docs/ARCHITECTURE.md does not mention: {unnamed}"


def test_every_erc_rule_is_listed_beside_its_module() -> None:
    rows = [line for line in DOC.splitlines() if line.startswith("|") and "_erc" not in line]
    for rule in RULES:
        (row,) = [r for r in rows if re.search(rf"(?<![\w-]){re.escape(rule)}(?![\w-])", r.split("|")[1])]
        module = re.search(r"`([\w/]+\.py)`", row.split("|")[2])[1]
        assert f'"{rule}"' in (ROOT / module).read_text(encoding="utf-8"), f"{rule} is not raised in {module}"


def test_every_routing_spec_is_named() -> None:
    section = DOC.split("### Where each architecture's routing spec lives")[1].split("##")[0]
    assert {name for name in SPECS} <= set(re.findall(r"\w+", section))
