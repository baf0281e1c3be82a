"""Fuzz and stress the studio the way a hostile user would (issue 13): generated hostile inputs through
the CLI entry points in-process, concurrent studio sessions with distinct steering profiles over
loopback, and SIGKILL during part writes. Prints a Markdown table of what held and what did not.

    .venv/bin/python benchmarks/stress.py [--inputs 10000] [--seed 0] [--workers 2] [--quick]
        [--skip-studio] [--sessions 20] [--template-home DIR] [--save results.jsonl]
    .venv/bin/python benchmarks/stress.py --replay INDEX [--inputs N --seed S]   # one case, to reproduce

- Inputs (``stress_cases``): real designs, part files, profiles and requests, mutated (truncation,
  deep nesting, NaN/Infinity/1e999, 5000-digit numbers, duplicate keys, wrong types, control
  characters, unicode oddities, huge strings, binary bytes, special paths, odd ``--out`` places,
  injection payloads). Each runs in ``--workers`` subprocesses, a fresh folder as working directory and
  a fresh user-parts database each; a worker that hangs or dies is killed and restarted after the case.
- Process checks (``stress_writes``): kill -9 during ``parts add``, two processes adding clashing parts
  at once, and ``check`` in a folder with a hostile ``.spiceinit`` and ``spice/__init__.py``.
- Sessions (``stress_studio``): the real studio on the bundled model, driven by ``--sessions`` clients.

Everything runs under a temporary folder (the studio home, the working folders, TMPDIR); the shipped
parts are compiled once into a template home there (about 30 s), or copied from ``--template-home``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))

from stress_cases import make_case  # noqa: E402
from stress_inputs import Bases  # noqa: E402
from stress_run import CallResult, CaseResult, fill, materialize  # noqa: E402
from stress_writes import WriteReport, child_env, fresh_home, run_writes  # noqa: E402

STALL_GRACE_S = 15.0  # beyond the longest time limit of a case, before the parent kills a silent worker
MAX_CASE_S = 60.0  # the longest time limit a case has (design runs)


@dataclass
class Worker:
    """One shard of the cases in a subprocess; restarted after a case that hangs or kills it."""

    number: int
    indexes: list[int]
    root: Path
    proc: subprocess.Popen | None = None
    log: Path = Path()
    read: int = 0  # bytes of the log already read
    current: int | None = None  # the case started and not finished
    since: float = 0.0
    done: set[int] = field(default_factory=set)


@dataclass
class Fuzz:
    results: list[CaseResult] = field(default_factory=list)


def build_template(root: Path, given: Path | None, say) -> Path:
    """A studio home with the shipped parts compiled and the embedding model exported."""
    if given is not None:
        return given
    template = root / "template-home"
    say(f"compiling the shipped parts into {template} (once per run; --template-home skips it)")
    code = "from components_db import KnowledgeBase; KnowledgeBase.open()"
    subprocess.run([sys.executable, "-c", code], env=child_env(template, root / "tmp"), check=True)
    return template


# -- the fuzz phase --------------------------------------------------------------------------------


def start_worker(worker: Worker, args: argparse.Namespace, template: Path) -> None:
    remaining = [i for i in worker.indexes if i not in worker.done]
    if not remaining:
        worker.proc = None
        return
    base = worker.root / f"worker-{worker.number}"
    home = base / "home"
    if not home.exists():
        fresh_home(template, home)
    cwd = base / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    worker.log = base / "results.jsonl"
    step = args.workers
    command = [sys.executable, str(Path(__file__).parent / "stress_run.py"), str(args.seed), str(args.inputs)]
    command += [str(base), str(worker.log), "1" if args.quick else "0", str(remaining[0]), str(args.inputs), str(step)]
    env = child_env(home, base / "tmp")
    errors = (base / "stderr.log").open("ab")
    worker.proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=errors, stderr=subprocess.STDOUT)
    worker.current, worker.since = None, time.monotonic()


def read_new(worker: Worker, fuzz: Fuzz) -> None:
    if not worker.log.exists():
        return
    with worker.log.open("rb") as handle:
        handle.seek(worker.read)
        chunk = handle.read()
    complete = chunk[: chunk.rfind(b"\n") + 1]
    worker.read += len(complete)
    for line in complete.decode("utf-8").splitlines():
        row = json.loads(line)
        worker.since = time.monotonic()
        if "start" in row:
            worker.current = row["start"]
            continue
        calls = [CallResult(**c) for c in row.pop("calls")]
        fuzz.results.append(CaseResult(**row, calls=calls))
        worker.done.add(row["index"])
        worker.current = None


def lost_case(index: int, status: str, args: argparse.Namespace, bases: Bases, detail: str) -> CaseResult:
    """The record of a case whose worker hung or died in it."""
    case = make_case(args.seed, index, args.inputs, bases, args.quick)
    call = CallResult(case.steps[0].argv if case.steps else [], status, None, 0.0, detail, "worker")
    return CaseResult(index, case.family, case.kind, status, None, [call], mutations=case.mutations)


def run_fuzz(args: argparse.Namespace, root: Path, template: Path, bases: Bases, say) -> Fuzz:
    fuzz = Fuzz()
    workers = [Worker(k, list(range(k, args.inputs, args.workers)), root) for k in range(args.workers)]
    for worker in workers:
        start_worker(worker, args, template)
    started, shown = time.monotonic(), 0
    while any(w.proc is not None for w in workers):
        time.sleep(0.5)
        for worker in workers:
            if worker.proc is not None:
                watch(worker, fuzz, args, bases, template)
        if len(fuzz.results) >= shown + max(100, args.inputs // 20):
            shown = len(fuzz.results)
            say(f"  {shown}/{args.inputs} inputs in {time.monotonic() - started:.0f} s")
    fuzz.results.sort(key=lambda r: r.index)
    return fuzz


def watch(worker: Worker, fuzz: Fuzz, args: argparse.Namespace, bases: Bases, template: Path) -> None:
    """Collect a worker's results; restart it past a case that killed it or that it is stuck in."""
    read_new(worker, fuzz)
    assert worker.proc is not None
    code = worker.proc.poll()
    stuck = None
    if worker.current is not None and time.monotonic() - worker.since > MAX_CASE_S + STALL_GRACE_S:
        stuck = worker.current
        os.kill(worker.proc.pid, signal.SIGKILL)
        worker.proc.wait()
        code = worker.proc.returncode
    if code is None:
        return
    read_new(worker, fuzz)
    if worker.current is not None:
        status = "timeout" if stuck is not None else "crashed"
        detail = "stuck past its time limit (killed)" if stuck is not None else f"the process died (exit {code})"
        fuzz.results.append(lost_case(worker.current, status, args, bases, detail))
        worker.done.add(worker.current)
    elif code != 0:
        remaining = [i for i in worker.indexes if i not in worker.done]
        if remaining:  # died between cases: count the next one, so a broken worker cannot loop forever
            fuzz.results.append(lost_case(remaining[0], "crashed", args, bases, f"worker exit {code}"))
            worker.done.add(remaining[0])
    start_worker(worker, args, template)


