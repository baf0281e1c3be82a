"""One torch thread per test process: the tiny models' ops are microseconds, and torch's intra-op thread
pool, in each xdist worker on a shared 2-core machine, makes them 10-100 times slower."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
