"""Steering is per request: threads sharing one model, each inside its own ``steer`` block, get exactly
what they get when run alone - tokens and routing trace."""

from __future__ import annotations

import threading

import torch

from studio.moe.engine import Generation, MoEEngine
from studio.moe.profile import LayerSteering, StageSteering, SteeringProfile

PROMPTS = ([5, 17, 42, 9, 77, 23, 61, 8], [64, 3, 99, 12, 40, 7])
ROUNDS = 4
NEW_TOKENS = 8


def profiles(engine: MoEEngine) -> tuple[SteeringProfile, SteeringProfile]:
    identity = engine.info.identity()
    layers = range(len(engine.layers))
    return (
        SteeringProfile(
            name="off",
            model=identity,
            stages={"*": StageSteering(layers={i: LayerSteering(off=[0, 1]) for i in layers})},
        ),
        SteeringProfile(
            name="forced-drop",
            model=identity,
            mode="drop",
            stages={"*": StageSteering(layers={i: LayerSteering(force=[2], off=[3]) for i in layers})},
        ),
    )


def run(engine: MoEEngine, profile: SteeringProfile, prompt: list[int]) -> Generation:
    with engine.steer(profile):
        return engine.generate(prompt, max_new_tokens=NEW_TOKENS)


def run_together(engine: MoEEngine, jobs: list[tuple[SteeringProfile, list[int]]]) -> list[Generation]:
    """Every job in its own thread, all released at once."""
    results: list[Generation | None] = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def work(slot: int, profile: SteeringProfile, prompt: list[int]) -> None:
        start.wait()
        results[slot] = run(engine, profile, prompt)

    threads = [threading.Thread(target=work, args=(i, *job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def same(a: Generation, b: Generation) -> bool:
    return a.token_ids == b.token_ids and all(
        torch.equal(x.selected, y.selected) and torch.equal(x.weights, y.weights)
        for x, y in zip(a.trace.layers, b.trace.layers, strict=True)
    )


def test_two_threads_with_different_profiles_get_what_they_get_alone(arch: str, tiny_model):
    with MoEEngine.from_model(tiny_model(arch)) as engine:
        jobs = list(zip(profiles(engine), PROMPTS, strict=True))
        alone = [run(engine, profile, prompt) for profile, prompt in jobs]
        unsteered = engine.generate(PROMPTS[0], max_new_tokens=NEW_TOKENS)
        assert alone[0].token_ids != unsteered.token_ids  # the profiles do steer

        for _ in range(ROUNDS):
            together = run_together(engine, jobs)
            assert all(same(got, want) for got, want in zip(together, alone, strict=True))
        assert engine.generate(PROMPTS[0], max_new_tokens=NEW_TOKENS).token_ids == unsteered.token_ids
