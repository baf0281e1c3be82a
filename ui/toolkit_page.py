"""The toolkit page `make run` serves until the full studio exists: search the knowledge base, look at
a part's pinout, and draw and check a sample (or pasted) design. Widgets only; every answer comes
from components_db and studio."""

from __future__ import annotations

import html

import gradio as gr

from components_db import KnowledgeBase
from studio.design import Design, DesignError
from studio.examples import example_names, load_example
from studio.preview import DesignPreview, preview_design

ERC_HEADERS = ["severity", "rule", "where", "problem", "suggested fix"]
SEARCH_HEADERS = ["part", "name", "category", "score", "matched"]
PIN_HEADERS = ["number", "name", "type", "roles", "notes"]
HELP = """Search the component knowledge base in your own words, open a part's pinout, and draw a
design: pick an example or paste design JSON (`{"parts": [...], "nets": [...]}`) and press Check."""


def build_toolkit_page(kb: KnowledgeBase) -> gr.Blocks:
    with gr.Blocks(title="MoE Circuit Studio") as page:
        gr.Markdown("# MoE Circuit Studio: circuit toolkit\n" + HELP)
        with gr.Tab("Knowledge base"):
            with gr.Row():
                query = gr.Textbox(
                    label="Describe a part",
                    placeholder="e.g. measure distance with ultrasound",
                    elem_id="part-query",
                    scale=4,
                )
                top = gr.Slider(1, 20, value=8, step=1, label="Results", scale=1)
                search = gr.Button("Search", variant="primary", elem_id="part-search", scale=1)
            hits = gr.Dataframe(headers=SEARCH_HEADERS, label="Matches", interactive=False, elem_id="part-hits")
            part_id = gr.Dropdown(
                choices=[p.id for p in kb.parts()],
                value=None,
                label="Show a part (or click a match)",
                elem_id="part-id",
            )
            part_info = gr.Markdown()
            pins = gr.Dataframe(headers=PIN_HEADERS, label="Pinout", interactive=False)
        with gr.Tab("Design"):
            with gr.Row():
                example = gr.Dropdown(choices=example_names(), value=None, label="Example design", elem_id="example")
                check = gr.Button("Check pasted design", elem_id="check-design")
            verdict = gr.Markdown(elem_id="verdict")
            schematic = gr.HTML(elem_id="schematic")
            erc = gr.Dataframe(headers=ERC_HEADERS, label="Electrical rule check", interactive=False, wrap=True)
            spice = gr.Markdown(elem_id="spice")
            with gr.Accordion("Design JSON: edit or paste one, then press Check", open=False):
                pasted = gr.Code(language="json", label="Design JSON", elem_id="design-json", max_lines=30)

        def run_search(text: str, n: float):
            if not text.strip():
                raise gr.Error("Type a few words that describe the part.")
            return [[h.part_id, h.name, h.category, round(h.score, 3), h.matched] for h in kb.search(text, top=int(n))]

        def show_part(pid: str | None):
            part = kb.get(pid) if pid else None
            if part is None:
                return "", []
            supply = f"{part.supply.min_v}-{part.supply.max_v} V" if part.supply else "n/a"
            notes = "\n".join(f"- {html.escape(n)}" for n in part.usage.notes)
            text = f"### {html.escape(part.name)}\n{html.escape(part.description)}\n\nSupply: {supply}\n\n{notes}"
            rows = [[p.number, p.name, p.type.value, ", ".join(p.roles), p.description] for p in part.pins]
            return text, rows

        def show(design: Design):
            view = preview_design(design, kb)
            return _verdict(view), view.svg, _erc_rows(view), _spice_text(view)

        def show_example(name: str | None):
            if not name:
                return "", "", "", [], ""
            design = load_example(name)
            return (design.model_dump_json(indent=2, exclude_none=True), *show(design))

        def check_pasted(text: str):
            try:
                return show(Design.from_json(text or ""))
            except DesignError as exc:
                problems = "\n".join(f"- {html.escape(p)}" for p in exc.problems)
                return f"**This design cannot be read:**\n{problems}", "", [], ""

        def pick_hit(evt: gr.SelectData):
            row = evt.row_value or []
            return row[0] if row else None

        hits.select(pick_hit, None, part_id)
        search.click(run_search, [query, top], hits)
        query.submit(run_search, [query, top], hits)
        part_id.change(show_part, part_id, [part_info, pins])
        example.change(show_example, example, [pasted, verdict, schematic, erc, spice])
        check.click(check_pasted, pasted, [verdict, schematic, erc, spice])
    return page


def _verdict(view: DesignPreview) -> str:
    report = view.check.erc
    word = "passes" if report.passed else "fails"
    return (
        f"**ERC {word}**: {len(report.violations)} finding(s); structural score {report.structural_score:.2f}, "
        f"electrical score {report.electrical_score:.2f}."
    )


def _erc_rows(view: DesignPreview) -> list[list[str]]:
    rows = []
    for v in view.check.erc.violations:
        where = ", ".join(v.pins or v.refs) + (f" (net {v.net})" if v.net else "")
        rows.append([v.severity.value, v.rule, where, v.message, v.fix])
    return rows


def _spice_text(view: DesignPreview) -> str:
    spice = view.check.spice
    if spice is None:
        return ""
    if not spice.ok:
        return f"**SPICE:** {html.escape(spice.error or 'simulation failed')}"
    lines = [f"- {html.escape(f.message)}" for f in spice.findings]
    return "**SPICE operating point:** " + ("no problems found" if not lines else "\n" + "\n".join(lines))
