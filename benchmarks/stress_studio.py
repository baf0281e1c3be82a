"""Concurrent studio sessions for the stress benchmark: the real studio (``circuit-studio studio``) is
started as a subprocess on the bundled model and a temporary home, and ``sessions`` clients
(``gradio_client``, each its own Gradio session over loopback) drive it at once:

1. import a steering profile of their own (``session-NN``, one expert of one layer off; odd sessions'
   names carry a ``<script>`` payload);
2. read the Experts grid: exactly their own expert is off, no other session's name is shown;
3. paste a few hostile designs into Check (deep nesting, NaN values, duplicate keys, control
   characters, a 5000-digit value, a script in the title): each answer must be a readable message;
4. check a design titled with their session, then prepare the downloads: ``design.json`` carries
   their title, ``profile.json`` their profile;
5. run their own request under their profile, prepare the downloads again: ``report.json`` names
   their request and their profile.

A result naming another session's profile, title or request is a leak; an AppError, a "Something
went wrong" message or a result that is neither theirs nor another's is a studio error.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from serving import free_port, wait_until_served
from stress_writes import child_env, fresh_home

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = (
    "Blink a red LED from an Arduino Uno.",
    "uno + push button",
    "How do I connect a green LED to an Arduino Uno?",
    "A 555 timer blinks an LED at about 1 Hz from a 9 V battery.",
)
VALID = {"parts": [{"ref": "R1", "part": "resistor", "value": "220"}, {"ref": "D1", "part": "led-red"}]}
HOSTILE_PASTES = (
    "[" * 100_000,
    json.dumps({**VALID, "parts": [{"ref": "R1", "part": "resistor", "value": "nan"}]}),
    '{"parts": [{"ref": "R1", "part": "resistor"}], "parts": []}',
    json.dumps({**VALID, "title": "t\x1b[31m\x07\x00"}),
    json.dumps({**VALID, "parts": [{"ref": "R1", "part": "resistor", "value": "1" + "0" * 5000}]}),
    json.dumps({**VALID, "title": "<script>alert(1)</script>"}),
    '{"parts": [{"ref": "R1", "part": "resistor", "value": 1e999}]}',
    "\x00\xff",
)
GENERIC = ("Something went wrong", "AppError")


@dataclass
class SessionReport:
    sessions: int = 0
    checks: int = 0  # results compared with the session's own
    leaks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    injections: list[str] = field(default_factory=list)
    hostile: int = 0  # hostile pastes sent
    start_s: float = 0.0
    note: str = ""


def start_studio(template: Path, root: Path) -> tuple[subprocess.Popen, str, float]:
    """``circuit-studio studio`` on a free port of loopback; (process, url, seconds to the first 200)."""
    base = root / "studio"
    home = fresh_home(template, base / "home")
    env = child_env(home, base / "tmp", {"GRADIO_TEMP_DIR": str(base / "gradio")})
    port = free_port()
    script = Path(__import__("sys").executable).parent / "circuit-studio"
    (base / "gradio").mkdir(parents=True, exist_ok=True)
    log = (base / "studio.log").open("wb")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(script), "studio", "--port", str(port)], cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    if wait_until_served(proc, url, timeout_s=300, poll_s=0.2):
        return proc, url, time.perf_counter() - started
    if proc.poll() is not None:
        raise RuntimeError(f"the studio exited with {proc.returncode}; see {base / 'studio.log'}")
    stop_studio(proc)
    raise RuntimeError("the studio did not serve within 300 s")


def stop_studio(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def session_profile(i: int, identity: dict) -> tuple[dict, tuple[int, int]]:
    """Session ``i``'s own profile: expert (7 i mod E) of layer (i mod L) off; distinct for i < 48."""
    layer, expert = i % len(identity["moe_layers"]), (7 * i) % identity["experts_per_layer"]
    name = f"session-{i:02d}" + (" <script>alert(1)</script>" if i % 2 else "")
    profile = {
        "version": 1,
        "name": name,
        "model": identity,
        "stages": {"*": {"layers": {str(layer): {"off": [expert]}}}},
    }
    return profile, (layer, expert)


