"""`circuit-studio design` and `circuit-studio eval`: the design pipeline from the command line.

    circuit-studio design "ESP32 reads a DHT22 and switches a 12 V fan" --out design-out/
    circuit-studio design --batch requests.jsonl --out batch-out/
    circuit-studio eval --split dev --split test --split wild --baseline reference --out eval-out/

`design` streams the stages (and the reasoning as it is written) to stderr, prints a summary, and writes
every export, ``report.json``, ``plan.txt`` and the reference designer's suggestion (``suggestion/``).
Exit codes: 0 the design is right (it passes the ERC and is what the request asked for), 1 it is not,
2 the request, profile or model cannot be used or the run stopped (the message says why).

`design --batch FILE` runs every request of FILE (JSONL with ``id`` and ``prompt``, or one request per
line) in one process: ``DIR/<id>/`` holds each run's report and exports, ``DIR/index.jsonl`` a line per
request (id, status, ERC verdict, intent score, right, seconds); progress goes to stderr. Exit 0 when every
design is right, 1 when one is not, 2 when the file cannot be used.

`eval` runs each benchmark prompt through the pipeline and, with ``--baseline reference``, through the
rule-based baseline, and writes ``results.csv``, ``summary.md``, ``summary.json`` and ``summary.png``;
given several prompt files it does so per file (``DIR/<file>/``) and writes ``comparison.md`` with the
files side by side.

torch and the model stack are imported when a command runs, so the rest of the CLI starts fast.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from agents.request import clean_request
from components_db.text import printable
from studio.exports import check_output_folder
from ui.cli.check import EXIT_FAIL, EXIT_PASS, format_check
from ui.cli.refusals import InputError, refused, reports_refusals

if TYPE_CHECKING:
    from agents.evaluation.benchmark import BenchmarkPrompt
    from agents.evaluation.scoring import Aggregate, EvaluationSummary, PromptResult, Summary
    from agents.orchestrator import Pipeline, PipelineEvent, PipelineRun
    from agents.run_report import RunReport
    from components_db import KnowledgeBase
    from studio.moe.profile import SteeringProfile

BASELINES = ("reference",)
SPLITS = ("dev", "test", "wild")  # agents.evaluation.benchmark.SPLITS, spelled out to keep the start-up light


def register(sub: argparse._SubParsersAction) -> None:
    design = sub.add_parser("design", help="design a circuit from a sentence on a local MoE model")
    design.add_argument(
        "prompt", nargs="?", help='the circuit request, e.g. "ESP32 reads a DHT22 and switches a 12 V fan"'
    )
    design.add_argument(
        "--batch", type=Path, metavar="FILE", help="design every request of FILE (JSONL with id and prompt, or lines)"
    )
    _model_options(design)
    design.add_argument("--out", type=Path, default=Path("design-out"), help="output folder (default design-out)")
    design.add_argument("--json", action="store_true", help="print the run report as JSON instead of a summary")
    design.add_argument(
        "--substitute",
        action="append",
        default=[],
        metavar="NAME=ID",
        help="use knowledge-base part ID for NAME, a part the knowledge base lacks (repeatable), e.g. AS608=r307",
    )
    design.set_defaults(handler=run_design)

    evaluate = sub.add_parser("eval", help="score the pipeline (and a baseline) on benchmark prompt files")
    evaluate.add_argument(
        "--prompts", type=Path, action="append", default=[], help="benchmark JSONL (repeatable; benchmarks/prompts/)"
    )
    evaluate.add_argument(
        "--split", choices=SPLITS, action="append", default=[], help="a shipped split: dev, test or wild (repeatable)"
    )
    _model_options(evaluate)
    evaluate.add_argument("--baseline", choices=BASELINES, help="also evaluate this baseline, side by side")
    evaluate.add_argument("--baseline-only", action="store_true", help="evaluate only the baseline (no model)")
    evaluate.add_argument("--out", type=Path, default=Path("eval-out"), help="output folder (default eval-out)")
    evaluate.add_argument("--limit", type=int, help="only the first N prompts")
    evaluate.set_defaults(handler=run_eval)


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="hub id or local path of a MoE causal LM (default: the bundled model)")
    parser.add_argument("--profile", type=Path, help="steering profile JSON to run the stages under")
    parser.add_argument(
        "--no-repair", action="store_true", help="no repair rounds after synthesis: the first design stands"
    )


# -- design --------------------------------------------------------------------------------------


@reports_refusals
def run_design(args: argparse.Namespace) -> int:
    from components_db import KnowledgeBase

    if args.batch is not None:
        return run_batch(args)
    if args.prompt is None:
        raise InputError('give a request ("ESP32 reads a DHT22") or --batch FILE')
    clean_request(args.prompt)  # refuse an empty request, and an unusable --out, before loading a model
    check_output_folder(args.out)
    profile = read_profile(args.profile)
    kb = KnowledgeBase.open()
    substitutes = read_substitutes(args.substitute, kb)
    pipeline = open_pipeline(args.model, kb, profile)
    run = pipeline.run(
        args.prompt,
        profile=profile,
        on_event=Progress(sys.stderr),
        substitutes=substitutes,
        repair_rounds=_rounds(args),
    )
    report = run.report
    written = write_run(run, kb, args.out)
    print(report.model_dump_json(indent=2) if args.json else format_summary(report, written))
    if report.status != "ok":
        return refused(f"no design ({report.status}): {report.error}")
    return EXIT_PASS if report.right else EXIT_FAIL


def run_batch(args: argparse.Namespace) -> int:
    from agents.batch import BatchRow, read_batch
    from components_db import KnowledgeBase

    if args.prompt is not None:
        raise InputError("give either a request or --batch FILE, not both")
    requests = read_batch(args.batch)  # refuse a bad file or --out before loading a model
    check_output_folder(args.out)
    profile = read_profile(args.profile)
    kb = KnowledgeBase.open()
    pipeline = open_pipeline(args.model, kb, profile)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    with (args.out / "index.jsonl").open("w", encoding="utf-8") as index:
        for number, request in enumerate(requests, start=1):
            run = pipeline.run(request.prompt, profile=profile, repair_rounds=_rounds(args))
            write_run(run, kb, args.out / request.id)
            row = BatchRow.of(request.id, run.report)
            rows.append(row)
            index.write(row.model_dump_json() + "\n")
            index.flush()
            print(f"[{number}/{len(requests)}] {row.line()}", file=sys.stderr, flush=True)
    right = sum(r.right for r in rows)
    print(f"{right} of {len(rows)} designs right (ERC pass and intent met); index in {args.out / 'index.jsonl'}")
    return EXIT_PASS if right == len(rows) else EXIT_FAIL


def _rounds(args: argparse.Namespace) -> int | None:
    """The repair rounds of ``--no-repair`` (0), or None: the pipeline's settings."""
    return 0 if args.no_repair else None


