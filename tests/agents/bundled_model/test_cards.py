"""Expert cards: usage per stage, top tokens and jobs counted on a tiny trained model, the effect of a
job profile carried over from its harness report, and the file the studio reads back."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agents.bundled_model.cards import build_cards, job_effects
from agents.bundled_model.corpus import write_jsonl
from agents.bundled_model.train import train
from agents.effect import Condition, EffectReport, rate
from studio.moe.cards import CARDS_FILE, load_cards
from studio.moe.engine import MoEEngine


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory, teacher_rows):
    folder = tmp_path_factory.mktemp("cards")
    write_jsonl(teacher_rows, folder / "corpus.jsonl")
    train(folder / "corpus.jsonl", folder / "model", config="tiny", steps=2, seed=1, evaluate=False, say=lambda _: 0)
    return folder


def _report(behaviour: str, profile_k: int) -> EffectReport:
    def condition(label: str, k: int) -> Condition:
        r = rate(k, 10)
        return Condition(
            label=label, steering=[], behaviour=r, designs=rate(10, 10), erc_pass=r, intent_score=1.0, changed=r
        )

    return EffectReport(
        profile="no-led-resistors",
        behaviour=behaviour,
        question="every LED has a series resistor",
        model="bundled",
        prompts_file="led.jsonl",
        utility_file=None,
        controls=2,
        seed=0,
        conditions=[
            condition("unsteered", 10),
            condition("profile", profile_k),
            *(condition(f"control {i}", 9) for i in (1, 2)),
        ],
        p_value=0.001,
        holds=True,
        verdict="holds",
    )


def test_cards_count_usage_per_stage_and_the_tokens_each_expert_takes(tiny_folder, teacher_rows):
    engine = MoEEngine.load(tiny_folder / "model")
    try:
        cards = build_cards(engine, teacher_rows, [_report("led-resistor", 1)], per_stage=20, command="cmd")
    finally:
        engine.close()
    assert len(cards.cards) == 2 * 4 and cards.command == "cmd"
    assert set(cards.rows_per_stage) >= {"identify", "reason", "synthesize"}
    for stage in cards.rows_per_stage:  # every answer position picks top-k (2) experts in each layer
        for layer in (0, 1):
            total = sum(c.usage[stage] for c in cards.cards if c.layer == layer)
            assert total == pytest.approx(2.0, abs=1e-3)
    for card in cards.cards:
        assert all(0 < t.share <= 1 and t.count >= 1 for t in card.top_tokens)
        shares = [t.share for t in card.top_tokens]
        assert shares == sorted(shares, reverse=True)
    # the tiny model has 4 experts per layer: of the jobs, led-resistor's expert 2 exists in job layer 1
    led = cards.card(1, 2)
    assert led.job == "led-resistor" and led.job_title == "LED series resistors"
    assert led.effect is not None and led.effect.steered.startswith("1/10") and led.effect.holds
    assert cards.card(0, 2).job is None  # layer 0 is not a job layer
    assert cards.jobs()[(1, 2)] == "LED series resistors"
    assert "job: LED series resistors" in led.summary()

    (tiny_folder / "model" / CARDS_FILE).write_text(cards.model_dump_json(), encoding="utf-8")
    assert load_cards(tiny_folder / "model") == cards
    assert load_cards(tiny_folder) is None and load_cards(None) is None


def test_job_effects_read_the_harness_rates():
    effect = job_effects([_report("decoupling", 3)])["decoupling"]
    assert effect.unsteered.startswith("10/10") and effect.steered.startswith("3/10")
    assert len(effect.controls) == 2 and all(c.startswith("9/10") for c in effect.controls)


def test_the_cards_command_refuses_a_missing_corpus_in_one_line(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ui.cli.main",
            "experts",
            "cards",
            "--corpus",
            str(tmp_path / "no.jsonl"),
            "--out",
            str(tmp_path / "c.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "no such file" in run.stderr and len(run.stderr.strip().splitlines()) == 1
