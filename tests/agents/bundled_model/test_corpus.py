"""The corpus generator: deterministic, teacher answers inside the pipeline's grammars, retrieval equal
to the pipeline's, unknown names copied as written, and the benchmark held out."""

from __future__ import annotations

import json
import re

import pytest

from agents.bundled_model.corpus.examples import BUNDLED_BOUNDS, build_examples, draft_requests, fits
from agents.bundled_model.corpus.holdout import NEAR_COPY, Benchmark, MissingBenchmark
from agents.bundled_model.corpus.retrieval import BatchRetriever
from agents.constrained import compile_grammar
from agents.identify import parse_answer, parts_grammar, retrieve_candidates
from agents.model_opening import folder_settings
from agents.pinouts import lookup_pinouts
from agents.synthesize import grammar_for

BENCHMARK_SAMPLE_PROJECTS = 300  # ~900 requests (a slow test checks ~6,000)


def _summary(drafts):
    return [(d.project.id, d.request, d.core.model_dump_json(), d.stages) for d in drafts]


def test_the_same_seed_gives_the_same_corpus_and_another_seed_another(catalog_lookup, drafts):
    again = list(draft_requests(catalog_lookup, 120, seed=11))
    assert _summary(again) == _summary(drafts)
    other = list(draft_requests(catalog_lookup, 120, seed=12))
    assert [d.request for d in other] != [d.request for d in drafts]


def test_requests_are_varied(drafts):
    requests = [d.request for d in drafts]
    assert len(set(requests)) == len(requests)
    assert len(requests) >= 3 * 100  # several requests per project
    assert any(d.core.unknown for d in drafts), "some requests name parts the knowledge base lacks"
    assert any(q.quantity > 1 for d in drafts for q in d.core.parts), "counts appear"


def test_unknown_names_are_copied_as_the_request_writes_them(drafts):
    for d in drafts:
        for name in d.core.unknown:
            assert name in d.request


def _accepts(grammar, tokenizer, answer: str) -> bool:
    matcher = compile_grammar(grammar, tokenizer)
    return matcher.consume_tokens(tokenizer(answer, add_special_tokens=False).input_ids) and matcher.is_accepting()


def test_every_teacher_answer_is_accepted_by_its_stage_grammar(catalog_lookup, teacher_rows, corpus_tokenizer):
    """As the orchestrator builds the grammars for the bundled model: its settings' bounds."""
    identify = parts_grammar(catalog_lookup.parts())
    answers = {r["project"]: r["answer"] for r in teacher_rows if r["stage"] == "identify"}
    checked = 0
    for row in teacher_rows:
        if row["stage"] == "identify":
            assert _accepts(identify, corpus_tokenizer, row["answer"]), row["answer"]
        elif row["stage"] == "synthesize":
            pinouts = lookup_pinouts(parse_answer(answers[row["project"]]), catalog_lookup)
            grammar = grammar_for(pinouts, BUNDLED_BOUNDS)
            assert row["prompt"].endswith(grammar.prefix)
            assert _accepts(grammar, corpus_tokenizer, row["answer"]), row["answer"][:200]
        checked += 1
    assert checked == len(teacher_rows)


def test_generated_rows_pass_the_grammars(kb, corpus_tokenizer):
    drafts = list(draft_requests(kb, 6, seed=5))
    rows = list(build_examples(kb, drafts, "train"))
    assert (
        {"identify", "reason", "synthesize"}
        <= {r["stage"] for r in rows}
        <= {
            "identify",
            "reason",
            "synthesize",
            "repair",  # checked against its round's grammar in test_repairs.py
        }
    )
    identify = parts_grammar(kb.parts())
    answers = {r["project"]: r["answer"] for r in rows if r["stage"] == "identify"}
    for row in rows:
        if row["stage"] == "identify":
            assert _accepts(identify, corpus_tokenizer, row["answer"]), row["answer"]
        elif row["stage"] == "synthesize":
            grammar = grammar_for(lookup_pinouts(parse_answer(answers[row["project"]]), kb), BUNDLED_BOUNDS)
            assert _accepts(grammar, corpus_tokenizer, row["answer"]), row["answer"][:200]