def read_substitutes(given: list[str], kb: KnowledgeBase) -> list:
    """The ``--substitute NAME=ID`` pairs, each ID a knowledge-base part (refused in one line otherwise)."""
    from agents.grounding import SubstituteError, choose_substitutes

    substitutes = []
    for text in given:
        name, sep, part = (piece.strip() for piece in text.partition("="))
        if not sep or not name or not part:
            raise InputError(f"--substitute {text!r}: write NAME=ID, e.g. AS608=r307")
        try:
            substitutes += choose_substitutes([(name, part)], kb)
        except SubstituteError as exc:
            raise InputError(f"--substitute {text!r}: {exc}") from None
    return substitutes


def open_pipeline(model: str | None, kb: KnowledgeBase, profile: SteeringProfile | None = None) -> Pipeline:
    """The pipeline on ``model`` with its settings; ``profile`` (when given) is checked against the model."""
    from agents.model_opening import open_engine
    from agents.orchestrator import Pipeline

    engine, settings = open_engine(model)
    if profile is not None:
        profile.check_model(engine.info.identity())
    return Pipeline(engine, kb, settings)


def read_profile(path: Path | None) -> SteeringProfile | None:
    """The steering profile of ``--profile`` (refused with a ProfileError when unusable), or None."""
    from studio.moe.profile import SteeringProfile

    return SteeringProfile.load(path) if path else None


