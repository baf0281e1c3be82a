"""The expert grid's profile edits: one switch at a time, refusals the router would make, and the first
stage a change affects (where a re-run starts)."""

from __future__ import annotations

import pytest

from studio.moe import toggles
from studio.moe.profile import ModelIdentity

MODEL = ModelIdentity(name="tiny", moe_layers=[1, 3], experts_per_layer=4, top_k=2)


@pytest.fixture
def empty():
    return toggles.empty_profile(MODEL)


def test_an_expert_cycles_on_off_forced_on(empty):
    profile = empty
    states = []
    for _ in range(3):
        state = toggles.CYCLE[toggles.expert_state(profile, "reason", 1, 2)]
        profile = toggles.set_expert(profile, "reason", 1, 2, state)
        states.append(toggles.expert_state(profile, "reason", 1, 2))
    assert states == ["off", "force", "on"]
    assert profile.stages == {}  # back to nothing steered: the section is dropped


def test_the_grid_shows_one_sections_states(empty):
    profile = toggles.set_expert(empty, "reason", 0, 1, "off")
    profile = toggles.set_expert(profile, "reason", 1, 3, "force")
    assert toggles.grid(profile, "reason") == [["on", "off", "on", "on"], ["on", "on", "on", "force"]]
    assert toggles.grid(profile, "*") == [["on"] * 4, ["on"] * 4]
    assert profile.for_stage("reason").layers[0].off == [1]


def test_forcing_an_off_expert_moves_it(empty):
    profile = toggles.set_expert(empty, "*", 0, 1, "off")
    profile = toggles.set_expert(profile, "*", 0, 1, "force")
    steer = toggles.layer_steering(profile, "*", 0)
    assert steer.off == [] and steer.force == [1]


def test_top_k_per_layer_or_all_and_back_to_the_models(empty):
    profile = toggles.set_top_k(empty, "synthesize", None, 1)
    assert [toggles.layer_steering(profile, "synthesize", i).top_k for i in (0, 1)] == [1, 1]
    profile = toggles.set_top_k(profile, "synthesize", 0, None)
    assert toggles.layer_steering(profile, "synthesize", 0).top_k is None
    with pytest.raises(toggles.ToggleError, match="between 1 and 4"):
        toggles.set_top_k(profile, "synthesize", 0, 5)


def test_positions_outside_the_model_are_refused(empty):
    with pytest.raises(toggles.ToggleError, match="layer 2 does not exist"):
        toggles.set_expert(empty, "*", 2, 0, "off")
    with pytest.raises(toggles.ToggleError, match="expert 4 does not exist"):
        toggles.set_expert(empty, "*", 0, 4, "off")


def test_the_first_affected_stage(empty):
    reason = toggles.set_expert(empty, "reason", 0, 0, "off")
    everywhere = toggles.set_expert(empty, "*", 0, 0, "off")
    assert toggles.first_affected_stage(empty, reason) == "reason"
    assert toggles.first_affected_stage(empty, everywhere) == "identify"
    assert toggles.first_affected_stage(reason, reason) is None
    assert toggles.first_affected_stage(None, empty) is None  # an empty profile steers nothing
    assert toggles.first_affected_stage(reason, toggles.set_mode(reason, "drop")) == "reason"
    assert toggles.first_affected_stage(empty, toggles.set_mode(empty, "drop")) is None
    synth = toggles.set_expert(reason, "synthesize", 1, 1, "off")
    assert toggles.first_affected_stage(reason, synth) == "synthesize"


def test_problems_the_router_would_refuse(empty):
    profile = empty
    for expert in range(4):
        profile = toggles.set_expert(profile, "reason", 0, expert, "off")
    assert profile.problems(top_k=2) == ["reason, layer 0: every expert is off; leave at least one on"]
    assert toggles.set_mode(profile, "drop").problems(top_k=2) == []
    forced = toggles.set_expert(toggles.set_expert(empty, "*", 1, 0, "force"), "*", 1, 1, "force")
    forced = toggles.set_expert(forced, "*", 1, 2, "force")
    found = forced.problems(top_k=2)
    assert found == [  # the * section runs in every stage: said once
        "every stage, layer 1: 3 experts forced on but only 2 are chosen per token; "
        "raise the layer's top-k or force fewer"
    ]
    assert toggles.set_top_k(forced, "*", 1, 3).problems(top_k=2) == []


def test_summary_and_is_steering(empty):
    assert toggles.summary(empty) == [] and not toggles.is_steering(empty)
    profile = toggles.set_expert(empty, "*", 0, 3, "off")
    profile = toggles.set_expert(profile, "reason", 1, 0, "force")
    profile = toggles.set_top_k(profile, "reason", 1, 1)
    assert toggles.summary(profile) == ["all stages, layer 0: off 3", "reason, layer 1: forced 0; top-k 1"]
    assert toggles.is_steering(profile)
    assert toggles.clear_section(profile, "*").stages.keys() == {"reason"}
    assert toggles.clear_section(profile).stages == {}


def test_a_section_mode_or_state_that_does_not_exist_is_a_toggle_error(empty):
    with pytest.raises(toggles.ToggleError, match=r"the stage section is one of \*, identify, reason, synthesize"):
        toggles.set_expert(empty, "plan", 0, 0, "off")  # type: ignore[arg-type]
    with pytest.raises(toggles.ToggleError, match="not 'None'"):
        toggles.set_top_k(empty, None, 0, 1)  # type: ignore[arg-type]
    with pytest.raises(toggles.ToggleError, match="the stage section"):
        toggles.clear_section(empty, "plan")  # type: ignore[arg-type]
    with pytest.raises(toggles.ToggleError, match="the mode is reroute or drop, not 'sideways'"):
        toggles.set_mode(empty, "sideways")  # type: ignore[arg-type]
    with pytest.raises(toggles.ToggleError, match="an expert is on, off or force, not 'dim'"):
        toggles.set_expert(empty, "*", 0, 0, "dim")  # type: ignore[arg-type]
