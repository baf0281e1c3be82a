"""The Design view's panels as HTML: the stages as they run, the verdict, the ERC table coloured by
severity, SPICE results and the reference designer's suggestion."""

from __future__ import annotations

from agents.checks import CheckReport
from agents.run_report import STAGE_ORDER, RunReport, StageName, Suggestion
from spice.results import SpiceReport
from studio.circuit.design import Design
from studio.erc.findings import Violation
from studio.intent import IntentReport
from ui.html import details, esc, message, pre, progress_bar, table
from ui.live import STAGE_TITLES, LiveRun

ERC_HEADERS = ("severity", "rule", "where", "problem", "suggested fix")
STATUS_TEXT = {
    "ok": "finished",
    "stopped": "stopped",
    "cancelled": "stopped by you",
    "invalid": "not started",
    "not_understood": "not understood",
}
INTENT_HEADERS = ("asked for", "what", "status", "in the design")


def run_progress(live: LiveRun, status: str | None = None) -> str:
    if status is not None:
        return progress_bar(1.0 if status == "ok" else live.progress, f"run {STATUS_TEXT.get(status, status)}")
    current = live.current
    label = f"{STAGE_TITLES[current].lower()}..." if current else "starting..."
    return progress_bar(live.progress, label)


def stage_cards(live: LiveRun, report: RunReport | None = None) -> str:
    """One card per stage that started: done ones with their result, the running one with its text."""
    cards = []
    for number, stage in enumerate(STAGE_ORDER, start=1):
        state = live.stages.get(stage)
        if state is None:
            continue
        status = "done" if state.done else "running"
        cached = " (cached)" if state.record is not None and state.record.cached else ""
        seconds = f" {state.record.seconds:.1f} s" if state.record is not None else ""
        body = _stage_body(stage, state.text, report, state.done)
        cards.append(
            f'<section class="stage stage-{status}" data-stage="{stage}">'
            f'<h4><span class="stage-no">{number}</span> {esc(STAGE_TITLES[stage])}'
            f'<span class="stage-meta">{esc(status + cached + seconds)}</span></h4>{body}</section>'
        )
    notices = "".join(message("warning", n) for n in live.notices)
    return notices + "".join(cards)


def _stage_body(stage: StageName, text: str, report: RunReport | None, done: bool) -> str:
    if report is not None and done:
        if stage == "identify" and report.parts is not None:
            rows = [[p.part, p.quantity, p.role] for p in report.parts.parts]
            unknown = (
                message("warning", "not in the knowledge base: " + ", ".join(report.parts.unknown))
                if report.parts.unknown
                else ""
            )
            return table(["part", "qty", "role"], rows, empty="no parts") + unknown
        if stage == "pinouts":
            return _pinouts(report)
        if stage == "reason":
            return pre(report.plan or "(the model wrote no plan)", css="reasoning")
        if stage == "synthesize" and report.design is not None:
            first = report.stage("synthesize")  # the first synthesis, before any repair round
            design = Design.model_validate(first.output["design"]) if first is not None else report.design
            parts = ", ".join(f"{p.ref} {p.part}" + (f" {p.value}" if p.value else "") for p in design.parts)
            nets = [[n.name, " ".join(n.pins)] for n in design.nets]
            return f"<p>{esc(parts)}</p>" + table(["net", "pins"], nets, empty="no nets")
        if stage == "check" and report.first is not None:
            return verdict(report.first)  # the first synthesis (pass@1); the repair card shows the rest
        if stage == "repair":
            rounds = [r.messages[0] for r in report.stages if r.stage == "repair" and r.messages]
            kept = any(r.output.get("kept") for r in report.stages if r.stage == "repair")
            after = verdict(report.check) if kept and report.check is not None else "<p>the first design stands</p>"
            return "".join(f"<p>{esc(line)}</p>" for line in rounds) + after
        if stage == "render":
            return "<p>drawn below</p>"
    if stage in ("identify", "reason", "synthesize", "repair"):
        return pre(text or "...", css="reasoning streaming" if not done else "reasoning")
    return ""


