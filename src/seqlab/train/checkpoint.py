"""Training checkpoints, written atomically (:mod:`seqlab.atomic`).

Checkpoints hold only tensors and plain values and load with ``weights_only=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from seqlab import atomic


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """torch.save ``payload`` (state dicts, numbers, lists) atomically."""
    atomic.write_stream(path, lambda stream: torch.save(payload, stream))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=True)
