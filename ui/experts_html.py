"""The Experts view's panels as HTML: the layer-by-expert toggle grid, the routing heatmap of a run
(tokens x layers, clickable), one token's experts and weights, the baseline-vs-steered diffs, and the
super-expert profile (a table of the largest activation peaks and a layer-by-expert map of them).

The grid and the heatmap carry ``data-*`` attributes that a few lines of page script turn into click
events (``GRID_JS``, ``HEATMAP_JS``); everything else is static, escaped HTML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.compare import ErcDiff, ExpertShift, TextPiece
from agents.run_report import TokenRouting
from studio.moe.toggles import ExpertState
from ui.design_html import erc_rows
from ui.html import esc, table

if TYPE_CHECKING:
    from studio.moe.super_experts import SuperExpertReport

MAX_HEATMAP_TOKENS = 240
SUPER_ROWS = 10  # rows of the super-expert table: the largest peaks
SUPER_HEADERS = ["MoE layer", "decoder layer", "expert", "peak |down_proj output|", "x limit", "tokens", "super expert"]

GRID_JS = """
element.addEventListener('click', (e) => {
  const cell = e.target.closest('[data-expert]');
  if (cell) trigger('click', {kind: 'cell', layer: Number(cell.dataset.layer), expert: Number(cell.dataset.expert)});
});
element.addEventListener('change', (e) => {
  const pick = e.target.closest('[data-topk-layer]');
  if (pick) trigger('click', {kind: 'topk', layer: Number(pick.dataset.topkLayer), value: Number(pick.value)});
});
"""

HEATMAP_JS = """
element.addEventListener('click', (e) => {
  const cell = e.target.closest('[data-token]');
  if (cell) trigger('click', {token: Number(cell.dataset.token)});
});
"""

STATE_LABEL: dict[ExpertState, str] = {"on": "on", "off": "off", "force": "forced on"}
NEXT_LABEL: dict[ExpertState, str] = {"on": "turn off", "off": "force on", "force": "reset"}


def expert_colour(expert: int, alpha: float = 1.0) -> str:
    """A stable, well-spread colour per expert (golden-angle hues)."""
    return f"hsla({(expert * 137.508) % 360:.0f}, 70%, 50%, {alpha:.2f})"


def expert_grid(
    states: list[list[ExpertState]],
    *,
    top_k: list[int | None],
    model_top_k: int,
    decoder_layers: list[int],
    usage: list[list[float]] | None = None,
) -> str:
    """[layer][expert] toggles; ``usage`` (share of tokens per expert, 0..1) draws a bar in each cell."""
    experts = len(states[0]) if states else 0
    head = "".join(f"<th>{e}</th>" for e in range(experts))
    rows = []
    for layer, row in enumerate(states):
        options = [f'<option value="0"{"" if top_k[layer] else " selected"}>model ({model_top_k})</option>']
        options += [
            f'<option value="{k}"{" selected" if top_k[layer] == k else ""}>{k}</option>' for k in range(1, experts + 1)
        ]
        select = (
            f'<select data-topk-layer="{layer}" aria-label="top-k of MoE layer {layer}">{"".join(options)}</select>'
        )
        cells = []
        for expert, state in enumerate(row):
            share = usage[layer][expert] if usage and layer < len(usage) and expert < len(usage[layer]) else None
            bar = (
                f'<span class="usage" style="height:{min(share, 1.0) * 100:.0f}%"></span>' if share is not None else ""
            )
            used = f", used by {share:.0%} of tokens in the last run" if share is not None else ""
            tip = f"MoE layer {layer}, expert {expert}: {STATE_LABEL[state]}{used}. Click to {NEXT_LABEL[state]}."
            cells.append(
                f'<td><button type="button" class="cell {state}" data-layer="{layer}" data-expert="{expert}" '
                f'data-state="{state}" title="{esc(tip)}" aria-label="{esc(tip)}">{bar}<span class="id">{expert}'
                "</span></button></td>"
            )
        rows.append(
            f'<tr><th class="layer">L{layer}<small>dec {decoder_layers[layer]}</small></th><td>{select}</td>'
            f"{''.join(cells)}</tr>"
        )
    legend = (
        '<p class="legend"><span class="cell on">n</span> on <span class="cell off">n</span> off '
        '<span class="cell force">n</span> forced on; bars: share of tokens that picked the expert in the '
        "last run. Click a cell to cycle on, off, forced on.</p>"
    )
    return (
        f'<div class="expert-grid-wrap"><table class="expert-grid"><thead><tr><th>layer</th><th>top-k</th>{head}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{legend}"
    )


def token_label(token: str) -> str:
    """A token's text made visible: spaces and line breaks shown as symbols."""
    shown = token.replace(" ", "\u2423").replace("\n", "\u23ce").replace("\t", "\u21e5")
    return shown if shown.isprintable() else shown.encode("unicode_escape").decode("ascii")


