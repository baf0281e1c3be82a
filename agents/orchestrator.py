"""The design pipeline: request -> identify -> pinouts -> reason -> synthesize -> check -> render.

    pipeline = Pipeline(engine, kb)
    run = pipeline.run("ESP32 reads a DHT22 and switches a 12 V fan", profile=profile, on_event=print)
    run.report.design, run.report.check, run.svg

Each LLM stage runs under its own section of the steering profile and records its routing. Stage
results are cached by everything they depend on (their input, their steering section and mode, the
model, the settings, the knowledge base), so after a profile change only the stages from the first
one it affects run again. A cache belongs to one user (the studio gives each browser session its own);
the engine and knowledge base are shared. Progress goes to ``on_event``; ``cancel`` stops a run
between tokens.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.checks import check_and_draw, check_design
from agents.constrained import FinishReason, Grammar
from agents.grounding import Substitute, allowed_parts, ground, grounded_candidates, with_substitutes
from agents.identify import IdentifyInput, identify_prompt, parse_answer, parts_grammar
from agents.llm import Generated, StageCall, StageGenerationError, generate_stage
from agents.parts_list import PartsList
from agents.pinouts import (
    MAX_PARTS,
    OutOfKnowledge,
    PinoutsOutput,
    PromptStyle,
    lookup_pinouts,
    names_match,
    out_of_knowledge_message,
)
from agents.plan_nets import departures, followed, read_plan_nets
from agents.prompting import LlmStage
from agents.reason import plan_from_text, reason_input, reason_prompt
from agents.reference.builder import ReferenceDesignError
from agents.reference.designer import design_from_parts
from agents.reference.explain import plan_text
from agents.repair import MAX_ROUNDS, RepairInput, burden, needs_repair, repair_plan, repair_prompt
from agents.request import RequestError, clean_request
from agents.run_report import (
    RoutingSummary,
    RunReport,
    StageName,
    StageRecord,
    Suggestion,
    TokenRouting,
    summarise,
    token_routing,
)
from agents.synthesize import GrammarBounds, SynthesizeInput, design_from_text, grammar_for, synthesize_prompt
from components_db import KnowledgeBase
from components_db.refusal import Refusal
from studio.circuit.design import DesignError
from studio.circuit.resolve import ResolvedDesign, resolve
from studio.intent import RequestReader, RequestReading
from studio.intent.check import NOT_UNDERSTOOD
from studio.moe.engine import MoEEngine
from studio.moe.profile import SteeringProfile
from studio.schematic.svg import draw_schematic

EventKind = Literal["stage_started", "token", "stage_done", "notice"]


class PipelineEvent(BaseModel):
    """Progress of a run, for a progress bar and streaming text."""

    model_config = ConfigDict(frozen=True)

    kind: EventKind
    stage: StageName | None = None
    text: str = ""  # the new text of a token event; a message otherwise
    progress: float = 0.0  # 0..1 over the whole run
    record: StageRecord | None = None  # with stage_done


class PipelineSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    prompt_style: PromptStyle = "full"  # "compact" for a model trained on the knowledge base (the bundled one)
    candidates: int = 10
    identify_tokens: int = 768
    reason_tokens: int = 768
    synthesize_tokens: int | None = None  # None: the grammar's bound, which always completes a design
    stage_time_limit_s: float = 120.0
    grammar: GrammarBounds = Field(default_factory=GrammarBounds)
    max_parts: int = MAX_PARTS
    run_spice: bool = True
    layout_seed: int = 0
    repair_rounds: int = Field(default=MAX_ROUNDS, ge=0, le=MAX_ROUNDS)  # 0: no repair (pass@1 stands)
    follow_plan: bool = True  # synthesis writes the plan's valid net lines first (``agents.plan_nets``)
    working_pins: bool = True  # every part's supply, ground and required pins placed (``grammar_for``)


class PipelineRun(BaseModel):
    """A run's report plus what is drawn from it (not part of the JSON report)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    report: RunReport
    svg: str | None = None
    suggestion_svg: str | None = None
    resolved: ResolvedDesign | None = None


class StageCache:
    """Least-recently-used stage results of one user, keyed by a digest of what each depends on."""

    def __init__(self, capacity: int = 256) -> None:
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class PipelineStopped(Refusal):
    """A stage cannot go on; the message says why, in words a user understands."""


class OutOfKnowledgeStop(PipelineStopped):
    """The request names parts the knowledge base lacks: the run stops before wiring rather than design
    with a stand-in nobody chose."""


class _Cancelled(Exception):
    pass


