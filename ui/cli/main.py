"""`circuit-studio`: the command line. Every sub-command lives in this package (``ui/cli``), on the top
floor beside the studio UI, and calls the same functions the studio does: ``parts`` (parts.py),
``check``/``export`` (check.py), ``design``/``eval`` (design.py), ``experts ...`` (experts.py),
``corpus``/``train`` (train.py); ``studio`` is served by ``ui.launch``. Each module registers its
commands here; a refused input is one ``error: ...`` line and exit code 2 (``ui.cli.refusals``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ui import launch
from ui.cli import check, design, experts, parts, train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="circuit-studio",
        description="Design circuits from a sentence with a local MoE model; check, simulate and export them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for commands in (parts, check, experts, train, launch, design):  # the order `--help` lists them in
        commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
