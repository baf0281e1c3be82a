"""Serve MoE Circuit Studio: `python app.py [--host 127.0.0.1] [--port 7860]`."""

from __future__ import annotations

import argparse
import sys

from components_db import KnowledgeBase
from ui.toolkit_page import build_toolkit_page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve MoE Circuit Studio in the browser.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    page = build_toolkit_page(KnowledgeBase.open())
    print(f"MoE Circuit Studio on http://{args.host}:{args.port}")
    page.launch(server_name=args.host, server_port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
