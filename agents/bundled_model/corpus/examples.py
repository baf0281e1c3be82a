"""The corpus rows: requests drafted about sampled projects (``draft_requests``), then for each the exact
prompt and answer of its LLM stages, taught by the reference designer (``build_examples``, ``generate``;
``generate_designs`` for reason and synthesize rows only). A project gets ``IDENTIFY_PER_PROJECT``
identify examples; its first request also a reason and a synthesize one when the design is ``teachable``."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from agents.bundled_model.corpus.bounds import BUNDLED_BOUNDS
from agents.bundled_model.corpus.holdout import GENERATION_MARGIN, NEAR_COPY, Benchmark
from agents.bundled_model.corpus.noise import noisy, surface_unknown
from agents.bundled_model.corpus.projects import Project, ProjectSampler
from agents.bundled_model.corpus.repairs import repair_example
from agents.bundled_model.corpus.requests import Writer
from agents.bundled_model.corpus.retrieval import BatchRetriever
from agents.identify import IdentifyInput, answer_text, identify_prompt
from agents.parts_list import PartsList
from agents.synthesize import GrammarBounds
from agents.teacher import teach
from studio.circuit.resolve import resolve
from studio.erc import run_erc

IDENTIFY_PER_PROJECT = 3
REPAIR_RATE = 0.33  # the share of teachable projects that also yield a repair row (``corpus.repairs``)
STYLES = {
    "imperative": 16,
    "question": 12,
    "subject_verb": 16,
    "terse": 12,
    "list": 7,
    "story": 9,
    "goal": 12,
    "titled": 6,
    # wording beyond the templates (requests.NEW_STYLES): ~39 % of requests
    "goal_story": 15,
    "context_question": 14,
    "multi": 14,
    "colloquial": 14,
}


@dataclass
class Draft:
    """A request about a project, before retrieval."""

    project: Project
    core: PartsList
    request: str
    stages: tuple[str, ...]  # which stage examples this request makes


def draft_requests(
    kb,
    n_projects: int,
    seed: int,
    *,
    identify_per_project: int = IDENTIFY_PER_PROJECT,
    unknown_only: float = 0.015,
    benchmark: Benchmark | None = None,
) -> Iterator[Draft]:
    """Projects and their requests (deterministic for ``seed``); near-copies of the benchmark are skipped."""
    rng = random.Random(seed)
    sampler = ProjectSampler(kb, rng)
    writer = Writer(kb, rng)
    benchmark = benchmark or Benchmark()
    styles, weights = list(STYLES), list(STYLES.values())
    for _ in range(n_projects):
        if rng.random() < unknown_only:
            project, core = sampler.unknown_only(), None
        else:
            project, core = sampler.sample()
        seen: set[str] = set()
        for i in range(identify_per_project):
            for _attempt in range(6):
                style = rng.choices(styles, weights=weights)[0]
                names = [n for n, _ in project.unknown]
                text = noisy(writer.request(project, style), rng, protect=names)
                surfaced = surface_unknown(text, names)
                if surfaced is None or text.lower() in seen or benchmark.near_copy(text, NEAR_COPY - GENERATION_MARGIN):
                    continue
                if len(text) > 1000:
                    continue
                seen.add(text.lower())
                this_core = (core or PartsList()).model_copy(update={"unknown": surfaced})
                full = i == 0 and core is not None and bool(core.parts)
                yield Draft(project, this_core, text, ("identify", "reason", "synthesize") if full else ("identify",))
                break


def erc_passes(design, kb) -> bool:
    return run_erc(resolve(design, kb)).passed


def fits(design, bounds: GrammarBounds = BUNDLED_BOUNDS) -> bool:
    """Whether the synthesis grammar with ``bounds`` admits ``design``'s nets."""
    return len(design.nets) <= bounds.max_nets and all(
        len(n.pins) <= bounds.max_pins_per_net and len(n.name) <= bounds.max_net_name for n in design.nets
    )


def teachable(design, kb) -> bool:
    """A reference design worth teaching the reason and synthesize stages: inside the grammar, ERC pass."""
    return fits(design) and erc_passes(design, kb)


