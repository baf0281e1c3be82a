"""The example-profile experiments: which rows and prompts show a behaviour, and the random control."""

from __future__ import annotations

import json

from agents.evaluation import BenchmarkPrompt
from studio.model import experiments
from studio.model.experiments import BEHAVIOURS, attribution_sequences, corpus_sets, marked, random_control
from studio.model.train import tokenize
from studio.moe.profile import LayerSteering, ModelIdentity, StageSteering, SteeringProfile

BY_NAME = {b.name: b for b in BEHAVIOURS}


def _prompt(text: str, *parts: str) -> BenchmarkPrompt:
    return BenchmarkPrompt.model_validate(
        {
            "id": "t1",
            "prompt": text,
            "difficulty": "easy",
            "style": "imperative",
            "domain": "embedded",
            "expected_parts": [{"part": p, "quantity": 1} for p in parts],
        }
    )


def test_a_behaviour_shows_where_the_reference_designer_does_it(catalog):
    led = experiments.teacher_rows(_prompt("Blink a red LED from an Uno", "arduino-uno", "led-red"), catalog)
    oled = experiments.teacher_rows(
        _prompt("Show text on an OLED with a Pico", "raspberry-pi-pico", "oled-ssd1306-i2c"), catalog
    )
    resistors, i2c = BY_NAME["no-led-resistors"], BY_NAME["no-i2c-wiring"]
    assert resistors.shows(led["identify"]) and not resistors.shows(oled["identify"])
    assert resistors.contrast(oled["identify"]) and not resistors.contrast(led["identify"])
    assert i2c.shows(oled["reason"]) and not i2c.shows(led["reason"])


def test_attribution_sets_hold_only_rows_of_the_stage_that_show_or_lack_the_behaviour(teacher_rows):
    behaviour = BY_NAME["no-pull-ups"]
    shows, contrast = corpus_sets(teacher_rows, behaviour, seed=0)
    assert shows and contrast and all(r["stage"] == "identify" for r in shows + contrast)
    assert all('"pull-up"' in r["answer"] for r in shows)
    assert not any('"pull-up"' in r["answer"] for r in contrast)


def test_the_targets_are_the_tokens_that_write_the_behaviour(teacher_rows, corpus_tokenizer):
    pull_ups = BY_NAME["no-pull-ups"]
    row = next(r for r in teacher_rows if r["stage"] == "identify" and pull_ups.shows(r))
    written = [row["answer"][a:b] for a, b in pull_ups.writes(row["answer"])]
    assert written and all('"role":"pull-up"' in w and w.startswith('{"part":') for w in written)
    others = [row["answer"][a:b] for a, b in pull_ups.elsewhere(row["answer"])]
    assert others and not any("pull-up" in o for o in others)

    [(ids, marks)] = marked(corpus_tokenizer, [row], pull_ups.writes)
    [example] = tokenize([row], corpus_tokenizer, max_len=10_000)
    assert ids == example.ids[:-1]  # the tokens the model was trained on (without the end of sequence)
    prompt_len = example.prompt_len
    assert len(ids) == len(marks) and not any(marks[: prompt_len - 1])  # nothing in the prompt but its last token
    # each marked position is followed by a token of the entry: decoded, those tokens are the entry, and at
    # its edges only the rest of a token that straddles them (BPE merges '"},{"')
    following = corpus_tokenizer.decode([ids[i + 1] for i, m in enumerate(marks) if m]).replace(" ", "")
    entry = "".join(written).replace(" ", "")
    assert entry in following and len(following) - len(entry) <= 8, (following, entry)

    i2c = BY_NAME["no-i2c-wiring"]
    reason = next(r for r in teacher_rows if r["stage"] == "reason" and i2c.shows(r))
    lines = [reason["answer"][a:b] for a, b in i2c.writes(reason["answer"])]
    assert lines and all(".SDA" in line or ".SCL" in line for line in lines)
    assert all(".SDA" not in line for a, b in i2c.elsewhere(reason["answer"]) for line in [reason["answer"][a:b]])


def test_attribution_counts_each_row_once_showing_rows_in_both_sets(teacher_rows, corpus_tokenizer):
    pull_ups = BY_NAME["no-pull-ups"]
    shows, contrast = corpus_sets(teacher_rows, pull_ups, seed=0)
    sequences = attribution_sequences(corpus_tokenizer, pull_ups, shows, contrast)
    assert len(sequences) == len(shows) + len(contrast)
    writes, elsewhere = (
        marked(corpus_tokenizer, shows, pull_ups.writes),
        marked(corpus_tokenizer, shows, pull_ups.elsewhere),
    )
    for sequence, (ids, a), (_, b) in zip(sequences, writes, elsewhere, strict=False):
        assert (list(sequence.ids), sequence.a, sequence.b) == (ids, a, b)
        assert any(a) and any(b)  # (a token straddling two entries may write both)
    for sequence, (ids, b) in zip(
        sequences[len(shows) :], marked(corpus_tokenizer, contrast, pull_ups.elsewhere), strict=True
    ):
        assert (list(sequence.ids), sequence.a, sequence.b) == (ids, None, b)


def test_the_random_control_turns_off_as_many_experts_in_the_same_stage_reproducibly():
    identity = ModelIdentity(name="m", moe_layers=[0, 1, 2, 3], experts_per_layer=8, top_k=2)
    found = SteeringProfile(
        model=identity,
        stages={"identify": StageSteering(layers={1: LayerSteering(off=[2, 5]), 3: LayerSteering(off=[0, 7])})},
    )
    control = random_control(found, "identify", seed=3)
    assert list(control.stages) == ["identify"]
    assert sum(len(s.off) for s in control.stages["identify"].layers.values()) == 4
    assert json.loads(control.model_dump_json()) == json.loads(random_control(found, "identify", 3).model_dump_json())
    assert control.stages != found.stages


def test_the_description_gives_the_effect_beside_the_random_control():
    m = experiments.Measure
    measures = {
        "baseline": m(prompts=9, erc_pass=0.556, f1=0.9, parts_of_role=8, findings=1),
        "steered": m(prompts=9, erc_pass=0.333, f1=0.9, parts_of_role=1, findings=1),
        "random control": m(prompts=9, erc_pass=0.667, f1=0.9, parts_of_role=7, findings=1),
    }
    text = experiments.describe(BY_NAME["no-flyback-diodes"], measures)
    assert text.startswith("Flyback diodes: its experts off in identify. On the 9 benchmark prompts")
    assert "ERC pass 56%, flyback diode parts 8, findings 1 unsteered" in text
    assert "ERC pass 33%, flyback diode parts 1, findings 1 steered" in text
    assert "flyback diode parts 7, findings 1 with as many random experts off" in text
    assert "I2C" in experiments.describe(BY_NAME["no-i2c-wiring"], measures)  # titles keep their capitals
