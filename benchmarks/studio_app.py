"""The studio's start-up and steering latency, measured the way a user meets them: `app.py` is started
in a subprocess and driven in headless Chromium.

- cold start: from launching `python app.py` to the first HTTP 200 (target <= 10 s);
- resident memory of the server after start, after a design run and after the toggles (target <= 3 GB);
- a design run from the Run click to the finished schematic;
- a toggle: from clicking one expert cell in the Experts view to the steered result beside the baseline
  (the re-run from the first affected stage included), median over ``--toggles`` clicks (target <= 1.0 s
  when only synthesize re-runs, <= 1.5 s for any stage).

    .venv/bin/python benchmarks/studio_app.py [--model ID|PATH] [--request TEXT] [--toggles 3] [--section reason]

With no bundled model (agents/bundled_model/weights) and no ``--model``, a tiny random MoE is built and used,
and the table says so: its numbers show the studio's own overhead, not the bundled model's speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))

from retrieval import markdown  # noqa: E402
from serving import free_port, wait_until_served  # noqa: E402

from agents.model_opening import BUNDLED_DIR  # noqa: E402

TARGET_START_S = 10.0
TARGET_TOGGLE_S = {"synthesize": 1.0}  # any other section: TARGET_ANY_TOGGLE_S
TARGET_ANY_TOGGLE_S = 1.5
TARGET_RSS_GB = 3.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
FINISHED = "#progress :text('run finished'), #progress :text('run stopped')"
NEW_COMPARISON = """n => {
  const marker = document.querySelector('#compare-status .compare-done');
  return marker !== null && Number(marker.dataset.compare) > n;
}"""


def rss_gb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) memory of a process, GB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    to_gb = lambda name: int(fields[name].split()[0]) / 1024**2  # noqa: E731  (kB -> GB)
    return to_gb("VmRSS"), to_gb("VmHWM")


def start_studio(model: str | None, home: Path) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    command = [sys.executable, str(ROOT / "app.py"), "--port", str(port)] + (["--model", model] if model else [])
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "0", "CIRCUIT_STUDIO_HOME": str(home)}
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    if not wait_until_served(proc, url):
        raise SystemExit(f"app.py exited with {proc.returncode}")
    return proc, url, time.perf_counter() - started


def tiny_model(folder: Path) -> str:
    from components_db import KnowledgeBase
    from tests.e2e.tiny_model import build_tiny_model

    return str(build_tiny_model(folder, KnowledgeBase.open()))


def busiest_expert(page, layer: int, exclude: set[int]) -> int:
    import re

    cells = page.locator(f"#expert-grid button[data-layer='{layer}']")
    best, choice = -1, 0
    for i in range(cells.count()):
        found = re.search(r"used by (\d+)%", cells.nth(i).get_attribute("title") or "")
        share = int(found.group(1)) if found else 0
        if i not in exclude and share > best:
            best, choice = share, i
    return choice


def drive(url: str, pid: int, request: str, toggles: int, section: str) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="load")
        page.wait_for_selector("#request textarea")
        page.fill("#request textarea", request)
        started = time.perf_counter()
        page.click("#run")
        page.wait_for_selector(FINISHED, timeout=600_000)
        run_s = time.perf_counter() - started
        after_run = rss_gb(pid)
        page.get_by_role("tab", name="Experts").click()
        page.locator("#grid-section").get_by_label(section, exact=True).check()
        page.wait_for_timeout(500)
        times, off = [], set()
        for i in range(toggles):
            expert = busiest_expert(page, i % 2, off)
            off.add(expert)
            started = time.perf_counter()
            page.click(f"#expert-grid button[data-layer='{i % 2}'][data-expert='{expert}']")
            page.wait_for_function(NEW_COMPARISON, arg=i, timeout=600_000)
            times.append(time.perf_counter() - started)
        browser.close()
    return {"run_s": run_s, "after_run": after_run, "toggle_s": times, "after_toggles": rss_gb(pid)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="hub id or local path (default: the bundled model)")
    parser.add_argument("--request", default="ESP32 reads a DHT22 and switches a 12 V fan")
    parser.add_argument("--toggles", type=int, default=3)
    parser.add_argument("--section", default="reason", choices=["*", "identify", "reason", "synthesize"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model, label = args.model, args.model or "bundled"
        if model is None and not (BUNDLED_DIR / "config.json").is_file():
            model = tiny_model(Path(tmp) / "tiny-moe")
            label = "tiny random MoE (no bundled model yet)"
        home = Path(os.environ.get("CIRCUIT_STUDIO_HOME", Path.home() / ".local/share/moe-circuit-studio"))
        proc, url, start_s = start_studio(model, home)
        try:
            at_start = rss_gb(proc.pid)
            measured = drive(url, proc.pid, args.request, args.toggles, args.section)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    toggle = measured["toggle_s"]
    rss_peak = max(at_start[1], measured["after_run"][1], measured["after_toggles"][1])
    rows = [
        {"measure": "cold start to serving", "value": f"{start_s:.1f} s", "target": f"<= {TARGET_START_S:g} s"},
        {"measure": "resident memory after start", "value": f"{at_start[0]:.2f} GB", "target": ""},
        {"measure": "resident memory after a run", "value": f"{measured['after_run'][0]:.2f} GB", "target": ""},
        {"measure": "peak resident memory", "value": f"{rss_peak:.2f} GB", "target": f"<= {TARGET_RSS_GB:g} GB"},
        {"measure": "design run (Run click to schematic)", "value": f"{measured['run_s']:.1f} s", "target": ""},
        {
            "measure": f"toggle to steered result ({args.section} section, median of {len(toggle)})",
            "value": f"{statistics.median(toggle):.1f} s (each: {', '.join(f'{t:.1f}' for t in toggle)})",
            "target": f"<= {TARGET_TOGGLE_S.get(args.section, TARGET_ANY_TOGGLE_S):g} s",
        },
    ]
    load = os.getloadavg()[0]
    print(f"model: {label}; {os.cpu_count()} cores, load average {load:.1f} at the end")
    print(markdown(rows))
    ok = start_s <= TARGET_START_S and rss_peak <= TARGET_RSS_GB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
