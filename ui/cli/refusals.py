"""How every command refuses: a ``Refusal`` becomes one line ``error: ...`` on stderr and exit code 2.

Commands raise; they never print their own refusals. ``InputError`` is the command line's own refusal
(a missing option, a bad option value, a file it cannot use). A ``DesignError`` prints its list of
problems under one line; an ``OSError`` (an output that cannot be written, a full disk) names the file.
The base class lives in ``components_db``, so refusing an input costs no heavy import.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import wraps

from components_db.refusal import Refusal
from components_db.text import printable
from studio.circuit.design import DesignError

EXIT_REFUSED = 2

Handler = Callable[[argparse.Namespace], int]


class InputError(Refusal, ValueError):
    """A command-line input the command cannot use; printed as one line, exit code 2."""


def reports_refusals(handler: Handler) -> Handler:
    """A refused input becomes a one-line message on stderr and exit code 2, never a traceback."""

    @wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except DesignError as exc:
            return design_refused(exc.problems)
        except Refusal as exc:
            return refused(str(exc))
        except OSError as exc:  # an output folder that cannot be written, a full disk
            return refused(f"{exc.filename or 'a file'}: {exc.strerror or exc}")

    return run


def refused(message: str) -> int:
    """``error: message`` on stderr (control characters escaped); the refusal exit code."""
    print(f"error: {printable(message)}", file=sys.stderr)
    return EXIT_REFUSED


def design_refused(problems: list[str]) -> int:
    print("error: the design cannot be used:", file=sys.stderr)
    for problem in problems:
        print(f"  - {printable(problem)}", file=sys.stderr)
    return EXIT_REFUSED
