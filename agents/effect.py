"""Does a steering profile change the design behaviour it names, and more than random experts would?

    report = run_effect(pipeline, profile, prompts, "led-resistor", utility=other_prompts, controls=5)
    print(markdown(report))

Every request runs unsteered, under the profile, and under ``controls`` random profiles matched to it:
the same stage sections, in each MoE layer the same number of experts off and forced on, drawn (one
seed each) from the experts the profile leaves alone in that layer. For each condition the behaviour
(``studio.behaviours``, measured on the netlist and parts, never on role strings) is counted over the
designs where it applies, with a 95 % Wilson interval; beside it the ERC pass, the intent score, how
many designs changed from the unsteered run and, on a second request file that does not involve the
behaviour, the right-rate (ERC pass and intent met): what the profile costs elsewhere. Fisher's exact
test compares the profile with the controls pooled. The effect *holds* only when the profile's interval
is clear of the unsteered one and of every control's, on the same side, and p < 0.05.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel
from scipy.stats import binomtest, fisher_exact

from agents.batch import BatchRequest
from agents.orchestrator import Pipeline
from agents.run_report import RunReport
from studio.behaviours import BEHAVIOURS, measure
from studio.circuit.resolve import resolve
from studio.moe.profile import LayerSteering, StageSteering, SteeringProfile
from studio.moe.toggles import summary

CONFIDENCE = 0.95
SIGNIFICANCE = 0.05


class Rate(BaseModel):
    k: int
    n: int
    low: float | None  # Wilson interval; None when n is 0
    high: float | None

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    def text(self) -> str:
        if not self.n:
            return "- (0)"
        return f"{self.k}/{self.n} = {self.value:.0%} [{self.low:.0%}, {self.high:.0%}]"


def rate(k: int, n: int) -> Rate:
    if n == 0:
        return Rate(k=0, n=0, low=None, high=None)
    ci = binomtest(k, n).proportion_ci(CONFIDENCE, method="wilson")
    return Rate(k=k, n=n, low=float(ci.low), high=float(ci.high))


class Condition(BaseModel):
    label: str  # "unsteered", "profile", "control 1", ...
    steering: list[str]  # what it switches, one line per section and layer
    behaviour: Rate  # designs showing the behaviour, of those where it applies
    designs: Rate  # requests that got a design
    erc_pass: Rate
    intent_score: float  # mean over the requests (0 without a design)
    changed: Rate  # designs different from the unsteered run's
    utility_right: Rate | None = None  # right-rate on the request file without the behaviour


class EffectReport(BaseModel):
    profile: str
    behaviour: str
    question: str
    model: str
    prompts_file: str
    utility_file: str | None
    controls: int
    seed: int
    conditions: list[Condition]
    p_value: float | None  # Fisher: the profile against the pooled controls
    holds: bool
    verdict: str

    def condition(self, label: str) -> Condition:
        return next(c for c in self.conditions if c.label == label)


def matched_controls(profile: SteeringProfile, n: int, seed: int) -> list[SteeringProfile]:
    """``n`` random profiles with the profile's shape: per stage section and MoE layer as many experts off
    and forced on, drawn from the experts the profile does not touch in that layer (one seed each)."""
    experts = profile.model.experts_per_layer
    touched: dict[int, set[int]] = {}
    for section in profile.stages.values():
        for layer, steer in section.layers.items():
            touched.setdefault(layer, set()).update(steer.off, steer.force, steer.bias, steer.scale)
    controls = []
    for index in range(1, n + 1):
        rng = random.Random(f"{seed}-{index}")
        stages = {}
        for stage, section in profile.stages.items():
            layers = {}
            for layer, steer in sorted(section.layers.items()):
                free = [e for e in range(experts) if e not in touched.get(layer, set())]
                if len(free) < len(steer.off) + len(steer.force):
                    raise ValueError(f"layer {layer}: too few experts left alone to draw a matched control")
                drawn = rng.sample(free, len(steer.off) + len(steer.force))
                off, force = sorted(drawn[: len(steer.off)]), sorted(drawn[len(steer.off) :])
                layers[layer] = LayerSteering(off=off, force=force, top_k=steer.top_k)
            stages[stage] = StageSteering(layers=layers)
        controls.append(
            profile.model_copy(
                update={
                    "name": f"control-{index}",
                    "description": f"matched random control {index} of {profile.name} (seed {seed})",
                    "behaviour": None,
                    "stages": stages,
                }
            )
        )
    return controls


Progress = Callable[[str], None]


def run_effect(
    pipeline: Pipeline,
    profile: SteeringProfile,
    prompts: Sequence[BatchRequest],
    behaviour: str,
    *,
    utility: Sequence[BatchRequest] = (),
    controls: int = 5,
    seed: int = 0,
    prompts_file: str = "",
    utility_file: str | None = None,
    on_progress: Progress | None = None,
) -> EffectReport:
    if behaviour not in BEHAVIOURS:
        raise ValueError(f"behaviour {behaviour!r} is not one of {', '.join(BEHAVIOURS)}")
    if not prompts:
        raise ValueError("no requests to measure the behaviour on")
    if controls < 1:
        raise ValueError("at least one control is needed (5 or more to claim an effect)")
    say = on_progress or (lambda _: None)
    runs: list[tuple[str, SteeringProfile | None]] = [("unsteered", None), ("profile", profile)]
    runs += [(f"control {i}", c) for i, c in enumerate(matched_controls(profile, controls, seed), start=1)]
    baseline: list[str] = []
    conditions = []
    for label, steering in runs:
        reports = _run_all(pipeline, prompts, steering, f"{label}, {behaviour}", say)
        keys = [_design_key(r) for r in reports]
        if label == "unsteered":
            baseline = keys
        verdicts = [_shown(pipeline, r, behaviour) for r in reports]
        useful = _run_all(pipeline, utility, steering, f"{label}, utility", say) if utility else []
        applicable = [v for v in verdicts if v is not None]
        made = [r for r in reports if r.design is not None]
        conditions.append(
            Condition(
                label=label,
                steering=summary(steering) or ["nothing"],
                behaviour=rate(sum(applicable), len(applicable)),
                designs=rate(len(made), len(reports)),
                erc_pass=rate(sum(r.passed for r in reports), len(reports)),
                intent_score=round(statistics.fmean(_intent(r) for r in reports), 4),
                changed=rate(sum(k != b for k, b in zip(keys, baseline, strict=True)), len(reports)),
                utility_right=rate(sum(r.right for r in useful), len(useful)) if utility else None,
            )
        )
    p_value, holds = _verdict(conditions)
    return EffectReport(
        profile=profile.name,
        behaviour=behaviour,
        question=BEHAVIOURS[behaviour].question,
        model=pipeline.model_name,
        prompts_file=prompts_file,
        utility_file=utility_file,
        controls=controls,
        seed=seed,
        conditions=conditions,
        p_value=p_value,
        holds=holds,
        verdict=_verdict_text(conditions, p_value, holds),
    )


def _run_all(
    pipeline: Pipeline, prompts: Sequence[BatchRequest], steering: SteeringProfile | None, label: str, say: Progress
) -> list[RunReport]:
    reports = []
    for number, request in enumerate(prompts, start=1):
        reports.append(pipeline.run(request.prompt, profile=steering).report)
        say(f"[{label} {number}/{len(prompts)}] {request.id} {reports[-1].status}")
    return reports


def _shown(pipeline: Pipeline, report: RunReport, behaviour: str) -> bool | None:
    if report.design is None or report.check is None:
        return None
    return measure(behaviour, resolve(report.design, pipeline.kb), report.check.erc)


def _design_key(report: RunReport) -> str:
    return report.design.model_dump_json() if report.design is not None else ""


def _intent(report: RunReport) -> float:
    check = report.check
    return check.intent.score if check is not None and check.intent is not None else 0.0


def _verdict(conditions: list[Condition]) -> tuple[float | None, bool]:
    base, steered = conditions[0].behaviour, conditions[1].behaviour
    controls = [c.behaviour for c in conditions[2:]]
    pooled_k, pooled_n = sum(c.k for c in controls), sum(c.n for c in controls)
    if not steered.n or not pooled_n or not base.n:
        return None, False
    _, p = fisher_exact([[steered.k, steered.n - steered.k], [pooled_k, pooled_n - pooled_k]])
    lower = (steered.value or 0.0) < (base.value or 0.0)
    others = [base, *controls]
    if lower:
        clear = all(c.n and steered.high < c.low for c in others)
    else:
        clear = all(c.n and steered.low > c.high for c in others)
    return float(p), bool(clear and p < SIGNIFICANCE)


def _verdict_text(conditions: list[Condition], p_value: float | None, holds: bool) -> str:
    base, steered = conditions[0].behaviour, conditions[1].behaviour
    controls = [c.behaviour for c in conditions[2:]]
    if p_value is None:
        return "no verdict: the behaviour applied to no design in some condition"
    span = ", ".join(f"{c.value:.0%}" for c in controls if c.n)
    what = f"{base.value:.0%} unsteered, {steered.value:.0%} with the profile, {span} with the controls"
    if holds:
        return f"holds: {what}; the profile's interval is clear of every control's (p = {p_value:.3g})"
    return f"does not hold: {what}; random experts do as much or its interval overlaps (p = {p_value:.3g})"


# -- presenting it ---------------------------------------------------------------------------------


def markdown(report: EffectReport) -> str:
    header = ["condition", "behaviour shown (95% CI)", "designs", "ERC pass", "intent", "changed", "utility right"]
    lines = [
        f"**{report.profile}** against `{report.behaviour}` ({report.question}), {report.model}, "
        f"{report.controls} matched random controls (seed {report.seed}); requests: `{report.prompts_file}`"
        + (f", utility: `{report.utility_file}`" if report.utility_file else ""),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for c in report.conditions:
        cells = [
            c.label,
            c.behaviour.text(),
            f"{c.designs.k}/{c.designs.n}",
            f"{c.erc_pass.value:.0%}" if c.erc_pass.n else "-",
            f"{c.intent_score:.2f}",
            f"{c.changed.k}/{c.changed.n}",
            c.utility_right.text() if c.utility_right is not None else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    p = f"{report.p_value:.3g}" if report.p_value is not None else "-"
    lines += ["", f"Fisher's exact test, profile vs pooled controls: p = {p}. Verdict: {report.verdict}."]
    return "\n".join(lines) + "\n"


def plot(report: EffectReport, path: Path) -> None:
    """Bars of the behaviour rate per condition with their 95 % intervals (controls in grey)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [c for c in report.conditions if c.behaviour.n]
    values = [c.behaviour.value or 0.0 for c in shown]
    errors = [
        [v - (c.behaviour.low or 0.0) for v, c in zip(values, shown, strict=True)],
        [(c.behaviour.high or 0.0) - v for v, c in zip(values, shown, strict=True)],
    ]
    colours = ["#4c72b0" if c.label == "unsteered" else "#c44e52" if c.label == "profile" else "#999999" for c in shown]
    fig, ax = plt.subplots(figsize=(1.1 * len(shown) + 2, 3.6))
    ax.bar(range(len(shown)), values, yerr=errors, capsize=4, color=colours)
    ax.set(
        xticks=range(len(shown)),
        xticklabels=[c.label for c in shown],
        ylim=(0, 1.05),
        ylabel="share of designs",
        title=f"{report.profile}: {report.question}",
    )
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def describe(report: EffectReport, command: str) -> str:
    """The profile's description: the measured effect beside the controls', and the command that made it."""
    title = BEHAVIOURS[report.behaviour].title
    base, steered = report.condition("unsteered"), report.condition("profile")
    controls = [c for c in report.conditions if c.label.startswith("control")]
    utility = ""
    if base.utility_right is not None and steered.utility_right is not None:
        utility = (
            f" Right-rate on requests without it: {base.utility_right.value:.0%} unsteered, "
            f"{steered.utility_right.value:.0%} with the profile."
        )
    span = ", ".join(c.behaviour.text() for c in controls)
    return (
        f"{title[0].upper() + title[1:]} ({report.question}) on {base.behaviour.n} designs no profile was fitted on: "
        f"{base.behaviour.text()} unsteered, {steered.behaviour.text()} with this profile, and {span} under "
        f"{len(controls)} matched random controls.{utility} Verdict: {report.verdict}. Measured with `{command}`."
    )
