"""A model split across two processes (torchrun, gloo on CPU) on transformers' own plans, tensor-parallel
and tensor- plus expert-parallel, generates the same greedy tokens and routes the same way as in one
process, unsteered and steered, with rank 0's logits processor and stopping criterion, and in a traced
batched forward. The worker (``tests/fixtures/distributed_scenario.py``) verifies on every call that the
follower's routing equals rank 0's (``LeaderEngine(verify=True)`` gathers it to rank 0)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from studio.moe.distributed import PLANS, distributed_config, is_sharded
from studio.moe.engine import MoEEngine
from studio.moe.loader import load_model
from tests.fixtures.distributed_scenario import scenario
from tests.fixtures.tiny_models import tiny_model

pytestmark = pytest.mark.xdist_group("distributed")

ROOT = Path(__file__).resolve().parents[3]
WORKER = ROOT / "tests" / "fixtures" / "distributed_scenario.py"
TIMEOUT_S = 240  # two loads per rank and the scenario twice take ~15 s on an idle 2-core machine
CASES = ["unsteered", "reroute", "drop", "rank 0's processor", "forward"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-qwen3-moe")
    tiny_model("qwen3_moe").save_pretrained(folder)  # 8 experts, top-2; decoder layer 0 dense
    return folder


@pytest.fixture(scope="module")
def one_process(model_dir: Path) -> dict[str, dict[str, Any]]:
    model, tokenizer = load_model(model_dir)
    with MoEEngine.from_model(model, tokenizer, "tiny") as engine:
        return scenario(engine)


@pytest.fixture(scope="module")
def two_processes(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("distributed") / "results.pt"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    command += [str(WORKER), str(model_dir), str(out), ",".join(PLANS)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    # its own session: on a timeout the launcher and both ranks go, by the launcher's process-group id
    launcher = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = launcher.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)
        output, _ = launcher.communicate()
        pytest.fail(f"the two-process run did not finish in {TIMEOUT_S} s:\n{output[-4000:]}")
    assert launcher.returncode == 0, f"the two-process run failed:\n{output[-4000:]}"
    return torch.load(out)


def test_steering_changes_what_the_comparison_compares(one_process: dict[str, dict[str, Any]]) -> None:
    tokens = {case: one_process[case]["tokens"] for case in CASES}
    assert tokens["reroute"] != tokens["unsteered"]
    assert tokens["drop"] != tokens["unsteered"]
    assert len(tokens["rank 0's processor"]) == 5 and min(tokens["rank 0's processor"]) >= 64


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("case", CASES)
def test_same_tokens_and_routing_as_one_process(
    plan: str, case: str, one_process: dict[str, dict[str, Any]], two_processes: dict[str, dict[str, Any]]
) -> None:
    alone, split = one_process[case], two_processes[plan][case]
    assert split["tokens"] == alone["tokens"]
    assert torch.equal(split["token_ids"], alone["token_ids"])
    for layer, (ours, theirs) in enumerate(zip(split["selected"], alone["selected"], strict=True)):
        assert torch.equal(ours, theirs), f"MoE layer {layer} chose other experts"
    for ours, theirs in zip(split["weights"], alone["weights"], strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_plans_are_transformers_own() -> None:
    assert distributed_config("tensor", 4).tp_plan == "auto" and distributed_config("tensor", 4).ep_size == 1
    expert = distributed_config("expert", 4)
    assert (expert.tp_size, expert.ep_size) == (4, 4)
    with pytest.raises(ValueError, match="tensor, expert"):
        distributed_config("pipeline", 2)  # type: ignore[arg-type]


def test_the_model_really_is_split(two_processes: dict[str, dict[str, Any]]) -> None:
    """Rank 0 holds sharded weights; under the expert plan, half of each layer's 8 experts; it decodes with
    the model's own forward (the fast Qwen3-MoE step reads whole weights)."""
    tensor, expert = two_processes["tensor"]["layout"], two_processes["expert"]["layout"]
    assert tensor["sharded"] and expert["sharded"]
    assert tensor["experts_here"] == [8, 8] and expert["experts_here"] == [4, 4]
    assert tensor["decode_step"] == expert["decode_step"] == "ForwardStep"
    assert not is_sharded(tiny_model("qwen3_moe"))
