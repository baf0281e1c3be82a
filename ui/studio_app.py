"""The studio page: a header naming the model, and five tabs (Design, Experts, Attribution, Parts,
Export) wired to one per-session ``gr.State``. Widgets only: runs, edits and checks are the session's
and the core packages' functions."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ui import attribution_view, design_view, experts_view, export_view, parts_view
from ui.common import session_of
from ui.html import esc, message
from ui.session import StudioSession
from ui.studio_context import StudioContext
from ui.style import CSS

TITLE = "MoE Circuit Studio"


def build_studio(context: StudioContext) -> gr.Blocks:
    with gr.Blocks(title=TITLE) as page:
        state = gr.State(None)
        gr.HTML(_banner(context), elem_id="model-banner")
        with gr.Tabs():
            with gr.Tab("Design", id="design"):
                design = design_view.build(context, state)
            with gr.Tab("Experts", id="experts"):
                experts = experts_view.build(context, state)
            with gr.Tab("Attribution", id="attribution"):
                attribution = attribution_view.build(context, state)
            with gr.Tab("Parts", id="parts"):
                parts_view.build(context.kb)
            with gr.Tab("Export", id="export"):
                exports = export_view.build(context, state, design.results)

        def refresh_grid(current: StudioSession | None, section: str):
            return experts_view.refresh_grid(context, session_of(context, current), section)

        def refresh_routing(current: StudioSession | None, run_name: str, stage: str):
            return experts_view.routing_panels(session_of(context, current), run_name, stage, None)

        grid_inputs = [state, experts.section]
        routing_inputs = [state, *experts.compare_inputs[2:4]]
        page.load(refresh_grid, grid_inputs, experts.grid_outputs)

        def show_last_run(current: StudioSession | None):
            return experts_view.last_run_panels(session_of(context, current))

        for event in design.run_events:
            event.then(refresh_grid, grid_inputs, experts.grid_outputs).then(
                refresh_routing, routing_inputs, experts.routing_outputs
            ).then(show_last_run, [state], experts.baseline_outputs)
        for event in attribution.profile_events + exports.profile_events:
            event.then(refresh_grid, grid_inputs, experts.grid_outputs).then(
                experts.compare,
                experts.compare_inputs,
                experts.compare_outputs,
                concurrency_id="engine",
                concurrency_limit=1,
            )
    return page


def _banner(context: StudioContext) -> str:
    head = f"<h1>{esc(TITLE)}</h1>"
    info = context.info
    if info is None:
        return head + message(
            "warning",
            f"No model is loaded: {context.model_error}. Parts, design checks and exports work; design runs "
            "and expert steering need a model.",
            title="Model missing.",
        )
    shared = f", {info.shared_experts} shared" if info.shared_experts else ""
    line = (
        f"Model <strong>{esc(info.name)}</strong> ({esc(info.architecture)}): {len(info.moe_layers)} MoE layers x "
        f"{info.num_experts} experts{shared}, top-{info.top_k}. Type a request, press Run, then toggle experts "
        "in the Experts tab."
    )
    notices = "".join(message("warning", n) for n in context.notices)
    return f'{head}<p class="banner">{line}</p>{notices}'


SCRIPT = Path(__file__).resolve().parent / "assets" / "studio.js"


def launch_kwargs() -> dict:
    """The stylesheet, and the page script (keyboard, schematic viewer, net and finding highlights)."""
    return {"css": CSS, "head": f"<script>{SCRIPT.read_text(encoding='utf-8')}</script>"}
