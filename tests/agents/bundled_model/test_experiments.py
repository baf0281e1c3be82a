"""The example-profile experiments: which rows show a behaviour, where it is written, and the note."""

from __future__ import annotations

from pathlib import Path

from agents.bundled_model import experiments
from agents.bundled_model.experiments import BEHAVIOURS, attribution_sequences, corpus_sets, marked
from agents.bundled_model.train import tokenize
from agents.parts_list import PartRequest, PartsList
from agents.teacher import teach
from studio.behaviours import BEHAVIOURS as MEASURED
from studio.moe.profile import LayerSteering, ModelIdentity, StageSteering, SteeringProfile

BY_NAME = {b.name: b for b in BEHAVIOURS}


def _rows(request: str, catalog_lookup, *parts: str) -> dict[str, dict]:
    example = teach(request, PartsList(parts=[PartRequest(part=p) for p in parts]), [], catalog_lookup)
    return {st.stage: {"stage": st.stage, "prompt": st.prompt, "answer": st.answer} for st in example.stages}


def test_a_behaviour_shows_where_the_reference_designer_does_it(catalog_lookup):
    led = _rows("Blink a red LED from an Uno", catalog_lookup, "arduino-uno", "led-red")
    oled = _rows("Show text on an OLED with a Pico", catalog_lookup, "raspberry-pi-pico", "oled-ssd1306-i2c")
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


def test_each_behaviour_is_measured_by_a_netlist_behaviour_on_its_own_request_set():
    for behaviour in BEHAVIOURS:
        assert behaviour.measured_by in MEASURED
        assert (
            Path(__file__).resolve().parents[3]
            / "benchmarks"
            / "prompts"
            / "behaviours"
            / f"{behaviour.requests}.jsonl"
        ).is_file()


def test_the_note_says_how_the_profile_was_found_and_how_to_measure_it():
    identity = ModelIdentity(name="m", moe_layers=[0, 1, 2, 3], experts_per_layer=8, top_k=2)
    found = SteeringProfile(
        name="no-flyback-diodes",
        model=identity,
        stages={"identify": StageSteering(layers={1: LayerSteering(off=[2, 5]), 3: LayerSteering(off=[0, 7])})},
    )
    text = experiments.note(BY_NAME["no-flyback-diodes"], found, "ranked table")
    assert text.startswith("## How it was found") and "layer 1: 2, 5, layer 3: 0, 7" in text
    assert "circuit-studio experts effect --profile no-flyback-diodes.json" in text and "flyback.jsonl" in text
    assert "--behaviour flyback-diode" in text and "ranked table" in text
