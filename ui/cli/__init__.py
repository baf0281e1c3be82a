"""`circuit-studio`, the command line: one module per command group, registered in ``ui.cli.main``."""
