"""The page's HTML: every text escaped, severities coloured, the grid and heatmap clickable by data
attributes, diffs marked up."""

from __future__ import annotations

from agents.compare import ErcDiff, ExpertShift, TextPiece
from agents.run_report import TokenRouting
from studio.erc.findings import Severity, Violation
from ui.experts_html import erc_diff, expert_grid, heatmap, routing_diff, text_diff, token_detail
from ui.html import markdown_html, message, progress_bar, svg_box, table

EVIL = "<script>alert(1)</script>"


def test_messages_and_tables_escape_what_users_wrote():
    assert EVIL not in message("error", EVIL) and "&lt;script&gt;" in message("error", EVIL)
    html = table(["a"], [[EVIL]], row_classes=['x" onclick="y'])
    assert EVIL not in html and 'onclick="y"' not in html
    assert "nothing to show" in table(["a"], [])
    assert message("info", "") == ""


def test_the_schematic_box_and_the_progress_bar():
    assert "<svg" in svg_box("<svg></svg>", caption=EVIL) and EVIL not in svg_box(None, caption=EVIL)
    assert 'style="width:100.0%"' in progress_bar(3.0, "done")
    assert 'style="width:0.0%"' in progress_bar(-1, "x")


def test_the_grid_has_one_button_per_expert_with_its_state():
    html = expert_grid(
        [["on", "off"], ["force", "on"]],
        top_k=[None, 1],
        model_top_k=2,
        decoder_layers=[0, 1],
        usage=[[0.5, 0.0], [1.0, 0.25]],
    )
    assert html.count("<button") == 4
    assert 'data-layer="0" data-expert="1" data-state="off"' in html
    assert 'data-layer="1" data-expert="0" data-state="force"' in html
    assert "used by 50% of tokens" in html
    assert '<option value="1" selected>1</option>' in html  # layer 1's top-k


def test_the_heatmap_escapes_tokens_and_marks_the_selected_one():
    routing = TokenRouting(tokens=[EVIL, " a\n"], experts=[[[1, 0]], [[0, 1]]], weights=[[[0.7, 0.3]], [[0.6, 0.4]]])
    html = heatmap(routing, selected=1)
    assert EVIL not in html and 'data-token="1" class="hm sel"' in html
    assert "\u2423a\u23ce" in html  # the space and the newline made visible
    assert "expert 1 (0.70)" in html
    assert "no routing recorded" in heatmap(None)
    detail = token_detail(routing, 0)
    assert "expert 1, expert 0" in detail and "0.700, 0.300" in detail and EVIL not in detail
    assert "click a token" in token_detail(routing, 5)


def test_diffs_are_marked_up_and_escaped():
    html = text_diff(
        [TextPiece(op="equal", text="a "), TextPiece(op="insert", text=EVIL), TextPiece(op="delete", text="b")]
    )
    assert "<ins>&lt;script&gt;" in html and "<del>b</del>" in html
    assert "did not change" in text_diff([TextPiece(op="equal", text="same")])
    fixed = Violation(rule="r", severity=Severity.FATAL, message=EVIL, fix="f")
    assert "change-fixed" in erc_diff(ErcDiff(fixed=[fixed])) and EVIL not in erc_diff(ErcDiff(fixed=[fixed]))
    shifts = [ExpertShift(stage="reason", layer=0, expert=2, baseline=0.5, steered=0.0)]
    assert "-50%" in routing_diff(shifts) and "did not change" in routing_diff([])
    many = [ExpertShift(stage="reason", layer=1, expert=e, baseline=0.2, steered=0.1) for e in range(5)]
    steered = ExpertShift(stage="reason", layer=0, expert=7, baseline=0.01, steered=0.0, targeted=True)
    html = routing_diff([steered, *many], top=2)  # the steered expert is shown however small its move
    assert html.count("<tr>") - 1 == 3 and "steered" in html and "3 smaller shifts not shown" in html


def test_markdown_notes_render_tables_and_escape_raw_html():
    rendered = markdown_html('Effects <img src=x onerror="alert(1)">\n\n| run | ERC |\n|---|---|\n| baseline | 82% |\n')
    assert "<table>" in rendered and "<td>82%</td>" in rendered
    assert "<img" not in rendered and "&lt;img" in rendered


def test_the_intent_panel_lists_each_requirement_and_escapes_the_request():
    from studio.intent import IntentReport, Requirement
    from ui.design_html import intent_html

    requirement = Requirement(kind="part", text="<b>DHT22</b>", status="substituted", detail="dht11 (S1) in place")
    unmet = IntentReport(understood=True, requirements=[requirement], score=0.0, met=False, verdict="not met: x")
    html = intent_html(unmet)
    assert "not all that was asked" in html and "intent-substituted" in html and "<details open>" in html
    assert "<b>DHT22</b>" not in html and "&lt;b&gt;DHT22&lt;/b&gt;" in html
    met = IntentReport(understood=True, requirements=[], score=1.0, met=True, verdict="met")
    assert "the design is what was asked" in intent_html(met) and "<details open>" not in intent_html(met)
    lost = IntentReport(understood=False, score=0.0, met=False, verdict="not understood: the request ...")
    assert "not understood" in intent_html(lost) and intent_html(None) == ""
