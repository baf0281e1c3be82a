"""Small HTML builders every view uses. Every piece of text that reaches the page goes through ``esc``;
SVG comes from ``studio.schematic.svg``, which escapes its own text."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Literal

from markdown_it import MarkdownIt

Kind = Literal["error", "warning", "info", "ok"]


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_html(text: str) -> str:
    """Markdown (CommonMark + tables) as HTML; raw HTML in the text is escaped, not passed through."""
    return _MARKDOWN.render(text)


def message(kind: Kind, text: str, *, title: str | None = None) -> str:
    """A coloured notice box; ``text`` is escaped, line breaks kept."""
    if not text:
        return ""
    head = f"<strong>{esc(title)}</strong> " if title else ""
    body = "<br>".join(esc(line) for line in text.splitlines())
    return f'<div class="msg msg-{kind}" role="{"alert" if kind == "error" else "status"}">{head}{body}</div>'


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    css: str = "",
    row_classes: Sequence[str] | None = None,
    row_attrs: Sequence[dict[str, str]] | None = None,
    empty: str = "nothing to show",
) -> str:
    """An escaped table; ``row_classes`` gives each row a CSS class (severity colours), ``row_attrs`` more
    attributes (``data-*`` the page script reads), names and values escaped."""
    if not rows:
        return f'<p class="empty">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{esc(row_classes[i])}"' if row_classes else ""
        extra = "".join(f' {esc(k)}="{esc(v)}"' for k, v in (row_attrs[i] if row_attrs else {}).items())
        body.append(f"<tr{cls}{extra}>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>")
    return f'<table class="grid-table {esc(css)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def svg_box(svg: str | None, *, caption: str = "", empty: str = "no schematic yet") -> str:
    """A schematic panel. ``svg`` is trusted output of ``studio.schematic.svg.render_svg`` (it escapes its text)."""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    if not svg:
        return f'<figure class="schematic empty-figure">{cap}<p class="empty">{esc(empty)}</p></figure>'
    tools = (
        '<span class="viewer-tools"><button type="button" data-zoom="in" title="zoom in">+</button>'
        '<button type="button" data-zoom="out" title="zoom out">&minus;</button>'
        '<button type="button" data-zoom="fit" title="fit to view (or double-click)">fit</button></span>'
        '<span class="net-name" aria-live="polite"></span>'
    )
    head = f"<figcaption>{esc(caption)}{tools}</figcaption>"
    return f'<figure class="schematic">{head}<div class="svg-wrap">{svg}</div></figure>'


def pre(text: str, *, css: str = "") -> str:
    return f'<pre class="{esc(css)}">{esc(text)}</pre>'


def details(summary: str, body_html: str, *, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>{body_html}</details>"


def slug(text: str | None, *, fallback: str = "design", limit: int = 48) -> str:
    """``text`` as a file-name stem: lower-case ASCII letters and digits joined by single dashes
    ("ESP32 + DHT22 -> relay" -> "esp32-dht22-relay")."""
    words = re.findall(r"[a-z0-9]+", (text or "").lower().encode("ascii", "ignore").decode())
    stem = "-".join(words)[:limit].strip("-")
    return stem or fallback


def progress_bar(fraction: float, label: str) -> str:
    pct = max(0.0, min(1.0, fraction)) * 100
    return (
        f'<div class="progress" role="progressbar" aria-valuenow="{pct:.0f}" aria-valuemin="0" aria-valuemax="100">'
        f'<div class="progress-fill" style="width:{pct:.1f}%"></div>'
        f'<span class="progress-label">{esc(label)} ({pct:.0f}%)</span></div>'
    )
