"""`circuit-studio`: the command line. Every sub-command lives in this package (``ui/cli``), on the top
floor beside the studio UI, and calls the same functions the studio does: ``parts`` (parts.py),
``check``/``export`` (check.py), ``design``/``eval`` (design.py), ``experts ...`` (experts.py),
``corpus``/``train`` (train.py); ``studio`` is served by ``ui.launch``. Each module registers its
commands here; a refused input is one ``error: ...`` line and exit code 2 (``ui.cli.refusals``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ui import launch as studio_launch
from ui.cli import check as design_commands
from ui.cli import design as pipeline_cli
from ui.cli import experts as moe_cli
from ui.cli import parts as parts_cli
from ui.cli import train as model_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="circuit-studio",
        description="Design circuits from a sentence with a local MoE model; check, simulate and export them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parts_cli.register(sub)
    design_commands.register(sub)
    moe_cli.register(sub)
    model_cli.register(sub)
    studio_launch.register(sub)
    pipeline_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