# -- the table -------------------------------------------------------------------------------------


def p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def summary_rows(fuzz: Fuzz, writes: WriteReport | None, sessions, skipped_studio: bool) -> list[dict]:
    results = fuzz.results
    status = Counter(r.status for r in results)
    calls = sum(len(r.calls) for r in results)
    refuse = [r.seconds_to_refuse for r in results if r.seconds_to_refuse is not None]
    rows = [
        ("inputs tried", f"{len(results)} ({calls} CLI calls)", ""),
        ("accepted (ran; exit 0, or 1 for a design that fails its check)", status["accepted"], ""),
        ("clear errors (exit 2 with an `error:` line, no traceback)", status["refused"], ""),
        ("unclear refusals (no `error:` line, or another exit code)", status["unclear"], "0"),
        ("other exceptions (escaped main, or a traceback printed)", status["exception"], "0"),
        ("over the time limit (hung or too slow)", status["timeout"], "0"),
        ("crashed the process", status["crashed"], "0"),
        ("injections (user text in a netlist, SVG, shell, page or terminal)", injection_count(fuzz, sessions), "0"),
        ("writes through a symlink in --out", sum(len(r.outside_writes) for r in results), "0"),
        ("refused exports that left files", sum(1 for r in results if r.partial_exports), "0"),
    ]
    if writes is not None:
        rows += [
            ("working-folder files run by `check` (.spiceinit, spice/)", len(writes.folder_markers), "0"),
            (f"parts lost after kill -9 ({writes.rounds} rounds, {writes.reported} added)", len(writes.lost), "0"),
            ("databases unreadable after kill -9", len(writes.unreadable), "0"),
            (f"concurrent clashing adds both accepted ({writes.race_trials} trials)", len(writes.race_both), "0"),
        ]
    if sessions is not None:
        rows += [
            (f"cross-session leaks ({sessions.sessions} sessions, {sessions.checks} checks)", len(sessions.leaks), "0"),
            (f"studio errors ({sessions.hostile} hostile pastes; generic or wrong answers)", len(sessions.errors), "0"),
        ]
    elif skipped_studio:
        rows.append(("cross-session leaks", "not run (--skip-studio)", "0"))
    rows.append(("p95 time to refuse", ms(p95(refuse)), ""))
    return [{"measure": m, "value": v, "must be": z} for m, v, z in rows]