def test_batched_retrieval_equals_the_pipelines(kb, drafts):
    requests = [d.request for d in drafts[::40]][:8]
    batched = BatchRetriever(kb).candidates(requests)
    for request, got in zip(requests, batched, strict=True):
        expected = retrieve_candidates(kb, request)
        assert [c.part for c in got] == [c.part for c in expected], request
        assert all(abs(a.score - b.score) <= 0.002 for a, b in zip(got, expected, strict=True))


def test_the_near_copy_check_catches_copies_and_light_edits():
    bench = Benchmark()
    assert len(bench.prompts) >= 100
    assert bench.near_copy("Blink a red LED from an ESP32 DevKit.")
    assert bench.near_copy("blink a red led from an esp32 devkit!")
    assert bench.near_copy("Hi! Please: Read temperature and humidity from a DHT22 with an ESP32. Thanks")
    assert not bench.near_copy("Wire a BMP280 and two buttons to a Teensy 4.0")


def test_a_missing_benchmark_file_stops_the_corpus(tmp_path):
    """Holding out nothing would be silent: a split's file that is not there is named in the refusal."""
    for split in ("dev", "test"):
        (tmp_path / f"{split}.jsonl").write_text('{"prompt": "Blink a red LED from an ESP32 DevKit."}\n')
    with pytest.raises(MissingBenchmark, match=re.escape(str(tmp_path / "wild.jsonl"))):
        Benchmark(tmp_path)
    with pytest.raises(MissingBenchmark, match=re.escape(str(tmp_path / "absent" / "dev.jsonl"))):
        Benchmark(tmp_path / "absent")
    (tmp_path / "wild.jsonl").write_text("")
    assert Benchmark(tmp_path).prompts == ["blink a red led from an esp32 devkit."] * 2


def _assert_held_out(catalog_lookup, projects: int) -> None:
    bench = Benchmark()
    requests = [d.request for d in draft_requests(catalog_lookup, projects, seed=0)]
    assert len(requests) > 2.5 * projects
    copies = [r for r in requests if bench.near_copy(r, NEAR_COPY)]
    assert not copies, [(r, bench.similarity(r)) for r in copies[:5]]


def test_no_benchmark_prompt_nor_a_near_copy_is_in_the_corpus(catalog_lookup):
    """For every generated request, its best rapidfuzz ratio against every benchmark prompt (and, for
    prompts of 40+ characters, the best alignment inside the request) stays below ``NEAR_COPY`` (90):
    at 90 and above two texts differ by at most ~10% of their characters (a copy with a typo, a
    changed article or punctuation); the generator drops requests from 85 on. The sample is the first
    projects of the shipped corpus (seed 0)."""
    _assert_held_out(catalog_lookup, BENCHMARK_SAMPLE_PROJECTS)


@pytest.mark.slow
def test_no_near_copy_in_a_corpus_sample_of_training_size(catalog_lookup):
    _assert_held_out(catalog_lookup, 2000)  # ~6,000 requests, a third of the shipped corpus's identify requests


def test_the_bundled_bounds_are_what_the_model_folder_asks_for(tmp_path):
    from agents.bundled_model.train import PIPELINE_SETTINGS, SETTINGS_FILE

    (tmp_path / SETTINGS_FILE).write_text(json.dumps(PIPELINE_SETTINGS))
    assert folder_settings(str(tmp_path)).pipeline.grammar == BUNDLED_BOUNDS


def test_designs_outside_the_grammar_bounds_are_not_taught(catalog_lookup):
    from agents.teacher import teach
    from tests.agents.bundled_model.conftest import core_of

    example = teach("x", core_of(["esp32-devkit-v1", "led-red*12"]), [], catalog_lookup)
    assert fits(example.design)
    assert not fits(example.design.model_copy(update={"nets": example.design.nets * 3}))
