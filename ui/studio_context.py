"""What every browser session of one served studio shares: the knowledge base, the pipeline on the
loaded model (or why there is none), the start-up profile and the folder of example profiles.

Opening the model can fail (the bundled model not trained yet, a wrong ``--model``): the studio still
serves, says why in the page, and keeps the parts and design-check features working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agents.orchestrator import Pipeline
from components_db import KnowledgeBase
from studio.moe.distributed import Plan
from studio.moe.profile import ModelIdentity, ProfileError, SteeringProfile
from studio.moe.specs import MoEInfo, UnsupportedModel

PROFILES_DIR = Path(__file__).resolve().parents[1] / "agents" / "bundled_model" / "profiles"


@dataclass(frozen=True)
class ExampleProfile:
    """A steering profile shipped beside a model, with what it is documented to do."""

    name: str
    path: Path
    profile: SteeringProfile | None
    effects: str  # its description, plus a ``<name>.md`` beside it when there is one
    error: str | None = None  # why it cannot be used with the loaded model


@dataclass
class StudioContext:
    kb: KnowledgeBase
    pipeline: Pipeline | None
    model_error: str | None = None
    default_profile: SteeringProfile | None = None
    profiles_dir: Path = PROFILES_DIR
    notices: list[str] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        kb: KnowledgeBase,
        model: str | None,
        *,
        profile: Path | None = None,
        profiles_dir: Path | None = None,
        distributed: Plan | None = None,
    ) -> StudioContext:
        """Load the model (the bundled one when ``model`` is None); never raises for a missing model. With
        ``distributed``, on rank 0 of a ``torchrun`` launch (the other ranks follow it: ``ui.launch``)."""
        from agents.model_opening import ModelNotAvailable, open_distributed_engine, open_engine

        context = cls(kb=kb, pipeline=None, profiles_dir=profiles_dir or PROFILES_DIR)
        try:
            opened = open_engine(model) if distributed is None else open_distributed_engine(model, distributed)
            assert opened is not None, "only rank 0 builds the studio"
            engine, settings = opened
        except (ModelNotAvailable, UnsupportedModel) as exc:
            context.model_error = str(exc)
            return context
        context.pipeline = Pipeline(engine, kb, settings)
        if profile is not None:
            try:
                loaded = SteeringProfile.load(profile)
                loaded.check_model(engine.info.identity())
                context.default_profile = loaded
            except ProfileError as exc:
                context.notices.append(f"the start-up profile was not applied: {exc}")
        return context

    def warm_up(self) -> None:
        """Load the embedding model and compile the part-list grammar, so the first run does not wait
        for them (called in the background once the page is served)."""
        from agents.constrained import compile_grammar
        from agents.identify import parts_grammar

        self.kb.search("warm up")
        if self.pipeline is not None and self.pipeline.engine.tokenizer is not None:
            compile_grammar(parts_grammar(self.kb.parts()), self.pipeline.engine.tokenizer)

    @property
    def info(self) -> MoEInfo | None:
        return self.pipeline.engine.info if self.pipeline is not None else None

    @property
    def identity(self) -> ModelIdentity | None:
        return self.info.identity() if self.info is not None else None

    def example_profiles(self) -> list[ExampleProfile]:
        """Every ``*.json`` profile in the profiles folder, sorted by file name (an empty list if none)."""
        if not self.profiles_dir.is_dir():
            return []
        found = []
        for path in sorted(self.profiles_dir.glob("*.json")):
            notes = path.with_suffix(".md")
            extra = notes.read_text(encoding="utf-8").strip() if notes.is_file() else ""
            try:
                profile = SteeringProfile.load(path)
            except ProfileError as exc:
                found.append(ExampleProfile(path.stem, path, None, extra, str(exc)))
                continue
            error = None
            if self.identity is not None:
                try:
                    profile.check_model(self.identity)
                except ProfileError as exc:
                    error = str(exc)
            effects = "\n\n".join(text for text in (profile.description, extra) if text)
            found.append(ExampleProfile(profile.name or path.stem, path, profile, effects, error))
        return found
