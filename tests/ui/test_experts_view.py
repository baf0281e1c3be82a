"""The Experts view's handlers as Gradio calls them, with what a page or an API client may send: every
answer is a readable message in the view, never Gradio's generic error, and a refused edit leaves the
profile as it was."""

from __future__ import annotations

import gradio as gr
import pytest

from ui import experts_view
from ui.experts_html import super_experts_panel
from ui.session import StudioSession


@pytest.fixture
def handlers(context):
    """The view's event functions by name, as the studio registers them."""
    with gr.Blocks() as blocks:
        state = gr.State()
        experts_view.build(context, state)
    return {block.fn.__name__: block.fn for block in blocks.fns.values()}


def message_of(outputs: tuple) -> str:
    return outputs[-1]  # edits answer (session, summary, grid, mode, message)


HOSTILE_EVENTS = [
    {"kind": "cell", "layer": "0", "expert": 1},
    {"kind": "cell", "layer": None, "expert": 1},
    {"kind": "cell", "layer": 0.5, "expert": 1},
    {"kind": "cell", "layer": True, "expert": 1},
    {"kind": "cell", "layer": 40, "expert": 1},
    {"kind": "cell", "layer": 0, "expert": -1},
    {"kind": "cell", "layer": 0, "expert": 10**30},
    {"kind": "topk", "layer": 0, "value": "two"},
    {"kind": "topk", "layer": 0, "value": 99},
    {},
]


@pytest.mark.parametrize("data", [*HOSTILE_EVENTS, None, [1, 2], "layer"], ids=repr)
def test_a_malformed_grid_event_is_a_readable_refusal_and_changes_nothing(context, handlers, data):
    session = StudioSession.start(context)
    before = session.profile
    outputs = handlers["edit"](session, "*", gr.EventData(None, data))
    assert outputs[0] is session and session.profile == before
    note = message_of(outputs)
    assert note.startswith('<div class="msg msg-error" role="alert">')
    assert "Something went wrong" not in note
    assert any(word in note for word in ("whole number", "does not exist", "top-k must be between"))


def test_the_layer_that_does_not_exist_is_named_exactly(context, handlers):
    session = StudioSession.start(context)
    note = message_of(handlers["edit"](session, "*", gr.EventData(None, {"layer": 40, "expert": 0})))
    assert "MoE layer 40 does not exist: the profile&#x27;s model tiny-ui-moe has 2 MoE layers, 0..1" in note


@pytest.mark.parametrize("section", [None, "plan", ["*"]], ids=repr)
def test_a_section_that_does_not_exist_is_refused_readably(context, handlers, section):
    session = StudioSession.start(context)
    before = session.profile
    note = message_of(handlers["edit"](session, section, gr.EventData(None, {"layer": 0, "expert": 0})))
    assert "the stage section is one of *, identify, reason, synthesize" in note and session.profile == before
    assert note.startswith('<div class="msg msg-error"')


@pytest.mark.parametrize("mode", [None, "sideways"], ids=repr)
def test_a_mode_that_does_not_exist_is_refused_readably(context, handlers, mode):
    session = StudioSession.start(context)
    note = message_of(handlers["change_mode"](session, "*", mode))
    assert "the mode is reroute or drop" in note and session.profile.mode == "reroute"
    assert note.startswith('<div class="msg msg-error"')


def test_an_edit_the_router_cannot_honour_says_so(context, handlers):
    session = StudioSession.start(context)
    edit = handlers["edit"]
    for expert in range(3):  # off, then forced: the third forced expert is one more than top-2
        edit(session, "reason", gr.EventData(None, {"layer": 0, "expert": expert}))
        note = message_of(edit(session, "reason", gr.EventData(None, {"layer": 0, "expert": expert})))
    assert "3 experts forced on but only 2 are chosen per token" in note


def test_a_good_grid_event_still_edits(context, handlers):
    session = StudioSession.start(context)
    outputs = handlers["edit"](session, "reason", gr.EventData(None, {"kind": "cell", "layer": 1, "expert": 2}))
    assert message_of(outputs) == "" and session.profile.stages["reason"].layers[1].off == [2]
    handlers["edit"](session, "reason", gr.EventData(None, {"kind": "topk", "layer": 1, "value": 1.0}))
    assert session.profile.stages["reason"].layers[1].top_k == 1


@pytest.mark.parametrize("data", [{"token": "x"}, {"token": None}, None, {"token": 1e300}], ids=repr)
def test_picking_a_token_that_is_not_one_picks_none(context, handlers, data):
    session = StudioSession.start(context)
    heat, detail, _figure = handlers["pick_token"](session, "baseline", "reason", gr.EventData(None, data))
    assert isinstance(heat, str) and isinstance(detail, str)


# -- the super-expert panel -----------------------------------------------------------------------------


def test_the_super_expert_panel_shows_the_profile_of_the_last_request(context, handlers):
    from studio.moe.super_experts import profile_super_experts

    session = StudioSession.start(context)
    assert super_experts_panel(None).startswith('<p class="empty">no profile yet')
    session.request = "blink an led"
    shown = handlers["show_super"](session)
    direct = profile_super_experts(context.pipeline.engine, ["blink an led"])
    assert direct.super_experts and "the last run&#x27;s request" in shown
    named = ", ".join(f"MoE layer {r.layer} expert {r.expert}" for r in direct.super_experts)
    assert f"limit {direct.threshold:.4g}): {named}.</p>" in shown
    assert shown.count('class="se') == len(direct.rows)  # the map: every (layer, expert)
    assert shown.count('class="se super"') == len(direct.super_experts)
    top = direct.highest(1)[0]
    assert f"<td>{top.layer}</td><td>{top.decoder_layer}</td><td>{top.expert}</td>" in shown

    fresh = StudioSession.start(context)  # no run yet: the built-in requests
    assert "built-in requests (no run yet)" in handlers["show_super"](fresh)


def test_the_super_expert_panel_says_when_no_model_is_loaded(context, handlers):
    from ui.studio_context import StudioContext

    empty = StudioContext(kb=context.kb, pipeline=None, profiles_dir=context.profiles_dir)
    empty.model_error = "the bundled model is not there"
    shown = experts_view.super_experts_html(empty, StudioSession.start(context))
    assert shown.startswith('<div class="msg msg-warning"')
    assert "No model is loaded, so there are no experts to profile: the bundled model is not there" in shown


def test_the_super_expert_panel_escapes_the_model_name():
    from studio.moe.super_experts import ExpertPeak, SuperExpertReport

    rows = [
        ExpertPeak(layer=0, decoder_layer=0, expert=e, max_abs=float(e), tokens=e, is_super=e == 3) for e in range(4)
    ]
    report = SuperExpertReport(model="<script>alert(1)</script>", prompts=1, threshold=2.5, rows=rows)
    shown = super_experts_panel(report, source='<b>"x"</b>')
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "&lt;b&gt;" in shown
    assert "MoE layer 0 expert 3" in shown and shown.count("<tr>") == 1 + 4 + 1 + 1  # table head+rows, map
