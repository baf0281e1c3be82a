"""Evaluation metrics on hand-made outcomes, their aggregates, and the rule-based reference baseline."""

from __future__ import annotations

import pytest

from agents.checks import check_design
from agents.evaluation.benchmark import BenchmarkError, BenchmarkPrompt, ExpectedPart, load_benchmark, prompt_file
from agents.evaluation.outcome import Outcome
from agents.evaluation.scoring import is_supporting, percentile, score, score_parts, summarise
from agents.identify import clauses
from agents.llm import Generated
from agents.parts_list import PartRequest, PartsList
from agents.pinouts import OutOfKnowledge, names_match
from agents.reference.baseline import ReferenceBaseline
from agents.run_report import RunReport, StageRecord
from studio.circuit.design import Design
from studio.circuit.resolve import resolve
from studio.moe.specs import MoEInfo


def expected(*items: str) -> list[ExpectedPart]:
    return [ExpectedPart(part=p.split("*")[0], quantity=int(p.split("*")[1]) if "*" in p else 1) for p in items]


def parts(*items: str, unknown: tuple[str, ...] = ()) -> PartsList:
    requests = [PartRequest(part=p.split("*")[0], quantity=int(p.split("*")[1]) if "*" in p else 1) for p in items]
    return PartsList(parts=requests, unknown=list(unknown))


def prompt(**fields) -> BenchmarkPrompt:
    base = {
        "id": "t1",
        "prompt": "Blink a red LED from an Arduino Uno.",
        "difficulty": "easy",
        "style": "imperative",
        "domain": "embedded",
        "expected_parts": [{"part": "arduino-uno", "quantity": 1}, {"part": "led-red", "quantity": 1}],
    }
    return BenchmarkPrompt.model_validate(base | fields)


# -- part identification -------------------------------------------------------------------------


def test_a_perfect_part_list_scores_one(kb):
    s = score_parts(expected("arduino-uno", "led-red"), parts("led-red", "arduino-uno"), kb)
    assert (s.true_positives, s.false_positives, s.false_negatives) == (2, 0, 0)
    assert s.precision == s.recall == s.f1 == 1.0


def test_quantities_count_as_a_multiset(kb):
    want = expected("esp32-devkit-v1", "servo-sg90*4")
    short = score_parts(want, parts("esp32-devkit-v1", "servo-sg90*2"), kb)
    assert (short.true_positives, short.false_positives, short.false_negatives) == (3, 0, 2)
    assert short.precision == 1.0 and short.recall == pytest.approx(0.6)
    extra = score_parts(want, parts("esp32-devkit-v1", "servo-sg90*6"), kb)
    assert (extra.true_positives, extra.false_positives, extra.false_negatives) == (5, 2, 0)


def test_an_expected_part_is_met_by_one_of_its_alternatives(kb):
    sonar = [ExpectedPart(part="arduino-uno"), ExpectedPart(part="hc-sr04", alternatives=["vl53l0x"])]
    s = score_parts(sonar, parts("arduino-uno", "vl53l0x"), kb)
    assert (s.true_positives, s.false_positives, s.false_negatives) == (2, 0, 0)
    both = score_parts(sonar, parts("arduino-uno", "vl53l0x", "hc-sr04"), kb)
    assert (both.true_positives, both.false_positives, both.false_negatives) == (2, 1, 0)


def test_supporting_parts_the_designer_adds_are_not_false_positives(kb):
    support = ["resistor*3", "capacitor-ceramic*2", "diode-1n4007", "nmos-irlz44n", "usb-power-5v", "ams1117-3v3"]
    s = score_parts(expected("arduino-uno", "led-red"), parts("arduino-uno", "led-red", *support), kb)
    assert s.false_positives == 0 and s.f1 == 1.0
    assert is_supporting(kb.get("level-shifter-bss138-4ch"))


