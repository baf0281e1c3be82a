"""The rule-based reference designer: a part list in, the textbook wiring out (see ``designer``); and
``baseline``, which reads the part list from the request by rules and has the designer wire it."""

from agents.reference.builder import ReferenceDesignError
from agents.reference.designer import ReferenceResult, design_from_parts

__all__ = ["ReferenceDesignError", "ReferenceResult", "design_from_parts"]
