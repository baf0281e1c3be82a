"""Scores, the pass@1 verdict, ordering, JSON round trip and speed of the ERC report."""

from __future__ import annotations

from studio.erc import run_erc
from studio.erc.findings import ErcReport, Severity
from studio.erc.registry import RULES


def test_clean_design_scores_one(check) -> None:
    report = check(
        {"U1": "arduino-uno", "R1": "resistor=220", "D1": "led-red"},
        {"LED": ["U1.D13", "R1.1"], "A": ["R1.2", "D1.A"], "GND": ["D1.K", "U1.GND"]},
    )
    assert (report.passed, report.structural_score, report.electrical_score) == (True, 1.0, 1.0)


def test_scores_follow_the_documented_weights(check) -> None:
    # one electrical major (no resistor) and one structural major (an unconnected part)
    report = check(
        {"U1": "arduino-uno", "D1": "led-red", "R9": "resistor"},
        {"LED": ["U1.D13", "D1.A"], "GND": ["D1.K", "U1.GND"]},
    )
    assert [v.rule for v in report.violations] == ["led-no-resistor", "unconnected-part"]
    assert report.electrical_score == 0.5
    assert report.structural_score == 0.5
    assert report.passed is False


def test_a_fatal_zeroes_its_score_and_leads_the_list(check) -> None:
    report = check(
        {"U1": "esp32-devkit-v1", "B1": "battery-9v", "D1": "led-red"},
        {"VBAT": ["B1.+", "U1.3V3"], "GND": ["B1.-", "U1.GND", "D1.K"], "A": ["U1.GPIO2", "D1.A"]},
    )
    assert report.violations[0].severity is Severity.FATAL
    assert [v.severity.rank for v in report.violations] == sorted(v.severity.rank for v in report.violations)
    assert report.electrical_score == 0.0 and not report.passed


def test_minor_and_warning_still_pass(check) -> None:
    report = check(
        {"U1": "esp32-devkit-v1", "R1": "resistor=47", "D1": "led-red"},
        {"LED": ["U1.GPIO2", "R1.1"], "A": ["R1.2", "D1.A"], "GND": ["D1.K", "U1.GND"]},
    )
    assert report.rule_ids() == {"led-resistor-low"} and report.passed


def test_unknown_names_come_with_suggestions(check) -> None:
    report = check({"U1": "esp32-devkit-v2", "U2": "arduino-uno"}, {"GND": ["U2.GNDD", "U1.GND"], "X": ["U2.D13"]})
    by_rule = {v.rule: v for v in report.violations}
    assert "esp32-devkit-v1" in by_rule["unknown-part"].fix
    assert "GND" in by_rule["unknown-pin"].fix and by_rule["unknown-pin"].pins == ["U2.GNDD"]
    assert report.structural_score == 0.0


def test_report_round_trips_as_json(check) -> None:
    report = check({"U1": "arduino-uno", "D1": "led-red"}, {"LED": ["U1.D13", "D1.A"], "GND": ["D1.K", "U1.GND"]})
    again = ErcReport.model_validate_json(report.model_dump_json())
    assert again == report and again.violations[0].severity is Severity.MAJOR


def test_registry_ids_are_stable_kebab_case() -> None:
    for rule_id, rule in RULES.items():
        assert rule_id == rule.id and rule_id.replace("-", "").isalnum() and rule_id.islower()
        assert rule.description.endswith(".")


def test_a_thirty_part_design_checks_clean(build) -> None:
    """The 30-part design benchmarks/toolkit.py times; here only its verdict is asserted."""
    parts = {"U1": "esp32-devkit-v1", "S1": "dht22", "R0": "resistor=10k", "S2": "bme280"}
    nets: dict[str, list[str]] = {
        "3V3": ["U1.3V3", "S1.VCC", "R0.1", "S2.VIN"],
        "GND": ["U1.GND", "S1.GND", "S2.GND"],
        "DATA": ["U1.GPIO4", "S1.DATA", "R0.2"],
        "SDA": ["U1.GPIO21", "S2.SDA"],
        "SCL": ["U1.GPIO22", "S2.SCL"],
    }
    gpios = ["GPIO2", "GPIO5", "GPIO13", "GPIO14", "GPIO15", "GPIO18", "GPIO19", "GPIO23", "GPIO25", "GPIO32", "GPIO33"]
    for i, gpio in enumerate(gpios):
        parts |= {f"R{i + 1}": "resistor=330", f"D{i + 1}": "led-red"}
        nets |= {f"L{i}": [f"U1.{gpio}", f"R{i + 1}.1"], f"A{i}": [f"R{i + 1}.2", f"D{i + 1}.A"]}
        nets["GND"].append(f"D{i + 1}.K")
    parts |= {"SW1": "push-button", "R20": "resistor=10k", "K1": "relay-module-1ch", "U2": "arduino-uno"}
    nets |= {"BTN": ["U1.GPIO27", "SW1.1", "R20.1"], "RELAY": ["U1.GPIO26", "K1.IN"]}
    nets["GND"] += ["SW1.2", "K1.GND", "U2.GND"]
    nets["3V3"].append("R20.2")
    nets["5V"] = ["U2.5V", "K1.VCC"]
    assert len(parts) == 30
    report = run_erc(build(parts, nets))
    assert report.passed, [v.message for v in report.violations]
