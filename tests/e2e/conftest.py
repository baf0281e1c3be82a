"""The served studio (``python app.py`` in a subprocess, its own studio home) on a model, and headless
Debian Chromium driving it.

The model is the bundled one when it is there (``STUDIO_E2E_MODEL=tiny`` forces the tiny one), else a
tiny random Qwen3-MoE built here (``tiny_model.py``), with one example steering profile written for it,
so the browser tests run anywhere, CI included, in a few minutes on 2 cores.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from agents.model_opening import BUNDLED_DIR
from studio.moe.profile import LayerSteering, StageSteering, SteeringProfile

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 180
RUN_TIMEOUT_MS = 180_000  # one whole pipeline run in the page, queue included
EXAMPLE_PROFILE = "quiet-reasoning"


@dataclass(frozen=True)
class ServedModel:
    model: str | None  # None: the bundled model
    profiles_dir: Path | None  # None: the bundled profiles
    bundled: bool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bundled_present() -> bool:
    return (BUNDLED_DIR / "config.json").is_file() and os.environ.get("STUDIO_E2E_MODEL") != "tiny"


@pytest.fixture(scope="session")
def served_model(tmp_path_factory, kb) -> ServedModel:
    if bundled_present():
        return ServedModel(model=None, profiles_dir=None, bundled=True)
    from tests.e2e.tiny_model import build_tiny_model

    folder = build_tiny_model(tmp_path_factory.mktemp("tiny-moe"), kb)
    profiles = tmp_path_factory.mktemp("profiles")
    write_example_profile(folder, profiles)
    return ServedModel(model=str(folder), profiles_dir=profiles, bundled=False)


def write_example_profile(model_folder: Path, profiles: Path) -> None:
    """One documented example profile for the tiny model, like the ones the bundled model ships."""
    from studio.moe.engine import MoEEngine

    engine = MoEEngine.load(str(model_folder))
    identity = engine.info.identity()
    engine.close()
    profile = SteeringProfile(
        name=EXAMPLE_PROFILE,
        description="Turns off experts 0 and 1 of every MoE layer while the model reasons.",
        model=identity,
        stages={
            "reason": StageSteering(layers={i: LayerSteering(off=[0, 1]) for i in range(len(identity.moe_layers))})
        },
    )
    profile.save(profiles / f"{EXAMPLE_PROFILE}.json")
    (profiles / f"{EXAMPLE_PROFILE}.md").write_text("Effect: the reasoning text changes; identify is untouched.\n")


@pytest.fixture(scope="session")
def served_app(tmp_path_factory, built_home, served_model):
    """The studio's URL; its data home is a copy of the test knowledge base, so added parts stay here."""
    home = tmp_path_factory.mktemp("served-home")
    shutil.copytree(built_home, home, symlinks=True, dirs_exist_ok=True)
    port = free_port()
    env = {**os.environ, "CIRCUIT_STUDIO_HOME": str(home), "GRADIO_ANALYTICS_ENABLED": "0", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, str(ROOT / "app.py"), "--port", str(port)]
    if served_model.model:
        command += ["--model", served_model.model]
    if served_model.profiles_dir:
        command += ["--profiles-dir", str(served_model.profiles_dir)]
    log = tmp_path_factory.mktemp("log") / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app.py exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"app.py did not serve {url} within {START_TIMEOUT_S} s:\n{log.read_text()}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    if "Traceback" in log.read_text():
        print(f"app.py log:\n{log.read_text()}")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian chromium is not installed: run `make test`, which installs it")
        pytest.skip("Debian chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_selector("#request textarea", timeout=60_000)
    return context, page


@pytest.fixture
def page(browser, served_app):
    context, page = new_page(browser, served_app)
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
