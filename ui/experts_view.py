"""Experts view: the layer-by-expert toggle grid of one stage section (or all stages), top-k per layer and
the mode; a change re-runs the last request from the first affected stage and shows baseline and steered
side by side (reasoning diff, both schematics, ERC diff, routing diff); the routing heatmap of either run,
a token's experts and weights, and per-expert usage bars; and the super-expert profile of the loaded model
(the experts with outlier activations, which a profile should leave on)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import gradio as gr

from agents.compare import RunComparison
from agents.orchestrator import PipelineRun
from agents.run_report import RoutingSummary, RunReport, StageName
from studio.moe import toggles
from studio.moe.profile import Mode, Stage, SteeringProfile
from studio.moe.toggles import ToggleError
from ui.charts import usage_bars
from ui.common import error_html, session_of
from ui.design_html import verdict
from ui.experts_html import (
    GRID_JS,
    HEATMAP_JS,
    erc_diff,
    expert_grid,
    heatmap,
    routing_diff,
    super_experts_panel,
    text_diff,
    token_detail,
)
from ui.html import esc, message, svg_box
from ui.session import StudioSession
from ui.studio_context import StudioContext

SECTION_CHOICES = [
    ("all stages (*)", "*"),
    ("identify", "identify"),
    ("reason", "reason"),
    ("synthesize", "synthesize"),
]
LLM_STAGES: tuple[StageName, ...] = ("identify", "reason", "synthesize")
PANELS = 12  # a comparison's outputs after the session: 8 comparison panels, 3 routing panels, the grid


@dataclass
class ExpertsWidgets:
    section: gr.Radio
    mode: gr.Radio
    summary: gr.HTML
    grid: gr.HTML
    auto: gr.Checkbox
    message: gr.HTML
    compare_outputs: list
    routing_outputs: list
    grid_outputs: list
    compare: object  # the comparison generator, for chaining after other views' profile changes
    compare_inputs: list
    baseline_outputs: list  # the status and both sides, filled from the last run (``last_run_panels``)


def build(context: StudioContext, state: gr.State) -> ExpertsWidgets:
    info = context.info
    if info is None:
        gr.HTML(message("warning", f"No model is loaded, so there are no experts to steer: {context.model_error}"))
    else:
        gr.Markdown(
            f"**{esc(info.name)}**: {len(info.moe_layers)} MoE layers x {info.num_experts} experts, top-{info.top_k}. "
            "Click a cell to cycle an expert **on -> off -> forced on**; each change re-runs the last request "
            "from the first stage it affects and compares it with the unsteered baseline."
        )
    with gr.Row():
        section = gr.Radio(SECTION_CHOICES, value="*", label="Stage section to edit", elem_id="grid-section")
        mode = gr.Radio(
            [("re-route (pick the next expert)", "reroute"), ("drop (zero its weight)", "drop")],
            value="reroute",
            label="Mode (whole profile)",
            elem_id="mode",
        )
    summary = gr.HTML(elem_id="profile-summary")
    grid = gr.HTML(js_on_load=GRID_JS, elem_id="expert-grid")
    with gr.Row():
        auto = gr.Checkbox(value=True, label="Re-run after every change", elem_id="auto-rerun")
        rerun = gr.Button("Re-run and compare", variant="primary", elem_id="rerun")
        reset_section = gr.Button("Reset this section", elem_id="reset-section")
        reset_all = gr.Button("Reset all", elem_id="reset-all")
    msg = gr.HTML(elem_id="experts-message")

    gr.Markdown("### Baseline and steered")
    status = gr.HTML(elem_id="compare-status")
    with gr.Row(equal_height=False, elem_id="compare-row"):  # side by side when wide, stacked at 800 px
        with gr.Column(min_width=460):
            base_svg = gr.HTML(svg_box(None, caption="Baseline (no steering)"), elem_id="baseline-schematic")
            base_verdict = gr.HTML(elem_id="baseline-verdict")
        with gr.Column(min_width=460):
            steered_svg = gr.HTML(svg_box(None, caption="Steered"), elem_id="steered-schematic")
            steered_verdict = gr.HTML(elem_id="steered-verdict")
    gr.Markdown("#### Reasoning: what the steered run wrote differently (green added, red removed)")
    reason_diff = gr.HTML(elem_id="reason-diff")
    gr.Markdown("#### ERC: findings fixed, new and still there")
    erc = gr.HTML(elem_id="erc-diff")
    gr.Markdown("#### Routing: experts whose share of tokens moved")
    routing = gr.HTML(elem_id="routing-diff")

    gr.Markdown("### Routing of a run")
    with gr.Row():
        which = gr.Radio(["baseline", "steered"], value="baseline", label="Run", elem_id="heatmap-run")
        stage = gr.Radio(list(LLM_STAGES), value="reason", label="Stage", elem_id="heatmap-stage")
    heat = gr.HTML(heatmap(None), js_on_load=HEATMAP_JS, elem_id="heatmap")
    detail = gr.HTML(token_detail(None, None), elem_id="token-detail")
    usage = gr.Plot(label="Per-expert usage (share of the stage's generated tokens)", elem_id="usage-chart")

    gr.Markdown(
        "### Super experts\n"
        "A few experts produce activation outliers (their largest down-projection output dwarfs every "
        "other's) that the model leans on; turning one off can wreck it. Profiling runs the last request "
        "(or a few built-in requests before any run) through the unsteered model and flags every expert "
        "whose peak is above both the 99.5th percentile of all peaks and a tenth of the largest."
    )
    find_super = gr.Button("Profile super experts", elem_id="profile-super")
    super_panel = gr.HTML(super_experts_panel(None), elem_id="super-experts")

    grid_outputs = [state, summary, grid, mode]
    compare_outputs = [state, status, base_svg, base_verdict, steered_svg, steered_verdict, reason_diff, erc, routing]
    routing_outputs = [heat, detail, usage]
    compare_inputs = [state, section, which, stage]

    def show_grid(current: StudioSession | None, stage_section: Stage):
        return refresh_grid(context, session_of(context, current), stage_section)

    def edited(current: StudioSession | None, stage_section: Stage, change) -> tuple:
        """Apply ``change(session)``; a refusal leaves the profile as it was and says why."""
        session = session_of(context, current)
        try:
            change(session)
            note = ""
        except Exception as exc:
            note = error_html(exc)
        return session, summary_html(session), grid_html(context, session, stage_section), _mode(session), note

    def edit(current: StudioSession | None, stage_section: Stage, evt: gr.EventData):
        data = getattr(evt, "_data", None)  # what the page sent: from the API, anything
        event = data if isinstance(data, dict) else {}
        return edited(current, stage_section, lambda s: edit_grid(context, s, stage_section, event))

    def change_mode(current: StudioSession | None, stage_section: Stage, value: Mode):
        return edited(current, stage_section, lambda s: s.set_mode(context, value))

    def reset(current: StudioSession | None, stage_section: Stage, whole: bool):
        return edited(current, stage_section, lambda s: s.reset(context, None if whole else stage_section))

    def compare(current: StudioSession | None, stage_section: Stage, run_name: str, stage_name: str) -> Iterator:
        session = session_of(context, current)
        try:
            for line, comparison in session.compare(context):
                if comparison is None:
                    yield session, message("info", line), *_skips(PANELS - 1)
                else:
                    yield (
                        session,
                        *_comparison(session, comparison),
                        *routing_panels(session, run_name, stage_name, None),
                        grid_html(context, session, stage_section),
                    )
        except Exception as exc:
            session.comparisons += 1
            yield session, error_html(exc) + _marker(session), *_skips(PANELS - 1)

    def auto_compare(current: StudioSession | None, stage_section: Stage, run_name: str, stage_name: str, on: bool):
        session = session_of(context, current)
        if not session.request and context.pipeline is not None:
            note = "Run a design first (Design tab): a change is compared on the last run's request."
            yield session, message("warning", note), *_skips(PANELS - 1)
            return
        if not on or context.pipeline is None:
            yield session, *_skips(PANELS)
            return
        yield from compare(session, stage_section, run_name, stage_name)

    def show_routing(current: StudioSession | None, run_name: str, stage_name: str):
        return routing_panels(session_of(context, current), run_name, stage_name, None)

    def pick_token(current: StudioSession | None, run_name: str, stage_name: str, evt: gr.EventData):
        data = getattr(evt, "_data", None)
        try:
            index = whole_number(data.get("token") if isinstance(data, dict) else None, "token")
        except ToggleError:
            index = None  # not a token of the heatmap: none is picked
        return routing_panels(session_of(context, current), run_name, stage_name, index)

    def show_super(current: StudioSession | None) -> str:
        return super_experts_html(context, session_of(context, current))

    full_outputs = [*compare_outputs, *routing_outputs, grid]
    engine = {"concurrency_id": "engine", "concurrency_limit": 1}
    auto_inputs = [*compare_inputs, auto]

    section.change(show_grid, [state, section], grid_outputs)
    grid.click(edit, [state, section], [*grid_outputs, msg], trigger_mode="multiple").then(
        auto_compare, auto_inputs, full_outputs, **engine
    )
    mode.input(change_mode, [state, section, mode], [*grid_outputs, msg]).then(
        auto_compare, auto_inputs, full_outputs, **engine
    )
    for button, whole in ((reset_section, False), (reset_all, True)):
        button.click(
            lambda current, s, whole=whole: reset(current, s, whole), [state, section], [*grid_outputs, msg]
        ).then(auto_compare, auto_inputs, full_outputs, **engine)
    rerun.click(compare, compare_inputs, full_outputs, **engine)
    which.change(show_routing, [state, which, stage], routing_outputs)
    stage.change(show_routing, [state, which, stage], routing_outputs)
    heat.click(pick_token, [state, which, stage], routing_outputs)
    find_super.click(show_super, [state], [super_panel], **engine)
    return ExpertsWidgets(
        section=section,
        mode=mode,
        summary=summary,
        grid=grid,
        auto=auto,
        message=msg,
        compare_outputs=full_outputs,
        routing_outputs=routing_outputs,
        grid_outputs=grid_outputs,
        compare=auto_compare,
        compare_inputs=auto_inputs,
        baseline_outputs=[status, base_svg, base_verdict, steered_svg, steered_verdict],
    )


def super_experts_html(context: StudioContext, session: StudioSession) -> str:
    """The super-expert profile of the loaded model on the session's last request (or the built-in
    requests), unsteered; a message when no model is loaded or the profiling is refused."""
    from studio.moe.super_experts import DEFAULT_PROMPTS, profile_super_experts

    if context.pipeline is None:
        return message("warning", f"No model is loaded, so there are no experts to profile: {context.model_error}")
    if session.request:
        prompts, source = [session.request], "the last run's request"
    else:
        prompts, source = list(DEFAULT_PROMPTS), "the built-in requests (no run yet)"
    try:
        report = profile_super_experts(context.pipeline.engine, prompts)
    except Exception as exc:
        return error_html(exc)
    return super_experts_panel(report, source=source)


def edit_grid(context: StudioContext, session: StudioSession, stage: Stage, event: dict) -> str | None:
    """One grid event on the session's profile: a cell click (``layer``, ``expert``) cycles an expert, a
    layer's top-k menu (``kind`` "topk", ``layer``, ``value``; 0: the model's) sets its top-k. Returns the
    first stage the change affects; a malformed event or a refused setting is a ``ToggleError`` or a
    ``StudioError`` saying why."""
    layer = whole_number(event.get("layer"), "layer")
    if event.get("kind") == "topk":
        return session.set_top_k(context, stage, layer, whole_number(event.get("value"), "top-k") or None)
    return session.toggle(context, stage, layer, whole_number(event.get("expert"), "expert"))


def whole_number(value: object, what: str) -> int:
    """An event's number: the page sends whole numbers (JSON); anything else is refused readably."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ToggleError(f"the {what} must be a whole number, not {str(value)[:40]!r}")


