"""The steering-profile contract: a versioned JSON file tied to one model shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.moe.profile import (
    LayerSteering,
    ModelIdentity,
    ProfileError,
    StageSteering,
    SteeringProfile,
)

MODEL = ModelIdentity(name="tiny", moe_layers=[0, 2], experts_per_layer=8, top_k=2)


def profile(**stages: StageSteering) -> SteeringProfile:
    return SteeringProfile(name="p", model=MODEL, stages=stages)


def test_round_trip_keeps_every_field(tmp_path):
    original = SteeringProfile(
        name="quiet",
        description="no expert 3",
        model=MODEL,
        mode="drop",
        stages={
            "*": StageSteering(layers={0: LayerSteering(off=[3], bias={1: 0.5}, scale={2: 0.25})}),
            "reason": StageSteering(layers={1: LayerSteering(force=[7], top_k=3, shared_off=True)}),
        },
    )
    path = tmp_path / "quiet.json"
    original.save(path)

    assert json.loads(path.read_text())["version"] == 1
    assert SteeringProfile.load(path) == original


def test_for_stage_puts_the_stage_section_on_top_of_star():
    p = profile(
        **{
            "*": StageSteering(layers={0: LayerSteering(off=[1, 2], top_k=2)}),
            "reason": StageSteering(layers={0: LayerSteering(force=[2], top_k=3), 1: LayerSteering(off=[5])}),
        }
    )

    reason = p.for_stage("reason")
    assert reason.layers[0] == LayerSteering(off=[1], force=[2], top_k=3)
    assert reason.layers[1] == LayerSteering(off=[5])
    assert p.for_stage("identify") == p.for_stage("*") == StageSteering(layers={0: LayerSteering(off=[1, 2], top_k=2)})


def test_merge_adds_steering_and_the_other_profile_wins_conflicts():
    a = profile(**{"*": StageSteering(layers={0: LayerSteering(off=[1], force=[4], bias={0: 1.0})})})
    b = profile(**{"*": StageSteering(layers={0: LayerSteering(off=[4], bias={0: -2.0}, scale={6: 0.5})})})
    b = b.model_copy(update={"name": "q", "mode": "drop"})

    merged = a.merged(b)

    assert merged.name == "p+q"
    assert merged.mode == "drop"
    assert merged.stages["*"].layers[0] == LayerSteering(off=[1, 4], force=[], bias={0: -2.0}, scale={6: 0.5})


def test_merge_refuses_a_profile_for_another_shape():
    other = SteeringProfile(model=ModelIdentity(name="big", moe_layers=[0, 1, 2], experts_per_layer=8))
    with pytest.raises(ProfileError, match="3 MoE layers x 8 experts"):
        profile().merged(other)


def test_check_model_names_both_shapes():
    p = profile()
    p.check_model(MODEL.model_copy(update={"name": "same shape, other name"}))
    with pytest.raises(ProfileError) as err:
        p.check_model(ModelIdentity(name="wide", moe_layers=[0, 2], experts_per_layer=16))
    assert "tiny (2 MoE layers x 8 experts)" in str(err.value)
    assert "wide, has 2 MoE layers x 16 experts" in str(err.value)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ({2: {"off": [0]}}, "MoE layer 2 does not exist"),
        ({0: {"off": [8]}}, r"expert\(s\) \[8\] out of range 0..7"),
        ({0: {"bias": {"-1": 1.0}}}, r"expert\(s\) \[-1\] out of range"),
        ({1: {"top_k": 9}}, "top_k 9 > 8 experts"),
        ({0: {"off": [3], "force": [3]}}, r"expert\(s\) \[3\] are both off and forced on"),
    ],
)
def test_out_of_shape_or_incoherent_steering_is_refused(layers, message):
    data = {"version": 1, "model": MODEL.model_dump(), "stages": {"*": {"layers": layers}}}
    with pytest.raises(ProfileError, match=message):
        SteeringProfile.from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": 2, "model": {}}', "profile version 2 is not supported"),
        ('{"version": 1}', "model: Field required"),
        (
            '{"version": 1, "model": {"name": "m", "moe_layers": [0], "experts_per_layer": 4}, "stages": {"plan": {}}}',
            "stages.plan",
        ),
    ],
)
def test_unreadable_profiles_raise_profile_error(text, message):
    with pytest.raises(ProfileError, match=message):
        SteeringProfile.from_json(text)


def test_a_missing_file_is_a_profile_error(tmp_path):
    with pytest.raises(ProfileError, match="No such file"):
        SteeringProfile.load(tmp_path / "absent.json")


# -- issue 13: hostile profiles are refused with one readable ProfileError -----------------------


def profile_json(layer: dict) -> str:
    return json.dumps({"version": 1, "model": MODEL.model_dump(), "stages": {"*": {"layers": {"0": layer}}}})


@pytest.mark.parametrize(
    "text",
    [
        profile_json({"bias": {"1": "NaN"}}).replace('"NaN"', "NaN"),
        profile_json({"scale": {"1": "Infinity"}}).replace('"Infinity"', "Infinity"),
        profile_json({"scale": {"1": "-Infinity"}}).replace('"-Infinity"', "-Infinity"),
        profile_json({"bias": {"1": "x"}}).replace('"x"', "1e999"),
    ],
)
def test_non_finite_bias_or_scale_in_a_file_is_refused(text):
    with pytest.raises(ProfileError, match=r"finite|out of range"):
        SteeringProfile.from_json(text)


@pytest.mark.parametrize("field", ["bias", "scale"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_bias_or_scale_made_in_python_is_refused(field, value):
    with pytest.raises(ValueError, match="finite"):
        LayerSteering(**{field: {1: value}})


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"scale": {"1": -1e308}}, "scale.1: Input should be greater than or equal to 0"),
        ({"scale": {"1": 1e308}}, "scale.1: Input should be less than or equal to 100"),
        ({"bias": {"1": -1e308}}, "bias.1: Input should be greater than or equal to -100"),
        ({"bias": {"1": 1e6}}, "bias.1: Input should be less than or equal to 100"),
    ],
)
def test_bias_and_scale_out_of_their_documented_bounds_are_refused(layer, message):
    with pytest.raises(ProfileError, match=message):
        SteeringProfile.from_json(profile_json(layer))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000, "nested deeper than 32 levels"),
        ('{"version": 1, "name": ' + "9" * 5000 + "}", "more than 30 digits"),
        ('{"version": 1, "version": 1}', "the key 'version' is given twice"),
        ("", "not valid JSON"),
    ],
)
def test_hostile_json_is_a_one_line_profile_error(text, message):
    with pytest.raises(ProfileError, match=message) as err:
        SteeringProfile.from_json(text)
    assert "\n" not in str(err.value)


def test_hostile_files_are_one_line_profile_errors(tmp_path):
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00{" * 100)
    huge = tmp_path / "huge.json"
    huge.write_text(" " * 2_000_000)
    cases = [
        (binary, "not UTF-8 text"),
        (huge, "larger than 1 MB"),
        (tmp_path, "is a folder"),
        (Path("/proc/self/mem"), "not a regular file"),
        (Path("/proc/self/status"), "not a regular file"),
    ]
    for path, message in cases:
        with pytest.raises(ProfileError, match=message) as err:
            SteeringProfile.load(path)
        assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def test_a_layer_that_does_not_exist_names_the_profiles_model_exactly():
    six = ModelIdentity(name="six", moe_layers=[0, 1, 2, 3, 4, 5], experts_per_layer=16, top_k=2)
    data = {"model": six.model_dump(), "stages": {"*": {"layers": {"40": {"off": [0]}}}}}
    with pytest.raises(ProfileError) as err:
        SteeringProfile.from_json(json.dumps(data))
    assert "MoE layer 40 does not exist: the profile's model six has 6 MoE layers, 0..5" in str(err.value)
    mixed = {**data, "model": MODEL.model_dump()}  # 2 MoE layers at decoder layers 0 and 2
    with pytest.raises(ProfileError) as err:
        SteeringProfile.from_json(json.dumps(mixed))
    assert "the profile's model tiny has 2 MoE layers, 0..1 (decoder layers 0, 2)" in str(err.value)


def test_an_expert_listed_twice_counts_once():
    steer = LayerSteering(off=[3, 1, 3, 3], force=[2, 2])
    assert (steer.off, steer.force) == ([1, 3], [2])
    many = profile(**{"*": StageSteering(layers={0: LayerSteering(off=[0] * 8)})})
    assert many.problems(top_k=2) == []  # one expert off, not eight
