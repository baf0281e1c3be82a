"""Expert cards: what one expert of a MoE model does, for a person choosing what to toggle.

Each card holds the expert's usage per pipeline stage (the share of a stage's answer tokens that routed
to it), the tokens it takes most (most over-represented against its usage), its designated job if the
model was trained with one, and the measured effect of switching that job off. A command writes them
into ``expert_cards.json`` in the model folder (``agents.bundled_model.cards``); the studio reads it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from studio.moe.profile import ModelIdentity

CARDS_FILE = "expert_cards.json"


class TokenShare(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str
    count: int  # this token's routings to the expert
    share: float  # of this token's occurrences, how many routed to the expert


class JobEffect(BaseModel):
    """The harness's result for the profile that switches the job off (``agents.effect``)."""

    model_config = ConfigDict(extra="forbid")

    profile: str
    unsteered: str  # "27/28 = 96% [82%, 99%]"
    steered: str
    controls: list[str]
    holds: bool
    verdict: str


class ExpertCard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layer: int  # MoE-layer index
    expert: int
    usage: dict[str, float]  # stage -> share of its answer tokens (top-k picks / tokens)
    top_tokens: list[TokenShare] = Field(default_factory=list)
    job: str | None = None  # a studio.behaviours name
    job_title: str | None = None
    effect: JobEffect | None = None

    def summary(self) -> str:
        """One line for a tooltip: job, busiest stage and top tokens."""
        busiest = max(self.usage.items(), key=lambda kv: kv[1]) if self.usage else None
        parts = [f"layer {self.layer}, expert {self.expert}"]
        if self.job_title:
            parts.append(f"job: {self.job_title}")
        if busiest:
            parts.append(f"most used in {busiest[0]} ({busiest[1]:.0%} of that stage's tokens)")
        if self.top_tokens:
            parts.append("takes " + ", ".join(repr(t.token) for t in self.top_tokens[:4]))
        if self.effect:
            parts.append(f"off: {self.effect.unsteered} -> {self.effect.steered}")
        return "; ".join(parts)


class ExpertCards(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: ModelIdentity
    command: str  # the command that wrote the file
    rows_per_stage: dict[str, int]  # corpus rows the usage was counted on
    cards: list[ExpertCard]

    def card(self, layer: int, expert: int) -> ExpertCard | None:
        return next((c for c in self.cards if c.layer == layer and c.expert == expert), None)

    def jobs(self) -> dict[tuple[int, int], str]:
        """(layer, expert) -> job title, for marking the grid."""
        return {(c.layer, c.expert): c.job_title for c in self.cards if c.job_title}


def load_cards(folder: str | Path | None) -> ExpertCards | None:
    """The cards next to a model folder's weights, or None (a hub model, or none written yet)."""
    if folder is None:
        return None
    path = Path(folder) / CARDS_FILE
    if not path.is_file():
        return None
    return ExpertCards.model_validate_json(path.read_text(encoding="utf-8"))
