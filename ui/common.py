"""What the views share: the session kept in ``gr.State``, and turning failures into page messages."""

from __future__ import annotations

import logging
import traceback

from components_db.refusal import Refusal
from studio.circuit.design import DesignError
from ui.html import message
from ui.session import StudioSession
from ui.studio_context import StudioContext

log = logging.getLogger("studio.ui")


def session_of(context: StudioContext, state: StudioSession | None) -> StudioSession:
    """The browser session's studio, made on its first event."""
    return state if isinstance(state, StudioSession) else StudioSession.start(context)


def error_html(exc: BaseException) -> str:
    """A failure as a readable message; an unexpected one is logged with its traceback (server side only)."""
    if isinstance(exc, DesignError):
        return message("error", "\n".join(exc.problems), title="This design cannot be used:")
    if isinstance(exc, Refusal):  # its message is written for the user: shown as it is
        return message("error", str(exc))
    log.error("unexpected error in the studio:\n%s", "".join(traceback.format_exception(exc)))
    return message(
        "error",
        f"Something went wrong ({type(exc).__name__}: {exc}). The details are in the server log; "
        "try again, or change the request.",
    )
