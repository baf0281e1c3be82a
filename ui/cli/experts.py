"""`circuit-studio experts ...`: look at and steer a MoE model's experts from the command line.

- ``inspect``: generate from a prompt (optionally under a steering profile) and summarise the routing
  per MoE layer: how many tokens each expert took, the usage entropy, the busiest experts.
- ``attribute``: rank the experts by how much more prompt set A uses them than contrast set B, and
  optionally write a suggested steering profile. A set's file is at most 4 MB and holds at most
  ``attribution.MAX_PROMPTS`` prompts of ``attribution.MAX_PROMPT_CHARS`` characters, each within the
  model's context; beyond that it is refused before the model loads.
- ``super``: profile the experts' activation peaks on some prompts and name the super experts, the
  few whose down-projection output dwarfs every other's (``studio.moe.super_experts``); keep them on.
- ``effect``: run requests unsteered, under a profile and under matched random controls, and measure a
  design behaviour on the netlist (``agents.effect``); ``--record`` writes the table into the profile.
  Exit 0 when the effect holds beyond every control, 1 when it does not.

Errors a user can cause (a model that cannot be loaded, an unsupported architecture, a profile for
another model shape or one its router cannot honour, an empty or oversized prompt file) print one line
to stderr and exit 2. torch and transformers
are imported when a sub-command runs, so the rest of the CLI starts fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from components_db.documents import json_record, read_lines
from components_db.text import printable
from studio.moe.profile import STAGES, SteeringProfile
from ui.cli.refusals import EXIT_REFUSED, InputError, reports_refusals

if TYPE_CHECKING:
    from studio.moe.engine import MoEEngine
    from studio.moe.specs import MoEInfo
    from studio.moe.super_experts import SuperExpertReport
    from studio.moe.trace import RoutingTrace

EXIT_OK, EXIT_ERROR = 0, EXIT_REFUSED
TOP_EXPERTS = 3
METHODS = ("risk-diff", "ftri", "npmi")  # attribution.METHODS, spelled out to keep torch out of start-up


class LayerSummary(BaseModel):
    layer: int  # MoE-layer index
    decoder_layer: int
    usage: list[int]  # tokens per expert
    entropy: float  # nats; log(E) is perfectly balanced
    top: list[int]  # busiest experts, busiest first


class InspectReport(BaseModel):
    model: str
    architecture: str
    profile: str | None
    stage: str
    mode: str
    prompt: str
    text: str  # the generated continuation
    prompt_tokens: int
    generated_tokens: int
    layers: list[LayerSummary]


def register(sub: argparse._SubParsersAction) -> None:
    experts = sub.add_parser("experts", help="inspect a MoE model's routing and attribute behaviour to experts")
    commands = experts.add_subparsers(dest="experts_command", required=True, metavar="ACTION")

    inspect = commands.add_parser("inspect", help="generate from a prompt and summarise the routing per MoE layer")
    inspect.add_argument("--model", required=True, help="hub id or local path of a MoE causal LM")
    inspect.add_argument("--prompt", required=True)
    inspect.add_argument("--profile", type=Path, help="steering profile JSON to generate under")
    inspect.add_argument("--stage", choices=[*STAGES, "*"], default="*", help="profile section to use (default *)")
    inspect.add_argument("--max-new-tokens", type=int, default=32)
    inspect.add_argument("--chat", action="store_true", help="wrap the prompt as a user turn (chat template)")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.set_defaults(handler=run_inspect)

    attribute = commands.add_parser("attribute", help="rank experts by behaviour A (set A) against contrast B")
    attribute.add_argument("--model", required=True, help="hub id or local path of a MoE causal LM")
    attribute.add_argument("--set-a", type=Path, required=True, help="prompts showing the behaviour (.txt or .jsonl)")
    attribute.add_argument("--set-b", type=Path, required=True, help="contrast prompts (.txt or .jsonl)")
    attribute.add_argument("--method", choices=METHODS, required=True)
    attribute.add_argument(
        "--target", action="append", metavar="TEXT", help="count only the tokens of this text (repeatable)"
    )
    attribute.add_argument("--top", type=int, default=10, help="rows of the ranked table (default 10)")
    attribute.add_argument("--out", type=Path, help="write a suggested steering profile here")
    attribute.add_argument("--suggest", type=int, default=4, help="experts in the suggested profile (default 4)")
    attribute.add_argument("--action", choices=["off", "force"], default="off", help="suggested: off or force")
    attribute.add_argument("--json", action="store_true", help="print the full ranked table as JSON")
    attribute.set_defaults(handler=run_attribute)

    effect = commands.add_parser(
        "effect", help="measure a profile's effect on a design behaviour against matched random controls"
    )
    effect.add_argument("--profile", type=Path, required=True, help="steering profile JSON")
    effect.add_argument(
        "--prompts", type=Path, required=True, help="requests where the behaviour matters (JSONL/lines)"
    )
    effect.add_argument("--behaviour", help="behaviour to measure (default: the profile's own behaviour field)")
    effect.add_argument("--utility", type=Path, help="requests without the behaviour: the right-rate it costs there")
    effect.add_argument("--controls", type=int, default=5, help="matched random controls (default 5)")
    effect.add_argument("--seed", type=int, default=0, help="seed of the controls' draws (default 0)")
    effect.add_argument("--model", help="hub id or local path of the model (default: the bundled model)")
    effect.add_argument("--limit", type=int, help="only the first N requests of each file")
    effect.add_argument("--out", type=Path, default=Path("effect-out"), help="folder for effect.json/.md/.png")
    effect.add_argument(
        "--record", action="store_true", help="write the behaviour and the measured table into the profile and a .md"
    )
    effect.set_defaults(handler=run_effect_command)

    sup = commands.add_parser(
        "super",
        help="find the super experts: the few whose output peaks dwarf every other's (keep them on)",
        description=SUPER_HELP,
    )
    sup.add_argument("--model", help="hub id or local path of the model (default: the bundled model)")
    given = sup.add_mutually_exclusive_group()
    given.add_argument("--prompt", help="profile on this text (default: a few built-in circuit requests)")
    given.add_argument("--prompts", type=Path, help="profile on these prompts (.txt lines or .jsonl with text)")
    sup.add_argument("--top", type=int, default=10, help="rows of the table: the largest peaks (default 10)")
    sup.add_argument("--json", action="store_true", help="print every expert's peak as JSON")
    sup.set_defaults(handler=run_super)

    cards = commands.add_parser(
        "cards",
        help="write expert cards (usage per stage, top tokens, job, measured effect) for the studio",
        description="Count each expert's usage per stage and the tokens it takes on held-out corpus rows, add "
        "its designated job and the harness result of that job's profile, and write expert_cards.json (the "
        "studio shows a card when you hover an expert). Exit 0, or 2 when the model or files cannot be used.",
    )
    cards.add_argument("--model", help="model folder (default: the bundled model)")
    cards.add_argument("--corpus", type=Path, required=True, help="corpus JSONL (its held-out rows are used)")
    cards.add_argument("--effect", type=Path, action="append", default=[], help="effect.json of a job profile")
    cards.add_argument("--rows", type=int, default=200, help="held-out rows per stage (default 200)")
    cards.add_argument("--out", type=Path, required=True, help="the JSON file to write (MODEL/expert_cards.json)")
    cards.set_defaults(handler=run_cards)


@reports_refusals
def run_cards(args: argparse.Namespace) -> int:
    from agents.bundled_model.cards import write_cards

    if args.rows < 1:
        raise InputError("--rows must be at least 1")
    for path in [args.corpus, *args.effect]:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    command = " ".join(
        ["circuit-studio experts cards", f"--corpus {args.corpus}", *(f"--effect {p}" for p in args.effect)]
        + ([f"--model {args.model}"] if args.model else [])
        + [f"--rows {args.rows}", f"--out {args.out}"]
    )
    try:
        write_cards(args.model, args.corpus, args.out, args.effect, per_stage=args.rows, command=command)
    except (ValueError, OSError) as exc:
        raise InputError(str(exc)) from None
    return EXIT_OK


@reports_refusals
def run_inspect(args: argparse.Namespace) -> int:
    if args.max_new_tokens < 1:
        raise InputError("--max-new-tokens must be at least 1")
    if not args.prompt.strip():
        raise InputError("--prompt is empty")
    profile = SteeringProfile.load(args.profile) if args.profile else None
    engine = _load(args.model)
    with engine.steer(profile, stage=args.stage, capture=True):
        generation = engine.generate(args.prompt, max_new_tokens=args.max_new_tokens, chat=args.chat)
    report = InspectReport(
        model=engine.info.name,
        architecture=engine.info.architecture,
        profile=profile.name if profile else None,
        stage=args.stage,
        mode=profile.mode if profile else "reroute",
        prompt=args.prompt,
        text=generation.text,
        prompt_tokens=len(generation.prompt_ids),
        generated_tokens=len(generation.token_ids),
        layers=summarize(generation.trace, engine.info),
    )
    print(report.model_dump_json(indent=2) if args.json else format_inspect(report))
    return EXIT_OK


@reports_refusals
def run_attribute(args: argparse.Namespace) -> int:
    from studio.moe.attribution import attribute, suggest_profile

    if args.top < 1 or args.suggest < 1:
        raise InputError("--top and --suggest must be at least 1")
    set_a, set_b = read_prompts(args.set_a, "A"), read_prompts(args.set_b, "B")
    engine = _load(args.model)
    result = attribute(engine, set_a, set_b, args.method, targets=args.target)
    if args.out:
        try:
            suggest_profile(result, args.suggest, args.action).save(args.out)
        except OSError as exc:
            raise InputError(f"{args.out}: cannot write the profile ({exc.strerror})") from None
    print(result.model_dump_json(indent=2) if args.json else result.format_table(args.top))
    if args.out:
        print(f"suggested profile ({args.action}, {args.suggest} experts) written to {args.out}", file=sys.stderr)
    return EXIT_OK


@reports_refusals
def run_effect_command(args: argparse.Namespace) -> int:
    from agents.batch import read_batch
    from studio.behaviours import BEHAVIOURS

    if args.controls < 1 or (args.limit is not None and args.limit < 1):
        raise InputError("--controls and --limit must be at least 1")
    profile = SteeringProfile.load(args.profile)
    behaviour = args.behaviour or profile.behaviour
    if behaviour is None:
        raise InputError(f"{args.profile} names no behaviour: give --behaviour ({', '.join(BEHAVIOURS)})")
    if behaviour not in BEHAVIOURS:
        raise InputError(f"behaviour {behaviour!r} is not one of {', '.join(BEHAVIOURS)}")
    prompts = read_batch(args.prompts)[: args.limit]
    utility = read_batch(args.utility)[: args.limit] if args.utility else []
    from agents.effect import describe, markdown, plot, run_effect
    from components_db import KnowledgeBase
    from ui.cli.design import open_pipeline

    pipeline = open_pipeline(args.model, KnowledgeBase.open(), profile)
    try:
        report = run_effect(
            pipeline,
            profile,
            prompts,
            behaviour,
            utility=utility,
            controls=args.controls,
            seed=args.seed,
            prompts_file=str(args.prompts),
            utility_file=str(args.utility) if args.utility else None,
            on_progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except ValueError as exc:  # a profile too large for matched controls, a file without requests
        raise InputError(str(exc)) from None
    table = markdown(report)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "effect.json").write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
        (args.out / "effect.md").write_text(table, encoding="utf-8")
        plot(report, args.out / "effect.png")
        if args.record:
            command = effect_command(args, behaviour)
            recorded = profile.model_copy(update={"behaviour": behaviour, "description": describe(report, command)})
            recorded.save(args.profile)
            plot(report, args.profile.with_suffix(".png"))
            note_path = args.profile.with_suffix(".md")
            figure = f"![behaviour rate per condition]({args.profile.with_suffix('.png').name})"
            note = f"{MEASURED}\n\n{table}\n{figure}\n\nMeasured with `{command}`.\n"
            found = found_section(note_path)
            note_path.write_text(note + (f"\n{found}" if found else ""), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{exc.filename}: cannot write ({exc.strerror})") from None
    print(table)
    return EXIT_OK if report.holds else 1


SUPER_HELP = (
    "A super expert is one of the few experts whose down-projection output reaches activation outliers: "
    "its largest |down_proj output| over the prompts is above both the 99.5th percentile of every "
    "(MoE layer, expert) peak and a tenth of the largest peak. Models lean on these outliers, so turning "
    "a super expert off in a steering profile can wreck the output. Each prompt runs alone through the "
    "model; the table lists the largest peaks, flagged ones marked. With fewer than 200 experts in all the "
    "largest peak is always flagged: compare the peaks. Exit 0, or 2 when the model or prompts cannot be used."
)


@reports_refusals
def run_super(args: argparse.Namespace) -> int:
    from studio.moe.super_experts import DEFAULT_PROMPTS, check_prompt_set, profile_super_experts

    if args.top < 1:
        raise InputError("--top must be at least 1")
    if args.prompt is not None:
        prompts = [args.prompt]
    elif args.prompts is not None:
        prompts = read_prompt_file(args.prompts)
    else:
        prompts = list(DEFAULT_PROMPTS)
    check_prompt_set(prompts)  # refused before the model loads
    engine = _load(args.model)
    report = profile_super_experts(engine, prompts)
    print(report.model_dump_json(indent=2) if args.json else format_super(report, args.top))
    return EXIT_OK


def format_super(report: SuperExpertReport, top: int) -> str:
    """The largest peaks as a table, super experts marked, after a line naming them."""
    flagged = report.super_experts
    named = ", ".join(f"layer {r.layer} expert {r.expert}" for r in flagged) or "none"
    lines = [
        f"{printable(report.model)}: {len(report.rows)} experts profiled on {report.prompts} prompt(s); "
        f"super experts (peak above {report.threshold:.4g}): {named}",
        f"{'layer':>5} {'decoder':>7} {'expert':>6} {'peak':>11} {'x limit':>7} {'tokens':>6}  super",
    ]
    for r in report.highest(top):
        ratio = r.max_abs / report.threshold if report.threshold > 0 else 0.0
        row = f"{r.layer:>5} {r.decoder_layer:>7} {r.expert:>6} {r.max_abs:>11.4g} {ratio:>7.2f} {r.tokens:>6}"
        lines.append(f"{row}  yes" if r.is_super else row)
    if report.few_experts:
        lines.append(f"note: {len(report.rows)} experts (under 200): the largest peak is always flagged")
    return "\n".join(lines)


MEASURED, FOUND = "## Measured effect", "## How it was found"


def found_section(note: Path) -> str:
    """The "How it was found" part of a profile's note (what the attribution ranked), kept when the
    measured part is rewritten."""
    text = note.read_text(encoding="utf-8") if note.is_file() else ""
    return text[text.index(FOUND) :] if FOUND in text else ""


def effect_command(args: argparse.Namespace, behaviour: str) -> str:
    """The command line that reproduces a measurement (quoted in the profile it records)."""
    parts = ["circuit-studio experts effect", f"--profile {args.profile}", f"--prompts {args.prompts}"]
    parts.append(f"--behaviour {behaviour}")
    if args.utility:
        parts.append(f"--utility {args.utility}")
    parts += [f"--controls {args.controls}", f"--seed {args.seed}"]
    if args.model:
        parts.append(f"--model {args.model}")
    if args.limit:
        parts.append(f"--limit {args.limit}")
    return " ".join(parts)


MAX_PROMPT_FILE_BYTES = 4_000_000  # attribution.MAX_PROMPTS prompts of MAX_PROMPT_CHARS, with room


def read_prompts(path: Path, name: str) -> list[str]:
    """Set ``name``'s prompts (``read_prompt_file``), refused beyond the attribution limits
    (``attribution.check_prompt_set``) before any model loads."""
    from studio.moe.attribution import check_prompt_set

    prompts = read_prompt_file(path)
    check_prompt_set(prompts, f"{name} ({path})")
    return prompts


def read_prompt_file(path: Path) -> list[str]:
    """Prompts one per non-blank line; a ``.jsonl`` file has one JSON object with a "text" field per
    line. An unreadable, oversized or empty file is refused."""
    lines = read_lines(path, MAX_PROMPT_FILE_BYTES, "prompt file")
    if not lines:
        raise InputError(f"{path}: no prompts (the file is empty)")
    if path.suffix != ".jsonl":
        return [line for _, line in lines]
    return [json_record(path, number, line, "text")["text"] for number, line in lines]


def summarize(trace: RoutingTrace, info: MoEInfo) -> list[LayerSummary]:
    """Per MoE layer: tokens per expert, usage entropy, busiest experts (ties: lower id first)."""
    summaries = []
    for layer in trace.layers:
        usage = layer.usage(info.num_experts).tolist()
        busiest = sorted(range(info.num_experts), key=lambda e: (-usage[e], e))[:TOP_EXPERTS]
        summaries.append(
            LayerSummary(
                layer=layer.moe_layer,
                decoder_layer=layer.decoder_layer,
                usage=usage,
                entropy=layer.entropy(),
                top=[e for e in busiest if usage[e] > 0],
            )
        )
    return summaries


def format_inspect(report: InspectReport) -> str:
    steering = f"profile {report.profile!r}, stage {report.stage}, {report.mode}" if report.profile else "unsteered"
    lines = [
        f"{report.model} ({report.architecture}), {steering}",
        f"prompt ({report.prompt_tokens} tokens): {printable(report.prompt)}",
        f"generated ({report.generated_tokens} tokens): {printable(report.text)}",
        f"{'layer':>5} {'decoder':>7} {'entropy':>7}  top experts (tokens)  usage per expert",
    ]
    for s in report.layers:
        top = " ".join(f"{e}:{s.usage[e]}" for e in s.top)
        lines.append(f"{s.layer:>5} {s.decoder_layer:>7} {s.entropy:>7.3f}  {top:<20}  {s.usage}")
    return "\n".join(lines)


def _load(model: str | None) -> MoEEngine:
    """The engine for ``model`` (default: the bundled model), opened as ``design`` opens it
    (``agents.model_opening.open_engine``), without transformers' progress bars (stderr is for our
    errors); the experts commands read text prompts, so a model without a tokenizer is refused."""
    from transformers.utils import logging

    from agents.model_opening import open_engine

    if model is not None and model.startswith(("/", ".", "~")) and not Path(model).expanduser().exists():
        raise InputError(f"{model}: no such model folder")
    logging.disable_progress_bar()
    engine, _ = open_engine(model)
    if engine.tokenizer is None:
        raise InputError(f"{model or 'the bundled model'} ships no tokenizer: the experts commands read text prompts")
    return engine
