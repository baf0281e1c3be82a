"""What the served studio shares: the example profiles beside the model (documented, checked against
the loaded model) and a clear reason when there is no model."""

from __future__ import annotations

from studio.moe.profile import ModelIdentity, SteeringProfile
from ui.studio_context import StudioContext


def test_example_profiles_are_listed_with_their_effects_and_problems(context):
    folder = context.profiles_dir
    fits = SteeringProfile(name="fits", description="Turns off expert 1.", model=context.identity)
    fits.save(folder / "a-fits.json")
    (folder / "a-fits.md").write_text("Effect: shorter plans.")
    other = SteeringProfile(name="other", model=ModelIdentity(name="x", moe_layers=[0], experts_per_layer=2))
    other.save(folder / "b-other.json")
    (folder / "c-broken.json").write_text("{not json")
    found = {p.path.stem: p for p in context.example_profiles()}
    assert list(found) == ["a-fits", "b-other", "c-broken"]
    assert found["a-fits"].error is None and found["a-fits"].effects == "Turns off expert 1.\n\nEffect: shorter plans."
    assert "made for x" in found["b-other"].error
    assert found["c-broken"].profile is None and "not valid JSON" in found["c-broken"].error


def test_no_profiles_folder_is_an_empty_list(context, tmp_path):
    context.profiles_dir = tmp_path / "missing"
    assert context.example_profiles() == []


def test_a_missing_model_is_a_message_not_a_crash(kb, tmp_path):
    context = StudioContext.open(kb, str(tmp_path / "no-model"))
    assert context.pipeline is None and context.info is None
    assert context.model_error