def grid_html(context: StudioContext, session: StudioSession, stage: Stage) -> str:
    info, profile = context.info, session.profile
    if info is None or profile is None or stage not in toggles.SECTIONS:
        return ""
    states = toggles.grid(profile, stage)
    top_k = [toggles.layer_steering(profile, stage, layer).top_k for layer in range(len(info.moe_layers))]
    return expert_grid(
        states,
        top_k=top_k,
        model_top_k=info.top_k,
        decoder_layers=list(info.moe_layers),
        usage=_usage_shares(session.latest, stage),
    )


def _usage_shares(run: PipelineRun | None, stage: Stage) -> list[list[float]] | None:
    """Share of tokens per (layer, expert) in the run's stage, or over all LLM stages for ``*``."""
    if run is None:
        return None
    stages = LLM_STAGES if stage == "*" else (stage,)
    summaries = [r.routing for s in stages if (r := run.report.stage(s)) is not None and r.routing is not None]
    if not summaries:
        return None
    tokens = max(sum(s.tokens for s in summaries), 1)
    layers = len(summaries[0].usage)
    experts = len(summaries[0].usage[0]) if layers else 0
    return [[sum(s.usage[layer][e] for s in summaries) / tokens for e in range(experts)] for layer in range(layers)]


def refresh_grid(context: StudioContext, session: StudioSession, stage: Stage) -> tuple:
    """The values of ``ExpertsWidgets.grid_outputs``: the session, its profile's summary, grid and mode."""
    return session, summary_html(session), grid_html(context, session, stage), _mode(session)