@pytest.mark.parametrize("extra", ["esp32-devkit-v1", "dht22", "relay-module-1ch", "led-green", "potentiometer"])
def test_an_unexpected_board_module_sensor_or_led_is_a_false_positive(kb, extra):
    s = score_parts(expected("arduino-uno", "led-red"), parts("arduino-uno", "led-red", extra), kb)
    assert s.false_positives == 1 and s.precision == pytest.approx(2 / 3)


def test_resistive_sensors_and_unknown_ids_are_not_supporting(kb):
    assert not is_supporting(kb.get("ldr-gl5528"))
    assert not is_supporting(kb.get("thermistor-ntc-10k"))
    assert not is_supporting(None)
    s = score_parts(expected("arduino-uno"), parts("arduino-uno", "flux-capacitor"), kb)
    assert s.false_positives == 1


def test_an_expected_supporting_part_that_is_missing_is_a_false_negative(kb):
    s = score_parts(expected("battery-9v", "lm7805"), parts("battery-9v", "resistor"), kb)
    assert (s.true_positives, s.false_positives, s.false_negatives) == (1, 0, 1)


def test_nothing_identified_scores_zero(kb):
    for identified in (None, PartsList()):
        s = score_parts(expected("arduino-uno"), identified, kb)
        assert s.precision == s.recall == s.f1 == 0.0 and s.false_negatives == 1


# -- out of knowledge ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "reported", "match"),
    [
        ("MH-Z19B", "mh-z19b", True),
        ("MH-Z19B", "MH-Z19B CO2 sensor", True),
        ("LIDAR-Lite v3", "LIDAR-Lite", True),
        ("TMC2209", "TMC2208", True),  # a near-miss spelling of the same name
        ("TMC2209", "PMS5003", False),
        ("BNO055", "", False),
    ],
)
def test_missing_part_names_match(missing, reported, match):
    assert names_match(missing, reported) is match


def _ook(name: str) -> OutOfKnowledge:
    return OutOfKnowledge(name=name, nearest=["mq135"], message=f"'{name}' is not in the knowledge base")


def test_out_of_knowledge_is_scored_on_prompts_that_name_a_missing_part(kb):
    lacking = prompt(
        prompt="How do I connect an MH-Z19B CO2 sensor to an Arduino Uno?",
        expected_parts=[{"part": "arduino-uno", "quantity": 1}],
        in_kb=False,
        missing="MH-Z19B",
    )
    reported = Outcome(status="ok", parts=parts("arduino-uno"), out_of_knowledge=[_ook("MH-Z19B")])
    assert score(lacking, reported, kb).ook_detected is True
    silent = Outcome(status="ok", parts=parts("arduino-uno", "mq135"))
    result = score(lacking, silent, kb)
    assert result.ook_detected is False and result.false_positives == 1
    in_kb = score(prompt(), reported, kb)
    assert in_kb.ook_detected is None and in_kb.false_ook is True


# -- whole outcomes ------------------------------------------------------------------------------


def _info() -> MoEInfo:
    return MoEInfo(
        name="hand-made",
        architecture="qwen3_moe",
        num_layers=2,
        moe_layers=[0, 1],
        num_experts=4,
        top_k=2,
        shared_experts=0,
        fixed_top_k=False,
    )


def _generated(tokens: int) -> Generated:
    return Generated(text="x", prompt_tokens=10, token_ids=list(range(tokens)), finish_reason="complete", seconds=0.5)


UNO_LED = Design.model_validate(
    {
        "parts": [
            {"ref": "U1", "part": "arduino-uno"},
            {"ref": "R1", "part": "resistor", "value": "220"},
            {"ref": "LED1", "part": "led-red"},
        ],
        "nets": [
            {"name": "LED_A", "pins": ["U1.D13", "R1.1"]},
            {"name": "N2", "pins": ["R1.2", "LED1.A"]},
            {"name": "GND", "pins": ["LED1.K", "U1.GND"]},
        ],
    }
)