def injection_count(fuzz: Fuzz, sessions) -> int:
    count = sum(1 for r in fuzz.results if r.injections)
    return count + (len(sessions.injections) if sessions is not None else 0)


def family_rows(fuzz: Fuzz) -> list[dict]:
    by_family: dict[str, list[CaseResult]] = defaultdict(list)
    for r in fuzz.results:
        by_family[r.family].append(r)
    rows = []
    for family, results in by_family.items():
        status = Counter(r.status for r in results)
        refuse = [r.seconds_to_refuse for r in results if r.seconds_to_refuse is not None]
        rows.append(
            {
                "family": family,
                "inputs": len(results),
                "accepted": status["accepted"],
                "clear errors": status["refused"],
                "unclear": status["unclear"],
                "other exceptions": status["exception"],
                "time limit": status["timeout"],
                "crashed": status["crashed"],
                "injections": sum(1 for r in results if r.injections),
                "p95 refuse": ms(p95(refuse)),
            }
        )
    return rows


def failure_rows(fuzz: Fuzz) -> list[dict]:
    """Other exceptions, hangs and crashes grouped by (type, entry point, where), with an example case."""
    groups: dict[tuple, list[tuple[CaseResult, CallResult]]] = defaultdict(list)
    for r in fuzz.results:
        for call in r.calls:
            if call.status in ("exception", "timeout", "crashed", "unclear"):
                kind = call.error.split(":", 1)[0] if call.status == "exception" else call.status
                entry = entry_point(call.argv)
                groups[(kind, entry, call.where)].append((r, call))
    rows = []
    for (kind, entry, where), hits in sorted(groups.items(), key=lambda g: -len(g[1])):
        example, call = hits[0]
        rows.append(
            {
                "failure": kind,
                "entry point": entry,
                "where": where,
                "inputs": len({r.index for r, _ in hits}),
                "example case": example.index,
                "example input": _cell("; ".join(example.mutations) or example.kind, 70),
                "message": _cell(call.error, 90),
            }
        )
    return rows


def entry_point(argv: list[str]) -> str:
    """``parts add``, ``experts inspect``, ``check --no-spice``, ``design --batch``: the command, not its data."""
    if not argv:
        return ""
    words = argv[:2] if argv[0] in ("parts", "experts") else argv[:1]
    words += [a for a in ("--no-spice", "--batch", "--profile", "--model", "--request") if a in argv]
    return " ".join(words)


def finding_rows(fuzz: Fuzz, writes: WriteReport | None, sessions) -> list[dict]:
    """Injections and integrity findings grouped by message (numbers stripped), with an example case."""
    import re

    groups: dict[str, list[str]] = defaultdict(list)
    for r in fuzz.results:
        for text in r.injections + r.outside_writes + r.partial_exports:
            key = re.sub(r"\d+", "N", re.sub(r"'[^']*'", "'...'", text))
            groups[key].append(str(r.index))
    extra = []
    if writes is not None:
        extra += [(f"working folder ran {m}", "-") for m in writes.folder_markers]
        extra += [(text, "-") for text in writes.lost[:5] + writes.unreadable + writes.race_both]
    if sessions is not None:
        extra += [(text, "-") for text in sessions.leaks + sessions.injections + sessions.errors]
    rows = [{"finding": _cell(k, 100), "inputs": len(v), "example case": v[0]} for k, v in groups.items()]
    rows.sort(key=lambda row: -row["inputs"])
    rows += [{"finding": _cell(text, 100), "inputs": 1, "example case": where} for text, where in extra]
    return rows


def _cell(text: str, width: int) -> str:
    text = text.replace("|", "/").replace("\n", " ").encode("unicode_escape").decode("ascii")
    return text if len(text) <= width else text[: width - 3] + "..."


