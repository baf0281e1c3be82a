"""One browser session's studio: its own steering profile, its runs, its stage cache and its stop switch.
Nothing here is shared between sessions, so one user's toggles never reach another user's run; the
pipeline (model and knowledge base) is shared and reads the profile per call.

The Design view runs the request under the session's profile. The Experts view compares that with the
baseline, the same request with no steering; both come out of the session's stage cache, so after a
toggle only the stages from the first affected one run again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from agents.checks import CheckReport, check_and_draw
from agents.compare import RunComparison, compare_runs
from agents.grounding import Substitute
from agents.orchestrator import PipelineRun, StageCache
from agents.run_report import RunReport
from components_db.refusal import Refusal
from studio.circuit.design import Design
from studio.circuit.resolve import ResolvedDesign, resolve
from studio.moe import toggles
from studio.moe.attribution import AttributionResult
from studio.moe.profile import Mode, Stage, SteeringProfile
from ui.live import LiveRun, stream
from ui.studio_context import StudioContext


class StudioError(Refusal, ValueError):
    """Something the user asked for that cannot be done; the message says why and what to do."""


@dataclass
class ShownDesign:
    """The design the page shows and exports: a run's, the reference suggestion, or an imported one."""

    source: str  # "run", "steered", "baseline", "suggestion", "imported"
    design: Design
    check: CheckReport | None
    svg: str | None
    resolved: ResolvedDesign
    report: RunReport | None = None