def build_examples(
    kb,
    drafts: Sequence[Draft],
    split: str,
    retriever: BatchRetriever | None = None,
    *,
    repairs: float = REPAIR_RATE,
) -> Iterator[dict]:
    """The stage rows of ``drafts``: every request's identify example; the full teacher example (with
    reason and synthesize) where its draft asks for one and the reference design passes the ERC, and
    for a ``repairs`` share of those a repair row (``repair_rows``)."""
    retriever = retriever or BatchRetriever(kb)
    candidates = retriever.candidates([d.request for d in drafts])
    bills: dict[str, PartsList] = {}  # project id -> the teacher's part list (the same for every request)
    for draft, cands in zip(drafts, candidates, strict=True):
        row = {"split": split, "project": draft.project.id, "request": draft.request}
        prompt = identify_prompt(IdentifyInput(request=draft.request, candidates=cands))
        if not draft.core.parts:
            answer = answer_text(PartsList(parts=[], unknown=draft.core.unknown))
            yield {**row, "stage": "identify", "prompt": prompt, "answer": answer}
            continue
        bill = bills.get(draft.project.id)
        if bill is None or len(draft.stages) > 1:
            try:
                example = teach(draft.request, draft.core, cands, kb)
            except Exception:  # a gap of the designer on this combination: skip it
                continue
            bill = bills[draft.project.id] = example.parts
            if len(draft.stages) > 1 and teachable(example.design, kb):
                stages = {s.stage: s for s in example.stages}
                for name in ("reason", "synthesize"):
                    yield {**row, "stage": name, "prompt": stages[name].prompt, "answer": stages[name].answer}
                yield from repair_rows(example, kb, row, repairs)
        answer = answer_text(bill.model_copy(update={"unknown": list(draft.core.unknown)}))
        implied = sorted({pid for unit in draft.project.units for pid in unit.implied})
        yield {**row, "stage": "identify", "prompt": prompt, "answer": answer, "implied": implied}


def repair_rows(example, kb, row: dict, rate: float) -> Iterator[dict]:
    """A repair row for ``example`` with probability ``rate``, decided (and broken) by a generator seeded
    with its request: the same corpus seed gives the same rows."""
    rng = random.Random(f"repair:{row['request']}")
    if rate <= 0 or rng.random() >= rate:
        return
    found = repair_example(example, kb, rng)
    if found is not None:
        kind, stage = found
        yield {**row, "stage": "repair", "prompt": stage.prompt, "answer": stage.answer, "break": kind}


def generate(
    kb, n_projects: int, seed: int, split: str, *, batch: int = 2000, repairs: float = REPAIR_RATE, **kwargs
) -> Iterator[dict]:
    """``draft_requests`` then ``build_examples``, in batches (memory stays flat for a large corpus)."""
    retriever = BatchRetriever(kb)
    pending: list[Draft] = []
    for draft in draft_requests(kb, n_projects, seed, **kwargs):
        pending.append(draft)
        if len(pending) >= batch:
            yield from build_examples(kb, pending, split, retriever, repairs=repairs)
            pending, retriever.vectors = [], {}
    if pending:
        yield from build_examples(kb, pending, split, retriever, repairs=repairs)


def generate_designs(kb, n_projects: int, seed: int, split: str, *, repairs: float = REPAIR_RATE) -> Iterator[dict]:
    """Reason and synthesize rows only, for more wiring variety at no retrieval cost (those prompts
    carry no candidates): one request per project, ERC-passing reference designs only."""
    rng = random.Random(seed)
    sampler = ProjectSampler(kb, rng)
    writer = Writer(kb, rng)
    benchmark = Benchmark()
    styles, weights = list(STYLES), list(STYLES.values())
    for _ in range(n_projects):
        project, core = sampler.sample()
        if not core.parts:
            continue
        names = [n for n, _ in project.unknown]
        text = noisy(writer.request(project, rng.choices(styles, weights=weights)[0]), rng, protect=names)
        surfaced = surface_unknown(text, names)
        if surfaced is None or len(text) > 1000 or benchmark.near_copy(text, NEAR_COPY - GENERATION_MARGIN):
            continue
        try:
            example = teach(text, core.model_copy(update={"unknown": surfaced}), [], kb)
        except Exception:  # a gap of the designer on this combination: skip it
            continue
        if not teachable(example.design, kb):
            continue
        row = {"split": split, "project": f"d{project.id}", "request": text}
        for stage in example.stages[1:]:
            yield {**row, "stage": stage.stage, "prompt": stage.prompt, "answer": stage.answer}
        yield from repair_rows(example, kb, row, repairs)
