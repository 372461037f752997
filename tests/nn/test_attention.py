"""Attention oracles: the lecture's formula, torch.nn.MultiheadAttention, rotary, KV cache."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from seqlab.nn.attention import (
    KVCache,
    MultiHeadAttention,
    RotaryEmbedding,
    causal_mask,
    scaled_dot_product_attention,
)

B, T, E, HEADS = 3, 7, 16, 4


def _lengths() -> torch.Tensor:
    return torch.tensor([7, 4, 1])


def _valid(lengths: torch.Tensor, steps: int = T) -> torch.Tensor:
    return torch.arange(steps)[None, :] < lengths[:, None]


def test_formula_by_hand() -> None:
    """softmax(QKᵀ/√d)V, one head, written out with loops over queries and keys."""
    torch.manual_seed(0)
    q, k, v = torch.randn(1, 1, 3, 4), torch.randn(1, 1, 5, 4), torch.randn(1, 1, 5, 4)
    out, weights = scaled_dot_product_attention(q, k, v, need_weights=True)
    for i in range(3):
        scores = torch.tensor([float(q[0, 0, i] @ k[0, 0, j]) / math.sqrt(4) for j in range(5)])
        w = scores.exp() / scores.exp().sum()
        torch.testing.assert_close(weights[0, 0, i], w)
        torch.testing.assert_close(out[0, 0, i], (w[:, None] * v[0, 0]).sum(0))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_kernel_and_explicit_formula_agree(causal: bool, padded: bool) -> None:
    torch.manual_seed(1)
    q, k, v = (torch.randn(B, HEADS, T, 4) for _ in range(3))
    mask = _valid(_lengths())[:, None, None, :] if padded else None
    fast, none = scaled_dot_product_attention(q, k, v, mask, causal=causal)
    slow, weights = scaled_dot_product_attention(q, k, v, mask, need_weights=True, causal=causal)
    assert none is None
    torch.testing.assert_close(fast, slow, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, HEADS, T))
    if causal:
        assert (weights.triu(1) == 0).all()
    if padded:
        assert (weights[2, :, :, 1:] == 0).all()  # row 2 has one valid key


def test_causal_mask_with_offset() -> None:
    assert causal_mask(2, offset=3).tolist() == [
        [True, True, True, True, False],
        [True, True, True, True, True],
    ]


def _copied_torch_mha(ours: MultiHeadAttention) -> nn.MultiheadAttention:
    twin = nn.MultiheadAttention(E, HEADS, batch_first=True)
    with torch.no_grad():
        twin.in_proj_weight.copy_(ours.qkv.weight)
        twin.in_proj_bias.copy_(ours.qkv.bias)
        twin.out_proj.weight.copy_(ours.output.weight)
        twin.out_proj.bias.copy_(ours.output.bias)
    return twin.eval()


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_equals_torch_multihead_attention(causal: bool) -> None:
    """Copied weights, padding mask (torch: True = ignore) and causal mask."""
    torch.manual_seed(2)
    ours = MultiHeadAttention(E, HEADS).eval()
    twin = _copied_torch_mha(ours)
    x = torch.randn(B, T, E)
    valid = _valid(_lengths())
    out, weights = ours(x, valid, causal=causal, need_weights=True)
    attn_mask = torch.ones(T, T, dtype=torch.bool).triu(1) if causal else None
    expected, expected_weights = twin(
        x, x, x, key_padding_mask=~valid, attn_mask=attn_mask, average_attn_weights=False
    )
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=1e-5)
    fast, _ = ours(x, valid, causal=causal)  # the fused kernel path
    torch.testing.assert_close(fast, expected, atol=1e-6, rtol=1e-5)


def test_cross_attention_equals_torch_multihead_attention() -> None:
    torch.manual_seed(3)
    memory_size, steps = 12, 5
    ours = MultiHeadAttention(E, HEADS, kv_size=memory_size).eval()
    twin = nn.MultiheadAttention(E, HEADS, batch_first=True, kdim=memory_size, vdim=memory_size)
    with torch.no_grad():
        twin.q_proj_weight.copy_(ours.query.weight)
        k_weight, v_weight = ours.key_value.weight.chunk(2)
        twin.k_proj_weight.copy_(k_weight)
        twin.v_proj_weight.copy_(v_weight)
        twin.in_proj_bias.copy_(torch.cat([ours.query.bias, ours.key_value.bias]))
        twin.out_proj.weight.copy_(ours.output.weight)
        twin.out_proj.bias.copy_(ours.output.bias)
    twin.eval()
    x, memory = torch.randn(B, T, E), torch.randn(B, steps, memory_size)
    memory_valid = _valid(torch.tensor([5, 2, 3]), steps)
    out, _ = ours(x, memory=memory, memory_mask=memory_valid)
    expected, _ = twin(x, memory, memory, key_padding_mask=~memory_valid)
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-5)


def test_padding_does_not_change_valid_outputs() -> None:
    torch.manual_seed(4)
    attention = MultiHeadAttention(E, HEADS).eval()
    x = torch.randn(1, 4, E)
    alone, _ = attention(x, causal=True)
    padded = torch.cat([x, torch.randn(1, 3, E)], dim=1)
    out, _ = attention(padded, _valid(torch.tensor([4])), causal=True)
    torch.testing.assert_close(out[:, :4], alone, atol=1e-6, rtol=1e-5)


def test_rotary_scores_depend_on_relative_position_only() -> None:
    torch.manual_seed(5)
    rotary = RotaryEmbedding(8, max_positions=64)
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def score(p: int, p_key: int) -> float:
        return float((rotary(q, p) * rotary(k, p_key)).sum())

    assert score(3, 1) == pytest.approx(score(40, 38), abs=1e-5)
    assert score(3, 1) != pytest.approx(score(3, 2), abs=1e-3)
    torch.testing.assert_close(rotary(q, 0), q)  # position 0: no rotation
    torch.testing.assert_close(rotary(q, 7).norm(), q.norm())  # a rotation keeps norms


@pytest.mark.parametrize("rotary", [False, True])
def test_kv_cache_equals_recomputation(rotary: bool) -> None:
    """Feeding 3 + 1 + 1 + 2 steps through a cache gives the outputs of one full pass."""
    torch.manual_seed(6)
    attention = MultiHeadAttention(E, HEADS).eval()
    positions = RotaryEmbedding(E // HEADS, 32) if rotary else None
    x = torch.randn(2, T, E)
    full, _ = attention(x, causal=True, rotary=positions)
    cache, pieces, start = KVCache(num_layers=1), [], 0
    for size in (3, 1, 1, 2):
        chunk = x[:, start : start + size]
        out, _ = attention(chunk, causal=True, cache=cache, rotary=positions)
        cache.advance(None, 2, size)
        pieces.append(out)
        start += size
    assert cache.length == T and cache.layer(0)[0].shape == (2, HEADS, T, E // HEADS)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-6, rtol=1e-5)


def test_gradients_flow_to_every_projection() -> None:
    attention = MultiHeadAttention(E, HEADS)
    out, _ = attention(torch.randn(B, T, E, requires_grad=True), causal=True)
    out.sum().backward()
    for name, parameter in attention.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
