"""The studio as a workspace, in a real browser at 1280x800 (and 800 px wide): the schematic and its
verdicts on the first screen after a run, nets and findings pointed at in the drawing, Ctrl+Enter,
Stop idle until a run, no stale comparison after quick clicks, and text that reads in the dark theme."""

from __future__ import annotations

import re
import time

import pytest

from agents.checks import check_and_draw
from studio.circuit.design import Design
from studio.circuit.examples import load_example
from studio.circuit.resolve import resolve
from tests.e2e.conftest import RUN_TIMEOUT_MS

pytestmark = pytest.mark.xdist_group("browser")

REQUEST = "ESP32 reads a DHT22 and switches a 12 V fan"
FINISHED = "#progress :text('run finished'), #progress :text('run stopped')"
SCREEN = {"width": 1280, "height": 800}

# the colour a text is drawn in and the colour under it (the first opaque background up the tree)
COLOURS = """el => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  let node = el, back = null;
  while (node && node.nodeType === 1) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) { back = c; break; }
    node = node.parentElement;
  }
  return {fore: rgb(getComputedStyle(el).color), back: back || [255, 255, 255]};
}"""


def contrast(fore: list[float], back: list[float]) -> float:
    """WCAG contrast ratio of two sRGB colours."""

    def luminance(c: list[float]) -> float:
        lin = [(v / 255) / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c[:3]]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    a, b = sorted((luminance(fore), luminance(back)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def open_page(browser, url: str, *, theme: str = "light", size: dict | None = None):
    context = browser.new_context(viewport=size or SCREEN, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{url}?__theme={theme}", wait_until="load")
    page.wait_for_selector("#request textarea", timeout=60_000)
    return context, page


def run(page, request: str = REQUEST) -> None:
    page.fill("#request textarea", request)
    page.click("#run")
    page.wait_for_selector(FINISHED, timeout=RUN_TIMEOUT_MS)


@pytest.fixture(scope="module")
def ran(browser, served_app, artifacts):
    """One 1280x800 session that ran the example request."""
    context, page = open_page(browser, served_app)
    run(page)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "workspace-design-light.png"))
    yield page
    context.close()


# a point on a polyline's first segment, in page coordinates (a bent wire's box centre is off the wire)
ON_THE_WIRE = """line => {
  const pts = line.points, m = line.getScreenCTM();
  const at = new DOMPoint((pts[0].x + pts[1].x) / 2, (pts[0].y + pts[1].y) / 2).matrixTransform(m);
  return [at.x, at.y];
}"""


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not on the page"
    return found


def test_after_a_run_the_schematic_and_the_verdicts_are_on_the_first_screen(ran):
    page = ran
    assert page.evaluate("window.scrollY") == 0
    drawing = box(page, "#schematic .svg-wrap")
    visible = min(drawing["y"] + drawing["height"], SCREEN["height"]) - drawing["y"]
    assert drawing["y"] < 500 and visible >= 250, drawing  # most of the drawing, not its top edge
    for line in page.locator("#verdict .msg").all():  # ERC, intent and SPICE
        found = line.bounding_box()
        assert found is not None and found["y"] + found["height"] <= SCREEN["height"], found
    assert "ERC " in page.inner_text("#verdict") and "SPICE:" in page.inner_text("#verdict")
    cards = page.locator("#stages details.stage")
    assert cards.count() >= 6
    for i in range(cards.count()):  # one line each, closed until clicked
        card = cards.nth(i)
        assert card.get_attribute("open") is None and card.bounding_box()["height"] < 40
    reason = page.locator("#stages details[data-stage='reason']")
    reason.locator("summary").click()
    assert reason.get_attribute("open") is not None
    text = reason.locator("pre.reasoning")
    assert text.is_visible() and text.bounding_box()["height"] > 40


def test_stop_is_idle_while_nothing_runs(page):
    stop = page.locator("#stop")
    assert stop.is_disabled()
    assert "stop" not in (stop.get_attribute("class") or "").split()  # not the red "stop" variant


def test_ctrl_enter_runs_and_tab_reaches_run_before_the_examples(browser, served_app):
    context, page = open_page(browser, served_app)
    try:
        page.click("#request textarea")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "run"
        page.fill("#request textarea", "Blink a red LED from an Arduino Uno.")
        page.focus("#request textarea")
        page.keyboard.press("Control+Enter")
        page.wait_for_selector(FINISHED, timeout=RUN_TIMEOUT_MS)
        assert page.locator("#schematic svg").count() == 1
        assert page.input_value("#request textarea") == "Blink a red LED from an Arduino Uno."  # no newline typed
    finally:
        context.close()


def test_hovering_a_wire_or_a_pin_lights_up_its_whole_net(ran):
    page = ran
    page.evaluate("window.scrollTo(0, 0)")
    wire = page.locator("#schematic svg g.wire").first
    net = wire.get_attribute("data-net")
    x, y = wire.locator("polyline.hit").evaluate(ON_THE_WIRE)
    page.mouse.move(x, y)
    lit = page.locator("#schematic svg .net-hl")
    assert lit.count() >= 2
    assert {lit.nth(i).get_attribute("data-net") for i in range(lit.count())} == {net}
    assert page.locator(f"#schematic svg circle.pin.net-hl[data-net='{net}']").count() >= 2
    assert f"net {net}" in page.inner_text("#schematic .net-name")
    pin = page.locator("#schematic svg circle.pin[data-net]").first
    pin_net = pin.get_attribute("data-net")
    pin.hover(force=True)
    assert page.locator(f"#schematic svg g.wire.net-hl[data-net='{pin_net}'], "
                        f"#schematic svg g.net-hl[data-net='{pin_net}']").count() >= 1  # fmt: skip
    page.mouse.move(1, 1)
    assert page.locator("#schematic svg .net-hl").count() == 0


def test_zoom_pan_and_fit_move_the_drawing(ran):
    page = ran
    svg = page.locator("#schematic .svg-wrap > svg")
    first = svg.get_attribute("viewBox")
    page.click("#schematic [data-zoom='in']")
    zoomed = svg.get_attribute("viewBox")
    assert zoomed != first and float(zoomed.split()[2]) < float(first.split()[2])
    page.click("#schematic [data-zoom='fit']")
    assert svg.get_attribute("viewBox") == first


def broken_design(kb) -> Design:
    """The ESP32 fan example without the DHT22's pull-up: a major ERC finding on S1.DATA, net DHT_DATA."""
    data = load_example("esp32-dht22-fan").model_dump(mode="json", exclude_none=True)
    data["parts"] = [p for p in data["parts"] if p["ref"] != "R1"]
    data["nets"] = [{**n, "pins": [x for x in n["pins"] if not x.startswith("R1.")]} for n in data["nets"]]
    design = Design.model_validate(data)
    check, _ = check_and_draw(resolve(design, kb), run_spice=False, seed=0, title=design.title)
    assert any(v.pins and v.net for v in check.erc.violations), check.erc.violations
    return design


def test_clicking_a_finding_lights_up_its_pins_and_net(browser, served_app, kb):
    design = broken_design(kb)
    context, page = open_page(browser, served_app)
    try:
        page.get_by_text("Check an existing design").click()
        page.locator("#design-json .cm-content").fill(design.model_dump_json(exclude_none=True))
        page.click("#check-design")
        page.wait_for_selector("#erc tr.finding", timeout=60_000)
        row = page.locator("#erc tr.finding[data-net]:not([data-net=''])").first
        pins, net = row.get_attribute("data-pins").split(), row.get_attribute("data-net")
        row.click()
        for pin in pins:
            assert page.locator(f"#schematic svg circle.pin.pin-hl[data-pin='{pin}']").count() == 1
            ref = pin.split(".")[0]
            assert page.locator(f"#schematic svg g.part.finding-hl[data-ref='{ref}']").count() == 1
        assert page.locator(f"#schematic svg g.wire.net-hl[data-net='{net}']").count() >= 1
        assert net in page.inner_text("#schematic .net-name")
        assert "picked" in (row.get_attribute("class") or "")
        # and back: clicking the part marks its findings in the table
        page.locator("#erc tr.picked").evaluate_all("rows => rows.forEach(r => r.classList.remove('picked'))")
        page.locator(f"#schematic svg g.part[data-ref='{pins[0].split('.')[0]}'] text.part-label").click(force=True)
        assert page.locator("#erc tr.finding.picked").count() >= 1
    finally:
        context.close()


def steering_shown(page) -> str | None:
    marker = page.locator("#compare-status .compare-done")
    return marker.get_attribute("data-steering") if marker.count() else None


def profile_lines(page) -> str:
    return "; ".join(t.strip() for t in page.locator("#profile-summary li").all_inner_texts())


def test_two_quick_clicks_on_one_cell_never_leave_a_stale_result(ran, artifacts):
    page = ran
    page.get_by_role("tab", name="Experts").click()
    page.wait_for_selector("#baseline-schematic svg", timeout=30_000)  # the last run, shown before any change
    page.locator("#grid-section").get_by_label("reason", exact=True).check()
    page.wait_for_timeout(300)
    cell = "#expert-grid button[data-layer='0'][data-expert='3']"
    page.click(cell)
    page.click(cell)  # on -> off -> forced on, the second click while the first comparison runs
    page.wait_for_function(
        "() => document.querySelector(\"#expert-grid button[data-layer='0'][data-expert='3']\")"
        ".dataset.state === 'force'",
        timeout=30_000,
    )
    wanted = profile_lines(page)
    assert "forced 3" in wanted
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while time.monotonic() < deadline and steering_shown(page) != wanted:
        page.wait_for_timeout(200)
    assert steering_shown(page) == wanted
    page.wait_for_timeout(3000)  # anything still queued behind it must not bring an older state back
    assert steering_shown(page) == wanted == profile_lines(page)
    assert page.locator(cell).get_attribute("data-state") == "force"
    page.screenshot(path=str(artifacts / "workspace-experts-light.png"))
    page.click("#reset-all")
    page.get_by_role("tab", name="Design").click()


def test_dark_mode_text_reads_on_its_background(browser, served_app, artifacts):
    context, page = open_page(browser, served_app, theme="dark")
    try:
        assert page.evaluate("document.body.classList.contains('dark') || !!document.querySelector('.dark')")
        run(page)
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts / "workspace-design-dark.png"))
        page.locator("#stages details[data-stage='reason'] summary").click()
        checked = {
            "stage title": "#stages details.stage .stage-title",
            "stage line": "#stages details.stage .stage-brief",
            "reasoning": "#stages pre.reasoning",
            "schematic caption": "#schematic figcaption",
            "verdict": "#verdict .msg",
            "ERC table": "#erc td, #erc .empty",
        }
        page.get_by_role("tab", name="Experts").click()
        page.wait_for_selector("#expert-grid button.cell", timeout=30_000)
        page.click("#expert-grid button[data-layer='1'][data-expert='2']")  # one cell off
        page.wait_for_selector("#expert-grid button.cell.off", timeout=30_000)
        checked["off expert"] = "#expert-grid button.cell.off .id"
        checked["on expert"] = "#expert-grid button.cell.on .id"
        page.screenshot(path=str(artifacts / "workspace-experts-dark.png"), full_page=True)
        low = {}
        for name, selector in checked.items():
            found = page.locator(selector).first
            colours = found.evaluate(COLOURS)
            ratio = contrast(colours["fore"], colours["back"])
            if ratio < 4.5:
                low[name] = (round(ratio, 2), colours)
        assert not low, low
        page.click("#reset-all")
    finally:
        context.close()


