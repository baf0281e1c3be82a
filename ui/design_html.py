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
    "out_of_knowledge": "stopped before wiring (parts not in the knowledge base)",
}
INTENT_HEADERS = ("asked for", "what", "status", "in the design")


def run_progress(live: LiveRun, status: str | None = None) -> str:
    if status is not None:
        return progress_bar(1.0 if status == "ok" else live.progress, f"run {STATUS_TEXT.get(status, status)}")
    current = live.current
    label = f"{STAGE_TITLES[current].lower()}..." if current else "starting..."
    return progress_bar(live.progress, label)


def stage_cards(live: LiveRun, report: RunReport | None = None) -> str:
    """One card per stage that started, each a one-line ``<details>`` (click to open): done ones with
    their result in brief on the line, the running one open with the text it is writing."""
    cards = []
    for number, stage in enumerate(STAGE_ORDER, start=1):
        state = live.stages.get(stage)
        if state is None:
            continue
        status = "done" if state.done else "running"
        cached = " (cached)" if state.record is not None and state.record.cached else ""
        seconds = f" {state.record.seconds:.1f} s" if state.record is not None else ""
        body = _stage_body(stage, state.text, report, state.done)
        brief = _stage_brief(stage, report) if report is not None and state.done else ""
        opened = " open" if not state.done else ""
        cards.append(
            f'<details class="stage stage-{status}" data-stage="{stage}"{opened}><summary>'
            f'<span class="stage-no">{number}</span> <span class="stage-title">{esc(STAGE_TITLES[stage])}</span>'
            f'<span class="stage-brief">{esc(brief)}</span>'
            f'<span class="stage-meta">{esc(status + cached + seconds)}</span></summary>'
            f'<div class="stage-body">{body}</div></details>'
        )
    notices = "".join(message("warning", n) for n in live.notices)
    return notices + "".join(cards)


def _stage_brief(stage: StageName, report: RunReport) -> str:
    """A done stage's result in a few words, for its card's one line."""
    record = report.stage(stage)
    if stage == "identify" and report.parts is not None:
        named = ", ".join(p.part for p in report.parts.parts[:4]) + (", ..." if len(report.parts.parts) > 4 else "")
        unknown = f"; {len(report.parts.unknown)} not understood" if report.parts.unknown else ""
        return f"{len(report.parts.parts)} parts: {named}{unknown}"
    if stage == "pinouts":
        missing = f"; {len(report.out_of_knowledge)} not in the knowledge base" if report.out_of_knowledge else ""
        return f"{len(report.bill)} parts with pinouts{missing}"
    if stage == "reason" and report.plan:
        return next((line.strip() for line in report.plan.splitlines() if line.strip()), "")[:90]
    if stage == "synthesize" and record is not None:
        design = record.output.get("design") or {}
        follows = record.messages[0] if record.messages else ""
        size = f"{len(design.get('parts', []))} parts, {len(design.get('nets', []))} nets"
        return f"{size}; {follows}" if follows else size
    if stage == "check" and report.first is not None:
        return erc_words(report.first.erc.passed, report.first.erc.violations)
    if stage == "repair":
        rounds = [r for r in report.stages if r.stage == "repair"]
        kept = any(r.output.get("kept") for r in rounds)
        return f"{len(rounds)} round(s); " + ("a repair was kept" if kept else "the first design stands")
    if stage == "render":
        return "drawn above"
    return ""


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
            return "<p>drawn in the schematic panel</p>"
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


SCORE_NOTE = (
    "Each score is 1.00 with no finding in its group and shrinks with every finding: a fatal one sets it "
    "to 0, a major halves it, a minor takes 20 %, a warning 5 %. Structural rules are the references and "
    "the wiring (unknown pins, shorts, floating inputs); electrical rules are the electronics (voltages, "
    "currents, pull-ups, supplies)."
)


def erc_words(passed: bool, violations: list[Violation]) -> str:
    """ "ERC passes (no findings)", "ERC passes (3 minor findings)", "ERC fails (1 fatal, 2 minor findings)"."""
    counts: dict[str, int] = {}
    for v in sorted(violations, key=lambda v: v.severity.rank):
        counts[v.severity.value] = counts.get(v.severity.value, 0) + 1
    found = ", ".join(f"{n} {severity}" for severity, n in counts.items())
    total = sum(counts.values())
    noun = "finding" if total == 1 else "findings"
    return f"ERC {'passes' if passed else 'fails'} ({f'{found} {noun}' if found else 'no findings'})"


