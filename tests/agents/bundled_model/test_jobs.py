"""Expert jobs: which identify entries carry a behaviour, the training plans that mask experts, the
router masks that re-route, the routing loss, and resuming an interrupted run."""

from __future__ import annotations

import json
import random

import pytest
import torch
from transformers import Qwen3MoeConfig, Qwen3MoeForCausalLM

from agents.bundled_model.corpus import write_jsonl
from agents.bundled_model.job_training import (
    JobSettings,
    JobTargets,
    Plan,
    RouterMasks,
    job_targets,
    plan_example,
    routing_loss,
)
from agents.bundled_model.jobs import JOB_LAYERS, JOBS, entries, entry_spans, without
from agents.bundled_model.train import train

ANSWER = json.dumps(
    {
        "parts": [
            {"part": "esp32-devkit-v1", "quantity": 1, "role": "controller"},
            {"part": "led-red", "quantity": 2, "role": "indicator"},
            {"part": "dc-supply-12v", "quantity": 1, "role": "supply"},
            {"part": "lm2596-buck", "quantity": 1, "role": "regulator"},
            {"part": "resistor", "quantity": 2, "role": "series resistor", "value": "220"},
            {"part": "capacitor-ceramic", "quantity": 1, "role": "decoupling", "value": "100nF"},
        ],
        "unknown": [],
    },
    separators=(",", ":"),
)


def test_entries_name_the_supporting_parts_of_each_behaviour():
    assert entries(ANSWER) == {"led-resistor": [4], "decoupling": [5]}
    # a regulator is a judgement only when the request did not name it
    assert entries(ANSWER, ["lm2596-buck"]) == {"regulation": [3], "led-resistor": [4], "decoupling": [5]}


def test_without_leaves_out_exactly_those_entries_in_the_teachers_writing():
    shorter = json.loads(without(ANSWER, [4]))
    assert [p["part"] for p in shorter["parts"]] == [
        "esp32-devkit-v1",
        "led-red",
        "dc-supply-12v",
        "lm2596-buck",
        "capacitor-ceramic",
    ]
    assert without(ANSWER, []) == ANSWER


def test_entry_spans_cover_the_entry_text_and_its_comma():
    ((start, end),) = entry_spans(ANSWER, [4])
    assert ANSWER[start:end] == ',{"part":"resistor","quantity":2,"role":"series resistor","value":"220"}'


def test_job_positions_predict_the_entry_tokens():
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast.from_pretrained("agents/bundled_model/weights")
    row = {"stage": "identify", "prompt": "### identify\nRequest: two red LEDs\nParts:\n", "answer": ANSWER}
    prompt_len = len(tokenizer(row["prompt"]).input_ids)
    (targets,) = job_targets([row], [prompt_len], tokenizer)
    ids = tokenizer(row["prompt"]).input_ids + tokenizer(ANSWER, add_special_tokens=False).input_ids
    written = tokenizer.decode([ids[p + 1] for p in targets.positions["led-resistor"]])
    assert '"part":"resistor","quantity":2,"role":"series resistor","value":"220"' in written
    assert "led-red" not in written and "capacitor" not in written
    assert tokenizer.decode(targets.without["led-resistor"]) == without(ANSWER, [4])
    # other stages carry no jobs
    assert job_targets([{**row, "stage": "reason"}], [prompt_len], tokenizer)[0].positions == {}


def _targets() -> JobTargets:
    return JobTargets(positions={"led-resistor": [5, 6]}, without={"led-resistor": [70, 71]})


def test_a_present_behaviours_experts_off_trains_the_answer_without_it():
    settings = JobSettings(off_present=1.0, off_absent=0.0, control=0.0)
    ids = [1, 2, 3, 40, 41, 42, 0]
    plan = plan_example(ids, 3, _targets(), settings, random.Random(0), 16)
    assert plan.ids == [1, 2, 3, 70, 71, 0]
    assert plan.off == {layer: [2] for layer in JOB_LAYERS}  # led-resistor's expert in every job layer
    assert plan.routed == {}  # nothing to route towards experts that are off


def test_other_experts_off_keep_the_answer_and_never_take_a_present_job():
    ids = [1, 2, 3, 40, 41, 42, 0]
    absent = plan_example(ids, 3, _targets(), JobSettings(off_present=0, off_absent=1, control=0), random.Random(1), 16)
    assert absent.ids == ids and absent.routed == {"led-resistor": [5, 6]}
    assert all(experts != [2] for experts in absent.off.values())
    for seed in range(40):
        control = plan_example(
            ids, 3, _targets(), JobSettings(off_present=0, off_absent=0, control=1), random.Random(seed), 16
        )
        assert control.ids == ids and sorted(control.off) == list(JOB_LAYERS)
        assert all(len(e) == 1 and e != [2] for e in control.off.values())


