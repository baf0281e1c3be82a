"""The studio in its own window: Chromium's application mode (``--app=URL``) on the served page.

Chromium rather than pywebview: the set-up already installs Debian's ``chromium`` (the browser tests
drive it), so the window needs no package more, while pywebview needs a Qt (PySide6 and its Qt
WebEngine, several hundred MB with X libraries of its own) or a GTK backend (PyGObject, built against
Debian's GTK and WebKitGTK headers). An application-mode window has no tabs, address bar or menus,
takes its title from the page (``MoE Circuit Studio``) and its icon from the page's favicon.

Each window gets a fresh profile folder, so it never joins a Chromium already running (which would
return at once, and the studio would stop with it): the Chromium process lives exactly as long as
its window, and the studio stops when it ends.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WINDOW_CLASS = "MoECircuitStudio"  # X11 WM_CLASS of the window, the .desktop entry's StartupWMClass
ICON = Path(__file__).parent / "assets" / "moe-circuit-studio.png"
STARTUP_S = 15.0  # a Chromium that fails within this long never showed a window: serve for the browser
NO_DISPLAY = (
    "no display ($DISPLAY and $WAYLAND_DISPLAY are unset): run it in a desktop session, "
    "or in a virtual one (Debian's xvfb) with `xvfb-run -a circuit-studio studio --desktop`"
)


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    return None


def desktop_reason() -> str | None:
    """Why a window cannot open here (None: it can)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return NO_DISPLAY
    if find_chromium() is None:
        return "Chromium is not installed (`make desktop` installs it: apt-get install chromium)"
    return None


def screen_size() -> tuple[int, int] | None:
    """The X screen's width and height, read with libX11 (there whenever Chromium is).

    ``--start-maximized`` alone is not enough: with no window manager (a bare X server, Xvfb) nothing
    maximises the window, so it is also given the screen's size. None on Wayland or without libX11."""
    if not os.environ.get("DISPLAY"):
        return None
    try:
        x11 = ctypes.CDLL("libX11.so.6")
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for name in ("XDefaultScreen", "XCloseDisplay"):
        getattr(x11, name).argtypes = [ctypes.c_void_p]
    for name in ("XDisplayWidth", "XDisplayHeight"):
        getattr(x11, name).argtypes = [ctypes.c_void_p, ctypes.c_int]
    display = x11.XOpenDisplay(None)
    if not display:
        return None
    try:
        screen = x11.XDefaultScreen(display)
        return x11.XDisplayWidth(display, screen), x11.XDisplayHeight(display, screen)
    finally:
        x11.XCloseDisplay(display)


def window_command(chromium: str, url: str, profile: Path, size: tuple[int, int] | None) -> list[str]:
    command = [
        chromium,
        f"--app={url}",
        f"--user-data-dir={profile}",
        f"--class={WINDOW_CLASS}",
        "--ozone-platform-hint=auto",  # Wayland where the session is Wayland, else X11
        "--start-maximized",
        "--no-first-run",
        "--no-default-browser-check",
        "--password-store=basic",  # no keyring prompt: the studio stores no passwords
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
    ]
    if size is not None:
        command += ["--window-position=0,0", f"--window-size={size[0]},{size[1]}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium refuses to run as root with its sandbox; --test-type drops the banner that says so
        # across the top of the window (the window shows only the studio's own local page)
        command += ["--no-sandbox", "--test-type"]
    return command


def open_window(url: str) -> str | None:
    """Show ``url`` in a window until the window closes (None), or say why none opened.

    SIGTERM to the studio closes the window too, so no window is left on a stopped server."""
    chromium = find_chromium()
    if chromium is None:
        return "Chromium is not installed"
    with tempfile.TemporaryDirectory(prefix="circuit-studio-window-", ignore_cleanup_errors=True) as folder:
        profile = Path(folder)
        log = profile / "chromium.log"
        started = time.monotonic()
        with log.open("wb") as out:
            window = subprocess.Popen(
                window_command(chromium, url, profile, screen_size()), stdout=out, stderr=subprocess.STDOUT
            )
        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            code = window.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)
            if window.poll() is None:
                window.terminate()
                try:
                    window.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    window.kill()
        if code != 0 and time.monotonic() - started < STARTUP_S:
            return f"Chromium exited with code {code} ({_last_line(log)})"
    return None


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"
