"""Property tests of the profile loader (issue 13): whatever it is given, it answers with a
``SteeringProfile`` or a ``ProfileError``, never another exception; and a profile it accepts, checked
against a tiny model's shape, is either refused with a ``ProfileError`` or steers that model without
error in every stage. Bounded to a few seconds each."""

from __future__ import annotations

import json
import math
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.moe.profile import ProfileError, SteeringProfile
from studio.moe.toggles import SECTIONS

FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

numbers = st.integers(-(10**40), 10**40) | st.floats(allow_nan=True, allow_infinity=True)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
TINY = {"name": "tiny", "moe_layers": [1, 2], "experts_per_layer": 8, "top_k": 2}  # tiny qwen3_moe's shape


def profiles(experts, bias, scale, top_k, layer, section, mode, model) -> st.SearchStrategy:
    """Profile-shaped JSON documents whose parts are drawn from the given strategies."""
    steering = st.fixed_dictionaries(
        {
            "off": st.lists(experts, max_size=8),
            "force": st.lists(experts, max_size=4),
            "bias": st.dictionaries(experts.map(str), bias, max_size=2),
            "scale": st.dictionaries(experts.map(str), scale, max_size=2),
        },
        optional={"top_k": top_k, "shared_off": st.booleans()},
    )
    stages = st.dictionaries(
        section, st.fixed_dictionaries({"layers": st.dictionaries(layer.map(str), steering, max_size=2)}), max_size=3
    )
    return st.fixed_dictionaries({"model": model, "stages": stages}, optional={"mode": mode}).map(json.dumps)


# anything a hostile file could hold, in a profile's shape
hostile_profiles = profiles(
    experts=st.integers(-2, 9),
    bias=st.sampled_from([math.nan, math.inf, -1e308, 1e6]) | numbers,
    scale=st.sampled_from([math.nan, -math.inf, -1e308, -1.0]) | numbers,
    top_k=st.integers(-1, 10) | st.none() | json_values,
    layer=st.integers(-1, 40),
    section=st.sampled_from([*SECTIONS, "plan"]),
    mode=st.sampled_from(["reroute", "drop", "sideways"]) | json_values,
    model=st.just(TINY) | json_values,
)
# profiles the reader accepts for the tiny model's shape; whether its router can run them is the check's
fitting_profiles = profiles(
    experts=st.integers(0, 7),
    bias=st.floats(-100, 100),
    scale=st.floats(0, 100),
    top_k=st.integers(1, 8) | st.none(),
    layer=st.integers(0, 1),
    section=st.sampled_from(SECTIONS),
    mode=st.sampled_from(["reroute", "drop"]),
    model=st.just(TINY),
)


def load(text: str | bytes) -> SteeringProfile | None:
    try:
        return SteeringProfile.from_json(text)
    except ProfileError:
        return None


@FUZZ
@given(st.text() | st.binary() | json_values.map(json.dumps) | hostile_profiles | fitting_profiles)
def test_any_input_is_a_profile_or_a_profile_error(text):
    load(text)


@pytest.fixture(scope="module")
def engine():
    from studio.moe.engine import MoEEngine
    from tests.fixtures.tiny_models import tiny_model

    with MoEEngine.from_model(tiny_model("qwen3_moe"), name="tiny") as engine:  # 2 MoE layers x 8 experts, top-2
        yield engine


@FUZZ
@given(fitting_profiles)
def test_an_accepted_profile_is_refused_by_the_model_check_or_steers_it(engine, text):
    profile = load(text)  # refused only where off and force name the same expert
    if profile is None:
        return
    try:
        profile.check_model(engine.info.identity())
    except ProfileError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a top-k above the experts left on is clamped
        for stage in ("*", "identify", "reason", "synthesize"):
            with engine.steer(profile, stage=stage) as run:
                assert set(run.plans) <= {0, 1}