def _skips(n: int) -> tuple:
    return (gr.skip(),) * n


def _mode(session: StudioSession):
    return gr.update(value=session.profile.mode) if session.profile is not None else gr.skip()


def summary_html(session: StudioSession) -> str:
    profile = session.profile
    if profile is None:
        return ""
    lines = toggles.summary(profile)
    mode = "re-route" if profile.mode == "reroute" else "drop"
    body = (
        "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>"
        if lines
        else '<p class="empty">no expert is steered: runs are the baseline</p>'
    )
    return f'<div class="profile-summary"><strong>Profile {esc(profile.name)}</strong> ({mode}){body}</div>'


def _marker(session: StudioSession) -> str:
    """Numbers each finished comparison, so a watcher (a test, the benchmark) can tell a new one; it also
    names the steering the shown steered run ran under (``toggles.summary`` lines), to hold it to the grid."""
    ran = "; ".join(toggles.summary(session.steered_profile)) if session.steered is not None else ""
    return f'<span class="compare-done" data-compare="{session.comparisons}" data-steering="{esc(ran)}" hidden></span>'


def last_run_panels(session: StudioSession) -> tuple:
    """The Experts view's comparison panels before any change: the last run as the baseline (so the view
    opens with it), the steered side waiting for a change; the values of ``ExpertsWidgets.baseline_outputs``."""
    base = session.baseline or session.latest
    if base is None:
        return (
            message("info", "Run a design first (Design tab); each change here is then compared with that run."),
            *_skips(4),
        )
    return (
        message("info", "The last run is the baseline. Click an expert in the grid to turn it off and compare."),
        svg_box(base.svg, caption="Baseline (no steering)", empty="the baseline has no design"),
        verdict(base.report.check),
        svg_box(None, caption="Steered", empty="change an expert to see the steered run"),
        "",
    )


