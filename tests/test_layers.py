"""The import rule: each floor imports only from the floors below it, and no two files import each other
(directly or round a longer loop). Every import counts, lazy ones inside functions and ``TYPE_CHECKING``
ones included, because each is a dependency a reader has to follow. docs/ARCHITECTURE.md draws the
floors."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ["components_db", "studio", "spice", "agents", "ui", "app"]  # bottom to top


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> dict[str, Path]:
    files = {}
    for floor in FLOORS:
        top = ROOT / floor
        for path in [top.with_suffix(".py")] if floor == "app" else sorted(top.rglob("*.py")):
            files[module_name(path)] = path
    return files


def imported_modules(path: Path, known: set[str], root: Path = ROOT) -> set[str]:
    """The project modules ``path`` imports anywhere in its body: ``from a.b import c`` is ``a.b.c``
    when that is a module, else ``a.b``."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def floor_of(module: str) -> int:
    return FLOORS.index(module.split(".")[0])


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    files = source_files()
    g = nx.DiGraph()
    for name, path in files.items():
        g.add_node(name, path=path.relative_to(ROOT))
        for target in imported_modules(path, set(files)):
            g.add_edge(name, target)
    return g


def test_every_floor_is_found(graph: nx.DiGraph) -> None:
    assert {floor_of(m) for m in graph} == set(range(len(FLOORS)))
    assert len(graph) > 100


def test_imports_point_only_down(graph: nx.DiGraph) -> None:
    upward = [
        f"{graph.nodes[a]['path']} (floor {FLOORS[floor_of(a)]}) imports {graph.nodes[b]['path']} "
        f"(floor {FLOORS[floor_of(b)]}, above it)"
        for a, b in graph.edges
        if floor_of(b) > floor_of(a)
    ]
    assert not upward, "\n".join(upward)


def test_no_cycle_between_files(graph: nx.DiGraph) -> None:
    loops = [
        " -> ".join(str(graph.nodes[m]["path"]) for m in [*cycle, cycle[0]])
        for cycle in nx.simple_cycles(graph, length_bound=6)
    ]
    assert not loops, "\n".join(sorted(loops)[:20])


def test_the_rule_sees_lazy_relative_and_type_checking_imports(tmp_path: Path) -> None:
    """The parser counts what a careless reading misses: imports inside functions, under
    ``TYPE_CHECKING`` and relative ones; names imported from a module are not modules."""
    path = tmp_path / "studio" / "probe.py"
    path.parent.mkdir()
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from agents.orchestrator import Pipeline\n"
        "def f():\n    import ui.launch\n"
        "from .circuit import design\n"
        "from .circuit.design import Design\n"
    )
    known = {"agents.orchestrator", "ui.launch", "studio.circuit", "studio.circuit.design", "studio.probe"}
    found = imported_modules(path, known, root=tmp_path)
    assert found == {"agents.orchestrator", "ui.launch", "studio.circuit.design"}