class Progress:
    """Pipeline events on a stream: each stage's start and end with seconds, the reasoning as it streams."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.mid_line = False

    def __call__(self, event: PipelineEvent) -> None:
        if event.kind == "token":
            if event.stage == "reason":
                self._write(event.text, end="")
                self.mid_line = not event.text.endswith("\n")
            return
        if self.mid_line:
            self._write("")
            self.mid_line = False
        if event.kind == "stage_started":
            self._write(f"[{event.stage}] started")
        elif event.kind == "stage_done" and event.record is not None:
            cached = " (cached)" if event.record.cached else ""
            self._write(f"[{event.stage}] done in {event.record.seconds:.2f} s{cached}")
        elif event.kind == "notice":
            self._write(f"notice: {event.text}")

    def _write(self, text: str, end: str = "\n") -> None:
        self.stream.write(text + end)
        self.stream.flush()


def write_run(run: PipelineRun, kb: KnowledgeBase, out: Path) -> list[Path]:
    """``report.json`` always; the plan, the exports and the suggestion's exports when the run made them.
    Each folder is written as ``studio.exports.write_files`` does: all or nothing, links replaced."""
    from spice.exports import EXPORTS
    from studio.circuit.resolve import resolve
    from studio.exports import write_exports, write_files

    report = run.report
    texts = {"report.json": report.model_dump_json(indent=2) + "\n"}
    if report.plan is not None:
        texts["plan.txt"] = report.plan + "\n"
    written = list(write_files(out, texts).values())
    if run.resolved is not None:
        written += write_exports(run.resolved, out, exports=EXPORTS).values()
    suggestion = report.suggestion
    if suggestion is not None and suggestion.design is not None:
        written += write_exports(resolve(suggestion.design, kb), out / "suggestion", exports=EXPORTS).values()
        written += write_files(out / "suggestion", {"plan.txt": suggestion.plan + "\n"}).values()
    return written


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def format_summary(report: RunReport, written: list[Path]) -> str:
    profile = f", profile {report.profile.name!r}" if report.profile else ""
    lines = [
        f"Request: {report.request}",
        f"Model: {report.model.name}{profile}",
        f"Status: {report.status} in {report.total_seconds:.1f} s" + (f" - {report.error}" if report.error else ""),
    ]
    lines += [f"Notice: {notice}" for notice in report.notices]
    if report.bill:
        lines.append("Parts:")
        width = max(len(line.ref) for line in report.bill)
        for line in report.bill:
            value = f" {line.value}" if line.value else ""
            role = f" - {line.role}" if line.role else ""
            lines.append(f"  {line.ref:<{width}}  {line.part}{value}{role}")
    if report.out_of_knowledge:
        lines.append("Out of knowledge:")
        lines += [f"  - {o.message}" for o in report.out_of_knowledge]
    if report.plan_departures:
        lines.append("Where the design departs from the plan:")
        lines += [f"  - {line}" for line in report.plan_departures]
    if report.check is not None:
        lines.append(format_check(report.check))
        lines.append(f"Right: {'yes' if report.right else 'no'} (ERC pass and intent met)")
    suggestion = report.suggestion
    if suggestion is not None:
        if suggestion.check is not None:
            verdict = "PASS" if suggestion.check.passed else "FAIL"
            lines.append(f"Suggestion (reference designer): ERC {verdict}, in suggestion/")
        elif suggestion.error:
            lines.append(f"Suggestion (reference designer): none - {suggestion.error}")
    if written:
        lines.append(f"Wrote {len(written)} file(s) to {written[0].parent}")
    return "\n".join(printable(row) for line in lines for row in line.split("\n"))  # format_check's are multi-line


# -- eval ----------------------------------------------------------------------------------------


@reports_refusals
def run_eval(args: argparse.Namespace) -> int:
    from agents.evaluation.benchmark import load_benchmark, prompt_file
    from agents.evaluation.outcome import Outcome
    from agents.evaluation.run import evaluate
    from agents.evaluation.scoring import EvaluationSummary, summaries
    from agents.reference.baseline import ReferenceBaseline
    from components_db import KnowledgeBase

    if args.limit is not None and args.limit < 1:
        raise InputError("--limit must be at least 1")
    if args.baseline_only and not args.baseline:
        raise InputError("--baseline-only needs --baseline")
    files = list(dict.fromkeys([*args.prompts, *(prompt_file(split) for split in args.split)]))
    if not files:
        raise InputError("name the prompts: --prompts FILE or --split dev|test|wild (each repeatable)")
    sets = {path: load_benchmark(path)[: args.limit] for path in files}  # every file checked before a model loads
    kb = KnowledgeBase.open()
    kb.search("warm up", top=1)  # the first search loads the embedding model: not part of any prompt's latency
    systems = {}
    model = profile = None
    if not args.baseline_only:
        steering = read_profile(args.profile)
        pipeline = open_pipeline(args.model, kb, steering)
        model, profile = pipeline.model_name, steering.name if steering else None

        def run_pipeline(text: str) -> Outcome:
            return Outcome.from_report(pipeline.run(text, profile=steering, repair_rounds=_rounds(args)).report)

        systems["pipeline"] = run_pipeline
    if args.baseline:
        systems[args.baseline] = ReferenceBaseline(kb).run
    evaluated: dict[str, EvaluationSummary] = {}
    written: list[Path] = []
    for path, prompts in sets.items():
        label = path.stem if len(sets) > 1 else ""
        results = evaluate(prompts, systems, kb, on_result=_progress_line(len(prompts), label))
        summary = EvaluationSummary(
            prompts_file=str(path), prompts=len(prompts), model=model, profile=profile, systems=summaries(results)
        )
        written += write_eval(results, summary, args.out / label if label else args.out)
        evaluated[path.stem] = summary
    if len(evaluated) > 1:
        table = markdown_table(*comparison_rows(evaluated))
        written.append(_write_text(args.out / "comparison.md", f"# Evaluation side by side\n\n{table}\n"))
        print(table)
    else:
        print(markdown_table(*overall_rows(next(iter(evaluated.values())))))
    print(f"\nWrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return EXIT_PASS


def _progress_line(total: int, label: str = "") -> Callable[[BenchmarkPrompt, list[PromptResult]], None]:
    done = 0

    def show(prompt: BenchmarkPrompt, rows: list[PromptResult]) -> None:
        nonlocal done
        done += 1
        parts = [
            f"{r.system} F1 {r.f1:.2f} ERC@1 {'pass' if r.erc_pass else 'fail'}"
            f" repaired {'pass' if r.erc_pass_repaired else 'fail'} intent {r.intent_score:.2f}"
            f"{' right' if r.right else ''} {r.seconds:.1f} s" + ("" if r.status == "ok" else f" ({r.status})")
            for r in rows
        ]
        where = f"{label} " if label else ""
        print(f"[{where}{done}/{total}] {prompt.id} " + " | ".join(parts), file=sys.stderr, flush=True)

    return show


def write_eval(results: list[PromptResult], summary: EvaluationSummary, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.csv", out / "summary.md", out / "summary.json", out / "summary.png"]
    _write_csv(results, paths[0])
    _write_text(paths[1], summary_markdown(results, summary))
    _write_text(paths[2], summary.model_dump_json(indent=2) + "\n")
    plot_summary(summary, paths[3])
    return paths


def _write_csv(results: list[PromptResult], path: Path) -> None:
    stages = list(dict.fromkeys(stage for r in results for stage in r.stage_seconds))
    rows = []
    for r in results:
        row = r.model_dump(mode="json", exclude={"stage_seconds"})
        row.update({f"seconds_{stage}": r.stage_seconds.get(stage, "") for stage in stages})
        rows.append(row)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


METRICS: tuple[tuple[str, str], ...] = (
    ("prompts", "prompts"),
    ("precision", "part precision"),
    ("recall", "part recall"),
    ("f1", "part F1"),
    ("validity", "design validity"),
    ("erc_pass", "ERC pass@1"),
    ("erc_pass_repaired", "ERC pass after repair"),
    ("intent_score", "intent score"),
    ("right_rate_at_1", "right-rate@1 (first synthesis)"),
    ("right_rate", "right-rate (ERC pass and intent met, after repair)"),
    ("structural", "structural score"),
    ("electrical", "electrical score"),
    ("ook_recall", "out-of-knowledge recall"),
    ("false_ook_rate", "false out-of-knowledge rate"),
    ("stopped", "runs stopped"),
    ("seconds_p50", "latency p50 (s)"),
    ("seconds_p95", "latency p95 (s)"),
    ("tokens_mean", "tokens generated (mean)"),
)
GROUP_METRICS = (
    ("f1", "F1"),
    ("erc_pass", "ERC"),
    ("intent_score", "intent"),
    ("right_rate", "right"),
    ("validity", "valid"),
    ("seconds_p50", "p50 s"),
)
# the side-by-side table of several prompt files: overall, then per difficulty
COMPARED = (
    ("recall", "part recall"),
    ("f1", "part F1"),
    ("erc_pass", "ERC pass@1"),
    ("erc_pass_repaired", "ERC pass after repair"),
    ("intent_score", "intent score"),
    ("right_rate_at_1", "right-rate@1"),
    ("right_rate", "right-rate after repair"),
)


def overall_rows(summary: EvaluationSummary) -> tuple[list[str], list[list[str]]]:
    names = list(summary.systems)
    rows = [[label, *(_cell(getattr(summary.systems[n].overall, key)) for n in names)] for key, label in METRICS]
    rows.insert(4, ["part F1, prompts in the KB", *(_cell(summary.systems[n].f1_in_kb) for n in names)])
    return ["metric", *names], rows


def comparison_rows(evaluated: dict[str, EvaluationSummary]) -> tuple[list[str], list[list[str]]]:
    """Metrics as rows; one column per prompt file and system ("test pipeline", "test reference")."""
    columns = [(name, system) for name, summary in evaluated.items() for system in summary.systems]
    header = ["metric", *(f"{name} {system}" for name, system in columns)]
    rows = [["prompts", *(str(evaluated[n].systems[s].overall.prompts) for n, s in columns)]]
    rows += [
        [label, *(_cell(getattr(evaluated[n].systems[s].overall, key)) for n, s in columns)] for key, label in COMPARED
    ]
    for difficulty in ("easy", "medium", "hard"):
        for key, label in (("right_rate_at_1", "right-rate@1"), ("right_rate", "right-rate after repair")):
            cells = []
            for n, s in columns:
                group = evaluated[n].systems[s].by_difficulty.get(difficulty)
                cells.append(f"{_cell(getattr(group, key))} ({group.prompts})" if group else "-")
            rows.append([f"{label}, {difficulty}", *cells])
    return header, rows


def summary_markdown(results: list[PromptResult], summary: EvaluationSummary) -> str:
    names = list(summary.systems)
    steering = f", profile {summary.profile}" if summary.profile else ""
    model = f"model {summary.model}{steering}" if summary.model else "no model (baseline only)"
    sections = [f"# Evaluation of {summary.prompts} prompts from {summary.prompts_file}\n\n{model}"]
    sections.append("## Overall\n\n" + markdown_table(*overall_rows(summary)))
    for group in ("difficulty", "style", "domain"):
        header = [group, "prompts", *(f"{n} {label}" for n in names for _, label in GROUP_METRICS)]
        groups = getattr(summary.systems[names[0]], f"by_{group}")
        rows = []
        for value in groups:
            per_system = [getattr(summary.systems[n], f"by_{group}")[value] for n in names]
            rows.append(
                [value, str(per_system[0].prompts)]
                + [_cell(getattr(a, key)) for a in per_system for key, _ in GROUP_METRICS]
            )
        sections.append(f"## By {group}\n\n" + markdown_table(header, rows))
    by_prompt: dict[str, dict[str, PromptResult]] = {}
    for r in results:
        by_prompt.setdefault(r.id, {})[r.system] = r
    header = ["id", "difficulty", "style", "domain"]
    header += [f"{n} {label}" for n in names for label in ("F1", "ERC", "intent", "right", "s", "status")]
    rows = []
    for rows_of in by_prompt.values():
        first = next(iter(rows_of.values()))
        row = [first.id, first.difficulty, first.style, first.domain]
        for n in names:
            r = rows_of[n]
            row += [_cell(r.f1), _cell(r.erc_pass), _cell(r.intent_score), _cell(r.right), _cell(r.seconds), r.status]
        rows.append(row)
    sections.append("## Per prompt\n\n" + markdown_table(header, rows))
    return "\n\n".join(sections) + "\n"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def plot_summary(summary: EvaluationSummary, path: Path) -> None:
    """Per difficulty (and overall), one panel per system with F1 / ERC pass / validity bars, and a panel
    with each system's p50 latency (log scale: a model run and a rule run differ by orders of magnitude)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary.systems)
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(5 * (len(names) + 1), 4), squeeze=False)
    groups = [*summary.systems[names[0]].by_difficulty, "all"]
    quality = (("f1", "part F1"), ("erc_pass", "ERC pass@1"), ("intent_score", "intent"), ("right_rate", "right"))
    width = 0.8 / len(quality)
    for ax, name in zip(axes[0], names, strict=False):
        aggregates = _by_difficulty_and_all(summary.systems[name])
        for i, (key, label) in enumerate(quality):
            xs = [g + (i - (len(quality) - 1) / 2) * width for g in range(len(groups))]
            ax.bar(xs, [getattr(aggregates[g], key) for g in groups], width, label=label)
        ax.set(title=name, xticks=range(len(groups)), xticklabels=groups, ylim=(0, 1.05))
        ax.legend(loc="lower right", fontsize="small")
    latency = axes[0][-1]
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        aggregates = _by_difficulty_and_all(summary.systems[name])
        xs = [g + (i - (len(names) - 1) / 2) * width for g in range(len(groups))]
        latency.bar(xs, [max(aggregates[g].seconds_p50, 1e-3) for g in groups], width, label=name)
    latency.set(title="latency p50 (s)", xticks=range(len(groups)), xticklabels=groups, yscale="log")
    latency.legend(fontsize="small")
    fig.suptitle(f"{summary.prompts} prompts from {Path(summary.prompts_file).name}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _by_difficulty_and_all(summary: Summary) -> dict[str, Aggregate]:
    return {**summary.by_difficulty, "all": summary.overall}
