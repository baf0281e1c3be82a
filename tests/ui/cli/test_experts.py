"""`circuit-studio experts inspect|attribute` on a tiny Qwen3-MoE and tokenizer saved to disk (offline)."""

from __future__ import annotations

import argparse
import json
import shutil

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from components_db.home import HOME_ENV
from studio.moe import attribution
from studio.moe.profile import LayerSteering, ModelIdentity, ProfileError, StageSteering, SteeringProfile
from ui.cli import experts as cli
from ui.cli.main import main

SENTENCES = [
    "design a circuit with a red led and a resistor",
    "the sensor reads the temperature every second",
    "blink the led when the button is pressed",
    "a motor driver needs a flyback diode",
    "measure the battery voltage with a divider",
]


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="circuit-studio")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["experts", *argv])
    return args.handler(args)


def save_tokenizer(folder) -> None:
    """A word-level tokenizer trained on a few sentences (well inside the tiny models' 128-token vocab)."""
    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.WordPiece()  # joins words with spaces
    tokenizer.train_from_iterator(SENTENCES, trainers.WordLevelTrainer(special_tokens=["<pad>", "<s>", "<unk>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", bos_token="<s>", unk_token="<unk>")
    fast.save_pretrained(folder)


@pytest.fixture
def model_dir(tmp_path_factory, tiny_model):
    folder = tmp_path_factory.mktemp("tiny-qwen3")
    tiny_model("qwen3_moe").save_pretrained(folder)
    save_tokenizer(folder)
    return folder


@pytest.fixture
def identity(model_dir) -> ModelIdentity:
    # conftest's qwen3_moe: 3 decoder layers, layer 0 dense, 8 experts, top-2
    return ModelIdentity(name=str(model_dir), moe_layers=[1, 2], experts_per_layer=8, top_k=2)


def test_inspect_prints_the_generation_and_a_routing_summary_per_layer(model_dir, capsys):
    assert run("inspect", "--model", str(model_dir), "--prompt", "blink the led", "--max-new-tokens", "4") == 0
    out = capsys.readouterr().out
    assert "(qwen3_moe), unsteered" in out
    assert "prompt (3 tokens): blink the led" in out
    assert "generated (4 tokens):" in out
    assert len([line for line in out.splitlines() if line.lstrip().startswith(("0 ", "1 "))]) == 2


@pytest.mark.parametrize("words", [0, 100_000])  # just past the context; far past it
def test_inspect_refuses_a_prompt_longer_than_the_context_at_once(model_dir, capsys, words):
    """A 400,000-character prompt ran past the stress benchmark's time limit (issue 13); one that fits
    no context is refused before any forward pass, one far too long before it is even tokenized."""
    from transformers import AutoConfig

    limit = AutoConfig.from_pretrained(model_dir).max_position_embeddings
    prompt = " ".join(["led"] * max(words, limit + 1))
    assert run("inspect", "--model", str(model_dir), "--prompt", prompt, "--max-new-tokens", "1") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the prompt is") and f"at most {limit:,} tokens" in err
    assert len(err.strip().splitlines()) == 1


def test_inspect_under_a_profile_never_routes_to_an_expert_turned_off(model_dir, identity, tmp_path, capsys):
    base = ["inspect", "--model", str(model_dir), "--prompt", "the sensor reads", "--max-new-tokens", "6", "--json"]
    assert run(*base) == 0
    unsteered = json.loads(capsys.readouterr().out)
    busiest = unsteered["layers"][0]["top"][0]
    profile = SteeringProfile(
        name="quiet", model=identity, stages={"reason": StageSteering(layers={0: LayerSteering(off=[busiest])})}
    )
    profile.save(tmp_path / "quiet.json")

    assert run(*base, "--profile", str(tmp_path / "quiet.json"), "--stage", "reason") == 0
    steered = json.loads(capsys.readouterr().out)

    assert (steered["profile"], steered["stage"], steered["generated_tokens"]) == ("quiet", "reason", 6)
    assert steered["layers"][0]["usage"][busiest] == 0
    assert sum(steered["layers"][0]["usage"]) == sum(unsteered["layers"][0]["usage"])  # same tokens, rerouted
    # the stage without the section is unsteered
    assert run(*base, "--profile", str(tmp_path / "quiet.json"), "--stage", "identify") == 0
    assert json.loads(capsys.readouterr().out)["layers"] == unsteered["layers"]


def test_attribute_ranks_experts_and_writes_a_profile_for_this_model(model_dir, identity, tmp_path, capsys):
    (tmp_path / "a.txt").write_text("blink the led\n\nthe led and a resistor\nred led\n")
    (tmp_path / "b.jsonl").write_text('{"text": "the sensor reads the temperature"}\n{"text": "battery voltage"}\n')
    out = tmp_path / "suggested.json"
    argv = ["attribute", "--model", str(model_dir), "--set-a", str(tmp_path / "a.txt"), "--set-b"]
    argv += [str(tmp_path / "b.jsonl"), "--method", "risk-diff", "--top", "5", "--out", str(out), "--suggest", "2"]

    assert run(*argv) == 0

    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("risk-diff attribution") and "A 3 prompts" in table[0] and "B 2 prompts" in table[0]
    assert len(table) == 2 + 5
    suggested = SteeringProfile.load(out)
    suggested.check_model(identity)
    assert sum(len(layer.off) for layer in suggested.stages["*"].layers.values()) == 2

    assert run(*argv[:-4], "--method", "npmi", "--target", "led", "--target", "red", "--json") == 0
    result = attribution.AttributionResult.model_validate_json(capsys.readouterr().out)
    assert result.method == "npmi" and len(result.rows) == 2 * 8
    assert (result.target_tokens_a, result.target_tokens_b) == (4, 0)  # led x3, red x1; none in B

    assert run(*argv[:-4], "--method", "risk-diff", "--target", "led") == 2  # B has no target token
    assert "set B has no target tokens" in capsys.readouterr().err


def test_cli_methods_are_the_attribution_methods():
    assert cli.METHODS == attribution.METHODS


@pytest.fixture(scope="module")
def dense_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-llama")
    config = LlamaConfig(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def test_refusals_are_one_line_on_stderr_with_exit_2(model_dir, dense_dir, tmp_path, capsys):
    other = SteeringProfile(model=ModelIdentity(name="big", moe_layers=[0, 1, 2, 3], experts_per_layer=64))
    other.save(tmp_path / "other.json")
    (tmp_path / "empty.txt").write_text("\n  \n")
    (tmp_path / "a.txt").write_text("blink the led\n")
    (tmp_path / "bad.jsonl").write_text('{"prompt": "no text field"}\n')
    inspect = ["inspect", "--prompt", "blink"]
    attribute = ["attribute", "--model", str(model_dir), "--method", "ftri", "--set-a", str(tmp_path / "a.txt")]
    cases = [
        ([*inspect, "--model", str(tmp_path / "no-such-model")], "no-such-model: no such model folder"),
        ([*inspect, "--model", str(dense_dir)], "no MoE routing spec for architecture 'llama'; supported: afmoe"),
        ([*inspect, "--model", str(model_dir), "--profile", str(tmp_path / "other.json")], "4 MoE layers x 64"),
        ([*inspect, "--model", str(model_dir), "--profile", str(tmp_path / "absent.json")], "absent.json"),
        ([*attribute, "--set-b", str(tmp_path / "empty.txt")], "empty.txt: no prompts"),
        ([*attribute, "--set-b", str(tmp_path / "bad.jsonl")], 'bad.jsonl:1: expected an object with a "text"'),
        ([*attribute, "--set-b", str(tmp_path / "missing.txt")], "missing.txt: No such file"),
        ([*attribute, "--set-b", str(tmp_path / "a.txt"), "--out", str(tmp_path / "no" / "p.json")], "cannot write"),
    ]
    for argv, message in cases:
        assert run(*argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("error: ") and message in captured.err, captured.err
        assert "Traceback" not in captured.err and captured.err.count("\n") == 1


# -- issue 13: profiles the router cannot run, and models without a type, are refused in one line -----


@pytest.fixture
def design_home(built_home, tmp_path, monkeypatch):
    """A studio home with the knowledge base built, as `design` opens it."""
    home = tmp_path / "home"
    shutil.copytree(built_home, home)
    monkeypatch.setenv(HOME_ENV, str(home))
    return home


def one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err and captured.err.count("\n") == 1, captured.err
    return captured.err.removeprefix("error: ").rstrip("\n")


@pytest.mark.parametrize(
    ("layer", "says"),
    [
        ({"off": list(range(8))}, "every stage, layer 0: every expert is off; leave at least one on"),
        ({"force": [0, 1, 2]}, "every stage, layer 0: 3 experts forced on but only 2 are chosen per token"),
        ({"scale": {"1": -1e308}}, "scale.1: Input should be greater than or equal to 0"),
    ],
    ids=["every-expert-off", "forced-beyond-top-k", "scale-minus-1e308"],
)
def test_a_profile_the_router_cannot_run_is_refused_like_the_studio_import(
    model_dir, identity, design_home, tmp_path, capsys, layer, says
):
    text = json.dumps({"name": "bad", "model": identity.model_dump(), "stages": {"*": {"layers": {"0": layer}}}})
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ProfileError) as studio:  # what the studio's import (from_json, then check_model) says
        SteeringProfile.from_json(text).check_model(identity)
    assert says in str(studio.value)
    inspect = ["inspect", "--model", str(model_dir), "--prompt", "blink the led", "--profile", str(path)]
    assert run(*inspect) == 2
    assert one_line_error(capsys).endswith(str(studio.value))  # after the file's name where reading refused it
    design = ["design", "blink an led from an arduino uno", "--model", str(model_dir), "--profile", str(path)]
    assert main([*design, "--out", str(tmp_path / "out")]) == 2
    assert one_line_error(capsys).endswith(str(studio.value))


def untyped(folder):
    config = json.loads((folder / "config.json").read_text())
    del config["model_type"]
    (folder / "config.json").write_text(json.dumps(config))


def config_folder(folder):
    (folder / "config.json").unlink()
    (folder / "config.json").mkdir()


HOSTILE_FOLDERS = {
    "no-model-type": (untyped, "{}: config.json names no model_type, so it is not a model folder the studio can open"),
    "binary-config": (lambda f: (f / "config.json").write_bytes(b"\xff\xfe" * 9), "{}/config.json: not UTF-8 text"),
    "nested-config": (lambda f: (f / "config.json").write_text("[" * 100_000), "{}/config.json: nested deeper"),
    "config-is-a-folder": (config_folder, "{}/config.json: is a folder, not a model config"),
    "bad-weights": (lambda f: (f / "model.safetensors").write_bytes(b"junk"), "{}: the weights cannot be read"),
}


@pytest.mark.parametrize(("spoil", "says"), HOSTILE_FOLDERS.values(), ids=HOSTILE_FOLDERS.keys())
def test_a_broken_model_folder_is_a_one_line_error(model_dir, design_home, tmp_path, capsys, spoil, says):
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    spoil(folder)

    assert run("inspect", "--model", str(folder), "--prompt", "blink the led") == 2
    assert one_line_error(capsys).startswith(says.format(folder))
    assert (
        main(["design", "blink an led from an arduino uno", "--model", str(folder), "--out", str(tmp_path / "o")]) == 2
    )
    assert one_line_error(capsys).startswith(says.format(folder))


def test_a_binary_settings_file_in_the_model_folder_is_a_one_line_error(model_dir, design_home, tmp_path, capsys):
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    (folder / "circuit_studio.json").write_bytes(b"\xff\xfe" * 9)
    assert (
        main(["design", "blink an led from an arduino uno", "--model", str(folder), "--out", str(tmp_path / "o")]) == 2
    )
    assert one_line_error(capsys) == f"{folder}/circuit_studio.json: not UTF-8 text, so not a settings file"


def test_attribute_refuses_prompt_files_beyond_the_limits_before_loading_the_model(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("blink the led\n")
    (tmp_path / "many.txt").write_text("the led\n" * (attribution.MAX_PROMPTS + 1))
    (tmp_path / "long.jsonl").write_text(json.dumps({"text": "led " * 2000}) + "\n")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00" * 10)
    (tmp_path / "nested.jsonl").write_text("[" * 100_000 + "\n")
    # the model folder does not exist: each refusal comes before anything tries to load it
    argv = ["attribute", "--model", str(tmp_path / "no-model"), "--method", "ftri", "--set-a", str(tmp_path / "a.txt")]
    cases = {
        "many.txt": f"set B ({tmp_path / 'many.txt'}) has 257 prompts; at most 256 are compared",
        "long.jsonl": f"set B ({tmp_path / 'long.jsonl'}), prompt 1: 8000 characters; a prompt has at most 4000",
        "binary.txt": f"{tmp_path / 'binary.txt'}: not UTF-8 text, so not a prompt file",
        "nested.jsonl": f"{tmp_path / 'nested.jsonl'}:1: nested deeper than 32 levels",
        "/proc/self/status": "/proc/self/status: not a regular file, so not a prompt file",
    }
    for name, says in cases.items():
        assert run(*argv, "--set-b", str(tmp_path / name)) == 2, name
        assert one_line_error(capsys) == says


# -- experts super: the super-expert profile of a model ------------------------------------------------


def super_rows(out: str) -> list[tuple[int, int, int, bool]]:
    """(layer, decoder layer, expert, flagged) of each table row of `experts super`."""
    rows = []
    for line in out.splitlines()[2:]:
        cells = line.split()
        if cells and cells[0].isdigit():
            rows.append((int(cells[0]), int(cells[1]), int(cells[2]), cells[-1] == "yes"))
    return rows


@pytest.fixture
def amplified_dir(model_dir, tmp_path):
    """The tiny model with the busiest expert of MoE layer 1 on the prompt amplified 1000x: a super expert."""
    import torch

    from studio.moe.engine import MoEEngine
    from studio.moe.super_experts import experts_modules, profile_super_experts

    engine = MoEEngine.load(str(model_dir))
    busiest = max(
        (r for r in profile_super_experts(engine, ["blink the led"]).rows if r.layer == 1), key=lambda r: r.tokens
    )
    with torch.no_grad():
        experts_modules(engine)[1].down_proj[busiest.expert] *= 1000.0
    folder = tmp_path / "amplified"
    engine.model.save_pretrained(folder)
    save_tokenizer(folder)
    engine.close()
    return folder, busiest.expert


def test_super_names_the_amplified_expert_as_profile_super_experts_does(amplified_dir, capsys):
    from studio.moe.engine import MoEEngine
    from studio.moe.super_experts import profile_super_experts

    folder, expert = amplified_dir
    assert run("super", "--model", str(folder), "--prompt", "blink the led", "--top", "5") == 0
    out = capsys.readouterr().out
    engine = MoEEngine.load(str(folder))
    direct = profile_super_experts(engine, ["blink the led"])
    engine.close()

    assert [(r.layer, r.expert) for r in direct.super_experts] == [(1, expert)]
    assert f"super experts (peak above {direct.threshold:.4g}): layer 1 expert {expert}\n" in out
    assert "16 experts profiled on 1 prompt(s)" in out
    rows = super_rows(out)
    assert rows == [(r.layer, r.decoder_layer, r.expert, r.is_super) for r in direct.highest(5)]
    assert rows[0] == (1, 2, expert, True)  # MoE layer 1 is decoder layer 2 (decoder layer 0 is dense)
    assert "note: 16 experts (under 200): the largest peak is always flagged" in out


def test_super_json_has_every_expert_and_reads_a_prompt_file(model_dir, tmp_path, capsys):
    from studio.moe.engine import MoEEngine
    from studio.moe.super_experts import DEFAULT_PROMPTS, SuperExpertReport, profile_super_experts

    (tmp_path / "p.jsonl").write_text('{"text": "blink the led"}\n{"text": "the sensor reads"}\n')
    assert run("super", "--model", str(model_dir), "--prompts", str(tmp_path / "p.jsonl"), "--json") == 0
    report = SuperExpertReport.model_validate_json(capsys.readouterr().out)
    engine = MoEEngine.load(str(model_dir))
    direct = profile_super_experts(engine, ["blink the led", "the sensor reads"])
    engine.close()
    assert report.prompts == 2 and len(report.rows) == 2 * 8
    assert [(r.layer, r.expert, r.tokens, r.is_super) for r in report.rows] == [
        (r.layer, r.expert, r.tokens, r.is_super) for r in direct.rows
    ]
    assert [r.max_abs for r in report.rows] == pytest.approx([r.max_abs for r in direct.rows], rel=1e-6)

    assert run("super", "--model", str(model_dir)) == 0  # no prompt: the built-in requests
    assert f"on {len(DEFAULT_PROMPTS)} prompt(s)" in capsys.readouterr().out


def test_super_refusals_are_one_line_with_exit_2(model_dir, tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("\n\n")
    cases = [
        (["--model", str(model_dir), "--top", "0"], "--top must be at least 1"),
        (["--model", str(model_dir), "--prompt", "  "], "prompt 1 is empty"),
        (["--model", str(model_dir), "--prompt", "led " * 1001], "prompt 1: 4004 characters; a prompt has at most"),
        (["--model", str(model_dir), "--prompt", " ".join(["led"] * 300)], "prompt 1 is 300 tokens;"),
        (["--model", str(model_dir), "--prompts", str(tmp_path / "empty.txt")], "empty.txt: no prompts"),
        (["--model", str(tmp_path / "nowhere"), "--prompt", "led"], "nowhere: no such model folder"),
    ]
    for argv, says in cases:
        assert run("super", *argv) == 2, argv
        assert says in one_line_error(capsys), argv
