"""``circuit-studio studio --desktop`` on a virtual X display (Xvfb): the studio's own window opens at
the screen's size and shows the page, and closing it stops the studio.

Needs Debian's ``xvfb`` and ``xdotool`` (``make test`` installs them) and Chromium; the screenshot is
Pillow's (``ImageGrab`` reads the X display). The window is closed with Ctrl+W, as a person would.
"""

from __future__ import annotations

import configparser
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageGrab

from ui.desktop import ICON, WINDOW_CLASS, find_chromium, window_command

ROOT = Path(__file__).resolve().parents[2]
SHOT = ROOT / "test-artifacts" / "desktop-window.png"
TITLE = "MoE Circuit Studio"
SCREEN = (1440, 900)
START_TIMEOUT_S = 120  # the studio's start-up (torch, Gradio, the bundled model) and Chromium's
PAINT_TIMEOUT_S = 60  # Gradio draws the page in the browser after the title is set
CLOSE_TIMEOUT_S = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb display (its number chosen by Xvfb), stopped after the test."""
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    missing += [] if find_chromium() else ["chromium"]
    if missing:
        message = f"desktop test needs {', '.join(missing)} (make test installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 20)
        number = os.read(read, 16).decode().strip() if ready else ""
        if not number:
            pytest.fail("Xvfb did not start within 20 s")
        yield f":{number}"
    finally:
        os.close(read)
        xvfb.terminate()
        xvfb.wait(timeout=10)


def _xdotool(display: str, *args: str) -> str:
    done = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True, text=True)
    return done.stdout


def _window(display: str, studio: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if studio.poll() is not None:
            pytest.fail(f"the studio exited with {studio.returncode} before its window opened:\n{log.read_text()}")
        if found := _xdotool(display, "search", "--name", f"^{TITLE}$").split():
            return found[0]
        time.sleep(0.5)
    pytest.fail(f"no window titled {TITLE!r} within {START_TIMEOUT_S} s:\n{log.read_text()}")


def _geometry(display: str, window: str) -> tuple[int, int, int, int]:
    values = dict(re.findall(r"(\w+)=(\d+)", _xdotool(display, "getwindowgeometry", "--shell", window)))
    return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])


def _painted(display: str, box: tuple[int, int, int, int]) -> Image.Image:
    """The screen once the window's page is drawn: hundreds of colours (text, buttons, tabs), none
    covering nearly all of it. A blank window is one colour, Gradio's loading page a few dozen."""
    SHOT.parent.mkdir(exist_ok=True)
    deadline = time.monotonic() + PAINT_TIMEOUT_S
    while True:
        shot = ImageGrab.grab(xdisplay=display)
        colours = shot.crop(box).getcolors(maxcolors=1 << 20) or []
        area = (box[2] - box[0]) * (box[3] - box[1])
        if len(colours) >= 300 and max(count for count, _ in colours) < 0.98 * area:
            return shot
        if time.monotonic() > deadline:
            shot.save(SHOT)
            pytest.fail(f"the window stayed blank: {len(colours)} colours after {PAINT_TIMEOUT_S} s (see {SHOT})")
        time.sleep(1)


def _window_processes(port: int) -> list[str]:
    """PIDs of any Chromium still showing this studio (its command line names the page)."""
    needle = f"--app=http://127.0.0.1:{port}/".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and needle in (proc / "cmdline").read_bytes():
                pids.append(proc.name)
        except OSError:
            continue
    return pids


def test_the_window_command_is_an_app_window_on_its_own_profile(tmp_path):
    command = window_command("/usr/bin/chromium", "http://127.0.0.1:7860/", tmp_path, (1440, 900))
    assert "--app=http://127.0.0.1:7860/" in command
    assert f"--user-data-dir={tmp_path}" in command
    assert "--window-size=1440,900" in command


@pytest.mark.slow
@pytest.mark.xdist_group("desktop")
def test_the_desktop_window_shows_the_studio_and_closing_it_stops_the_studio(display, built_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    port = _free_port()
    env = {**os.environ, "DISPLAY": display, "CIRCUIT_STUDIO_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("WAYLAND_DISPLAY", None)
    log = tmp_path / "studio.log"
    # `circuit-studio studio --desktop`: the console script's own main, run from this checkout
    command = [sys.executable, "-m", "ui.cli.main", "studio", "--desktop", "--port", str(port)]
    with log.open("w") as out:
        studio = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        window = _window(display, studio, log)
        x, y, width, height = _geometry(display, window)
        assert width >= 0.95 * SCREEN[0] and height >= 0.95 * SCREEN[1], (x, y, width, height)
        shot = _painted(display, (x, y, x + width, y + height))
        shot.save(SHOT)

        _xdotool(display, "windowfocus", "--sync", window, "key", "--clearmodifiers", "ctrl+w")
        try:
            code = studio.wait(timeout=CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the studio still runs {CLOSE_TIMEOUT_S} s after its window closed:\n{log.read_text()}")
        assert code == 0, log.read_text()
    finally:
        if studio.poll() is None:
            studio.terminate()
            studio.wait(timeout=20)
    assert _window_processes(port) == []
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # the server is gone with the window
    assert "Traceback" not in log.read_text(), log.read_text()


def test_the_menu_entry_launches_the_desktop_window_with_its_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(ICON.with_suffix(".desktop"))
    fields = entry["Desktop Entry"]
    assert (fields["Type"], fields["Name"], fields["Exec"]) == ("Application", TITLE, "circuit-studio studio --desktop")
    assert fields["StartupWMClass"] == WINDOW_CLASS  # the window's X class, so the menu's icon is the window's
    assert ICON.with_name(f"{fields['Icon']}.svg").is_file() and ICON.is_file()
