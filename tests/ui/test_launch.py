"""The ``studio`` command that serves the studio: its flags and defaults, and why desktop mode cannot open."""

from __future__ import annotations

import pytest

from ui.cli.main import build_parser
from ui.launch import desktop_reason, serve


def test_the_studio_command_and_its_flags():
    args = build_parser().parse_args(["studio", "--port", "7999", "--model", "m", "--desktop"])
    assert (args.port, args.model, args.desktop, args.host) == (7999, "m", True, "127.0.0.1")
    assert args.handler is serve  # the function that serves the studio, not only something callable
    assert args.distributed is None


def test_the_distributed_plans_are_the_runtime_s():
    from studio.moe.distributed import PLANS as RUNTIME_PLANS
    from ui.launch import PLANS

    assert PLANS == RUNTIME_PLANS
    assert build_parser().parse_args(["studio", "--distributed", "expert"]).distributed == "expert"


def test_distributed_serving_outside_torchrun_says_how(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    args = build_parser().parse_args(["studio", "--model", "m", "--distributed", "tensor"])
    with pytest.raises(RuntimeError, match="runs under torchrun"):
        serve(args)


def test_desktop_mode_says_why_it_cannot_open(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    reason = desktop_reason()
    assert reason.startswith("no display") and "xvfb-run" in reason


def test_desktop_mode_says_chromium_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on it
    assert desktop_reason().startswith("Chromium is not installed")
