"""Moved to tests/fixtures/designs.py; kept for tests/ui/cli/test_check.py."""

from tests.fixtures.designs import COIL, COIL_NETS, make_design, resistor_mesh

__all__ = ["COIL", "COIL_NETS", "make_design", "resistor_mesh"]
