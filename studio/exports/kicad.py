"""A KiCad netlist (.net, s-expression export version "E"), which Pcbnew's "Import Netlist" reads.

Every atom is written as a quoted string with KiCad's escapes (backslash, double quote, newline),
so a title or a user part's name can never close a list or add one.
"""

from __future__ import annotations

from studio.circuit.bound import BoundNet
from studio.circuit.resolve import ResolvedDesign

TOOL = "MoE Circuit Studio"
LIBRARY = "moe-circuit-studio"
LINE_WIDTH = 100
# KiCad writes a title block's numbered comments, and readers of its netlists (kinparse) require one
COMMENT = ("comment", ("number", "1"), ("value", ""))

SExpr = tuple["str | SExpr", ...]  # ("keyword", child, ...); a str child is a quoted atom


def to_kicad_netlist(resolved: ResolvedDesign) -> str:
    """The netlist of the design's known parts and bound pins (unknown ones are ERC findings, not exported)."""
    title = resolved.design.title or ""
    design: SExpr = (
        "design",
        ("source", LIBRARY),
        ("tool", TOOL),
        ("sheet", ("number", "1"), ("name", "/"), ("tstamps", "/"), ("title_block", ("title", title), COMMENT)),
    )
    components: SExpr = ("components", *(_component(resolved, ref) for ref in resolved.parts))
    nets: SExpr = ("nets", *(_net(code, net) for code, net in enumerate(resolved.nets, start=1)))
    return render(("export", ("version", "E"), design, components, nets)) + "\n"


def _component(resolved: ResolvedDesign, ref: str) -> SExpr:
    part, dp = resolved.parts[ref], resolved.design_part(ref)
    return (
        "comp",
        ("ref", ref),
        ("value", dp.value or part.default_value or part.name),
        ("libsource", ("lib", LIBRARY), ("part", part.id), ("description", part.name)),
        ("sheetpath", ("names", "/"), ("tstamps", "/")),
    )


def _net(code: int, net: BoundNet) -> SExpr:
    nodes = (
        ("node", ("ref", bp.ref), ("pin", bp.pin.number), ("pinfunction", bp.pin.name), ("pintype", bp.pin.type.value))
        for bp in net.pins
    )
    return ("net", ("code", str(code)), ("name", net.name), *nodes)


def render(expr: SExpr, depth: int = 0) -> str:
    """A list on one line when it fits, else its children one per line, indented."""
    flat = _flat(expr)
    if len(flat) + 2 * depth <= LINE_WIDTH:
        return flat
    keyword, *children = expr
    inner = "\n".join("  " * (depth + 1) + (quote(c) if isinstance(c, str) else render(c, depth + 1)) for c in children)
    return f"({keyword}\n{inner})"


def _flat(expr: SExpr) -> str:
    keyword, *children = expr
    return "(" + " ".join([str(keyword), *(quote(c) if isinstance(c, str) else _flat(c) for c in children)]) + ")"


def quote(text: str) -> str:
    """A KiCad s-expression string: escapes as KiCad's own writer does, other control characters dropped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + "".join(ch for ch in escaped if ch.isprintable() or ch == " ") + '"'