def heatmap(routing: TokenRouting | None, *, selected: int | None = None, limit: int = MAX_HEATMAP_TOKENS) -> str:
    """Tokens (columns) x MoE layers (rows); each cell the colour of the token's first expert there,
    as strong as its routing weight. A click on a token column shows its experts."""
    if routing is None or not routing.tokens:
        return '<p class="empty">no routing recorded: run a design first</p>'
    count = min(len(routing.tokens), limit)
    layers = len(routing.experts[0]) if routing.experts else 0
    head = "".join(
        f'<th data-token="{t}" class="{"sel" if t == selected else ""}" title="token {t}">'
        f"{esc(token_label(routing.tokens[t]))}</th>"
        for t in range(count)
    )
    rows = []
    for layer in range(layers):
        cells = []
        for t in range(count):
            experts, weights = routing.experts[t][layer], routing.weights[t][layer]
            first, weight = (experts[0], weights[0]) if experts else (0, 0.0)
            tip = f"token {t} {token_label(routing.tokens[t])!r}, layer {layer}: " + ", ".join(
                f"expert {e} ({w:.2f})" for e, w in zip(experts, weights, strict=False)
            )
            sel = " sel" if t == selected else ""
            cells.append(
                f'<td data-token="{t}" class="hm{sel}" style="background:{expert_colour(first, 0.25 + 0.75 * weight)}"'
                f' title="{esc(tip)}">{first}</td>'
            )
        rows.append(f'<tr><th class="layer">L{layer}</th>{"".join(cells)}</tr>')
    more = (
        f'<p class="empty">showing the first {count} of {len(routing.tokens)} tokens</p>'
        if count < len(routing.tokens)
        else ""
    )
    return (
        '<div class="heatmap-wrap"><table class="heatmap"><thead><tr><th>token</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def token_detail(routing: TokenRouting | None, index: int | None) -> str:
    if routing is None or index is None or not 0 <= index < len(routing.tokens):
        return '<p class="empty">click a token in the heatmap to see its experts and weights</p>'
    rows = [
        [
            f"L{layer}",
            ", ".join(f"expert {e}" for e in experts),
            ", ".join(f"{w:.3f}" for w in routing.weights[index][layer]),
        ]
        for layer, experts in enumerate(routing.experts[index])
    ]
    title = f"<p>token {index}: <code>{esc(token_label(routing.tokens[index]))}</code></p>"
    return title + table(["layer", "experts (first = heaviest)", "weights"], rows, css="token-detail")


def text_diff(pieces: list[TextPiece], *, unchanged: str = "the reasoning did not change") -> str:
    if all(p.op == "equal" for p in pieces):
        text = "".join(p.text for p in pieces)
        return f'<p class="empty">{esc(unchanged)}</p><div class="diff">{esc(text)}</div>'
    spans = []
    previous = "equal"
    for piece in pieces:
        tag = {"equal": "span", "insert": "ins", "delete": "del"}[piece.op]
        if {previous, piece.op} == {"insert", "delete"} and not piece.text[:1].isspace():
            spans.append(" ")  # a removed word and the word put in its place stay two words
        spans.append(f"<{tag}>{esc(piece.text)}</{tag}>")
        previous = piece.op
    return f'<div class="diff">{"".join(spans)}</div>'


def erc_diff(diff: ErcDiff) -> str:
    groups = [("fixed", diff.fixed), ("new", diff.new), ("still there", diff.kept)]
    rows, classes = [], []
    for label, violations in groups:
        for violation, row in zip(violations, erc_rows(violations), strict=True):
            rows.append([label, *row])
            classes.append(f"sev-{violation.severity.value} change-{label.replace(' ', '-')}")
    return table(
        ["change", "severity", "rule", "where", "problem", "suggested fix"],
        rows,
        css="erc",
        row_classes=classes,
        empty="no ERC findings in either design",
    )


def routing_diff(shifts: list[ExpertShift], *, top: int = 16) -> str:
    """The steered experts' rows (marked), then the ``top`` largest other moves."""
    if not shifts:
        return '<p class="empty">the routing did not change</p>'
    targeted = [s for s in shifts if s.targeted]
    others = [s for s in shifts if not s.targeted]
    rows = [
        [s.stage, f"L{s.layer}", s.expert, f"{s.baseline:.0%}", f"{s.steered:.0%}", f"{s.delta:+.0%}", mark]
        for group, mark in ((targeted, "steered"), (others[:top], ""))
        for s in group
    ]
    more = f'<p class="empty">{len(others) - top} smaller shifts not shown</p>' if len(others) > top else ""
    headers = ["stage", "layer", "expert", "baseline", "steered", "change", "profile"]
    return table(headers, rows, css="routing-diff") + more


def super_experts_panel(report: SuperExpertReport | None, *, source: str = "", top: int = SUPER_ROWS) -> str:
    """A super-expert profile: which experts are super (their peak above the limit), the ``top`` largest
    peaks as a table, and a layer x expert map shaded by peak (super experts outlined)."""
    if report is None:
        return '<p class="empty">no profile yet: press the button to profile the loaded model</p>'
    flagged = report.super_experts
    named = ", ".join(f"MoE layer {r.layer} expert {r.expert}" for r in flagged) or "none"
    on = f" on {source}" if source else ""
    lines = [
        f"<p><strong>Super experts</strong> of {esc(report.model)}{esc(on)} ({report.prompts} prompt(s), "
        f"{len(report.rows)} experts; limit {report.threshold:.4g}): {esc(named)}.</p>"
    ]
    if report.few_experts:
        lines.append(
            f'<p class="empty">With {len(report.rows)} experts (under 200) the largest peak is always flagged: '
            "compare the peaks rather than the flag alone.</p>"
        )
    rows = []
    for r in report.highest(top):
        ratio = r.max_abs / report.threshold if report.threshold > 0 else 0.0
        rows.append(
            [
                r.layer,
                r.decoder_layer,
                r.expert,
                f"{r.max_abs:.4g}",
                f"{ratio:.2f}",
                r.tokens,
                "yes" if r.is_super else "",
            ]
        )
    lines.append(table(SUPER_HEADERS, rows, css="super-experts"))
    lines.append(super_map(report))
    return "".join(lines)


def super_map(report: SuperExpertReport) -> str:
    """MoE layers (rows) x experts (columns), each cell as dark as its peak is near the largest;
    super experts outlined in red. A cell's title gives its numbers."""
    layers: dict[int, dict[int, object]] = {}
    for r in report.rows:
        layers.setdefault(r.layer, {})[r.expert] = r
    if not layers:
        return ""
    largest = max((r.max_abs for r in report.rows), default=0.0) or 1.0
    experts = max(max(row) for row in layers.values()) + 1
    head = "".join(f'<th style="font-weight:normal;font-size:9px">{e}</th>' for e in range(experts))
    body = []
    for layer in sorted(layers):
        cells = []
        for expert in range(experts):
            r = layers[layer].get(expert)
            if r is None:
                cells.append("<td></td>")
                continue
            shade = r.max_abs / largest
            ring = "outline:2px solid #d00;outline-offset:-2px;" if r.is_super else ""
            tip = (
                f"MoE layer {r.layer} (decoder {r.decoder_layer}), expert {r.expert}: peak {r.max_abs:.4g}, "
                f"{r.tokens} tokens" + (", super expert" if r.is_super else "")
            )
            cells.append(
                f'<td class="se{" super" if r.is_super else ""}" data-layer="{r.layer}" data-expert="{r.expert}" '
                f'style="width:14px;height:14px;padding:0;background:rgba(180,60,20,{0.05 + 0.95 * shade:.2f});{ring}" '
                f'title="{esc(tip)}"></td>'
            )
        body.append(f'<tr><th style="font-weight:normal;font-size:9px">L{layer}</th>{"".join(cells)}</tr>')
    return (
        '<p class="empty">Peak per MoE layer (rows) and expert (columns): darker is nearer the largest peak; '
        "super experts outlined in red.</p>"
        f'<table class="super-map" style="border-collapse:collapse"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
