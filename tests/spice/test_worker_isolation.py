"""Files in the folder where the studio runs, or in the user's home, never run code in the SPICE worker
(issue 13, failure 2): ngspice reads ``.spiceinit`` (whose ``shell`` lines run commands) from its
working folder and ``$HOME``, and ``python -m`` imports a ``spice/`` package from the working folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DECK = "* divider\nV1 a 0 DC 2\nR1 a b 1k\nR2 b 0 1k\n.op\n.end\n"
ROOT = Path(__file__).resolve().parents[2]
RUN_ONE_DECK = f"from spice import engine; print(engine.run({DECK!r})['b'][0])"


def _plant_traps(folder: Path, marker: Path) -> None:
    (folder / ".spiceinit").write_text(f"shell touch {marker}.spiceinit\n")
    package = folder / "spice"
    package.mkdir()
    (package / "__init__.py").write_text(f"open({str(marker) + '.import'!r}, 'w').write('ran')\n")
    (package / "worker.py").write_text(f"open({str(marker) + '.worker'!r}, 'w').write('ran')\n")


@pytest.mark.parametrize("where", ["working folder", "home folder"])
def test_init_files_and_packages_planted_near_the_caller_do_not_run(tmp_path: Path, where: str) -> None:
    trap_folder, caller_folder = tmp_path / "trap", tmp_path / "caller"
    trap_folder.mkdir()
    caller_folder.mkdir()
    marker = tmp_path / "MARKER"
    _plant_traps(trap_folder, marker)
    cwd = trap_folder if where == "working folder" else caller_folder
    # the caller imports the real package (as the installed console script does), then runs a deck
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); {RUN_ONE_DECK}"],
        cwd=cwd,
        env={"HOME": str(trap_folder), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(trap_folder)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip()) == pytest.approx(1.0)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("MARKER")) == []
