"""The Experts view's handlers as Gradio calls them, with what a page or an API client may send: every
answer is a readable message in the view, never Gradio's generic error, and a refused edit leaves the
profile as it was."""

from __future__ import annotations

import gradio as gr
import pytest

from ui import experts_view
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