@dataclass
class StudioSession:
    profile: SteeringProfile | None = None
    cache: StageCache = field(default_factory=StageCache)
    cancel: threading.Event = field(default_factory=threading.Event)
    request: str | None = None
    baseline: PipelineRun | None = None  # the request with no steering
    steered: PipelineRun | None = None  # the request under ``profile`` (None: the profile steers nothing)
    steered_profile: SteeringProfile | None = None  # the profile ``steered`` ran under
    shown: ShownDesign | None = None
    attribution: AttributionResult | None = None
    comparisons: int = 0  # comparisons shown so far (the page marks each, so a watcher sees a new one)
    run_requested: float = 0.0  # monotonic time of the last Run click
    stop_requested: float = 0.0  # ... and of the last Stop click
    repair: bool = True  # run the repair rounds after synthesis (off: the first synthesis stands)
    substitutes: list[Substitute] = field(default_factory=list)  # chosen for the request's unknown parts

    @classmethod
    def start(cls, context: StudioContext) -> StudioSession:
        identity = context.identity
        profile = context.default_profile
        if profile is None and identity is not None:
            profile = toggles.empty_profile(identity)
        return cls(profile=profile)

    # -- runs ------------------------------------------------------------------------------------

    @property
    def latest(self) -> PipelineRun | None:
        """The run under the current profile when it steers, else the baseline."""
        return self.steered if toggles.is_steering(self.profile) and self.steered is not None else self.baseline

    @property
    def _rounds(self) -> int | None:
        return None if self.repair else 0

    def run(self, context: StudioContext, request: str | None) -> Iterator[tuple[LiveRun, PipelineRun | None]]:
        """The Design view's run: ``request`` under the session's profile, streamed."""
        pipeline = _pipeline(context)
        steering = toggles.is_steering(self.profile)
        if (request or "").strip() != (self.request or ""):
            self.baseline = self.steered = None
            self.substitutes = []
        self.cancel = threading.Event()
        profile = self.profile if steering else None
        for live, finished in self._stream(pipeline, request or "", profile):
            if finished is not None:
                self.request = finished.report.request if finished.report.status != "invalid" else None
                if steering:
                    self.steered, self.steered_profile = finished, self.profile
                else:
                    self.baseline, self.steered, self.steered_profile = finished, None, None
                self.show_run_design(finished, "run")
            yield live, finished

    def compare(self, context: StudioContext) -> Iterator[tuple[str, RunComparison | None]]:
        """Baseline and steered runs of the last request, each from the cache where it can be; yields
        progress lines, then ``("", comparison)``."""
        pipeline = _pipeline(context)
        if not self.request:
            raise StudioError("run a design first (Design tab): the comparison re-runs its request")
        self.cancel = threading.Event()
        if self.baseline is None:
            for live, finished in self._stream(pipeline, self.request, None):
                yield _progress_line("baseline", live), None
                if finished is not None:
                    self.baseline = finished
        # the profile may change while the steered run goes (a second click on the grid): run again until
        # the run is of the profile as it is now, so the comparison shown is always the grid's state
        while toggles.is_steering(self.profile) and (self.steered is None or self.steered_profile != self.profile):
            profile = self.profile
            for live, finished in self._stream(pipeline, self.request, profile):
                yield _progress_line("steered", live), None
                if finished is not None:
                    self.steered, self.steered_profile = finished, profile
        if not toggles.is_steering(self.profile):
            self.steered, self.steered_profile = None, None
        assert self.baseline is not None
        other = self.steered if self.steered is not None else self.baseline
        self.show_run_design(other, "steered" if self.steered is not None else "baseline")
        self.comparisons += 1
        yield "", compare_runs(self.baseline.report, other.report)

    def _stream(self, pipeline, request: str, profile: SteeringProfile | None):
        return stream(
            pipeline,
            request,
            profile=profile,
            cache=self.cache,
            cancel=self.cancel,
            repair_rounds=self._rounds,
            substitutes=self.substitutes,
        )

    def choose_substitutes(self, context: StudioContext, chosen: list[str | None]) -> list[Substitute]:
        """The substitutes picked for the last run's out-of-knowledge parts (``chosen[i]`` for the i-th, None
        or empty: none), checked against the knowledge base; they stay with the request for later runs."""
        from agents.grounding import SubstituteError, choose_substitutes

        run = self.latest
        names = [o.name for o in run.report.out_of_knowledge] if run is not None else []
        pairs = [(name, part) for name, part in zip(names, chosen, strict=False) if part]
        if not pairs:
            raise StudioError("pick a substitute for at least one missing part first")
        try:
            picked = choose_substitutes(pairs, context.kb)
        except SubstituteError as exc:
            raise StudioError(str(exc)) from None
        kept = [s for s in self.substitutes if all(s.name != p.name for p in picked)]
        self.substitutes = kept + picked
        self.steered = self.baseline = None  # the runs of the request without them are not its runs now
        return self.substitutes

    def request_run(self) -> None:
        """Run was clicked (the run itself may wait in the queue)."""
        self.run_requested = time.monotonic()

    def stop(self) -> None:
        """Stop the running run between two tokens, and a queued one before it starts."""
        self.stop_requested = time.monotonic()
        self.cancel.set()

    @property
    def stopped_while_queued(self) -> bool:
        return self.stop_requested > self.run_requested

    # -- the profile -----------------------------------------------------------------------------

    def toggle(self, context: StudioContext, stage: Stage, layer: int, expert: int) -> str | None:
        """Cycle one expert on -> off -> forced -> on; returns the first stage the change affects."""
        profile = self._profile()
        state = toggles.CYCLE[toggles.expert_state(profile, stage, layer, expert)]
        return self._edit(context, toggles.set_expert(profile, stage, layer, expert, state))

    def set_top_k(self, context: StudioContext, stage: Stage, layer: int | None, top_k: int | None) -> str | None:
        return self._edit(context, toggles.set_top_k(self._profile(), stage, layer, top_k))

    def set_mode(self, context: StudioContext, mode: Mode) -> str | None:
        return self._edit(context, toggles.set_mode(self._profile(), mode))

    def reset(self, context: StudioContext, stage: Stage | None) -> str | None:
        return self._edit(context, toggles.clear_section(self._profile(), stage))

    def use_profile(self, context: StudioContext, profile: SteeringProfile) -> str | None:
        """Replace the session's profile with ``profile`` (checked against the loaded model)."""
        identity = context.identity
        if identity is None:
            raise StudioError("no model is loaded, so no steering profile can be applied")
        from studio.moe.profile import ProfileError

        try:
            profile.check_model(identity)
        except ProfileError as exc:
            raise StudioError(str(exc)) from None
        return self._edit(context, profile)

    def _profile(self) -> SteeringProfile:
        if self.profile is None:
            raise StudioError("no model is loaded, so there are no experts to steer")
        return self.profile

    def _edit(self, context: StudioContext, profile: SteeringProfile) -> str | None:
        info = context.info
        found = profile.problems(info.top_k if info else 1)
        if found:
            raise StudioError("not applied: " + "; ".join(found))
        before, self.profile = self.profile, profile
        return toggles.first_affected_stage(before, profile)

    # -- designs ---------------------------------------------------------------------------------

    def show_design(self, context: StudioContext, design: Design, source: str = "imported") -> ShownDesign:
        """Check and draw a design that did not come from a run (an import, an example, pasted JSON)."""
        resolved = resolve(design, context.kb)
        settings = context.pipeline.settings if context.pipeline else None
        run_spice = settings.run_spice if settings else True
        check, svg = check_and_draw(resolved, run_spice=run_spice, seed=0, title=design.title)
        self.shown = ShownDesign(source=source, design=design, check=check, svg=svg, resolved=resolved)
        return self.shown

    def show_suggestion(self, context: StudioContext) -> ShownDesign:
        run = self.latest
        suggestion = run.report.suggestion if run else None
        if suggestion is None or suggestion.design is None:
            raise StudioError("there is no reference suggestion: run a design first")
        return self.show_design(context, suggestion.design, "suggestion")

    def show_run_design(self, run: PipelineRun, source: str) -> ShownDesign | None:
        """Make ``run``'s design the shown one (None, and nothing changes, when the run has no design)."""
        report = run.report
        if report.design is None or run.resolved is None:
            return None
        self.shown = ShownDesign(
            source=source, design=report.design, check=report.check, svg=run.svg, resolved=run.resolved, report=report
        )
        return self.shown


def _pipeline(context: StudioContext):
    if context.pipeline is None:
        raise StudioError(f"no model is loaded: {context.model_error}")
    return context.pipeline


def _progress_line(which: str, live: LiveRun) -> str:
    """E.g. "running the steered run: reason (45%)"; "finishing" once every stage is done."""
    step = live.current or ("finishing" if live.stages else "starting")
    return f"running the {which} run: {step} ({live.progress:.0%})"
