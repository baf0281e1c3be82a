"""ngspice behind one lock, in its own process (``spice.worker``), with a time limit per run.

The worker starts on the first run and is kept for the next ones (a run costs a round trip of a few
hundred microseconds on top of ngspice's own time). Any failure comes back as a ``SimulationError``:
a card ngspice rejects, no convergence or a timestep too small (ngspice's own words); a run past its
time limit (the worker is stopped, and the next run starts a fresh one); a crash of the library (what
it printed last). Runs are serialised, and every run starts from an empty circuit list.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from spice.frames import HEADER, Reply, write_frame

TIME_LIMIT_S = 20.0  # a design's operating point takes milliseconds, its analyses well under a second
_LOCK = threading.Lock()
_CODE_ROOT = Path(__file__).resolve().parent.parent  # the folder holding this ``spice`` package
_WORKER_MAIN = "import sys; sys.path.insert(0, sys.argv[1]); from spice.worker import main; sys.exit(main())"


class SimulationError(RuntimeError):
    """ngspice could not load, solve or finish the circuit; the message says which and why."""


class _Worker:
    """One ``spice.worker`` process and the pipes to it.

    The worker is isolated from the caller's folder and environment, since both can hold files that
    run code: ngspice executes the ``.spiceinit`` of its working folder and of ``$HOME`` (``shell ...``
    lines included), and ``python -m`` would import a ``spice/`` package from the working folder. So
    it runs in an empty folder of its own that is also its ``$HOME``, with Python's isolated mode
    (``-I``: no current folder on the import path, no ``PYTHON*`` variables, no user site), the folder
    this package was imported from first on its import path, and an environment holding only what it
    needs.
    """

    def __init__(self) -> None:
        # the worker's stderr (what a crashing library printed), open as long as the worker lives
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self._home = tempfile.TemporaryDirectory(prefix="circuit-studio-spice-")
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", _WORKER_MAIN, str(_CODE_ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=self._home.name,
            env=_worker_environment(self._home.name),
        )

    def run(self, deck: str, time_limit_s: float) -> Reply:
        write_frame(self._process.stdin, deck)
        deadline = time.monotonic() + time_limit_s
        (size,) = HEADER.unpack(self._read(HEADER.size, deadline))
        return pickle.loads(self._read(size, deadline))

    def _read(self, size: int, deadline: float) -> bytes:
        out = self._process.stdout
        chunks, remaining = [], size
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(out.fileno(), remaining)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def last_words(self) -> str:
        """The last line the worker printed (read after it died)."""
        self._log.seek(0)
        lines = [line.strip() for line in self._log.read().decode(errors="replace").splitlines() if line.strip()]
        return lines[-1][:300] if lines else "no message"

    def stop(self, wait_s: float = 2.0) -> None:
        """End the worker: closing its input ends a healthy one; one that does not end by then is killed."""
        for pipe in (self._process.stdin, self._process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        try:
            self._process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()
        self._home.cleanup()


def _worker_environment(home: str) -> dict[str, str]:
    """The worker's whole environment: its own home, one OpenMP thread (ngspice's OpenMP would claim
    every core), and the library location only if the user set one (PySpice reads it)."""
    environment = {"HOME": home, "PATH": os.defpath, "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1"}
    if library := os.environ.get("NGSPICE_LIBRARY_PATH"):
        environment["NGSPICE_LIBRARY_PATH"] = library
    return environment


_worker: _Worker | None = None


def run(deck: str, *, time_limit_s: float = TIME_LIMIT_S) -> dict[str, np.ndarray]:
    """Load and run one deck; returns every vector of the resulting plot by lower-case name."""
    global _worker
    with _LOCK:
        if _worker is None:
            _worker = _Worker()
        try:
            status, value = _worker.run(deck, time_limit_s)
        except (TimeoutError, EOFError, BrokenPipeError) as exc:
            worker, _worker = _worker, None
            if isinstance(exc, TimeoutError):
                message = f"ngspice did not finish within {time_limit_s:g} s; the run was stopped"
            else:
                message = f"ngspice crashed on this circuit ({worker.last_words()})"
            worker.stop(wait_s=0)
            raise SimulationError(message) from None
    if status != "ok":
        raise SimulationError(str(value))
    return value


@atexit.register
def _stop_worker() -> None:
    if _worker is not None:
        _worker.stop()
