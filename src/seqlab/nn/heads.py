"""Pooling over valid time steps, and output heads.

Legend: B batch, T time steps, D feature size.
Every pooling takes ``outputs`` (B, T, D) and ``lengths`` (B,) and ignores padded
steps, so a padded batch pools exactly like each sequence on its own.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.errors import UserError, did_you_mean


def lengths_to_mask(lengths: Tensor, max_len: int) -> Tensor:
    """(B,) lengths -> (B, T) bool mask of valid steps."""
    steps = torch.arange(max_len, device=lengths.device)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)


class Pooling(nn.Module):
    """Summarise (B, T, D) outputs into (B, D) over the valid steps.

    ``last``: the output at each sequence's last valid step; for a bidirectional
    encoder (``directions=2``) the backward half is taken at step 0, where the backward
    pass ends. ``mean``/``max``: over valid steps. ``cls``: the first step (BERT's
    ``[CLS]`` token, Devlin et al. 2019). ``attention``: a learned query scores each
    step, softmax over valid steps (Bahdanau 2014 / Yang 2016 style attention pooling).
    ``normalize`` scales each pooled vector to unit L2 norm (sentence-transformers'
    Normalize: cosine similarity becomes a dot product).

    ``forward(outputs, lengths)`` returns ``(pooled (B, D), weights (B, T) or None)``:
    the attention weights for ``attention``, None otherwise. Nothing is kept on the
    module between calls.
    """

    KINDS = ("last", "mean", "max", "cls", "attention")

    def __init__(self, kind: str, size: int, directions: int = 1, normalize: bool = False) -> None:
        super().__init__()
        if kind not in self.KINDS:
            raise UserError(f"unknown pooling '{kind}'", did_you_mean(kind, self.KINDS))
        self.kind, self.directions, self.normalize = kind, directions, normalize
        if kind == "attention":
            self.score = nn.Sequential(nn.Linear(size, size), nn.Tanh(), nn.Linear(size, 1))

    def forward(self, outputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
        pooled, weights = self._pool(outputs, lengths)
        return (F.normalize(pooled, p=2, dim=-1) if self.normalize else pooled), weights

    def _pool(self, outputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
        batch, steps, size = outputs.shape
        lengths = lengths.to(outputs.device)
        mask = lengths_to_mask(lengths, steps)  # (B, T)
        if self.kind == "last":
            index = (lengths - 1).view(batch, 1, 1).expand(batch, 1, size)
            last = outputs.gather(1, index).squeeze(1)  # (B, D)
            if self.directions == 2:
                half = size // 2
                last = torch.cat([last[:, :half], outputs[:, 0, half:]], dim=-1)
            return last, None
        if self.kind == "mean":
            summed = (outputs * mask.unsqueeze(-1)).sum(1)
            return summed / lengths.clamp(min=1).unsqueeze(-1).to(outputs.dtype), None
        if self.kind == "max":
            return outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(1).values, None
        if self.kind == "cls":
            return outputs[:, 0], None
        scores = self.score(outputs).squeeze(-1).masked_fill(~mask, float("-inf"))  # (B, T)
        weights = torch.softmax(scores, dim=1)
        return torch.bmm(weights.unsqueeze(1), outputs).squeeze(1), weights