def markdown(rows: list[dict]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(row[h]) for h in header) + " |" for row in rows]
    return "\n".join(lines)


# -- replaying one case ----------------------------------------------------------------------------


def replay(args: argparse.Namespace) -> int:
    """Write case ``--replay`` into ./stress-case-N and print the commands that reproduce it."""
    case = make_case(args.seed, args.replay, args.inputs, Bases.load(), args.quick)
    folder = Path.cwd() / f"stress-case-{case.index}"
    if folder.exists():
        shutil.rmtree(folder)
    materialize(case, folder, folder / "MARKER-stress-marker")
    print(f"case {case.index}: {case.family} / {case.kind}; {'; '.join(case.mutations) or 'no mutation'}")
    print(f"files in {folder}:")
    for name in sorted(case.files):
        print(f"  {name}")
    for step in case.steps:
        argv = [fill(a, folder, folder / "MARKER-stress-marker") for a in step.argv]
        shown = " ".join(_quote(a) for a in argv)
        print(f"{'(if the previous ones exit 0) ' if step.follow_up else ''}circuit-studio {shown}")
    return 0


def _quote(text: str) -> str:
    """A shell word for ``text``: plain quoting, or bash's $'...' for control and non-ASCII characters."""
    import shlex

    if len(text) > 200:
        return f"<{len(text)} characters: {_quote(text[:40])}...>"
    if text.isascii() and text.isprintable():
        return shlex.quote(text)
    out = []
    for c in text:
        if c in "\\'":
            out.append("\\" + c)
        elif c.isascii() and c.isprintable():
            out.append(c)
        elif 0xDC80 <= ord(c) <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        else:
            out.append(f"\\x{ord(c):02x}" if ord(c) < 0x80 else f"\\U{ord(c):08x}")
    return "$'" + "".join(out) + "'"


# -- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, help="generated hostile inputs (default 10000; 100 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="processes running the inputs (default 2)")
    parser.add_argument("--quick", action="store_true", help="a small run: 100 inputs, no model runs, 1 kill round")
    parser.add_argument("--skip-studio", action="store_true", help="leave out the concurrent studio sessions")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent studio sessions (default 20)")
    parser.add_argument("--kill-rounds", type=int, help="kill -9 rounds (default 12; 1 with --quick)")
    parser.add_argument("--template-home", type=Path, help="a studio home with the shipped parts compiled (copied)")
    parser.add_argument("--save", type=Path, help="write every case's result here (JSON lines)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    parser.add_argument("--replay", type=int, metavar="INDEX", help="write one case's files and print its commands")
    args = parser.parse_args(argv)
    args.inputs = args.inputs or (100 if args.quick else 10_000)
    args.kill_rounds = args.kill_rounds if args.kill_rounds is not None else (1 if args.quick else 12)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.replay is not None:
        return replay(args)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    root = Path(tempfile.mkdtemp(prefix="circuit-stress-"))
    started = time.monotonic()
    try:
        template = build_template(root, args.template_home, say)
        bases = Bases.load()
        say(f"{args.inputs} inputs (seed {args.seed}) in {args.workers} worker(s) under {root}")
        fuzz = run_fuzz(args, root, template, bases, say)
        races = 1 if args.quick else 6
        writes = run_writes(args.seed, template, root, args.kill_rounds, 40, races, say)
        sessions = None
        if not args.skip_studio:
            from stress_studio import run_sessions

            sessions = run_sessions(template, root, bases.identity, args.sessions, 3, say)
        if args.save:
            with args.save.open("w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r.to_json()) + "\n" for r in fuzz.results)
    finally:
        if args.keep:
            say(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    seconds = time.monotonic() - started
    print(f"## Stress: seed {args.seed}, {args.inputs} inputs, {seconds:.0f} s on {os.cpu_count()} cores\n")
    print(markdown(summary_rows(fuzz, writes, sessions, args.skip_studio)))
    print("\n### By family\n")
    print(markdown(family_rows(fuzz)))
    failures = failure_rows(fuzz)
    if failures:
        print("\n### Other exceptions, time limits and unclear refusals (reproduce: --replay CASE)\n")
        print(markdown(failures))
    findings = finding_rows(fuzz, writes, sessions)
    if findings:
        print("\n### Injections and integrity findings\n")
        print(markdown(findings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
