"""The job profiles and the blind attribution check: which rows show a behaviour, where it is written,
the profiles that switch a job off, and how attribution picks are scored."""

from __future__ import annotations

from pathlib import Path

from agents.bundled_model import experiments
from agents.bundled_model.experiments import (
    BEHAVIOURS,
    attribution_sequences,
    corpus_sets,
    job_profile,
    marked,
    precision,
)
from agents.bundled_model.jobs import JOB_LAYERS
from agents.bundled_model.train import tokenize
from agents.parts_list import PartRequest, PartsList
from agents.teacher import teach
from studio.behaviours import BEHAVIOURS as MEASURED
from studio.moe.profile import ModelIdentity

BY_NAME = {b.name: b for b in BEHAVIOURS}


def _rows(request: str, catalog_lookup, *parts: str) -> dict[str, dict]:
    example = teach(request, PartsList(parts=[PartRequest(part=p) for p in parts]), [], catalog_lookup)
    return {st.stage: {"stage": st.stage, "prompt": st.prompt, "answer": st.answer} for st in example.stages}


def test_a_behaviour_shows_where_the_reference_designer_does_it(catalog_lookup):
    led = _rows("Blink a red LED from an Uno", catalog_lookup, "arduino-uno", "led-red")
    oled = _rows("Show text on an OLED with a Pico", catalog_lookup, "raspberry-pi-pico", "oled-ssd1306-i2c")
    resistors = BY_NAME["no-led-resistors"]
    assert resistors.shows(led["identify"]) and not resistors.shows(oled["identify"])
    assert resistors.contrast(oled["identify"]) and not resistors.contrast(led["identify"])


def test_attribution_sets_hold_only_rows_of_the_stage_that_show_or_lack_the_behaviour(teacher_rows):
    behaviour = BY_NAME["no-i2c-pull-ups"]
    shows, contrast = corpus_sets(teacher_rows, behaviour, seed=0)
    assert shows and contrast and all(r["stage"] == "identify" for r in shows + contrast)
    assert all('"pull-up"' in r["answer"] for r in shows)
    assert not any('"pull-up"' in r["answer"] for r in contrast)


def test_the_targets_are_the_tokens_that_write_the_behaviour(teacher_rows, corpus_tokenizer):
    pull_ups = BY_NAME["no-i2c-pull-ups"]
    row = next(r for r in teacher_rows if r["stage"] == "identify" and pull_ups.shows(r))
    written = [row["answer"][a:b] for a, b in pull_ups.writes(row)]
    assert written and all('"role":"pull-up"' in w and w.lstrip(",").startswith('{"part":') for w in written)
    others = [row["answer"][a:b] for a, b in pull_ups.elsewhere(row)]
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


def test_attribution_counts_each_row_once_showing_rows_in_both_sets(teacher_rows, corpus_tokenizer):
    pull_ups = BY_NAME["no-i2c-pull-ups"]
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


def test_a_job_profile_switches_the_designated_experts_off_in_identify_only():
    identity = ModelIdentity(name="bundled", moe_layers=[0, 1, 2, 3, 4, 5], experts_per_layer=16, top_k=2)
    behaviour = BY_NAME["no-flyback-diodes"]
    profile = job_profile(behaviour, identity)
    assert profile.behaviour == "flyback-diode" and list(profile.stages) == ["identify"]
    assert {layer: s.off for layer, s in profile.stages["identify"].layers.items()} == {
        layer: [behaviour.job.expert] for layer in JOB_LAYERS
    }
    text = experiments.note(behaviour, profile)
    assert "circuit-studio experts effect --profile agents/bundled_model/profiles/no-flyback-diodes.json" in text
    assert "flyback.jsonl" in text and "--behaviour flyback-diode" in text and "--controls 5" in text


def test_precision_counts_the_designated_experts_among_the_top_picks():
    job = BY_NAME["no-decoupling"].job
    truth = [(layer, job.expert) for layer in JOB_LAYERS]
    assert precision([*truth, (0, 1)], job) == 1.0
    assert precision([(0, 1), *truth[:3]], job) == 0.75  # only the first len(JOB_LAYERS) picks count
    assert precision([(layer, (job.expert + 1) % 16) for layer in JOB_LAYERS], job) == 0.0
