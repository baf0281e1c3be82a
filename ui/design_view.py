"""Design view: type a request, run it, watch the stages, then see the schematic, the ERC table, SPICE
and the reference designer's suggestion. An accordion checks an existing design (an example or JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import gradio as gr

from agents.orchestrator import PipelineRun
from agents.request import RequestError, clean_request
from studio.circuit.design import Design
from studio.circuit.examples import example_names, load_example
from ui.charts import spice_plots
from ui.common import error_html, session_of
from ui.design_html import (
    erc_table,
    out_of_knowledge_html,
    run_notes_html,
    run_progress,
    spice_html,
    stage_cards,
    suggestion_html,
    verdict,
)
from ui.html import message, svg_box
from ui.live import LiveRun
from ui.session import StudioError, StudioSession
from ui.studio_context import StudioContext

EXAMPLE_REQUESTS = [
    "ESP32 reads a DHT22 and switches a 12 V fan",
    "Blink a red LED from an Arduino Uno.",
    "Show the BME280 temperature on an SSD1306 OLED",
    "pico + hc-sr04 + buzzer",
    "555 timer blinks an LED at 1 Hz from a 9 V battery",
]


MAX_SUBSTITUTES = 4  # substitute menus the picker holds (a run that misses more shows the first four)


@dataclass
class DesignWidgets:
    request: gr.Textbox
    run: gr.Button
    stop: gr.Button
    message: gr.HTML
    progress: gr.HTML
    stages: gr.HTML
    schematic: gr.HTML
    verdict: gr.HTML
    notes: gr.HTML
    erc: gr.HTML
    spice: gr.HTML
    spice_plot: gr.Plot
    suggestion_svg: gr.HTML
    suggestion: gr.HTML
    run_events: list = field(default_factory=list)

    @property
    def results(self) -> list:
        """The panels a design fills, whether it was run, imported or checked (``design_panels``)."""
        return [
            self.progress,
            self.stages,
            self.schematic,
            self.verdict,
            self.notes,
            self.erc,
            self.spice,
            self.spice_plot,
            self.suggestion_svg,
            self.suggestion,
        ]


def build(context: StudioContext, state: gr.State) -> DesignWidgets:
    # the request, then Run (Tab reaches it before the example chips), then the results: the schematic
    # beside its verdicts first, the stages as one line each under them
    with gr.Row(equal_height=False, elem_id="request-row"):
        with gr.Column(scale=5, min_width=320):
            request = gr.Textbox(
                label="What should the circuit do? (Ctrl+Enter runs)",
                placeholder="e.g. ESP32 reads a DHT22 and switches a 12 V fan",
                lines=2,
                max_lines=6,
                elem_id="request",
            )
        with gr.Column(scale=1, min_width=220, elem_id="run-column"):
            with gr.Row(elem_id="run-buttons"):
                run = gr.Button("Run", variant="primary", elem_id="run", min_width=90)
                stop = gr.Button("Stop", variant="secondary", interactive=False, elem_id="stop", min_width=80)
            repair = gr.Checkbox(
                value=True,
                label="Repair rounds (up to 3)",
                info="re-decode the nets the checks fault",
                elem_id="repair",
            )
    gr.Examples(EXAMPLE_REQUESTS, inputs=[request], label="Examples", elem_id="examples")
    msg = gr.HTML(elem_id="design-message")
    progress = gr.HTML(elem_id="progress")
    with gr.Row(equal_height=False, elem_id="design-results"):
        with gr.Column(scale=3, min_width=420):
            schematic = gr.HTML(svg_box(None, caption="The model's design"), elem_id="schematic")
        with gr.Column(scale=2, min_width=340, elem_id="verdicts"):
            verdict_box = gr.HTML(elem_id="verdict")
            notes = gr.HTML(elem_id="run-notes")
            with gr.Group(visible=False, elem_id="substitute-picker") as picker:
                menus = [
                    gr.Dropdown(choices=[], value=None, allow_custom_value=True, visible=False, elem_id=f"sub-{i}")
                    for i in range(MAX_SUBSTITUTES)
                ]
                rerun = gr.Button("Re-run with substitutes", variant="primary", elem_id="rerun-substitutes")
            gr.Markdown("#### Electrical rule check")
            erc = gr.HTML(elem_id="erc")
    stages = gr.HTML(elem_id="stages")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            gr.Markdown("#### SPICE")
            spice = gr.HTML(elem_id="spice")
            spice_plot = gr.Plot(label="SPICE analyses", elem_id="spice-plot", visible=False)
        with gr.Column(scale=2, min_width=340):
            suggestion_svg = gr.HTML(svg_box(None, caption="Reference designer's suggestion"), elem_id="suggestion")
            suggestion = gr.HTML(elem_id="suggestion-info")
    with gr.Accordion("Check an existing design: an example or design JSON", open=False):
        with gr.Row():
            example = gr.Dropdown(choices=example_names(), value=None, label="Example design", elem_id="example")
            check = gr.Button("Check the JSON below", elem_id="check-design")
        pasted = gr.Code(language="json", label="Design JSON", elem_id="design-json", max_lines=30)

    w = DesignWidgets(
        request, run, stop, msg, progress, stages, schematic, verdict_box, notes, erc, spice, spice_plot,
        suggestion_svg, suggestion,
    )  # fmt: skip
    run_outputs = [state, msg, *w.results]
    skipped = len(w.results) - 2  # the panels after the progress bar and the stages

    def run_design(current: StudioSession | None, text: str) -> Iterator[tuple]:
        session = session_of(context, current)
        cleared = (svg_box(None, caption="The model's design"), "", "", "", "", gr.update(visible=False, value=None))
        empty_suggestion = (svg_box(None, caption="Reference designer's suggestion"), "")
        if _refused(text) is not None:  # request_run has said why, without waiting for the engine
            yield session, *(gr.skip(),) * (len(run_outputs) - 1)
            return
        if session.stopped_while_queued:
            yield (
                session,
                message("warning", "The run was stopped before it started."),
                "",
                *(gr.skip(),) * (skipped + 1),
            )
            return
        try:
            started = False
            for live, finished in session.run(context, text):
                if finished is None:
                    skip = (gr.skip(),) * skipped if started else (*cleared, *empty_suggestion)
                    started = True
                    yield session, "", run_progress(live), stage_cards(live), *skip
                else:
                    yield session, *_finished(live, finished)
        except Exception as exc:
            yield session, error_html(exc), "", gr.skip(), *cleared, *empty_suggestion

    def set_repair(current: StudioSession | None, on: bool):
        session = session_of(context, current)
        session.repair = bool(on)
        return session

    repair.change(set_repair, inputs=[state, repair], outputs=[state])

    def request_run(current: StudioSession | None, text: str):
        session = session_of(context, current)
        refusal = _refused(text)
        if refusal is None:
            session.request_run()
        return session, refusal or "", gr.update(interactive=refusal is None, variant="stop")

    def request_substituted(current: StudioSession | None, text: str, *chosen: str | None):
        session = session_of(context, current)
        try:
            picked = session.choose_substitutes(context, list(chosen))
        except StudioError as exc:
            raise gr.Error(str(exc)) from None
        session.request_run()
        said = ", ".join(f"{s.part} for {s.name}" for s in picked)
        return session, message("info", f"Re-running with {said}."), gr.update(interactive=True, variant="stop")

    def after_run(current: StudioSession | None):
        """Once a run is over: Stop is idle again, and the substitute picker offers the run's missing parts."""
        session = session_of(context, current)
        missing = session.latest.report.out_of_knowledge if session.latest is not None else []
        menus_shown = [
            gr.update(
                visible=i < len(missing),
                label=f"Substitute for {missing[i].name}" if i < len(missing) else "",
                choices=list(missing[i].nearest) if i < len(missing) else [],
                value=(missing[i].nearest[0] if missing[i].nearest else None) if i < len(missing) else None,
            )
            for i in range(MAX_SUBSTITUTES)
        ]
        return (
            session,
            gr.update(interactive=False, variant="secondary"),
            gr.update(visible=bool(missing)),
            *menus_shown,
        )

    def stop_run(current: StudioSession | None):
        session = session_of(context, current)
        session.stop()
        return session, message("warning", "Stopping the run...")

    def show_example(current: StudioSession | None, name: str | None):
        session = session_of(context, current)
        if not name:
            return session, gr.skip(), gr.skip(), *(gr.skip(),) * len(w.results)
        design = load_example(name)
        panels = shown_panels(context, session, design, "checked")
        return session, design.model_dump_json(indent=2, exclude_none=True), "", *panels

    def check_pasted(current: StudioSession | None, text: str):
        session = session_of(context, current)
        try:
            panels = shown_panels(context, session, Design.from_json(text or ""), "checked")
        except Exception as exc:  # a refused design, or a part whose data the check cannot use
            return session, error_html(exc), *(gr.skip(),) * len(w.results)
        return session, "", *panels

    # Run is noted at once (an empty request refused at once, Stop made active), then queued behind other
    # sessions' runs (the page shows the position); Stop sets the session's cancel switch: a running run
    # ends between two tokens, a queued one at its start. Ctrl+Enter in the request clicks Run (page script).
    engine = {"concurrency_id": "engine", "concurrency_limit": 1}
    after_outputs = [state, stop, picker, *menus]
    w.run_events = [
        trigger(request_run, [state, request], [state, msg, stop], concurrency_limit=None)
        .then(run_design, [state, request], run_outputs, **engine)
        .then(after_run, [state], after_outputs)
        for trigger in (run.click, request.submit)
    ]
    w.run_events.append(
        rerun.click(request_substituted, [state, request, *menus], [state, msg, stop], concurrency_limit=None)
        .success(run_design, [state, request], run_outputs, **engine)
        .then(after_run, [state], after_outputs)
    )
    stop.click(stop_run, [state], [state, msg], concurrency_limit=None)
    example.change(show_example, [state, example], [state, pasted, msg, *w.results])
    check.click(check_pasted, [state, pasted], [state, msg, *w.results])
    return w


