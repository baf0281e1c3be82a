"""Parts view: semantic search of the knowledge base, a part's facts and pinout table, and adding or
editing your own parts (YAML, read like a part file and validated: a refusal names the part and the
field). Every handler answers with a readable message that says what it did."""

from __future__ import annotations

import gradio as gr
import yaml

from components_db import KnowledgeBase
from components_db.catalog import PART_FILE_MAX_BYTES, parse_parts
from components_db.documents import DocumentError, parse_yaml
from ui.common import error_html
from ui.html import esc, message, table

SEARCH_HEADERS = ["part", "name", "category", "score", "matched"]
PIN_HEADERS = ["number", "name", "type", "roles", "notes"]
TEMPLATE = """\
id: my-sensor
name: My sensor breakout
category: sensor
description: What the part does, in one or two sentences.
supply: {min_v: 3.0, max_v: 5.5}
pins:
  - {number: "1", name: VCC, type: power_in, roles: [POWER_IN]}
  - {number: "2", name: GND, type: power_in, roles: [GROUND]}
  - {number: "3", name: OUT, type: output, roles: [DIGITAL_OUT]}
usage:
  notes: ["One line a student should know before wiring it."]
"""


def build(kb: KnowledgeBase) -> None:
    with gr.Row():
        query = gr.Textbox(
            label="Describe a part", placeholder="e.g. measure distance with ultrasound", elem_id="part-query", scale=4
        )
        top = gr.Slider(1, 20, value=8, step=1, label="Results", scale=1)
        search = gr.Button("Search", variant="primary", elem_id="part-search", scale=1)
    search_msg = gr.HTML(elem_id="search-message")
    hits = gr.Dataframe(headers=SEARCH_HEADERS, label="Matches", interactive=False, elem_id="part-hits")
    part_id = gr.Dropdown(
        choices=_choices(kb),
        value=None,
        label="Show a part (or click a match)",
        elem_id="part-id",
        allow_custom_value=True,
    )
    part_info = gr.HTML(elem_id="part-info")
    pins = gr.HTML(elem_id="part-pins")
    with gr.Accordion("Add or edit your own part", open=False, elem_id="part-editor-box"):
        gr.Markdown(
            "Write the part as YAML (one part, or a list). Pin types are KiCad's (input, output, bidirectional, "
            "passive, power_in, power_out, ...); see the shipped parts for examples: *Load into editor* copies "
            "the shown part."
        )
        editor = gr.Code(TEMPLATE, language="yaml", label="Part YAML", elem_id="part-yaml", max_lines=40)
        with gr.Row():
            add = gr.Button("Add part", variant="primary", elem_id="add-part")
            update = gr.Button("Save changes to my part", elem_id="update-part")
            load = gr.Button("Load shown part into editor", elem_id="edit-part")
            remove = gr.Button("Remove my part", variant="stop", elem_id="remove-part")
        part_msg = gr.HTML(elem_id="part-message")

    def run_search(text: str, n: float):
        if not (text or "").strip():
            return message("error", "Type a few words that describe the part."), gr.skip()
        rows = [[h.part_id, h.name, h.category, round(h.score, 3), h.matched] for h in kb.search(text, top=int(n))]
        return ("" if rows else message("info", "No part matches.")), rows

    def show_part(pid: str | None):
        part = kb.get(pid) if pid else None
        if part is None:
            return (message("warning", f"No part {pid!r} in the knowledge base.") if pid else ""), ""
        supply = f"{part.supply.min_v}-{part.supply.max_v} V" if part.supply else "n/a"
        source = kb.source_of(part.id) or ""
        notes = "".join(f"<li>{esc(n)}</li>" for n in part.usage.notes)
        info = (
            f"<h4>{esc(part.name)} <small>({esc(part.id)}, {esc(part.category.value)}, {esc(source)})</small></h4>"
            f"<p>{esc(part.description)}</p><p>Supply: {esc(supply)}</p>" + (f"<ul>{notes}</ul>" if notes else "")
        )
        rows = [[p.number, p.name, p.type.value, ", ".join(p.roles), p.description] for p in part.pins]
        return info, table(PIN_HEADERS, rows, css="pins")

    def pick_hit(evt: gr.SelectData):
        row = evt.row_value or []
        return row[0] if row else None

    def load_part(pid: str | None):
        part = kb.get(pid) if pid else None
        if part is None:
            return gr.skip(), message("error", "Show a part first (search, then click a match).")
        data = part.model_dump(mode="json", exclude_defaults=True)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True), message(
            "info",
            "Loaded. Change the id to add it as a new part"
            + ("; or edit and save your part." if kb.source_of(part.id) == "user" else "."),
        )

    hits.select(pick_hit, None, part_id)
    search.click(run_search, [query, top], [search_msg, hits])
    query.submit(run_search, [query, top], [search_msg, hits])
    part_id.change(show_part, part_id, [part_info, pins])
    add.click(lambda text: save_parts(kb, text, replace=False), [editor], [part_msg, part_id])
    update.click(lambda text: save_parts(kb, text, replace=True), [editor], [part_msg, part_id])
    load.click(load_part, [part_id], [editor, part_msg])
    remove.click(lambda pid: remove_part(kb, pid), [part_id], [part_msg, part_id])


def save_parts(kb: KnowledgeBase, text: str | None, *, replace: bool) -> tuple[str, object]:
    """Add (or, with ``replace``, update) the editor's parts, all or none: the message, and the part picker
    refreshed when something was saved."""
    try:
        parts = parse_parts(_read_editor(text or ""), "the editor")
        if replace:
            kb.update_all(parts)
        else:
            kb.add_all(parts)
    except Exception as exc:  # a refusal shown as its message; anything else logged, shown as a short notice
        return error_html(exc), gr.skip()
    verb = "Updated" if replace else "Added"
    done = f"{verb} {', '.join(p.id for p in parts)}. Search for it above, or use it in a design."
    return _answer(kb, done), gr.update(choices=_choices(kb), value=parts[0].id)


def remove_part(kb: KnowledgeBase, pid: str | None) -> tuple[str, object]:
    """Remove one of the user's parts (an unreadable one too): the message, and the part picker refreshed."""
    if not pid:
        return message("error", "Show one of your parts first (search, then click a match)."), gr.skip()
    try:
        kb.remove(pid)
    except Exception as exc:  # a refusal shown as its message; anything else logged, shown as a short notice
        return error_html(exc), gr.skip()
    return _answer(kb, f"Removed {pid}."), gr.update(choices=_choices(kb), value=None)


def _read_editor(text: str) -> object:
    """The editor's YAML read as a part file is: size, nesting, numbers and duplicate keys checked."""
    if len(text.encode()) > PART_FILE_MAX_BYTES:
        raise DocumentError(f"the editor holds more than {PART_FILE_MAX_BYTES // 1_000_000} MB")
    try:
        return parse_yaml(text)
    except DocumentError as exc:
        raise DocumentError(f"the editor: {exc}") from None


def _answer(kb: KnowledgeBase, done: str) -> str:
    """What was done, then what the knowledge base leaves out (hidden or unreadable parts)."""
    return message("ok", done) + "".join(message("warning", conflict) for conflict in kb.conflicts)


def _choices(kb: KnowledgeBase) -> list[str]:
    return [p.id for p in kb.parts()]
