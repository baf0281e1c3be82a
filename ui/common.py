"""What the views share: the session kept in ``gr.State``, and turning failures into page messages."""

from __future__ import annotations

import logging
import traceback

from agents.orchestrator import PipelineStopped
from agents.request import RequestError
from components_db.catalog import CatalogError
from components_db.kb import KnowledgeBaseError
from studio.circuit.design import DesignError
from studio.exports import ExportError
from studio.moe.attribution import AttributionError
from studio.moe.profile import ProfileError
from studio.moe.toggles import ToggleError
from ui.html import message
from ui.session import StudioError, StudioSession
from ui.studio_context import StudioContext

log = logging.getLogger("studio.ui")

# Refusals whose message is written for the user: shown as they are.
USER_ERRORS = (
    StudioError,
    ToggleError,
    ProfileError,
    DesignError,
    ExportError,
    AttributionError,
    CatalogError,
    KnowledgeBaseError,
    PipelineStopped,
    RequestError,
)


def session_of(context: StudioContext, state: StudioSession | None) -> StudioSession:
    """The browser session's studio, made on its first event."""
    return state if isinstance(state, StudioSession) else StudioSession.start(context)


def error_html(exc: BaseException) -> str:
    """A failure as a readable message; an unexpected one is logged with its traceback (server side only)."""
    if isinstance(exc, DesignError):
        return message("error", "\n".join(exc.problems), title="This design cannot be used:")
    if isinstance(exc, USER_ERRORS):
        return message("error", str(exc))
    log.error("unexpected error in the studio:\n%s", "".join(traceback.format_exception(exc)))
    return message(
        "error",
        f"Something went wrong ({type(exc).__name__}: {exc}). The details are in the server log; "
        "try again, or change the request.",
    )
