"""The rule-based reference designer: a part list in, the textbook wiring out (see ``designer``)."""

from agents.reference.builder import ReferenceDesignError
from agents.reference.designer import ReferenceResult, design_from_parts

__all__ = ["ReferenceDesignError", "ReferenceResult", "design_from_parts"]
