"""The studio's profile import (Export tab: read_upload, SteeringProfile.from_json, use_profile) on
hostile files: each is refused with a readable message, the session's profile left as it was."""

from __future__ import annotations

import json

import pytest

from studio.moe.profile import SteeringProfile
from ui.common import error_html
from ui.downloads import read_upload
from ui.session import StudioSession


def layer_profile(context, layer: dict) -> str:
    model = context.identity.model_dump()
    return json.dumps({"name": "hostile", "model": model, "stages": {"*": {"layers": {"0": layer}}}})


HOSTILE = {
    "nested": lambda context: "[" * 100_000,
    "nan-bias": lambda context: layer_profile(context, {"bias": {"1": 0.5}}).replace("0.5", "NaN"),
    "huge-number": lambda context: layer_profile(context, {"bias": {"1": 0.5}}).replace("0.5", "9" * 5000),
    "duplicate-key": lambda context: layer_profile(context, {"off": [1], "off ": [2]}).replace('"off "', '"off"'),
    "every-expert-off": lambda context: layer_profile(context, {"off": [0, 1, 2, 3]}),
    "forced-beyond-top-k": lambda context: layer_profile(context, {"force": [0, 1, 2]}),
    "scale-minus-1e308": lambda context: layer_profile(context, {"scale": {"1": -1e308}}),
    "layer-40": lambda context: layer_profile(context, {}).replace('"0": {}', '"40": {"off": [0]}'),
}
SAYS = {
    "nested": "nested deeper than 32 levels",
    "nan-bias": "only finite numbers are accepted",
    "huge-number": "an integer has more than 30 digits",
    "duplicate-key": "the key &#x27;off&#x27; is given twice",
    "every-expert-off": "every stage, layer 0: every expert is off; leave at least one on",
    "forced-beyond-top-k": "every stage, layer 0: 3 experts forced on but only 2 are chosen per token",
    "scale-minus-1e308": "scale.1: Input should be greater than or equal to 0",
    "layer-40": "MoE layer 40 does not exist: the profile&#x27;s model tiny-ui-moe has 2 MoE layers, 0..1",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_profile_upload_is_refused_readably(context, tmp_path, name):
    upload = tmp_path / f"{name}.json"
    upload.write_text(HOSTILE[name](context))
    session = StudioSession.start(context)
    before = session.profile
    with pytest.raises(ValueError) as refused:  # what import_profile catches and shows with error_html
        session.use_profile(context, SteeringProfile.from_json(read_upload(upload, "profile")))
    shown = error_html(refused.value)
    assert SAYS[name] in shown and "Something went wrong" not in shown
    assert session.profile == before
