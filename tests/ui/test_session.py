"""A browser session's studio without the browser: runs stream and finish, a toggle re-runs from the
first affected stage, sessions never share a profile, stops stop, refusals are readable, and the
Export tab's files are written."""

from __future__ import annotations

import json

import pytest

from studio.circuit.design import Design
from studio.circuit.examples import load_example
from studio.exports import ExportError
from studio.moe.profile import ModelIdentity, SteeringProfile
from ui.downloads import read_upload, write_downloads
from ui.html import slug
from ui.session import StudioError, StudioSession

REQUEST = "Blink a red LED from an Arduino Uno."


def finish(iterator):
    last = None
    for item in iterator:
        last = item
    return last


def test_a_run_streams_becomes_the_baseline_and_a_toggle_reruns_from_its_stage(context):
    session = StudioSession.start(context)
    snapshots = list(session.run(context, REQUEST))
    live, run = snapshots[-1]
    assert all(finished is None for _, finished in snapshots[:-1])
    assert run is not None and run.report.status == "ok", run.report.error
    assert set(live.stages) - {"repair"} == {"identify", "pinouts", "reason", "synthesize", "check", "render"}
    assert live.stages["reason"].text.strip() == run.report.plan
    assert session.baseline is run and session.steered is None and session.shown.source == "run"

    assert session.toggle(context, "reason", 0, 0) == "reason"
    assert session.toggle(context, "reason", 1, 0) == "reason"
    lines = [line for line, comparison in session.compare(context) if comparison is None]
    _, comparison = finish(session.compare(context))
    assert lines and comparison is not None
    steered = session.steered.report
    assert steered.stage("identify").cached and not steered.stage("reason").cached
    assert all(steered.stage("reason").routing.usage[layer][0] == 0 for layer in (0, 1))
    assert session.latest is session.steered and session.shown.source == "steered"
    # nothing changed since: the comparison comes straight from the session's runs
    assert finish(session.compare(context))[1] == comparison


def test_sessions_keep_their_own_profiles(context):
    one, two = StudioSession.start(context), StudioSession.start(context)
    one.toggle(context, "*", 0, 1)
    assert one.profile.stages and not two.profile.stages
    assert one.cache is not two.cache


def test_a_stop_ends_the_run_and_a_stop_while_queued_is_remembered(context):
    session = StudioSession.start(context)
    session.request_run()
    assert not session.stopped_while_queued
    for _live, run in session.run(context, "pico + hc-sr04 + buzzer"):
        if run is None:
            session.stop()
    assert run.report.status == "cancelled"
    assert session.stopped_while_queued
    session.request_run()
    assert not session.stopped_while_queued


def test_refusals_are_readable_and_leave_the_profile_alone(context):
    session = StudioSession.start(context)
    before = session.profile
    with pytest.raises(StudioError, match="forced on but only 2"):
        for expert in range(3):
            session.toggle(context, "reason", 0, expert)  # off
            session.toggle(context, "reason", 0, expert)  # forced
    assert session.profile != before  # the first two forced experts were fine
    other = SteeringProfile(model=ModelIdentity(name="big", moe_layers=[0, 1, 2], experts_per_layer=64))
    with pytest.raises(StudioError, match="made for big"):
        session.use_profile(context, other)
    with pytest.raises(StudioError, match="run a design first"):
        finish(StudioSession.start(context).compare(context))


def test_a_design_is_shown_and_every_download_written(context, tmp_path):
    session = StudioSession.start(context)
    shown = session.show_design(context, load_example("esp32-dht22-fan"))
    assert shown.svg.startswith("<svg") and shown.check.erc.passed
    files = write_downloads(shown, session.profile, None, tmp_path)
    stem = slug(shown.design.title)
    assert stem != "design" and all(f.name.startswith(stem + ".") for f in files), [f.name for f in files]
    names = {f.name.removeprefix(stem + ".") for f in files}
    assert {"circuit.json", "diagram.json", "circuit.cir", "netlist.net", "bom.csv", "schematic.svg"} <= names
    assert {"profile.json", "design.json"} <= names and "report.json" not in names
    assert Design.from_json((tmp_path / f"{stem}.design.json").read_text()) == shown.design
    SteeringProfile.load(tmp_path / f"{stem}.profile.json")


def test_file_names_are_slugs_of_the_title():
    assert slug("ESP32 + DHT22 -> relay") == "esp32-dht22-relay"
    assert slug("  <script>  ") == "script" and slug("") == "design" and slug("äöü") == "design"
    assert len(slug("x" * 300)) <= 48


def test_a_design_with_an_unknown_part_is_not_exported(context, tmp_path):
    session = StudioSession.start(context)
    design = Design.model_validate({"parts": [{"ref": "U1", "part": "no-such-part"}], "nets": []})
    shown = session.show_design(context, design)
    with pytest.raises(ExportError, match="no-such-part"):
        write_downloads(shown, None, None, tmp_path / "out")


def test_uploads_are_read_as_text_or_refused(tmp_path):
    good = tmp_path / "p.json"
    good.write_text(json.dumps({"a": 1}))
    assert json.loads(read_upload(str(good), "profile")) == {"a": 1}
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(StudioError, match="not UTF-8"):
        read_upload(str(binary), "profile")
    with pytest.raises(StudioError, match="choose a design file"):
        read_upload(None, "design")