class Session:
    """One client: its own Gradio session, profile, title and request; findings go to ``report``."""

    def __init__(self, i: int, url: str, identity: dict, folder: Path, report: SessionReport, lock: threading.Lock):
        self.i, self.url, self.report, self.lock = i, url, report, lock
        self.profile, self.off = session_profile(i, identity)
        self.tag = f"session-{i:02d}"
        self.title = f"Design of {self.tag}"
        self.request = f"{REQUESTS[i % len(REQUESTS)]} Label it {self.tag}."
        self.folder = folder / self.tag
        self.folder.mkdir(parents=True)

    def note(self, kind: str, text: str) -> None:
        with self.lock:
            getattr(self.report, kind).append(f"{self.tag}: {text}")

    def others_in(self, text: str) -> list[str]:
        return sorted(set(re.findall(r"session-\d\d", text)) - {self.tag})

    def call(self, client, *args, api_name: str):
        try:
            result = client.predict(*args, api_name=api_name)
        except Exception as exc:  # an AppError or a dropped connection is the finding
            self.note("errors", f"{api_name} raised {type(exc).__name__}: {str(exc)[:120]}")
            return None
        outputs = result if isinstance(result, tuple | list) else (result,)
        text = " ".join(str(x) for x in outputs)
        if any(g in text for g in GENERIC):
            self.note("errors", f"{api_name} answered with a generic error: {_excerpt(text, GENERIC)}")
        if re.search(r"<script|onload=", text, re.IGNORECASE):
            self.note("injections", f"{api_name} returned a raw <script> or event handler")
        return outputs

    def run(self, start: threading.Barrier, pastes: int) -> None:
        try:
            self.drive(start, pastes)
        except Exception as exc:  # a session that cannot go on is a finding, not a crash
            self.note("errors", f"the session stopped: {type(exc).__name__}: {str(exc)[:120]}")

    def drive(self, start: threading.Barrier, pastes: int) -> None:
        from gradio_client import Client, handle_file

        client = Client(self.url, verbose=False, download_files=str(self.folder / "downloads"))
        path = self.folder / "profile.json"
        path.write_text(json.dumps(self.profile), encoding="utf-8")
        start.wait(timeout=300)
        answer = self.call(client, handle_file(str(path)), api_name="/import_profile")
        if answer is not None and "Imported profile" not in str(answer[0]):
            self.note("errors", f"the profile import said {str(answer[0])[:100]!r}")
        self.check_grid(client)
        for k in range(pastes):
            with self.lock:
                self.report.hostile += 1
            self.call(client, HOSTILE_PASTES[(self.i + k) % len(HOSTILE_PASTES)], api_name="/check_pasted")
        design = {**VALID, "title": self.title}
        self.call(client, json.dumps(design), api_name="/check_pasted")
        self.check_downloads(client, want_report=False)
        self.call(client, self.request, api_name="/run_design")
        self.check_downloads(client, want_report=True)
        self.check_grid(client)

    def check_grid(self, client) -> None:
        outputs = self.call(client, "*", api_name="/refresh_grid")
        if outputs is None:
            return
        html = " ".join(str(x) for x in outputs)
        cells = re.findall(r'data-layer="(\d+)" data-expert="(\d+)"\s+data-state="off"', html)
        off = {(int(a), int(b)) for a, b in cells}
        self.compare("Experts grid", html, off == {self.off}, f"off experts {sorted(off)} instead of [{self.off}]")

    def check_downloads(self, client, want_report: bool) -> None:
        outputs = self.call(client, "shown", api_name="/prepare")
        if outputs is None or not outputs[1]:
            self.note("errors", f"prepare gave no files ({str(outputs[0])[:100] if outputs else ''})")
            return
        files = {Path(p).name: Path(p) for p in outputs[1]}
        profile = json.loads(files["profile.json"].read_text(encoding="utf-8")) if "profile.json" in files else {}
        self.compare("profile.json", json.dumps(profile), profile.get("name") == self.profile["name"], "not its own")
        if not want_report:
            design = json.loads(files["design.json"].read_text(encoding="utf-8")) if "design.json" in files else {}
            self.compare("design.json", json.dumps(design), design.get("title") == self.title, "not its own title")
            return
        report = json.loads(files["report.json"].read_text(encoding="utf-8")) if "report.json" in files else {}
        ran_under = (report.get("profile") or {}).get("name")
        request = report.get("request") or ""
        ok = ran_under == self.profile["name"] and self.tag in request
        seen = json.dumps({"p": ran_under, "r": request})
        self.compare("report.json", seen, ok, f"ran {request!r} under {ran_under!r}")

    def compare(self, what: str, text: str, own: bool, detail: str) -> None:
        with self.lock:
            self.report.checks += 1
        others = self.others_in(text)
        if others:
            self.note("leaks", f"{what} shows {', '.join(others)}")
        elif not own:
            self.note("errors", f"{what}: {detail}")


def _excerpt(text: str, words: tuple[str, ...]) -> str:
    at = max((text.find(w) for w in words), default=0)
    plain = re.sub(r"<[^>]+>", "", text[max(0, at - 20) : at + 160])
    return plain.strip()[:140]


def run_sessions(template: Path, root: Path, identity: dict, sessions: int, pastes: int, say=print) -> SessionReport:
    report = SessionReport(sessions=sessions)
    proc, url, report.start_s = start_studio(template, root)
    say(f"studio serving on {url} after {report.start_s:.1f} s (pid {proc.pid}); {sessions} sessions")
    try:
        lock, start = threading.Lock(), threading.Barrier(sessions)
        workers = [Session(i, url, identity, root / "sessions", report, lock) for i in range(sessions)]
        threads = [threading.Thread(target=w.run, args=(start, pastes), daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        if any(t.is_alive() for t in threads):
            report.errors.append("a session did not finish within 15 minutes")
    finally:
        stop_studio(proc)
    return report
