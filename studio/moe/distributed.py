"""One model over several processes (``torchrun``) on transformers' own parallel plans, and the channel
rank 0 uses to make every other rank run the forwards it runs.

Plans (``PLANS``; ``DistributedConfig`` is transformers'):

- ``tensor``: ``tp_plan="auto"``, the model's ``base_model_tp_plan``: attention heads, dense MLPs, the
  embeddings, the LM head and every expert's matrices split across the ranks (``moe_tp_experts``).
- ``expert``: the same, but the experts whole, ``num_experts / world`` per rank (``ep_size = world``, the
  model's ``base_model_ep_plan``; with the EP group equal to the TP group, transformers runs each rank's
  experts on the shared batch and sums, ``AllReduceEP``).

Neither plan shards the router (no plan of any MoE family in transformers names ``mlp.gate`` or
``router``): it runs whole on every rank on the same, already all-reduced hidden states, so the
engine's router hooks choose, mask and record identically on every rank, and rank 0's capture is the
whole routing. What must be replicated is the *calls*: every rank has to run the same forward, with
the same steering, in the same order, or the collectives inside the forward hang. ``Channel`` carries
rank 0's calls (pickled, over a gloo group of its own, so it works when the model's group is NCCL).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.distributed as dist
from torch import nn
from transformers.distributed import DistributedConfig

from studio.moe.profile import Mode, StageSteering

Plan = Literal["tensor", "expert"]
PLANS: tuple[Plan, ...] = ("tensor", "expert")


def distributed_config(plan: Plan, world_size: int) -> DistributedConfig:
    """transformers' ``DistributedConfig`` for ``plan`` over ``world_size`` ranks."""
    if plan == "tensor":
        return DistributedConfig(tp_size=world_size, tp_plan="auto")
    if plan == "expert":
        return DistributedConfig(tp_size=world_size, tp_plan="auto", ep_size=world_size)
    raise ValueError(f"the distributed plan is one of {', '.join(PLANS)}, not {plan!r}")


def launched() -> tuple[int, int]:
    """(rank, world size) as ``torchrun`` sets them; refused outside a launcher."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise RuntimeError(
            "--distributed runs under torchrun, one process per device, e.g. "
            "`torchrun --nproc-per-node 2 -m ui.cli.main studio --model M --distributed tensor`"
        )
    return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])


def is_sharded(model: nn.Module) -> bool:
    """Whether a parallel plan split any of ``model``'s weights across ranks (they are DTensors then)."""
    from torch.distributed.tensor import DTensor

    return any(isinstance(p, DTensor) for p in model.parameters())


CallKind = Literal["generate", "forward", "step", "end", "stop"]


@dataclass
class Call:
    """One message from rank 0: start a generation or a traced forward (with the steering in force), the
    next token of the generation, its end, or the end of serving."""

    kind: CallKind
    prompts: list[list[int]] = field(default_factory=list)  # "generate": one prompt; "forward": the batch
    max_new_tokens: int = 0
    token: int = -1  # "step": the token rank 0 chose
    steering: StageSteering | None = None
    mode: Mode = "reroute"
    capture: bool = False  # followers record routing too, and send it to rank 0 at the end of the call


class Channel:
    """Rank 0 broadcasts ``Call``s; the other ranks receive them in order. Made on every rank, at the same
    point (group creation is itself collective)."""

    def __init__(self) -> None:
        if not dist.is_initialized():
            raise RuntimeError("torch.distributed is not initialised: load the model with a distributed plan first")
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        self._group = dist.new_group(backend="gloo")

    def send(self, call: Call) -> None:
        dist.broadcast_object_list([call], src=0, group=self._group)

    def receive(self) -> Call:
        box: list[Call | None] = [None]
        dist.broadcast_object_list(box, src=0, group=self._group)
        assert box[0] is not None
        return box[0]

    def gather(self, value: object) -> list[object] | None:
        """Every rank's ``value`` on rank 0 (rank order); None on the others."""
        gathered: list[object] | None = [None] * self.world_size if self.rank == 0 else None
        dist.gather_object(value, gathered, dst=0, group=self._group)
        return gathered


def same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal shapes and values within float32 rounding (ranks sum their partial results in their own order)."""
    return a.shape == b.shape and bool(torch.allclose(a.float(), b.float(), rtol=1e-4, atol=1e-5))