def _refused(text: str | None) -> str | None:
    """Why the request cannot be run (empty, nothing readable), as page HTML; None when it can."""
    try:
        clean_request(text)
    except RequestError as exc:
        return error_html(exc)
    return None


def shown_panels(context: StudioContext, session: StudioSession, design: Design, source: str) -> tuple:
    """Check and draw ``design`` (imported or checked, not run) as the session's shown design: the
    values of ``DesignWidgets.results``. The stages and the suggestion belong to runs, so they are
    cleared."""
    shown = session.show_design(context, design, source)
    plot = spice_plots(shown.check.spice.analyses) if shown.check and shown.check.spice else None
    caption = {"imported": "Imported design", "checked": "Checked design"}.get(source, "Design")
    note = message("info", f"Showing {caption.lower()}: stages and the reference suggestion belong to runs.")
    return (
        "",
        note,
        svg_box(shown.svg, caption=caption),
        verdict(shown.check),
        "",
        erc_table(shown.check),
        spice_html(shown.check.spice if shown.check else None),
        gr.update(visible=plot is not None, value=plot),
        svg_box(None, caption="Reference designer's suggestion", empty="only for a run"),
        "",
    )


def _finished(live: LiveRun, run: PipelineRun) -> tuple:
    report = run.report
    status_msg = ""
    if report.status == "out_of_knowledge":  # the notes panel lists the parts and the picker offers substitutes
        status_msg = message(
            "warning",
            "some parts are not in the knowledge base (listed beside the schematic)",
            title="The run stopped before wiring:",
        )
    elif report.status != "ok":
        kind = "warning" if report.status in ("cancelled", "not_understood") else "error"
        title = "Not a circuit request:" if report.status == "not_understood" else "The run stopped:"
        status_msg = message(kind, report.error or report.status, title=title)
    check = report.check
    plot = spice_plots(check.spice.analyses) if check and check.spice else None
    return (
        status_msg,
        run_progress(live, report.status),
        stage_cards(live, report),
        svg_box(run.svg, caption="The model's design", empty="no design: the run did not get that far"),
        verdict(check),
        out_of_knowledge_html(report) + run_notes_html(report),
        erc_table(check),
        spice_html(check.spice if check else None) if check else "",
        gr.update(visible=plot is not None, value=plot),
        svg_box(run.suggestion_svg, caption="Reference designer's suggestion", empty="no suggestion"),
        suggestion_html(report.suggestion),
    )
