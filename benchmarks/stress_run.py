"""Running one stress case in-process and judging what came back.

A case's files are written into a fresh folder, which is also the working directory while its CLI
calls run (``ui.cli.main.main(argv)``, stdout and stderr captured through UTF-8 streams as a terminal
or pipe would encode them). Each call ends as one of

- ``accepted``: exit 0, or 1 (a check or design that runs and fails), no traceback printed;
- ``refused``: exit 2 (argparse's usage error included) with an ``error:`` line and no traceback;
- ``unclear``: exit 2 without an ``error:`` line, or another exit code;
- ``exception``: an exception escaped ``main`` (other than argparse's SystemExit), or a traceback was
  printed;
- ``timeout``: the call ran past the case's time limit (SIGALRM).

and, whatever the status, the case is searched for injections: a marker file the payloads try to
``touch``; a raw control character of the input in the terminal output; an exported ``.cir`` line
outside a comment carrying a payload; an ``.svg`` that is not XML or holds a script or an event
handler. Export calls are also checked for files left after a refusal and for writes through a
symlink in the output folder.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import stat
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from stress_inputs import MARKER_WORD, Case, Special

ROOT = Path(__file__).resolve().parents[1]
RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
NETLIST_DIRECTIVES = (".control", ".endc", "shell", ".include", ".lib", ".exec", ".shell")
SPECIAL_TARGETS = {
    "proc-mem": "/proc/self/mem",
    "proc-status": "/proc/self/status",
    "dev-zero": "/dev/zero",
    "dev-null": "/dev/null",
    "dev-urandom": "/dev/urandom",
    "symlink-zero": "/dev/zero",
    "symlink-proc": "/proc/self/mem",
}
MEMORY_LIMIT_GB = 5.0  # per worker; a normal case stays under 2
SEVERITY = ("accepted", "refused", "unclear", "timeout", "exception")


class CaseTimeout(BaseException):
    """Raised by SIGALRM in the call that ran too long (a BaseException, so no handler swallows it)."""


@dataclass
class CallResult:
    argv: list[str]
    status: str
    code: int | None
    seconds: float
    error: str = ""  # the first error line, or the exception's type and message
    where: str = ""  # innermost frame of the project in the traceback, for grouping


@dataclass
class CaseResult:
    index: int
    family: str
    kind: str
    status: str
    seconds_to_refuse: float | None
    calls: list[CallResult]
    injections: list[str] = field(default_factory=list)
    outside_writes: list[str] = field(default_factory=list)
    partial_exports: list[str] = field(default_factory=list)
    mutations: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


# -- materialising a case --------------------------------------------------------------------------


def fill(text: str, folder: Path, marker: Path) -> str:
    return text.replace("{case}", str(folder)).replace("{marker}", str(marker))


def materialize(case: Case, folder: Path, marker: Path) -> None:
    folder.mkdir(parents=True)
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Special):
            make_special(path, content.kind)
        else:
            path.write_bytes(content.replace(b"{marker}", str(marker).encode()))
    for name, target in case.symlinks.items():
        link = folder / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(fill(target, folder, marker))


def make_special(path: Path, kind: str) -> None:
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling":
        path.symlink_to(path.parent / "no-such-target")
    elif kind in SPECIAL_TARGETS:
        path.symlink_to(SPECIAL_TARGETS[kind])
    # "missing": nothing at all


# -- one call --------------------------------------------------------------------------------------


def _alarm(signum, frame) -> None:
    raise CaseTimeout()


def call_main(argv: list[str], timeout_s: float) -> tuple[CallResult, str, str]:
    """``ui.cli.main.main(argv)`` with captured output; (result, stdout, stderr)."""
    from ui.cli.main import main

    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", errors="backslashreplace", write_through=True)
    exc: BaseException | None = None
    code: int | None = None
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as raised:
        code = raised.code if isinstance(raised.code, int) else 2
        exc = None if _from_argparse(raised) else raised
    except BaseException as raised:  # the point is to see every one
        exc = raised
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    seconds = time.perf_counter() - started
    stdout = out_bytes.getvalue().decode("utf-8", "replace")
    stderr = err_bytes.getvalue().decode("utf-8", "replace")
    return judge(argv, code, exc, stdout, stderr, seconds), stdout, stderr


def _from_argparse(exc: SystemExit) -> bool:
    return any(frame.filename.endswith("argparse.py") for frame in traceback.extract_tb(exc.__traceback__))


def judge(argv: list[str], code, exc: BaseException | None, stdout: str, stderr: str, seconds: float) -> CallResult:
    if isinstance(exc, CaseTimeout):
        return CallResult(argv, "timeout", None, seconds, "ran past the time limit", _where(exc))
    if exc is not None:
        message = f"{type(exc).__name__}: {str(exc)[:200]}"
        return CallResult(argv, "exception", None, seconds, message, _where(exc))
    if "Traceback (most recent call last)" in stdout + stderr:
        line = next((x for x in reversed((stdout + stderr).splitlines()) if x.strip()), "")
        return CallResult(argv, "exception", code, seconds, f"traceback printed: {line[:200]}", "printed")
    errors = [line for line in stderr.splitlines() if line.startswith("error:") or ": error: " in line]
    if code in (0, 1):
        return CallResult(argv, "accepted", code, seconds)
    if code == 2 and errors:
        return CallResult(argv, "refused", code, seconds, errors[0][:200])
    last = next((x for x in reversed(stderr.splitlines()) if x.strip()), "")
    return CallResult(argv, "unclear", code, seconds, f"exit {code}: {last[:200]}")


def _where(exc: BaseException) -> str:
    """The innermost traceback frame in the project's code (not the benchmark's), as path:line."""
    frames = traceback.extract_tb(exc.__traceback__)
    outside = re.compile(r"/(benchmarks|\.venv)/")
    ours = [f for f in frames if f.filename.startswith(str(ROOT)) and not outside.search(f.filename)]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return ""
    return f"{Path(frame.filename).relative_to(ROOT) if ours else Path(frame.filename).name}:{frame.lineno}"


# -- a whole case ----------------------------------------------------------------------------------


def run_case(case: Case, work: Path, markers: Path, home: Path) -> CaseResult:
    """Run ``case`` in a fresh folder under ``work``, with a clean user-parts database in ``home``."""
    reset_user_parts(home)
    folder = work / f"case-{case.index}"
    marker = markers / f"{MARKER_WORD}-{case.index}"
    materialize(case, folder, marker)
    inputs = "".join(s for step in case.steps for s in step.argv) + "".join(
        c.decode("utf-8", "replace") for c in case.files.values() if isinstance(c, bytes) and len(c) < 2_000_000
    )
    result = CaseResult(case.index, case.family, case.kind, "accepted", None, [], mutations=case.mutations)
    before = snapshot(folder)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        for step in case.steps:
            if step.follow_up and any(c.code != 0 for c in result.calls):
                break
            argv = [fill(a, folder, marker) for a in step.argv]
            call, stdout, stderr = call_main(argv, case.timeout_s)
            result.calls.append(call)
            result.injections += terminal_injections(inputs, stdout + stderr, argv)
            if argv[0] == "export":
                result.partial_exports += partial_export(call, argv, before, folder)
            if call.status == "timeout":
                break
    finally:
        os.chdir(cwd)
    result.injections += marker_hits(markers, folder) + file_injections(folder)
    result.outside_writes += victim_changed(folder)
    result.status = max((c.status for c in result.calls), key=SEVERITY.index, default="accepted")
    refusing = [c.seconds for c in result.calls if c.status == "refused"]
    result.seconds_to_refuse = refusing[0] if refusing else None
    clean_folder(folder)
    return result


def reset_user_parts(home: Path) -> None:
    for name in ("user_parts.sqlite", "user_parts.sqlite-wal", "user_parts.sqlite-shm", "user_parts.sqlite-journal"):
        with contextlib.suppress(FileNotFoundError):
            (home / name).unlink()


def snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def clean_folder(folder: Path) -> None:
    for path in folder.rglob("*"):  # a test of an unwritable folder must not stop the clean-up
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                path.chmod(stat.S_IRWXU)
    shutil.rmtree(folder, ignore_errors=True)


# -- what to look for ------------------------------------------------------------------------------


def terminal_injections(inputs: str, output: str, argv: list[str]) -> list[str]:
    """Raw control characters the input carried and the terminal output shows as they are."""
    given = set(RAW_CONTROL.findall(inputs))
    shown = sorted({c for c in RAW_CONTROL.findall(output) if c in given})
    if not shown:
        return []
    names = ", ".join(f"U+{ord(c):04X}" for c in shown)
    return [f"terminal: raw {names} printed by `{' '.join(argv[:2])}`"]


def marker_hits(markers: Path, folder: Path) -> list[str]:
    found = [p for p in markers.iterdir()] if markers.is_dir() else []
    found += [p for p in folder.rglob(f"*{MARKER_WORD}*") if p.is_file() and p.stat().st_size == 0]
    hits = []
    for path in found:
        hits.append(f"marker file made: {path.name} (a payload ran as a command)")
        with contextlib.suppress(OSError):
            path.unlink()
    return hits


def file_injections(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob("*.cir"):
        found += netlist_injections(path)
    for path in folder.rglob("*.svg"):
        found += svg_injections(path)
    return found


def netlist_injections(path: Path) -> list[str]:
    """A payload line outside a comment, or a netlist that does not end with ``.end``."""
    if path.is_symlink() or not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("*"):
            continue
        if text.lower().startswith(NETLIST_DIRECTIVES) or MARKER_WORD in text or "/etc/passwd" in text:
            found.append(f"netlist: {path.name} line {number} carries user text as a command: {text[:60]!r}")
    code = [x.strip() for x in lines if x.strip() and not x.strip().startswith("*")]
    if code and code[-1].lower() != ".end":
        found.append(f"netlist: {path.name} does not end with .end (user text broke a line)")
    return found


def svg_injections(path: Path) -> list[str]:
    if path.is_symlink() or not path.is_file():
        return []
    try:
        tree = ET.fromstring(path.read_bytes())
    except ET.ParseError as exc:
        return [f"svg: {path.name} is not valid XML ({exc})"]
    for element in tree.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        if tag in ("script", "foreignobject") or any(name.lower().startswith("on") for name in element.attrib):
            return [f"svg: {path.name} holds a <{tag}> element or an event handler from user text"]
    return []


def victim_changed(folder: Path) -> list[str]:
    victim = folder / "victim.txt"
    if victim.is_file() and victim.read_bytes() != b"victim: must stay as it is\n":
        return ["export wrote through a symlink in the output folder (victim.txt changed)"]
    return []


def partial_export(call: CallResult, argv: list[str], before: set[str], folder: Path) -> list[str]:
    """A refused export that left files in its output folder."""
    if call.status not in ("refused", "unclear", "exception"):
        return []
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else None
    if out is None or not str(out).startswith(str(folder)) or not out.is_dir() or out.is_symlink():
        return []
    left = sorted(p.name for p in out.rglob("*") if str(p.relative_to(folder)) not in before and p.is_file())
    return [f"{argv[0]} refused but left {', '.join(left)} in its output folder"] if left else []


# -- the worker: a shard of the cases, one JSON line per case --------------------------------------


def work_shard(seed: int, total: int, indexes: list[int], root: Path, out: Path, cheap: bool) -> None:
    """Run ``indexes`` and append ``{"start": i}`` then the result of each to ``out`` (flushed), so the
    parent can tell which case a crashed or hung worker was running."""
    import json

    from stress_cases import make_case
    from stress_inputs import Bases

    bases = Bases.load()
    warm_up()
    home = Path(os.environ["CIRCUIT_STUDIO_HOME"])
    work, markers = root / "cases", root / "markers"
    work.mkdir(parents=True, exist_ok=True)
    markers.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as log:
        for index in indexes:
            log.write(json.dumps({"start": index}) + "\n")
            log.flush()
            case = make_case(seed, index, total, bases, cheap)
            result = run_case(case, work, markers, home)
            log.write(json.dumps(result.to_json(), ensure_ascii=True) + "\n")
            log.flush()


def warm_up() -> None:
    """Import the model stack and load the embedding model before the first case, so no case's time
    limit cuts an import short (a half-imported module fails every later case in the process)."""
    import agents.constrained
    import agents.orchestrator  # noqa: F401
    import studio.moe.engine  # noqa: F401
    from components_db import KnowledgeBase

    KnowledgeBase.open().search("warm up", top=1)


def limit_memory(gigabytes: float = MEMORY_LIMIT_GB) -> None:
    """Cap this process's heap: a file that never ends (``/dev/zero``) gives MemoryError, not the OOM
    killer picking a process of the machine."""
    import resource

    limit = int(gigabytes * 1024**3)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


if __name__ == "__main__":  # python stress_run.py SEED TOTAL ROOT OUT CHEAP FIRST STOP STEP
    limit_memory()
    sys.path.insert(0, str(ROOT))
    seed, total, root, out, cheap, first, stop, step = sys.argv[1:]
    indexes = list(range(int(first), int(stop), int(step)))
    work_shard(int(seed), int(total), indexes, Path(root), Path(out), cheap == "1")