def unused_hint(baseline: RunReport | None, profile: SteeringProfile | None) -> str:
    """When steering changed nothing: the steered experts the baseline never routed a token to in that
    stage (turning them off cannot change it), and the most used experts of those layers to try instead."""
    if baseline is None or profile is None:
        return ""
    never, busiest = [], []
    for stage in LLM_STAGES:
        record = baseline.stage(stage)
        if record is None or record.routing is None or not record.routing.tokens:
            continue
        usage, tokens = record.routing.usage, record.routing.tokens
        for layer, steer in profile.for_stage(stage).layers.items():
            if layer >= len(usage):
                continue
            for expert in (*steer.off, *steer.force):
                if expert < len(usage[layer]) and usage[layer][expert] == 0:
                    never.append(f"{stage} L{layer} expert {expert}")
            top = sorted(range(len(usage[layer])), key=lambda e: -usage[layer][e])[:3]
            busiest += [f"{stage} L{layer} expert {e} ({usage[layer][e] / tokens:.0%})" for e in top]
    lines = []
    if never:
        lines.append("The baseline never routed a token to " + ", ".join(never) + ", so steering it changes nothing.")
    if busiest:
        lines.append("The most used experts of the same layers: " + ", ".join(dict.fromkeys(busiest)) + ".")
    return message("info", "\n".join(lines), title="Try another expert:") if lines else ""


def _comparison(session: StudioSession, comparison: RunComparison) -> tuple:
    base = session.baseline
    steered = session.steered
    steering = steered is not None
    if not steering:
        status = message("info", "The profile steers nothing: the steered run is the baseline.")
    elif steered.report.status != "ok":
        status = message("warning", steered.report.error or steered.report.status, title="The steered run stopped:")
    elif comparison.first_changed_stage is None:
        status = message("info", "Steered and baseline runs are identical: these experts did not change the output.")
        status += unused_hint(base.report if base else None, session.steered_profile)
    else:
        changed = ", ".join(comparison.changed_stages)
        status = message("ok", f"Re-ran from the first affected stage. Outputs that changed: {changed}.")
    extra = []
    if comparison.parts_added or comparison.parts_removed:
        extra.append(
            message(
                "info",
                f"parts added: {', '.join(comparison.parts_added) or 'none'}; "
                f"parts removed: {', '.join(comparison.parts_removed) or 'none'}",
            )
        )
    other = steered or base
    return (
        status + "".join(extra) + _marker(session),
        svg_box(base.svg if base else None, caption="Baseline (no steering)", empty="the baseline has no design"),
        verdict(base.report.check if base else None),
        svg_box(other.svg if other else None, caption="Steered", empty="the steered run has no design"),
        verdict(other.report.check if other else None),
        text_diff(comparison.reasoning),
        erc_diff(comparison.erc),
        routing_diff(comparison.routing),
    )


def routing_panels(session: StudioSession, run_name: str, stage: str, token: int | None) -> tuple:
    run = session.steered if run_name == "steered" and session.steered is not None else session.baseline
    if run is None:
        run = session.latest
    record = run.report.stage(stage) if run is not None else None  # type: ignore[arg-type]
    routing = record.token_routing if record is not None else None
    base_summary = _summary_of(session.baseline, stage)
    steered_summary = _summary_of(session.steered, stage)
    figure = usage_bars(base_summary, steered_summary, title=f"{stage} stage")
    return heatmap(routing, selected=token), token_detail(routing, token), figure


def _summary_of(run: PipelineRun | None, stage: str) -> RoutingSummary | None:
    record = run.report.stage(stage) if run is not None else None  # type: ignore[arg-type]
    return record.routing if record is not None else None
