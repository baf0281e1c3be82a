"""Fixtures for the bundled model's tests (the shipped parts come from tests/fixtures' ``catalog_lookup``): a few
teacher examples, a small drafted corpus and a tokenizer trained on it."""

from __future__ import annotations

import pytest

from agents.bundled_model.corpus.examples import draft_requests
from agents.bundled_model.tokenizer import train_tokenizer
from agents.parts_list import PartRequest, PartsList
from agents.teacher import teach

CORES = [
    ["esp32-devkit-v1", "dht22", "fan-12v"],
    ["arduino-uno", "led-red", "push-button*2"],
    ["raspberry-pi-pico", "oled-ssd1306-i2c", "bme280"],
    ["arduino-nano", "l298n-module", "dc-motor-6v*2"],
    ["ne555", "led-blue", "battery-9v"],
    ["esp32-devkit-v1", "74hc595", "led-green*8"],
]


def core_of(ids: list[str]) -> PartsList:
    requests = []
    for text in ids:
        part, _, quantity = text.partition("*")
        requests.append(PartRequest(part=part, quantity=int(quantity or 1)))
    return PartsList(parts=requests)


@pytest.fixture(scope="session")
def teacher_rows(catalog_lookup) -> list[dict]:
    """Stage rows for ``CORES`` (no candidates: no embedding model needed)."""
    rows = []
    for i, ids in enumerate(CORES):
        request = "Wire " + ", ".join(ids)
        example = teach(request, core_of(ids), [], catalog_lookup)
        split = "heldout" if i == len(CORES) - 1 else "train"
        for stage in example.stages:
            rows.append(
                {
                    "split": split,
                    "project": f"t{i}",
                    "stage": stage.stage,
                    "request": request,
                    "prompt": stage.prompt,
                    "answer": stage.answer,
                }
            )
    return rows


@pytest.fixture(scope="session")
def drafts(catalog_lookup):
    return list(draft_requests(catalog_lookup, 120, seed=11))


@pytest.fixture(scope="session")
def corpus_tokenizer(teacher_rows, drafts):
    texts = [r["prompt"] + r["answer"] for r in teacher_rows] + [d.request for d in drafts]
    # 1280: the drafted requests spell more ways (misspellings, chat writing) and spend merges of this small
    # vocabulary (the bundled one has 4096, over a corpus mostly of prompts and answers)
    return train_tokenizer(texts * 4, vocab_size=1280)