class _LlmResult(BaseModel):
    generated: Generated
    routing: RoutingSummary | None
    token_routing: TokenRouting | None
    cached: bool = False


PROGRESS = {
    "identify": 0.0,
    "pinouts": 0.2,
    "reason": 0.25,
    "synthesize": 0.55,
    "check": 0.8,
    "repair": 0.85,
    "render": 0.97,
}


class Pipeline:
    def __init__(
        self, engine: MoEEngine, kb: KnowledgeBase, settings: PipelineSettings | None = None, *, model_name: str = ""
    ) -> None:
        self.engine = engine
        self.kb = kb
        self.settings = settings or PipelineSettings()
        self.model_name = model_name or engine.info.name
        self.cache = StageCache()
        self._reader: tuple[str, RequestReader] | None = None  # built for one state of the knowledge base

    def run(
        self,
        request: str | None,
        *,
        profile: SteeringProfile | None = None,
        cache: StageCache | None = None,
        on_event: Callable[[PipelineEvent], None] | None = None,
        cancel: threading.Event | None = None,
        substitutes: list[Substitute] = (),
        repair_rounds: int | None = None,
    ) -> PipelineRun:
        """One whole run; never raises for bad input, a stop or a cancel: the report says what happened.
        ``substitutes`` name the knowledge-base parts the user chose for parts it lacks (a run that meets
        a named part the knowledge base lacks otherwise stops before wiring, status "out_of_knowledge").
        ``repair_rounds`` overrides the settings' for this run (0: no repair)."""
        if profile is not None:
            profile.check_model(self.engine.info.identity())
        started = time.perf_counter()
        special = list(getattr(self.engine.tokenizer, "all_special_tokens", []) or [])
        try:
            cleaned = clean_request(request, special_tokens=special)
        except RequestError as exc:
            report = RunReport(request=(request or "")[:200], model=self.engine.info, status="invalid", error=str(exc))
            return PipelineRun(report=report)
        report = RunReport(request=cleaned.text, model=self.engine.info, profile=profile, notices=list(cleaned.notices))
        rounds = self.settings.repair_rounds if repair_rounds is None else max(0, min(repair_rounds, MAX_ROUNDS))
        run = _Run(self, report, profile, cache or self.cache, on_event, cancel, list(substitutes), rounds)
        result = PipelineRun(report=report)
        for notice in cleaned.notices:
            run.emit("notice", None, notice)
        lookup = {p.id: p for p in self.kb.parts()}
        if missing := [sub.part for sub in substitutes if sub.part not in lookup]:
            report.status, report.error = "invalid", f"no such part for a substitute: {', '.join(missing)}"
            return result
        report.reading = with_substitutes(self.read(cleaned.text, run.kb_digest), run.substitutes, lookup)
        if not report.reading.understood:
            report.status, report.error = "not_understood", NOT_UNDERSTOOD
            report.total_seconds = round(time.perf_counter() - started, 3)
            return result
        try:
            run.execute(result)
        except OutOfKnowledgeStop as exc:
            report.status, report.error = "out_of_knowledge", str(exc)
        except PipelineStopped as exc:
            report.status, report.error = "stopped", str(exc)
        except _Cancelled:
            report.status, report.error = "cancelled", "the run was stopped before it finished"
        report.total_seconds = round(time.perf_counter() - started, 3)
        return result

    def read(self, request: str, kb_digest: str) -> RequestReading:
        """What the request names and states, read against the knowledge base as it is now."""
        if self._reader is None or self._reader[0] != kb_digest:
            self._reader = (kb_digest, RequestReader(self.kb))
        return self._reader[1].read(request)

    def suggest(
        self, parts: PartsList, title: str | None = None, reading: RequestReading | None = None
    ) -> tuple[Suggestion, str | None]:
        """The reference designer's wiring of ``parts``, checked (against ``reading`` too) and drawn; one it
        cannot make is a ``Suggestion`` with an error, never an exception (it only stands beside the run's
        design)."""
        try:
            reference = design_from_parts(parts, self.kb, title=title)
        except ReferenceDesignError as exc:
            return Suggestion(error=str(exc)), None
        except Exception as exc:  # a gap of the designer on this combination of parts
            return Suggestion(error=f"the reference designer could not wire these parts ({exc!r})"), None
        check, svg = check_and_draw(
            resolve(reference.design, self.kb),
            run_spice=self.settings.run_spice,
            reading=reading,
            seed=self.settings.layout_seed,
            title=title,
        )
        plan = plan_text(reference.design, reference.added, reference.notes, self.kb)
        return Suggestion(design=reference.design, plan=plan, check=check, added=reference.added), svg