def _tiny_model() -> Qwen3MoeForCausalLM:
    torch.manual_seed(0)
    config = Qwen3MoeConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        moe_intermediate_size=16,
        num_hidden_layers=5,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        num_experts=16,
        num_experts_per_tok=2,
        norm_topk_prob=True,
        output_router_logits=True,
    )
    return Qwen3MoeForCausalLM(config).eval()


def _chosen(model, ids: torch.Tensor) -> dict[int, torch.Tensor]:
    seen: dict[int, torch.Tensor] = {}
    handles = [
        layer.mlp.gate.register_forward_hook(lambda m, a, out, i=i: seen.__setitem__(i, out[2]))
        for i, layer in enumerate(model.model.layers)
    ]
    with torch.no_grad():
        model(input_ids=ids)
    for h in handles:
        h.remove()
    return seen


def test_router_masks_reroute_only_the_examples_that_have_experts_off():
    model = _tiny_model()
    ids = torch.randint(1, 64, (2, 9))
    before = _chosen(model, ids)
    banned = int(before[1][0, 0])  # an expert the first token uses in layer 1
    masks = RouterMasks(model)
    masks.set([Plan([], {1: [banned]}, {}), Plan([], {}, {})], 9, 5, 16)
    after = _chosen(model, ids)
    masks.clear()
    assert not (after[1][:9] == banned).any()  # the first example never reaches it
    assert torch.equal(after[1][9:], before[1][9:])  # the second is untouched
    assert torch.equal(after[0], before[0])  # and so is every other layer
    assert torch.equal(_chosen(model, ids)[1], before[1])  # cleared: the router's own choice again
    masks.remove()


def test_routing_loss_falls_as_the_designated_expert_takes_the_job_tokens():
    model = _tiny_model().train()
    ids = torch.randint(1, 64, (1, 12))
    plans = [Plan([], {}, {"flyback-diode": [3, 4, 5]})]
    settings = JobSettings(layers=(1, 2))
    optimizer = torch.optim.SGD([layer.mlp.gate.weight for layer in model.model.layers], lr=0.5)
    losses = []
    for _ in range(15):
        out = model(input_ids=ids)
        loss = routing_loss(out.router_logits, plans, 12, settings)
        losses.append(float(loss.detach()))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert losses[-1] < losses[0] * 0.5
    assert routing_loss(out.router_logits, [Plan([], {}, {})], 12, settings) is None
    flyback = next(j for j in JOBS if j.behaviour == "flyback-diode").expert
    top = model(input_ids=ids).router_logits[1][3:6].argmax(-1)
    assert (top == flyback).all()


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, teacher_rows):
    from dataclasses import replace

    from agents.bundled_model.train import CONFIGS

    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(teacher_rows, corpus)
    cfg = replace(CONFIGS["tiny"], steps=6, checkpoint_every=3, eval_every=0)
    quiet = {"config": cfg, "evaluate": False, "say": lambda _: None, "seed": 4}
    whole = train(corpus, tmp_path / "whole", **quiet)
    assert (tmp_path / "whole" / "checkpoint" / "trainer_state.pt").is_file()
    resumed = train(corpus, tmp_path / "again", resume=tmp_path / "whole" / "checkpoint", **quiet)
    assert resumed["steps"] == 6
    assert [e["loss"] for e in resumed["train"]] == pytest.approx([e["loss"] for e in whole["train"]])


def test_an_over_range_supply_brings_a_regulator_the_request_does_not_name():
    from agents.bundled_model.corpus.projects import ProjectSampler, over_range
    from agents.bundled_model.corpus.requests import Writer
    from components_db.kb import KnowledgeBase

    kb = KnowledgeBase.open()
    assert over_range(kb, "esp32-s3-devkitc-1", "dc-supply-12v") and not over_range(kb, "arduino-uno", "dc-supply-12v")
    seen = 0
    for seed in range(60):
        rng = random.Random(seed)
        unit = ProjectSampler(kb, rng)._power_chain("esp32-s3-devkitc-1")
        supply = unit.parts[0][0]
        if not over_range(kb, "esp32-s3-devkitc-1", supply) or len(unit.parts) < 2:
            continue
        regulator = unit.parts[1][0]
        if regulator not in unit.implied:
            continue
        seen += 1
        text = Writer(kb, rng).unit_noun(unit).lower()
        names = [kb.get(regulator).name.lower(), *(a.lower() for a in kb.get(regulator).aliases)]
        assert not any(name in text for name in names), text
    assert seen >= 5