def _pinouts(report: RunReport) -> str:
    rows = [[b.ref, b.part, b.value or "", b.role] for b in report.bill]
    record = report.stage("pinouts")
    missing = "".join(message("warning", text) for text in (record.messages if record else []))
    pins = record.output.get("pins", {}) if record is not None else {}
    blocks = []
    for part_id, pin_rows in pins.items():
        body = table(
            ["number", "name", "type", "roles"],
            [[p["number"], p["name"], p["type"], ", ".join(p["roles"])] for p in pin_rows],
        )
        blocks.append(details(f"{part_id}: {len(pin_rows)} pins", body))
    return table(["ref", "part", "value", "role"], rows, empty="no known parts") + missing + "".join(blocks)


def verdict(check: CheckReport | None) -> str:
    """The ERC verdict and, with a request, whether the design is what it asked for."""
    if check is None:
        return ""
    erc = check.erc
    word, kind = ("passes", "ok") if erc.passed else ("fails", "error")
    erc_line = message(
        kind,
        f"ERC {word}: {len(erc.violations)} finding(s); structural score {erc.structural_score:.2f}, "
        f"electrical score {erc.electrical_score:.2f}.",
    )
    return erc_line + intent_html(check.intent)


def intent_html(intent: IntentReport | None) -> str:
    if intent is None:
        return ""
    if not intent.understood:
        return message("warning", intent.verdict, title="Intent:")
    kind = "ok" if intent.met else "warning"
    head = "the design is what was asked" if intent.met else "the design is not all that was asked"
    rows = [[r.text, r.kind, r.status, r.detail] for r in intent.requirements]
    body = table(
        INTENT_HEADERS,
        rows,
        css="intent",
        row_classes=[f"intent-{r.status}" for r in intent.requirements],
        empty="the request names no part, number or interface to hold the design to",
    )
    summary = details("what was asked, item by item", body, open_=not intent.met)
    return message(kind, f"{head} (score {intent.score:.2f}).", title="Intent:") + summary


def erc_rows(violations: list[Violation]) -> list[list[str]]:
    return [[v.severity.value, v.rule, _where(v), v.message, v.fix] for v in violations]


def erc_table(check: CheckReport | None) -> str:
    if check is None:
        return ""
    violations = check.erc.violations
    return table(
        ERC_HEADERS,
        erc_rows(violations),
        css="erc",
        row_classes=[f"sev-{v.severity.value}" for v in violations],
        empty="no ERC findings: every rule passes",
    )


def spice_html(spice: SpiceReport | None) -> str:
    if spice is None:
        return '<p class="empty">SPICE was not run</p>'
    if not spice.ok:
        return message("warning", spice.error or "the simulation failed", title="SPICE:")
    parts = []
    op = spice.operating_point
    if op is not None:
        rows = [[net, f"{v:.3g} V"] for net, v in op.rail_voltages.items()]
        rows += [[f"{ref} LED current", f"{i:.3g} mA"] for ref, i in op.led_currents_ma.items()]
        rows += [[f"{pin} current", f"{i:.3g} mA"] for pin, i in op.gpio_currents_ma.items()]
        parts.append("<h5>Operating point</h5>" + table(["quantity", "value"], rows, empty="no rails found"))
    for analysis in spice.analyses:
        rows = [[r.quantity, r.simulated, r.expected] for r in analysis.rows]
        parts.append(f"<h5>{esc(analysis.title)}</h5>" + table(["quantity", "simulated", "expected"], rows))
    findings = [[f.severity, f.rule, f.message] for f in spice.findings]
    parts.append(
        "<h5>Findings</h5>"
        + table(
            ["severity", "rule", "message"],
            findings,
            css="erc",
            row_classes=[f"sev-{f.severity}" for f in spice.findings],
            empty="no SPICE findings",
        )
    )
    notes = spice.assumptions + spice.notes
    if notes:
        parts.append(details("assumptions and notes", "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"))
    return "".join(parts)


def suggestion_html(suggestion: Suggestion | None) -> str:
    if suggestion is None:
        return ""
    if suggestion.error:
        return message("warning", suggestion.error, title="The reference designer could not wire these parts:")
    added = f"<p>added: {esc(', '.join(suggestion.added))}</p>" if suggestion.added else ""
    return verdict(suggestion.check) + added + details("its plan", pre(suggestion.plan, css="reasoning"))


def _where(v: Violation) -> str:
    return ", ".join(v.pins or v.refs) + (f" (net {v.net})" if v.net else "")