class _Run:
    """One run's state: which stages ran, the events, the cache keys."""

    def __init__(
        self,
        pipeline: Pipeline,
        report: RunReport,
        profile: SteeringProfile | None,
        cache: StageCache,
        on_event: Callable[[PipelineEvent], None] | None,
        cancel: threading.Event | None,
        substitutes: list[Substitute],
        repair_rounds: int,
    ) -> None:
        self.p = pipeline
        self.substitutes = substitutes
        self.repair_rounds = repair_rounds
        self.report = report
        self.profile = profile
        self.cache = cache
        self.on_event = on_event
        self.cancel = cancel
        self.kb_digest = _digest([p.model_dump(mode="json") for p in pipeline.kb.parts()])
        self.title = _title(report.request)

    def emit(self, kind: EventKind, stage: StageName | None, text: str = "", record: StageRecord | None = None) -> None:
        if self.on_event is not None:
            progress = 1.0 if stage is None and kind == "stage_done" else PROGRESS.get(stage or "", 0.0)
            if kind == "stage_done" and stage == "repair":  # another round may follow
                progress = PROGRESS["repair"]
            elif kind == "stage_done" and stage is not None:
                order = list(PROGRESS)
                nxt = order.index(stage) + 1
                progress = PROGRESS[order[nxt]] if nxt < len(order) else 1.0
            self.on_event(PipelineEvent(kind=kind, stage=stage, text=text, progress=progress, record=record))

    def execute(self, result: PipelineRun) -> None:
        s, report = self.p.settings, self.report
        request = report.request

        # identify
        self._check_cancel()
        self.emit("stage_started", "identify")
        start = time.perf_counter()
        reading = report.reading
        candidates = grounded_candidates(self.p.kb, request, reading, s.candidates)
        given = IdentifyInput(request=request, candidates=candidates)
        grammar = parts_grammar(allowed_parts(candidates, reading, self.p.kb.parts()))
        llm = self._llm("identify", identify_prompt(given), given, s.identify_tokens, grammar)
        self._require_complete("identify", llm.generated, "the part list")
        lookup = {p.id: p for p in self.p.kb.parts()}
        parts, grounding = ground(parse_answer(llm.generated.text), reading, lookup, self.substitutes)
        report.parts = parts
        report.notices += grounding
        for note in grounding:
            self.emit("notice", "identify", note)
        self._record("identify", given.model_dump(), parts.model_dump(), start, llm, grounding)
        if not parts.parts and not parts.unknown:
            raise PipelineStopped("no parts were identified in the request; name the parts or what the circuit does")

        # pinouts
        self.emit("stage_started", "pinouts")
        start = time.perf_counter()
        pinouts = lookup_pinouts(parts, self.p.kb, max_parts=s.max_parts)
        report.bill = pinouts.bill
        named = named_out_of_knowledge(report.reading, pinouts)
        report.out_of_knowledge = [
            o
            for o in [*pinouts.out_of_knowledge, *named]
            if not any(names_match(o.name, sub.name) for sub in self.substitutes)
        ]
        report.notices += pinouts.notices
        messages = [o.message for o in report.out_of_knowledge] + pinouts.notices
        for message in messages:
            self.emit("notice", "pinouts", message)
        output = {"bill": [b.model_dump() for b in pinouts.bill], "pins": _pin_table(pinouts)}
        self._record("pinouts", {"parts": parts.model_dump()}, output, start, None, messages)
        if not pinouts.bill:
            reasons = "; ".join(o.message for o in pinouts.out_of_knowledge)
            raise PipelineStopped(
                "none of the identified parts is in the knowledge base" + (f": {reasons}" if reasons else "")
            )
        if report.out_of_knowledge:
            raise OutOfKnowledgeStop(out_of_knowledge_message(report.out_of_knowledge))
        suggestion, result.suggestion_svg = self.p.suggest(parts, title=self.title, reading=report.reading)
        report.suggestion = suggestion

        # reason
        self._check_cancel()
        self.emit("stage_started", "reason")
        start = time.perf_counter()
        reason_in = reason_input(request, pinouts, s.prompt_style)
        llm = self._llm("reason", reason_prompt(reason_in), reason_in, s.reason_tokens, None)
        plan = plan_from_text(llm.generated.text)
        report.plan = plan.text
        self._record("reason", reason_in.model_dump(), plan.model_dump(), start, llm)

        # synthesize
        self._check_cancel()
        self.emit("stage_started", "synthesize")
        start = time.perf_counter()
        synth_in = SynthesizeInput(request=request, parts=reason_in.parts, plan=plan.text)
        bill_parts = {line.ref: pinouts.part_of(line) for line in pinouts.bill}
        planned = read_plan_nets(plan.text, bill_parts, grammar_for(pinouts, s.grammar, working=False))
        kept = followed(planned, s.grammar.max_nets) if s.follow_plan else ()
        design_grammar = grammar_for(pinouts, s.grammar, kept, working=s.working_pins)
        budget = s.synthesize_tokens or design_grammar.max_bytes
        llm = self._llm("synthesize", synthesize_prompt(synth_in, design_grammar), synth_in, budget, design_grammar)
        self._require_complete("synthesize", llm.generated, "the design")
        try:
            design = design_from_text(llm.generated.text, design_grammar, title=self.title)
        except DesignError as exc:  # the grammar makes this unreachable; say so plainly if it ever is not
            raise PipelineStopped(f"the synthesized design could not be read: {exc}") from None
        report.design = design
        agreement = [f"follows {len(kept)} of {len(planned)} net lines of the plan"]
        agreement += departures(planned, design, set())
        output = {"design": design.model_dump(exclude_none=True), "followed_plan_nets": len(kept)}
        self._record("synthesize", synth_in.model_dump(), output, start, llm, agreement if planned else [])

        # check
        self.emit("stage_started", "check")
        start = time.perf_counter()
        resolved = resolve(design, self.p.kb)
        report.check = check_design(resolved, run_spice=s.run_spice, reading=report.reading)
        summary = {"passed": report.check.passed, "violations": len(report.check.erc.violations)}
        if report.check.intent is not None:
            summary |= {"intent_met": report.check.intent.met, "intent_score": report.check.intent.score}
        self._record("check", {}, summary, start, None)
        report.first_check = report.check
        resolved = self._repair(synth_in, pinouts, resolved)
        rewired = {n for r in report.stages if r.stage == "repair" and r.output.get("kept") for n in r.output["redone"]}
        report.plan_departures = departures(planned, report.design, rewired)

        # render
        self.emit("stage_started", "render")
        start = time.perf_counter()
        result.resolved = resolved
        result.svg = draw_schematic(resolved, seed=s.layout_seed, title=self.title)
        self._record("render", {"seed": s.layout_seed}, {"svg_bytes": len(result.svg)}, start, None)
        self.emit("stage_done", None, "done")

    def _repair(self, synth_in: SynthesizeInput, pinouts: PinoutsOutput, resolved: ResolvedDesign) -> ResolvedDesign:
        """Up to ``self.repair_rounds`` repair rounds (``agents.repair``), each a stage of the report; the design
        and check of the last kept round become the run's. Returns the resolved design that stands."""
        s, report = self.p.settings, self.report
        for number in range(1, self.repair_rounds + 1):
            design, check = report.design, report.check
            plan = repair_plan(design, check) if needs_repair(check) else None
            if plan is None:
                return resolved
            self._check_cancel()
            self.emit("stage_started", "repair")
            start = time.perf_counter()
            given = RepairInput(
                request=synth_in.request,
                parts=synth_in.parts,
                plan=synth_in.plan,
                findings="\n".join(plan.findings),
                kept=plan.kept,
                forbidden_pairs=plan.forbidden_pairs,
                required_pins=plan.required_pins,
                round=number,
            )
            grammar = grammar_for(pinouts, s.grammar, plan.kept, working=s.working_pins).model_copy(
                update={"forbidden_pairs": plan.forbidden_pairs, "required_pins": plan.required_pins}
            )
            llm = self._llm("repair", repair_prompt(given, grammar.prefix), given, grammar.max_bytes, grammar)
            outcome = {"round": number, "redone": list(plan.redone), "findings_before": burden(check)}
            repaired = None
            if llm.generated.finish_reason in ("complete", "stop"):
                try:
                    candidate = design_from_text(llm.generated.text, grammar, title=self.title)
                except DesignError:
                    candidate = None
                if candidate is not None:
                    candidate_resolved = resolve(candidate, self.p.kb)
                    candidate_check = check_design(candidate_resolved, run_spice=s.run_spice, reading=report.reading)
                    outcome["findings_after"] = burden(candidate_check)
                    if burden(candidate_check) < burden(check):
                        repaired = (candidate, candidate_check, candidate_resolved)
            outcome["kept"] = repaired is not None
            note = (
                f"repair round {number}: {outcome['findings_before']} -> {outcome.get('findings_after', '?')} "
                f"findings ({'kept' if repaired else 'not kept'}; re-decoded {', '.join(plan.redone) or 'new nets'})"
            )
            self._record("repair", given.model_dump(mode="json"), outcome, start, llm, [note, *plan.findings])
            if repaired is None:
                return resolved
            report.design, report.check, resolved = repaired
        return resolved

    # -- helpers ---------------------------------------------------------------------------------

    def _llm(self, stage: LlmStage, prompt: str, given: BaseModel, budget: int, grammar: Grammar | None) -> _LlmResult:
        """The stage's generation, from the cache when nothing it depends on changed (the grammar follows
        from the knowledge base and the settings, both in the key)."""
        section = self.profile.for_stage(stage) if self.profile is not None else None
        steered = section is not None and not section.is_empty
        key = _digest(
            {
                "stage": stage,
                "input": given.model_dump(),
                "steering": section.model_dump() if steered else None,  # an empty section steers nothing
                "mode": self.profile.mode if steered else None,
                "model": self.p.model_name,
                "settings": self.p.settings.model_dump(),
                "kb": self.kb_digest,
            }
        )
        cached = self.cache.get(key)
        if cached is not None:
            self.emit("token", stage, cached.generated.text)
            return cached.model_copy(update={"cached": True})
        call = StageCall(
            stage=stage, prompt=prompt, max_new_tokens=budget, time_limit_s=self.p.settings.stage_time_limit_s
        )
        try:
            generated, trace = generate_stage(
                self.p.engine,
                call,
                profile=self.profile,
                grammar=grammar,
                cancel=self.cancel,
                on_token=lambda text: self.emit("token", stage, text),
            )
        except StageGenerationError as exc:
            raise PipelineStopped(str(exc)) from None
        if generated.finish_reason == "cancelled":
            raise _Cancelled
        tokenizer = self.p.engine.tokenizer
        pieces = [tokenizer.decode([t]) for t in generated.token_ids]
        experts = self.p.engine.info.num_experts
        result = _LlmResult(
            generated=generated,
            routing=summarise(trace, generated.prompt_tokens, experts),
            token_routing=token_routing(trace, generated.prompt_tokens, pieces),
        )
        if generated.finish_reason != "timeout":  # greedy decoding: the same inputs give the same answer
            self.cache.put(key, result)
        return result

    def _require_complete(self, stage: LlmStage, generated: Generated, what: str) -> None:
        reasons: dict[FinishReason, str] = {
            "timeout": f"did not finish {what} within {self.p.settings.stage_time_limit_s:g} s",
            "max_new_tokens": f"did not finish {what} within {len(generated.token_ids)} tokens",
        }
        if generated.finish_reason in reasons:
            raise PipelineStopped(f"the {stage} stage {reasons[generated.finish_reason]}; try a shorter request")

    def _record(
        self,
        stage: StageName,
        given: dict,
        output: dict,
        start: float,
        llm: _LlmResult | None,
        messages: list[str] | None = None,
    ) -> None:
        record = StageRecord(
            stage=stage,
            input=given,
            output=output,
            seconds=round(time.perf_counter() - start, 4),
            cached=llm is not None and llm.cached,
            generation=llm.generated if llm else None,
            routing=llm.routing if llm else None,
            token_routing=llm.token_routing if llm else None,
            messages=messages or [],
        )
        self.report.stages.append(record)
        self.emit("stage_done", stage, record=record)

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise _Cancelled


def named_out_of_knowledge(reading: RequestReading | None, pinouts: PinoutsOutput) -> list[OutOfKnowledge]:
    """The part numbers the request names that the knowledge base lacks and identify did not report:
    whatever the model put in their place, the run says so (never a silent substitute)."""
    if reading is None:
        return []
    reported = [o.name for o in pinouts.out_of_knowledge]
    return [
        OutOfKnowledge(name=u.name, nearest=u.nearest, message=u.message + ".")
        for u in reading.unknown
        if not any(names_match(u.name, name) for name in reported)
    ]


def _pin_table(pinouts: PinoutsOutput) -> dict[str, list[dict]]:
    """Per part id, its pins as the studio's pinout table shows them."""
    return {
        part_id: [
            {"number": p.number, "name": p.name, "type": p.type.value, "roles": [r.value for r in p.roles]}
            for p in part.pins
        ]
        for part_id, part in pinouts.parts.items()
    }


def _title(request: str, limit: int = 120) -> str:
    """A design title from the request: its first ``limit`` characters, cut at a word."""
    if len(request) <= limit:
        return request
    return request[: request.rfind(" ", 0, limit)].rstrip(" ,.;") + "..."


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
