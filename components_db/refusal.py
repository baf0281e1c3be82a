"""The one base class of every refused user input."""

from __future__ import annotations


class Refusal(Exception):
    """An input refused for a reason the user can act on; its message is written for them.

    Every user-facing error derives from it as well as from its own base (``ValueError``,
    ``RuntimeError``), so code catching those is unchanged, while the command line and the studio
    show any ``Refusal`` as its message (exit code 2 on the command line) and anything else as a fault."""
