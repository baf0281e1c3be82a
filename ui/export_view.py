"""Export view: download the shown design (Circuit JSON, Wokwi diagram.json, SPICE .cir, KiCad .net,
BOM .csv, SVG, design JSON), the steering profile and the run report; import a steering profile or a
design JSON."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from agents.run_report import RunReport
from spice.exports import EXPORTS
from studio.circuit.design import Design
from studio.exports import export_omissions
from studio.moe.profile import SteeringProfile
from ui.common import error_html, session_of
from ui.downloads import export_folder, read_upload, write_downloads
from ui.html import esc, message
from ui.session import ShownDesign, StudioError, StudioSession
from ui.studio_context import StudioContext

SOURCES = [
    ("the design shown in the Design tab", "shown"),
    ("the baseline run's design", "baseline"),
    ("the reference designer's suggestion", "suggestion"),
]


@dataclass
class ExportWidgets:
    profile_events: list  # imports that replace the session's profile
    design_event: object  # a design import: the studio shows it in the Design tab
    design_import: gr.File


def build(context: StudioContext, state: gr.State, design_outputs: list) -> ExportWidgets:
    gr.Markdown("### Download")
    source = gr.Radio(SOURCES, value="shown", label="Which design", elem_id="export-source")
    make = gr.Button("Prepare the downloads", variant="primary", elem_id="make-exports")
    msg = gr.HTML(elem_id="export-message")
    left_out_box = gr.HTML(elem_id="export-left-out")
    files = gr.File(label="Files", file_count="multiple", interactive=False, elem_id="exports")
    gr.Markdown("### Import")
    with gr.Row():
        # no file_types: a wrong file is refused here in words, beside the import it belongs to, rather than
        # in a toast the page's last message contradicts
        profile_file = gr.File(label="Steering profile (.json)", elem_id="import-profile")
        design_file = gr.File(label="Design JSON (.json)", elem_id="import-design")
    import_msg = gr.HTML(elem_id="import-message")

    def prepare(current: StudioSession | None, which: str):
        session = session_of(context, current)
        try:
            shown, report = _chosen(session, which)
            if shown is None and report is None:
                raise StudioError("there is nothing to export yet: run a design, or import a design JSON")
            paths = write_downloads(shown, session.profile, report, export_folder())
        except Exception as exc:
            return session, error_html(exc), "", None
        names = ", ".join(p.name for p in paths)
        note = "" if shown is not None else " (the last run made no design, so there are no design files)"
        left_out = export_omissions(shown.resolved, EXPORTS) if shown is not None else []
        text = "\n".join([f"{len(paths)} files ready: {names}{note}", *left_out])
        return (
            session,
            message("ok", text),
            left_out_html(left_out if shown is not None else None),
            [str(p) for p in paths],
        )

    def _chosen(session: StudioSession, which: str) -> tuple[ShownDesign | None, RunReport | None]:
        """The design to export and the run report that belongs to it."""
        latest = session.latest.report if session.latest else None
        if which == "baseline":
            if session.baseline is None:
                raise StudioError("there is no baseline run yet: run a design first")
            return session.show_run_design(session.baseline, "baseline"), session.baseline.report
        if which == "suggestion":
            return session.show_suggestion(context), latest
        if session.shown is not None:
            return session.shown, session.shown.report
        return None, latest

    def import_profile(current: StudioSession | None, path: str | None):
        session = session_of(context, current)
        try:
            profile = SteeringProfile.from_json(read_upload(path, "profile", suffix=".json"))
            session.use_profile(context, profile)
        except Exception as exc:
            return session, error_html(exc), None
        return session, message("ok", f"Imported profile {profile.name}; it is now this session's profile."), None

    def import_design(current: StudioSession | None, path: str | None):
        session = session_of(context, current)
        from ui.design_view import shown_panels

        try:
            design = Design.from_json(read_upload(path, "design", suffix=".json"))
            panels = shown_panels(context, session, design, "imported")
        except Exception as exc:
            return session, error_html(exc), None, *(gr.skip(),) * len(design_outputs)
        return session, message("ok", "Imported the design: it is shown in the Design tab."), None, *panels

    make.click(prepare, [state, source], [state, msg, left_out_box, files])
    # each import empties its file box again, ready for the next file
    profile_event = profile_file.upload(import_profile, [state, profile_file], [state, import_msg, profile_file])
    design_event = design_file.upload(
        import_design, [state, design_file], [state, import_msg, design_file, *design_outputs]
    )
    return ExportWidgets(profile_events=[profile_event], design_event=design_event, design_import=design_file)


def left_out_html(left_out: list[str] | None) -> str:
    """What the Wokwi diagram.json leaves out of the design (parts Wokwi has no element for, with their
    wires); the other files hold the whole design."""
    if left_out is None:
        return ""
    if not left_out:
        return message("info", "diagram.json holds every part: Wokwi has an element for each.", title="Wokwi:")
    items = "".join(f"<li>{esc(line)}</li>" for line in left_out)
    return (
        '<div class="panel left-out"><strong>What diagram.json (Wokwi) leaves out</strong> '
        '<span class="caption">the other files hold the whole design</span>'
        f"<ul>{items}</ul></div>"
    )