def test_a_pipeline_report_is_scored_for_validity_erc_latency_and_tokens(kb):
    check = check_design(resolve(UNO_LED, kb), run_spice=False)
    report = RunReport(
        request="Blink a red LED from an Arduino Uno.",
        model=_info(),
        parts=parts("arduino-uno", "led-red", "resistor"),
        design=UNO_LED,
        check=check,
        total_seconds=2.5,
        stages=[
            StageRecord(stage="identify", seconds=1.0, generation=_generated(30)),
            StageRecord(stage="pinouts", seconds=0.01),
            StageRecord(stage="synthesize", seconds=1.2, generation=_generated(70)),
        ],
    )
    result = score(prompt(), Outcome.from_report(report), kb)
    assert result.f1 == 1.0 and result.design_valid
    assert result.erc_pass is check.passed and result.structural == check.erc.structural_score
    assert result.tokens == 100 and result.seconds == 2.5
    assert result.stage_seconds == {"identify": 1.0, "pinouts": 0.01, "synthesize": 1.2}


def test_a_stopped_run_has_no_design_and_scores_zero(kb):
    report = RunReport(request="flux capacitor", model=_info(), status="stopped", error="no parts", total_seconds=0.2)
    result = score(prompt(), Outcome.from_report(report), kb)
    assert result.status == "stopped" and result.error == "no parts"
    assert not result.design_valid and not result.erc_pass
    assert result.f1 == result.structural == result.electrical == 0.0


def test_a_design_naming_unknown_pins_is_not_valid(kb):
    data = UNO_LED.model_dump()
    data["nets"][2]["pins"] = ["LED1.K", "U1.NOPE"]
    outcome = Outcome(status="ok", parts=parts("arduino-uno", "led-red"), design=Design.model_validate(data))
    assert score(prompt(), outcome, kb).design_valid is False


def test_summaries_break_down_by_group_and_report_f1_on_in_kb_prompts(kb):
    good = Outcome(status="ok", parts=parts("arduino-uno", "led-red"), seconds=1.0)
    half = Outcome(status="ok", parts=parts("arduino-uno"), seconds=3.0)
    lacking = prompt(id="t3", difficulty="hard", style="terse", in_kb=False, missing="BNO055")
    results = [
        score(prompt(id="t1"), good, kb),
        score(prompt(id="t2", difficulty="medium"), half, kb),
        score(lacking, Outcome(status="ok", out_of_knowledge=[_ook("bno055")], seconds=2.0), kb),
    ]
    summary = summarise("pipeline", results)
    assert list(summary.by_difficulty) == ["easy", "medium", "hard"]
    assert list(summary.by_style) == ["imperative", "terse"]
    assert summary.by_difficulty["easy"].f1 == 1.0
    assert summary.f1_in_kb == pytest.approx((1.0 + 2 / 3) / 2, abs=1e-4)
    overall = summary.overall
    assert overall.prompts == 3 and overall.ook_prompts == 1 and overall.ook_recall == 1.0
    assert overall.false_ook_rate == 0.0 and overall.seconds_p50 == 2.0


def test_percentiles_interpolate_between_ranks():
    assert percentile([3.0, 1.0], 0.5) == 2.0 and percentile([1.0, 3.0], 0.95) == pytest.approx(2.9)
    assert percentile([5.0], 0.95) == 5.0


# -- the benchmark file --------------------------------------------------------------------------


def test_the_benchmark_loads_typed():
    prompts = [p for split in ("dev", "test") for p in load_benchmark(prompt_file(split))]
    assert len(prompts) >= 100 and len({p.id for p in prompts}) == len(prompts)
    assert all(p.missing for p in prompts if not p.in_kb)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"id": "x", "prompt": "uno led"}\n', ":1: not a benchmark prompt"),
        ("\n\n", "no prompts"),
        ("not json\n", ":1: not a benchmark prompt"),
    ],
)
def test_a_bad_benchmark_file_is_refused_with_its_line(tmp_path, text, says):
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BenchmarkError, match=says):
        load_benchmark(path)
    with pytest.raises(BenchmarkError, match="No such file"):
        load_benchmark(tmp_path / "missing.jsonl")


