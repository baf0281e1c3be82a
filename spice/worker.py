"""The process ngspice runs in: reads decks from ``spice.engine``, answers each with its vectors or
ngspice's complaint.

ngspice is a shared library that calls ``abort()`` on some internal failures and has no time limit of its
own, so it lives apart from the studio: a crash or a run that will not end costs this process, never the
caller's. Started by ``spice.engine``, isolated from the caller's folder and environment; frames both
ways are pickles prefixed by their length (``spice.frames``). The channel to the parent is a copy of
stdout taken at start-up; stdout itself then points at stderr, so nothing the library prints can
corrupt a frame.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

import numpy as np
from PySpice.Spice.NgSpice import SimulationType
from PySpice.Spice.NgSpice.Shared import NgSpiceCommandError, NgSpiceShared

from spice.frames import Reply, read_frame, write_frame

# PySpice 1.5 knows ngspice up to 34; the installed shared library reports 39 with the same API.
SimulationType.SIMULATION_TYPE[39] = SimulationType.SIMULATION_TYPE["last"]
# ngspice's messages are returned in the reply; PySpice would also print them to the log.
logging.getLogger("PySpice").setLevel(logging.CRITICAL)

_MAX_MESSAGE = 600
_FAILURE_MARKERS = ("aborted", "timestep too small", "error")
_EXPLAINING_WORDS = ("error", "singular", "timestep", "converge", "failed", "unknown", "aborted")


class DeckFailed(RuntimeError):
    """ngspice could not load or solve the deck; the message is ngspice's, shortened."""


def run_deck(ngspice: NgSpiceShared, deck: str) -> dict[str, np.ndarray]:
    """Load and run one deck; every vector of the resulting plot by lower-case name."""
    try:
        ngspice.load_circuit(deck)
    except Exception as exc:
        _reset(ngspice)
        raise DeckFailed(_explain(ngspice, exc)) from None
    try:
        # PySpice treats every stderr line as failure, gmin-stepping progress included; a run has
        # failed when ngspice says so or leaves no plot.
        with contextlib.suppress(NgSpiceCommandError):
            ngspice.run()
        failed = any(marker in ngspice.stderr.lower() for marker in _FAILURE_MARKERS)
        if failed or ngspice.last_plot == "const":
            raise DeckFailed(_explain(ngspice, None))
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


def main() -> int:
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    ngspice = NgSpiceShared.new_instance()
    while (deck := read_frame(sys.stdin.buffer)) is not None:
        try:
            reply: Reply = ("ok", run_deck(ngspice, str(deck)))
        except DeckFailed as exc:
            reply = ("error", str(exc))
        write_frame(channel, reply)
    return 0


if __name__ == "__main__":
    sys.exit(main())