def test_at_800_px_the_schematics_stack_and_the_grid_fits(browser, served_app, artifacts):
    context, page = open_page(browser, served_app, size={"width": 800, "height": 900})
    try:
        run(page)
        drawing, verdicts = box(page, "#schematic"), box(page, "#verdicts")
        assert verdicts["y"] >= drawing["y"] + drawing["height"] - 1  # under the drawing, not beside it
        page.get_by_role("tab", name="Experts").click()
        page.wait_for_selector("#baseline-schematic svg", timeout=30_000)
        base, steered = box(page, "#baseline-schematic"), box(page, "#steered-schematic")
        assert steered["y"] >= base["y"] + base["height"] - 1
        last = page.locator("#expert-grid button[data-expert]").last
        right = last.bounding_box()
        assert right is not None and right["x"] + right["width"] <= 800, right
        page.screenshot(path=str(artifacts / "workspace-experts-800.png"), full_page=True)
    finally:
        context.close()


def test_exports_are_named_after_the_design_and_list_what_wokwi_leaves_out(ran):
    page = ran
    page.get_by_role("tab", name="Export").click()
    page.click("#make-exports")
    page.wait_for_selector("#export-message .msg-ok", timeout=60_000)
    said = page.inner_text("#export-message")
    names = re.search(r"files ready: ([^\n(]+)", said).group(1).split(", ")
    stems = {name.strip().split(".", 1)[0] for name in names}
    assert len(stems) == 1 and "esp32" in stems.pop(), names
    assert "Wokwi" in page.inner_text("#export-left-out")
    page.get_by_role("tab", name="Design").click()


def test_an_out_of_knowledge_stop_offers_substitutes_and_re_runs_with_them(browser, served_app):
    context, page = open_page(browser, served_app)
    try:
        page.fill("#request textarea", "An Arduino Uno reads an MLX90614 infrared thermometer and lights an LED")
        page.click("#run")
        page.wait_for_selector("#progress :text('stopped before wiring')", timeout=RUN_TIMEOUT_MS)
        notes = page.inner_text("#run-notes")
        assert "Not in the knowledge base" in notes and "MLX90614" in notes
        menu = page.locator("#sub-0").first
        menu.wait_for(state="visible", timeout=30_000)
        assert "MLX90614" in menu.inner_text()
        chosen = menu.locator("input").input_value()
        assert chosen  # the nearest knowledge-base part, preselected
        page.locator("#rerun-substitutes").first.click()
        page.wait_for_selector("#progress :text('run finished')", timeout=RUN_TIMEOUT_MS)
        assert f"added {chosen}" in page.inner_text("#run-notes")
        assert page.locator("#schematic svg").count() == 1
    finally:
        context.close()