# -- the reference baseline ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline(kb) -> ReferenceBaseline:
    return ReferenceBaseline(kb, run_spice=False)


def _found(baseline: ReferenceBaseline, request: str) -> dict[str, int]:
    return {r.part: r.quantity for r in baseline.identify(request).parts}


@pytest.mark.parametrize(
    ("request_text", "found"),
    [
        ("Build a two-wheel robot base: Arduino Uno, L298N and two 6 V DC motors.", {"dc-motor-6v": 2}),
        ("Drive four SG90 servos through a PCA9685 board from an ESP32.", {"servo-sg90": 4}),
        (
            "Two-channel relay board switched by an ESP32, with two push buttons for manual override.",
            {"relay-module-2ch": 1, "push-button": 2},
        ),
        ("Light eight LEDs through a 74HC595 shift register from an Arduino Uno.", {"led-red": 8}),
    ],
)
def test_baseline_reads_names_plurals_and_counts(baseline, request_text, found):
    assert found.items() <= _found(baseline, request_text).items()


def test_the_baseline_cuts_clauses_finer_than_retrieval():
    """The two cuts of ``clauses``: the baseline also cuts at prepositions, colons and brackets and keeps a
    one-clause request; retrieval keeps at most 6 clauses and none for a one-clause request."""
    request = "ESP32 with a DHT22 and an OLED (SSD1306): log to SD"
    assert clauses(request) == ["ESP32", "a DHT22", "an OLED (SSD1306): log to SD"]
    assert clauses(request, fine=True) == ["ESP32", "a DHT22", "an OLED", "SSD1306", "log"]
    assert clauses("Read a DHT22 on an ESP32.") == []
    assert clauses("Read a DHT22 on an ESP32.", fine=True) == ["Read a DHT22", "an ESP32"]
    assert clauses("Blink a red LED.", fine=True) == ["Blink a red LED"]


def test_baseline_does_not_take_a_describing_word_for_another_part(baseline):
    assert _found(baseline, "esp32 ws2812b led strip") == {"esp32-devkit-v1": 1, "ws2812b-strip": 1}
    assert "stepper-28byj48" not in _found(baseline, "How do I run a NEMA 17 stepper from an ESP32 with an A4988?")


def test_baseline_finds_a_described_part_by_retrieval(baseline):
    assert "microsd-module" in _found(baseline, "Log sensor data to a microSD card from an Arduino Uno.")


def test_baseline_reports_unknown_part_numbers_out_of_knowledge(baseline):
    outcome = baseline.run("How do I connect an MLX90614 IR thermometer to an Arduino Uno?")  # MH-Z19B is in the KB now
    assert outcome.parts.unknown == ["MLX90614"] and _found(baseline, outcome.parts.unknown[0]) == {}
    assert [o.name for o in outcome.out_of_knowledge] == ["MLX90614"]
    assert outcome.design is not None  # the Uno is still wired


def test_baseline_designs_pass_their_erc_on_benchmark_prompts(baseline, kb):
    prompts = {p.id: p for split in ("dev", "test") for p in load_benchmark(prompt_file(split))}
    for pid in ("b013", "b025", "b088", "b097"):
        result = score(prompts[pid], baseline.run(prompts[pid].prompt), kb, system="reference")
        assert result.status == "ok" and result.design_valid and result.erc_pass, (pid, result)
        assert result.f1 == 1.0, (pid, result.identified)
        assert set(result.stage_seconds) == {"identify", "pinouts", "design", "check"}


def test_baseline_refuses_an_empty_request_and_stops_without_known_parts(baseline):
    assert baseline.run("   ").status == "invalid"
    stopped = baseline.run("XJ9000 with a QZ7711")
    assert stopped.status == "stopped" and stopped.design is None and "no known part" in stopped.error
    assert [o.name for o in stopped.out_of_knowledge] == ["XJ9000", "QZ7711"]