def verdict(check: CheckReport | None) -> str:
    """The ERC verdict (with its two scores explained) and, with a request, whether the design is what it
    asked for."""
    if check is None:
        return ""
    erc = check.erc
    kind = "ok" if erc.passed else "error"
    words = erc_words(erc.passed, erc.violations)
    scores = (
        f' <span class="scores" title="{esc(SCORE_NOTE)}">structural score {erc.structural_score:.2f}, '
        f"electrical score {erc.electrical_score:.2f}</span>"
    )
    erc_line = (
        f'<div class="msg msg-{kind}" role="status"><strong>{esc(words)}.</strong>{scores}'
        f'<div class="caption">{esc(SCORE_NOTE)}</div></div>'
    )
    return erc_line + intent_html(check.intent) + spice_line(check.spice)


def spice_line(spice: SpiceReport | None) -> str:
    """The SPICE verdict in one line (the SPICE panel below has the numbers)."""
    if spice is None:
        return ""
    if not spice.ok:
        return message("warning", spice.error or "the simulation failed", title="SPICE:")
    counts: dict[str, int] = {}
    for f in spice.findings:
        counts[str(f.severity)] = counts.get(str(f.severity), 0) + 1
    found = ", ".join(f"{n} {severity}" for severity, n in counts.items())
    rules = ", ".join(dict.fromkeys(f.rule for f in spice.findings))
    total = len(spice.findings)
    what = f"{found} finding{'s' if total != 1 else ''} ({rules})" if total else "no findings"
    analyses = f"operating point{f' and {len(spice.analyses)} analyses' if spice.analyses else ''}"
    serious = any(str(f.severity) in ("fatal", "major") for f in spice.findings)
    return message("warning" if serious else "ok", f"{analyses} simulated; {what}.", title="SPICE:")


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


def finding_attrs(v: Violation) -> dict[str, str]:
    """What the page script needs to point a finding at the schematic: its pins and its net."""
    return {"data-pins": " ".join(v.pins), "data-refs": " ".join(v.refs), "data-net": v.net or "", "tabindex": "0"}


def erc_table(check: CheckReport | None) -> str:
    if check is None:
        return ""
    violations = check.erc.violations
    return table(
        ERC_HEADERS,
        erc_rows(violations),
        css="erc findings",
        row_classes=[f"sev-{v.severity.value} finding" for v in violations],
        row_attrs=[finding_attrs(v) for v in violations],
        empty="no ERC findings: every rule passes",
    ) + ('<p class="caption">Click a finding to show its pins and net in the schematic.</p>' if violations else "")


def out_of_knowledge_html(report: RunReport) -> str:
    """The parts the request names that the knowledge base lacks: each as written, its nearest known parts
    and how to add it (the picker below the panel re-runs with substitutes)."""
    if not report.out_of_knowledge:
        return ""
    rows = [[o.name, ", ".join(o.nearest) or "none close", o.message] for o in report.out_of_knowledge]
    body = table(["as written", "nearest in the knowledge base", "what to do"], rows, css="ook")
    head = (
        "The run stopped before wiring: the request names parts the knowledge base lacks. Add them (Parts tab), "
        "or pick a substitute for each below and re-run."
    )
    return f'<div class="panel ook-panel">{message("warning", head, title="Not in the knowledge base.")}{body}</div>'


def run_notes_html(report: RunReport) -> str:
    """What the run did with the request that a reader should know: parts it did not understand, parts it
    substituted or added (the notices), the repair rounds and where the design departs from the plan."""
    blocks = []
    unknown = report.parts.unknown if report.parts is not None else []
    if unknown and not report.out_of_knowledge:
        blocks.append(message("warning", ", ".join(unknown), title="Not understood (left out of the design):"))
    if report.notices:
        items = "".join(f"<li>{esc(n)}</li>" for n in report.notices)
        blocks.append(
            f'<div class="panel notices"><strong>Substituted and adjusted parts</strong><ul>{items}</ul></div>'
        )
    repairs = [r for r in report.stages if r.stage == "repair"]
    if repairs and report.first_check is not None and report.check is not None:
        before = erc_words(report.first_check.erc.passed, report.first_check.erc.violations)
        after = erc_words(report.check.erc.passed, report.check.erc.violations)
        lines = "".join(f"<li>{esc(m)}</li>" for r in repairs for m in r.messages[:1])
        blocks.append(
            f'<div class="panel repairs"><strong>Repair: {len(repairs)} round(s)</strong> '
            f"<span>first synthesis: {esc(before)}; now: {esc(after)}</span><ul>{lines}</ul></div>"
        )
    synth = report.stage("synthesize")
    follows = synth.messages[0] if synth is not None and synth.messages else ""
    if follows or report.plan_departures:
        items = "".join(f"<li>{esc(d)}</li>" for d in report.plan_departures)
        listed = f"<ul>{items}</ul>" if items else ' <span class="caption">no departure from the plan</span>'
        blocks.append(f'<div class="panel departures"><strong>Design vs plan:</strong> {esc(follows)}{listed}</div>')
    return "".join(blocks)


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
