"""Pooling over valid steps equals pooling each sequence alone (brute force)."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import UserError
from seqlab.nn.heads import Pooling, lengths_to_mask


@pytest.mark.parametrize("kind", Pooling.KINDS)
@pytest.mark.parametrize("directions", [1, 2])
def test_pooling_ignores_padding(kind: str, directions: int) -> None:
    pool = Pooling(kind, 6, directions)
    lengths = torch.tensor([5, 2, 3])
    outputs = torch.randn(3, 5, 6) * lengths_to_mask(lengths, 5).unsqueeze(-1)
    batched, weights = pool(outputs, lengths)
    assert (weights is not None) == (kind == "attention")
    for i, n in enumerate(lengths.tolist()):
        alone, _ = pool(outputs[i : i + 1, :n], torch.tensor([n]))
        assert torch.allclose(batched[i], alone[0], atol=1e-6)
        noisy = outputs.clone()
        noisy[i, n:] = 100.0  # garbage in padded steps must not matter
        assert torch.allclose(pool(noisy, lengths)[0][i], batched[i], atol=1e-6)


def test_last_pooling_takes_backward_half_at_step_zero() -> None:
    outputs = torch.arange(2 * 4 * 4, dtype=torch.float32).view(2, 4, 4)
    pooled, _ = Pooling("last", 4, directions=2)(outputs, torch.tensor([4, 2]))
    assert torch.equal(pooled[1], torch.cat([outputs[1, 1, :2], outputs[1, 0, 2:]]))


def test_mean_and_max_equal_direct_computation() -> None:
    outputs, lengths = torch.randn(2, 4, 3), torch.tensor([4, 1])
    mean, _ = Pooling("mean", 3)(outputs, lengths)
    assert torch.allclose(mean[0], outputs[0].mean(0)) and torch.allclose(mean[1], outputs[1, 0])
    top, _ = Pooling("max", 3)(outputs, lengths)
    assert torch.allclose(top[0], outputs[0].max(0).values)


def test_unknown_pooling() -> None:
    with pytest.raises(UserError, match="unknown pooling"):
        Pooling("median", 3)


def test_attention_weights_are_returned_not_kept() -> None:
    pool = Pooling("attention", 3)
    _, weights = pool(torch.randn(2, 4, 3), torch.tensor([4, 2]))
    assert weights.shape == (2, 4) and torch.allclose(weights.sum(1), torch.ones(2))
    assert torch.all(weights[1, 2:] == 0)
    assert not any(isinstance(v, torch.Tensor) for v in vars(pool).values())


def test_cls_pooling_takes_the_first_step_and_normalize_gives_unit_vectors() -> None:
    outputs, lengths = torch.randn(3, 4, 5), torch.tensor([4, 2, 1])
    cls, _ = Pooling("cls", 5)(outputs, lengths)
    assert torch.equal(cls, outputs[:, 0])
    for kind in Pooling.KINDS:
        pooled, _ = Pooling(kind, 5, normalize=True)(outputs, lengths)
        raw, _ = Pooling(kind, 5)(outputs, lengths) if kind != "attention" else (pooled, None)
        assert torch.allclose(pooled.norm(dim=-1), torch.ones(3), atol=1e-6)
        assert torch.allclose(pooled, raw / raw.norm(dim=-1, keepdim=True), atol=1e-6)
