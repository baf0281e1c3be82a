"""A pipeline run as the page watches it: the run goes on in a worker thread, its events are gathered
into a ``LiveRun`` (stages started and done, text streamed so far, progress), and ``stream`` hands out
snapshots at most every ``interval`` seconds, then the finished ``PipelineRun``.

    for live, finished in stream(pipeline, request, profile=p, cache=c, cancel=stop):
        show(live)            # finished is None until the last item
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from agents.grounding import Substitute
from agents.orchestrator import Pipeline, PipelineEvent, PipelineRun, StageCache
from agents.run_report import StageName, StageRecord
from studio.moe.profile import SteeringProfile

STAGE_TITLES: dict[StageName, str] = {
    "identify": "Parts identified",
    "pinouts": "Pinouts from the knowledge base",
    "reason": "Reasoning",
    "synthesize": "Design",
    "check": "Electrical rule check and SPICE",
    "repair": "Repair rounds",
    "render": "Schematic",
}


@dataclass
class StageLive:
    stage: StageName
    done: bool = False
    text: str = ""  # what the model has written so far (LLM stages)
    record: StageRecord | None = None


@dataclass
class LiveRun:
    stages: dict[StageName, StageLive] = field(default_factory=dict)
    progress: float = 0.0
    notices: list[str] = field(default_factory=list)
    finished: bool = False

    @property
    def current(self) -> StageName | None:
        running = [s for s in self.stages.values() if not s.done]
        return running[-1].stage if running else None

    def add(self, event: PipelineEvent) -> None:
        self.progress = max(self.progress, event.progress)
        if event.kind == "notice":  # a stage's notices are shown in its card, from its record
            if event.stage is None and event.text not in self.notices:
                self.notices.append(event.text)
            return
        if event.stage is None:  # the run's last event
            self.finished = event.kind == "stage_done"
            return
        stage = self.stages.setdefault(event.stage, StageLive(event.stage))
        if event.kind == "token":
            stage.text += event.text
        elif event.kind == "stage_done":
            stage.done, stage.record = True, event.record


_DONE = object()


def stream(
    pipeline: Pipeline,
    request: str,
    *,
    profile: SteeringProfile | None,
    cache: StageCache,
    cancel: threading.Event,
    repair_rounds: int | None = None,
    substitutes: list[Substitute] | None = None,
    interval: float = 0.2,
) -> Iterator[tuple[LiveRun, PipelineRun | None]]:
    """Snapshots of the run while it goes, then ``(live, run)`` once. Closing the iterator early (the
    page went away) sets ``cancel``, so the worker stops between two tokens."""
    events: queue.Queue = queue.Queue()
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["run"] = pipeline.run(
                request,
                profile=profile,
                cache=cache,
                on_event=events.put,
                cancel=cancel,
                repair_rounds=repair_rounds,
                substitutes=list(substitutes or []),
            )
        except Exception as exc:  # reported in the page by the caller, never lost in a thread
            outcome["error"] = exc
        finally:
            events.put(_DONE)

    worker = threading.Thread(target=work, name="studio-run", daemon=True)
    live = LiveRun()
    worker.start()
    try:
        last = 0.0
        while True:
            try:
                item = events.get(timeout=interval)
            except queue.Empty:
                item = None
            if item is _DONE:
                break
            if item is not None:
                live.add(item)
            now = time.monotonic()
            if now - last >= interval:
                last = now
                yield live, None
        worker.join()
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        run = outcome["run"]
        assert isinstance(run, PipelineRun)
        yield live, run
    finally:
        if worker.is_alive():
            cancel.set()
