"""Running systems over the benchmark prompts: ``evaluate`` scores every prompt through every system.

prompts = load_benchmark(prompt_file("test"))        # agents.evaluation.benchmark
baseline = ReferenceBaseline(kb)                      # agents.reference.baseline
results = evaluate(prompts, {"reference": baseline.run}, kb)
summary = summaries(results)["reference"]             # agents.evaluation.scoring
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from agents.evaluation.benchmark import BenchmarkPrompt
from agents.evaluation.outcome import Outcome
from agents.evaluation.scoring import PromptResult, score
from studio.circuit.resolve import PartLookup


def evaluate(
    prompts: Iterable[BenchmarkPrompt],
    systems: dict[str, Callable[[str], Outcome]],
    kb: PartLookup,
    on_result: Callable[[BenchmarkPrompt, list[PromptResult]], None] | None = None,
) -> list[PromptResult]:
    """Every prompt through every system, in prompt order; ``on_result`` sees each prompt's rows."""
    results = []
    for prompt in prompts:
        rows = [score(prompt, run(prompt.prompt), kb, system=name) for name, run in systems.items()]
        results += rows
        if on_result is not None:
            on_result(prompt, rows)
    return results
