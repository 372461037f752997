"""Shared fixtures: fixed seeds, CPU only."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

# Tests use tiny tensors: one thread avoids oversubscription (and spin-wait stalls) when
# the two cores are shared with other work, and makes results independent of core count.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
