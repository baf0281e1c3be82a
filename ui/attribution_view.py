"""Attribution view: two prompt sets (typed, or a ready-made pair), a method, a ranked table of experts,
and "apply as profile". The example profiles shipped with the model are one click away, with their
documented effects."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from studio.moe.attribution import MAX_PROMPT_CHARS, MAX_PROMPTS, METHODS, attribute, suggest_profile
from ui.common import error_html, session_of
from ui.html import markdown_html, message
from ui.prompt_sets import example_sets, parse_prompts
from ui.session import StudioError, StudioSession
from ui.studio_context import StudioContext

RANK_HEADERS = ["rank", "MoE layer", "decoder layer", "expert", "score", "p_A", "p_B"]
SHOWN_ROWS = 30
METHOD_HELP = {
    "risk-diff": "risk difference (SteerMoE): how much more often A's tokens pick the expert than B's",
    "ftri": "FTRI (MoTE): the routing weight the expert gets per token of A minus per token of B",
    "npmi": "nPMI (RICE): how strongly picking the expert goes with being one of A's tokens, -1..1",
}


@dataclass
class AttributionWidgets:
    message: gr.HTML
    profile_events: list  # the events that replace the session's profile (the studio chains a re-run)


def build(context: StudioContext, state: gr.State) -> AttributionWidgets:
    sets = example_sets()
    first = next(iter(sets))
    gr.Markdown(
        "Which experts does a behaviour use? Prompt set **A** shows it, set **B** is the contrast; every expert "
        "gets a score from their routing. Apply the top experts as a profile (turned off to suppress A, "
        "forced on to provoke it), then compare in the Experts tab."
    )
    with gr.Row():
        pair = gr.Dropdown(list(sets), value=first, label="Ready-made sets", elem_id="attr-example")
        method = gr.Radio(list(METHODS), value="risk-diff", label="Method", elem_id="attr-method")
    method_help = gr.Markdown(METHOD_HELP["risk-diff"])
    each = f"one prompt per line, at most {MAX_PROMPTS} of {MAX_PROMPT_CHARS} characters"
    with gr.Row():
        set_a = gr.Textbox("\n".join(sets[first][0]), lines=7, label=f"Set A: {each}", elem_id="set-a")
        set_b = gr.Textbox("\n".join(sets[first][1]), lines=7, label=f"Set B: {each}", elem_id="set-b")
    targets = gr.Textbox(
        label="Count only the tokens of these words (optional, comma separated)", elem_id="attr-targets"
    )
    run = gr.Button("Run attribution", variant="primary", elem_id="attr-run")
    msg = gr.HTML(elem_id="attr-message")
    ranked = gr.Dataframe(headers=RANK_HEADERS, interactive=False, label="Ranked experts", elem_id="attr-table")
    with gr.Row():
        count = gr.Slider(1, 16, value=4, step=1, label="Experts in the profile", elem_id="attr-n")
        action = gr.Radio(
            [("turn off (suppress A)", "off"), ("force on (provoke A)", "force")],
            value="off",
            label="Action",
            elem_id="attr-action",
        )
        stage = gr.Dropdown(["*", "identify", "reason", "synthesize"], value="*", label="Stage", elem_id="attr-stage")
    apply = gr.Button("Apply as profile", elem_id="attr-apply")

    gr.Markdown("### Example profiles shipped with the model")
    examples = context.example_profiles()
    names = [e.path.stem for e in examples]
    if not examples:
        withdrawn = context.profiles_dir / "withdrawn"
        why = (
            f"the bundled model's were withdrawn (they are in {withdrawn} with their measurements): on requests "
            "they were not fitted on, random experts switched off did as much, so their experts are not shown to "
            "carry the behaviour they are named for (see the model card)"
            if withdrawn.is_dir()
            else "they come with the bundled model"
        )
        gr.HTML(
            message(
                "info",
                f"No example profiles in {context.profiles_dir}: {why}. Profiles you import (Export tab) or make "
                "here work the same way; measure one with `circuit-studio experts effect`.",
            )
        )
    chosen = gr.Dropdown(names, value=names[0] if names else None, label="Profile", elem_id="example-profile")
    effects = gr.HTML(_effects(context, names[0]) if names else "", elem_id="profile-effects")
    apply_example = gr.Button("Apply this profile", elem_id="apply-profile", interactive=bool(names))

    def fill(name: str):
        a, b = sets.get(name, ([], []))
        return "\n".join(a), "\n".join(b)

    def run_attribution(current: StudioSession | None, a: str, b: str, how: str, words: str):
        session = session_of(context, current)
        try:
            if context.pipeline is None:
                raise StudioError(f"no model is loaded: {context.model_error}")
            wanted = [w.strip() for w in (words or "").split(",") if w.strip()] or None
            result = attribute(context.pipeline.engine, parse_prompts(a), parse_prompts(b), how, targets=wanted)
        except Exception as exc:
            return session, error_html(exc), gr.skip()
        session.attribution = result
        rows = [
            [i, r.layer, r.decoder_layer, r.expert, round(r.score, 4), round(r.p_a, 3), round(r.p_b, 3)]
            for i, r in enumerate(result.top(SHOWN_ROWS), start=1)
        ]
        note = message(
            "ok",
            f"{how}: A {result.prompts_a} prompts / {result.target_tokens_a} target tokens, "
            f"B {result.prompts_b} prompts / {result.target_tokens_b} target tokens.",
        )
        return session, note, rows

    def apply_attribution(current: StudioSession | None, n: float, what: str, where: str):
        session = session_of(context, current)
        try:
            if session.attribution is None:
                raise StudioError("run an attribution first")
            profile = suggest_profile(session.attribution, int(n), what, where)  # type: ignore[arg-type]
            if not any(s.layers for s in profile.stages.values()):
                raise StudioError("no expert scored above zero for set A: nothing to apply")
            session.use_profile(context, profile)
        except Exception as exc:
            return session, error_html(exc)
        return session, message("ok", f"Applied profile {profile.name}: {profile.description}. See the Experts tab.")

    def apply_shipped(current: StudioSession | None, name: str | None):
        session = session_of(context, current)
        found = next((e for e in context.example_profiles() if e.path.stem == name), None)
        try:
            if found is None or found.profile is None:
                raise StudioError(found.error if found else "choose a profile first")
            if found.error:
                raise StudioError(found.error)
            session.use_profile(context, found.profile)
        except Exception as exc:
            return session, error_html(exc)
        return session, message("ok", f"Applied profile {found.name}. See the Experts tab for the comparison.")

    pair.change(fill, [pair], [set_a, set_b])
    method.change(lambda m: METHOD_HELP.get(m, ""), [method], [method_help])
    run.click(run_attribution, [state, set_a, set_b, method, targets], [state, msg, ranked], concurrency_id="engine")
    chosen.change(lambda name: _effects(context, name), [chosen], [effects])
    events = [
        apply.click(apply_attribution, [state, count, action, stage], [state, msg]),
        apply_example.click(apply_shipped, [state, chosen], [state, msg]),
    ]
    return AttributionWidgets(message=msg, profile_events=events)


def _effects(context: StudioContext, name: str | None) -> str:
    found = next((e for e in context.example_profiles() if e.path.stem == name), None)
    if found is None:
        return ""
    parts = []
    if found.effects:
        parts.append(markdown_html(found.effects))
    else:
        parts.append('<p class="empty">this profile documents no effects</p>')
    if found.error:
        parts.append(message("warning", found.error, title="Cannot be applied:"))
    return "".join(parts)
