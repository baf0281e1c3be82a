"""Where the studio keeps its data (the compiled knowledge base, the user's parts, the exported
embedding model): ``$CIRCUIT_STUDIO_HOME``, else ``~/.local/share/moe-circuit-studio``."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "CIRCUIT_STUDIO_HOME"


def default_home() -> Path:
    configured = os.environ.get(HOME_ENV)
    return Path(configured) if configured else Path.home() / ".local" / "share" / "moe-circuit-studio"
