"""Hostile designs through the studio as a person sends them (issue 13, failures 5, 8 and 9): pasted
into "Check an existing design" (the ``/check_pasted`` handler) or imported as a file in the Export tab.
Each gets a readable message in the page, never Gradio's generic error or "Something went wrong"."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.designs import resistor_mesh

pytestmark = pytest.mark.xdist_group("browser")

ONE_PART = '{"parts": [{"ref": "R1", "part": "resistor"}], '
PASTED = [
    ("[" * 5_000, "nested deeper than"),
    (ONE_PART + '"title": ' + "9" * 5_000 + "}", "more than 30 digits"),
    (ONE_PART + '"parts": [{"ref": "R2", "part": "led-red"}]}', "'parts' is given twice"),
    (ONE_PART + '"title": NaN}', "only finite numbers"),
]


def readable_refusal(page, box: str, says: str, timeout_ms: int = 30_000) -> str:
    page.wait_for_selector(f'{box} .msg-error:has-text("{says}")', timeout=timeout_ms)
    shown = page.inner_text(box)
    assert "Something went wrong" not in shown and "Traceback" not in page.content()
    return shown


@pytest.mark.parametrize(("text", "says"), PASTED)
def test_a_hostile_pasted_design_is_refused_in_words(page, text, says):
    page.get_by_text("Check an existing design").click()
    page.locator("#design-json .cm-content").fill(text)
    page.click("#check-design")
    assert "cannot be used" in readable_refusal(page, "#design-message", says)


def test_a_deeply_nested_design_file_is_refused_on_import(page, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    page.get_by_role("tab", name="Export").click()
    page.set_input_files("#import-design input[type='file']", str(deep))
    readable_refusal(page, "#import-message", "nested deeper than")


def test_the_old_worst_case_is_refused_at_once_on_import(page, tmp_path):
    """The issue's 1.8 MB design (400 parts, 1000 nets of 200 pins) took 70 s and a 55 MB response."""
    big = tmp_path / "big.json"
    big.write_text(resistor_mesh(400, 1000, 200))
    page.get_by_role("tab", name="Export").click()
    started = time.monotonic()
    page.set_input_files("#import-design input[type='file']", str(big))
    readable_refusal(page, "#import-message", "larger than 200 kB", timeout_ms=20_000)
    assert time.monotonic() - started < 20
