"""`make run` serves the toolkit page on 127.0.0.1; a person can search parts and draw a design."""

import pytest

pytestmark = pytest.mark.xdist_group("browser")


def test_search_finds_a_part_by_description(served_app, page, artifacts):
    page.goto(served_app, wait_until="networkidle")
    page.fill("#part-query textarea, #part-query input", "measure distance with ultrasound")
    page.click("#part-search")
    page.wait_for_selector("#part-hits :text('hc-sr04')", timeout=60_000)
    page.locator("#part-hits").get_by_text("hc-sr04", exact=True).click()
    page.wait_for_selector(":text('ECHO')", timeout=30_000)
    page.screenshot(path=str(artifacts / "toolkit-search.png"), full_page=True)


def test_example_design_is_drawn_and_checked(served_app, page, artifacts):
    page.goto(served_app, wait_until="networkidle")
    page.get_by_role("tab", name="Design").click()
    page.locator("#example input").click()
    page.get_by_role("option", name="esp32-dht22-fan").click()
    page.wait_for_selector("#verdict :text('ERC passes')", timeout=60_000)
    assert page.locator("#schematic svg").count() == 1
    assert page.locator("#schematic svg [data-ref='M1']").count() == 1
    page.screenshot(path=str(artifacts / "toolkit-design.png"), full_page=True)


def test_malformed_design_shows_a_readable_error(served_app, page):
    page.goto(served_app, wait_until="networkidle")
    page.get_by_role("tab", name="Design").click()
    page.get_by_text("Design JSON: edit or paste one").click()
    page.locator("#design-json .cm-content").fill('{"parts": [')
    page.click("#check-design")
    page.wait_for_selector("#verdict :text('cannot be read')", timeout=30_000)
    assert "Traceback" not in page.content()
