"""Super-expert profiling through a registered experts implementation, on every MoE architecture."""

from __future__ import annotations

import pytest
import torch

from studio.moe.engine import MoEEngine
from studio.moe.experts_forward import DECODE
from studio.moe.super_experts import (
    SuperExpertError,
    experts_modules,
    flag_outliers,
    profile_super_experts,
    through_experts_interface,
)

PROMPTS = [[1, 5, 9, 33, 70, 12], [1, 100, 4, 4, 27], [1, 64, 65, 66, 67, 68, 69]]


def test_outliers_are_above_the_percentile_and_a_tenth_of_the_max():
    peaks = torch.cat([torch.linspace(1.0, 2.0, 400), torch.tensor([3.0, 40.0])])
    flags, threshold = flag_outliers(peaks)
    # 3.0 is above the 99.5th percentile (2.0) but not above a tenth of the max (4.0).
    assert flags.nonzero().flatten().tolist() == [401]
    assert threshold == pytest.approx(4.0)
    assert not flag_outliers(torch.full((10,), 5.0))[0].any()  # all equal: nothing stands out


def test_peaks_are_the_eager_down_proj_maxima_and_outputs_are_unchanged(arch, tiny_model):
    """For every architecture: the profiling forward gives the eager logits bit for bit, each peak is the
    max |down_proj output| transformers' own eager experts give on that expert's tokens, and the
    implementation is switched back afterwards."""
    engine = MoEEngine.from_model(tiny_model(arch), name=f"tiny-{arch}")
    modules = experts_modules(engine)
    if not through_experts_interface(modules[0]):  # Llama 4: dense experts the probe cannot see
        with pytest.raises(SuperExpertError, match="cannot be probed"):
            profile_super_experts(engine, PROMPTS)
        engine.close()
        return
    assert len(modules) == len(engine.info.moe_layers)
    # per MoE layer, (hidden [T, H], chosen [T, k]) of each call: the check, 3 profiled prompts, the check
    routed: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {i: [] for i in range(len(modules))}
    handles = [
        m.register_forward_pre_hook(lambda _, args, i=i: routed[i].append((args[0].clone(), args[1].clone())))
        for i, m in enumerate(modules)
    ]
    ids = torch.tensor([PROMPTS[0]])
    with torch.no_grad():
        before = engine.model(ids).logits
    report = profile_super_experts(engine, PROMPTS)
    with torch.no_grad():
        after = engine.model(ids).logits
    for handle in handles:
        handle.remove()
    engine.close()

    assert engine.model.get_experts_implementation()[""] == DECODE
    assert torch.equal(before, after)
    assert report.prompts == 3 and len(report.rows) == len(modules) * engine.info.num_experts
    for row in report.rows:
        module, expert = modules[row.layer], row.expert
        hidden = torch.cat([h for h, _ in routed[row.layer][1:4]])  # [T, H]
        chosen = torch.cat([idx for _, idx in routed[row.layer][1:4]])  # [T, k]
        mine = (chosen == expert).any(dim=-1)
        assert row.tokens == int((chosen == expert).sum())
        if not mine.any():
            assert row.max_abs == 0.0
            continue
        x = hidden[mine]
        with torch.no_grad():  # the eager forward with every token sent to ``expert`` at weight 1
            out = module(x, torch.full((len(x), 1), expert), torch.ones(len(x), 1))
        assert row.max_abs == pytest.approx(float(out.abs().max()), rel=1e-6)


def test_an_amplified_expert_is_flagged_and_no_other(tiny_model):
    engine = MoEEngine.from_model(tiny_model("qwen3_moe"), name="tiny-qwen3")
    baseline = profile_super_experts(engine, PROMPTS)
    # 16 peaks: the 99.5th percentile lies below the largest, so only a tenth of the max can clear it.
    top = max(baseline.rows, key=lambda r: r.max_abs)
    assert baseline.super_experts == [top]
    busiest = max((r for r in baseline.rows if r.layer == 1), key=lambda r: r.tokens)
    with torch.no_grad():
        experts_modules(engine)[1].down_proj[busiest.expert] *= 1000.0

    report = profile_super_experts(engine, PROMPTS)

    assert [(r.layer, r.decoder_layer, r.expert) for r in report.super_experts] == [
        (1, engine.info.moe_layers[1], busiest.expert)
    ]
    assert report.super_experts[0].max_abs > report.threshold >= top.max_abs


def test_profiling_needs_prompts(tiny_model):
    engine = MoEEngine.from_model(tiny_model("mixtral"))
    with pytest.raises(ValueError, match="at least one prompt"):
        profile_super_experts(engine, [])
