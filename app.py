"""Serve MoE Circuit Studio: `python app.py [--host 127.0.0.1] [--port 7860] [--model ID|PATH] [--profile FILE]
[--desktop]` (the same as `circuit-studio studio`)."""

from __future__ import annotations

import sys

from ui.launch import main

if __name__ == "__main__":
    sys.exit(main())
