"""The intent check: what a request asks for (``reading``) and whether a design gives it (``check``)."""

from __future__ import annotations

from studio.intent.check import IntentReport, Requirement, check_intent
from studio.intent.reading import RequestReader, RequestReading, UnknownPart

__all__ = ["IntentReport", "RequestReader", "RequestReading", "Requirement", "UnknownPart", "check_intent"]
