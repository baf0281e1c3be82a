"""The training recipe stays alive: a few steps of a tiny config write a folder the studio can load."""

from __future__ import annotations

import json

import pytest
import torch

from agents.bundled_model.corpus import write_jsonl
from agents.bundled_model.train import train
from agents.model_opening import ModelNotAvailable, folder_settings
from studio.moe.engine import MoEEngine


def test_a_few_steps_of_the_tiny_config_write_a_loadable_model(tmp_path, teacher_rows):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(teacher_rows, corpus)
    out = tmp_path / "model"
    log = train(corpus, out, config="tiny", steps=3, seed=1, evaluate=False, say=lambda _: None)

    assert log["steps"] == 3 and log["heldout"], log
    assert all(torch.isfinite(torch.tensor(e["loss"])) for e in log["train"])
    assert len(log["usage_entropy"]) == 2
    for name in ("config.json", "model.safetensors", "tokenizer.json", "circuit_studio.json", "loss.png"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert config["output_router_logits"] is False
    assert folder_settings(str(out)).pipeline.prompt_style == "compact"
    assert folder_settings(str(out)).runtime.torch_threads == 1  # a model this small decodes faster on one thread

    engine = MoEEngine.load(out)
    try:
        assert engine.info.num_experts == 4
        assert next(engine.model.parameters()).dtype == torch.float32
        generation = engine.generate(teacher_rows[0]["prompt"], max_new_tokens=3)
        assert len(generation.token_ids) <= 3
    finally:
        engine.close()


def test_the_same_seed_trains_the_same_weights(tmp_path, teacher_rows):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(teacher_rows, corpus)
    logs = [
        train(corpus, tmp_path / f"m{i}", config="tiny", steps=2, seed=3, evaluate=False, say=lambda _: None)
        for i in range(2)
    ]
    assert [e["loss"] for e in logs[0]["train"]] == [e["loss"] for e in logs[1]["train"]]


def test_training_continues_from_a_saved_folder(tmp_path, teacher_rows):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(teacher_rows, corpus)
    quiet = {"config": "tiny", "evaluate": False, "say": lambda _: None}
    train(corpus, tmp_path / "first", steps=3, seed=1, **quiet)
    fresh = train(corpus, tmp_path / "fresh", steps=1, seed=2, **quiet)
    continued = train(corpus, tmp_path / "continued", steps=1, seed=2, lr=5e-4, init=tmp_path / "first", **quiet)

    assert continued["init"] == str(tmp_path / "first")
    assert continued["config"]["lr"] == 5e-4
    # the tokenizer is the saved one, not retrained, and the weights are not a fresh initialisation
    first_vocab = json.loads((tmp_path / "first" / "tokenizer.json").read_text())["model"]["vocab"]
    assert json.loads((tmp_path / "continued" / "tokenizer.json").read_text())["model"]["vocab"] == first_vocab
    assert continued["train"][0]["loss"] != fresh["train"][0]["loss"]


def test_an_untrained_copy_has_the_shape_and_tokenizer_but_fresh_weights(tmp_path, teacher_rows):
    from safetensors.torch import load_file

    from agents.bundled_model.train import save_untrained

    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(teacher_rows, corpus)
    train(corpus, tmp_path / "trained", config="tiny", steps=3, seed=1, evaluate=False, say=lambda _: None)
    save_untrained(tmp_path / "trained", tmp_path / "untrained", seed=5)

    trained = load_file(tmp_path / "trained" / "model.safetensors")
    untrained = load_file(tmp_path / "untrained" / "model.safetensors")
    assert trained.keys() == untrained.keys()
    assert all(trained[k].shape == untrained[k].shape for k in trained)
    assert any(not torch.equal(trained[k], untrained[k]) for k in trained if "norm" not in k)
    for name in ("tokenizer.json", "circuit_studio.json"):
        assert (tmp_path / "untrained" / name).read_text() == (tmp_path / "trained" / name).read_text()


def test_a_bad_thread_setting_in_a_model_folder_is_refused(tmp_path):
    (tmp_path / "circuit_studio.json").write_text(json.dumps({"runtime": {"torch_threads": 0}}))
    with pytest.raises(ModelNotAvailable, match="torch_threads"):
        folder_settings(str(tmp_path))
    assert folder_settings(str(tmp_path / "elsewhere")).runtime.torch_threads is None


def test_a_stage_repeat_override_changes_the_epoch_and_is_logged(tmp_path, teacher_rows):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(teacher_rows, corpus)
    quiet = {"config": "tiny", "steps": 1, "seed": 1, "evaluate": False, "say": lambda _: None}
    default = train(corpus, tmp_path / "default", **quiet)
    no_synthesis = train(corpus, tmp_path / "none", repeat={"synthesize": 0.0}, **quiet)

    assert dict(map(tuple, no_synthesis["config"]["repeat"]))["synthesize"] == 0.0
    stages = {stage: counts["examples"] for stage, counts in no_synthesis["stages"].items()}
    assert stages["synthesize"] > 0  # in the corpus, but not in the epoch
    assert no_synthesis["train_examples"] == sum(stages.values()) - stages["synthesize"] + stages["identify"]
    assert default["train_examples"] > no_synthesis["train_examples"]


def test_the_repeat_option_refuses_an_unknown_stage_or_a_bad_number():
    from ui.cli.train import parse_repeat

    assert parse_repeat(["synthesize=1", "identify=2.5"]) == {"synthesize": 1.0, "identify": 2.5}
    for bad in ("layout=1", "synthesize=many", "synthesize=nan", "synthesize=-1", "synthesize"):
        with pytest.raises(ValueError, match="STAGE=R"):
            parse_repeat([bad])
