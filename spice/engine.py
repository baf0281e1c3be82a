"""The shared ngspice library behind one lock.

PySpice's ``NgSpiceShared`` is a process-wide singleton, so runs are serialised and every run
starts from an empty circuit list. Any failure (a card ngspice rejects, no convergence, a
timestep too small) comes back as a ``SimulationError`` carrying ngspice's own words.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading

import numpy as np
from PySpice.Spice.NgSpice import SimulationType
from PySpice.Spice.NgSpice.Shared import NgSpiceCommandError, NgSpiceShared

# PySpice 1.5 knows ngspice up to 34; the installed shared library reports 39 with the same API.
SimulationType.SIMULATION_TYPE[39] = SimulationType.SIMULATION_TYPE["last"]
# ngspice's messages are returned in SimulationError; PySpice would also print them to the log.
logging.getLogger("PySpice").setLevel(logging.CRITICAL)

_LOCK = threading.Lock()
_MAX_MESSAGE = 600
_FAILURE_MARKERS = ("aborted", "timestep too small", "error")
_EXPLAINING_WORDS = ("error", "singular", "timestep", "converge", "failed", "unknown", "aborted")


class SimulationError(RuntimeError):
    """ngspice could not load or solve the circuit; the message is ngspice's, shortened."""


@contextlib.contextmanager
def _keeping_torch_threads():
    """ngspice is built with OpenMP and sets the process's OpenMP thread count to the core count; torch
    shares that runtime, so a language model in the same process would silently go from its configured
    threads to all cores, and on two cores its spinning worker then fights every other job. The count
    torch had is put back after each ngspice call."""
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    try:
        yield
    finally:
        if threads is not None and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def run(deck: str) -> dict[str, np.ndarray]:
    """Load and run one deck; returns every vector of the resulting plot by lower-case name."""
    with _LOCK, _keeping_torch_threads():
        ngspice = NgSpiceShared.new_instance()
        try:
            ngspice.load_circuit(deck)
        except Exception as exc:
            _reset(ngspice)
            raise SimulationError(_explain(ngspice, exc)) from None
        try:
            # PySpice treats every stderr line as failure, gmin-stepping progress included; a run
            # has failed when ngspice says so or leaves no plot.
            with contextlib.suppress(NgSpiceCommandError):
                ngspice.run()
            failed = any(marker in ngspice.stderr.lower() for marker in _FAILURE_MARKERS)
            if failed or ngspice.last_plot == "const":
                raise SimulationError(_explain(ngspice, None))
            plot = ngspice.plot(None, ngspice.last_plot)
            return {name.lower(): np.array(vector._data) for name, vector in plot.items()}
        finally:
            _reset(ngspice)


def _explain(ngspice: NgSpiceShared, exc: Exception | None) -> str:
    """ngspice's own complaint, without the gmin/source-stepping progress lines."""
    lines = [
        line.strip().removeprefix("Warning:").strip() for line in (ngspice.stderr + "\n" + ngspice.stdout).splitlines()
    ]
    wanted = [
        line
        for line in lines
        if any(word in line.lower() for word in _EXPLAINING_WORDS) and not line.lower().startswith(("trying", "note"))
    ]
    message = "; ".join(dict.fromkeys(wanted)) or (str(exc) if exc else "") or "ngspice could not simulate the circuit"
    return message[:_MAX_MESSAGE]


def _reset(ngspice: NgSpiceShared) -> None:
    """Drop the circuit and its plots, so the next run starts clean and memory stays flat."""
    for command in ("destroy all", "remcirc"):
        try:
            ngspice.exec_command(command)
        except Exception:  # a failed clean-up must not hide the run's own result
            continue
