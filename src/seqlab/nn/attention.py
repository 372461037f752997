"""Attention, next to the lecture's formulas (``001_*.txt``, "Механизм внутреннего внимания").

Legend: B batch, T query steps, S key/value steps, E model size, h heads,
d = E / h head size.

Scaled dot-product attention (Vaswani et al. 2017, eq. 1)::

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V

Multi-head attention projects the input to h sets of queries, keys and values, attends
in each head independently and concatenates the heads (§3.2.2)::

    head_i = Attention(X W_i^Q, M W_i^K, M W_i^V);  MHA(X, M) = [head_1; …; head_h] W^O

with M = X for self-attention and M = the other sequence (the encoder's outputs) for
cross-attention.

Masks here are boolean with **True = may attend** (a valid key), the convention of
``torch.nn.functional.scaled_dot_product_attention``; ``torch.nn.MultiheadAttention``'s
``key_padding_mask`` is the opposite (True = ignore). A causal mask lets query t see
keys ≤ t only, so position t cannot read the token it is asked to predict.

Recurrent encoder-decoders attend with :class:`GlobalAttention` (Luong et al. 2015, §3.1):
one decoder state s_t (the query) against the encoder outputs h_1..h_S (the memory)::

    score(s, h) = sᵀh (dot) | sᵀ W h (general) | vᵀ tanh(W₁ s + W₂ h) (additive, Bahdanau
    et al. 2014);  a_t = softmax_s score(s_t, h_s);  c_t = Σ_s a_ts h_s

For incremental decoding, :class:`KVCache` keeps every layer's keys and values of the
steps seen so far: each new token then costs one query against the cached keys instead
of recomputing the whole prefix (GPT-2's ``past_key_values``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None = None,
    dropout: float = 0.0,
    need_weights: bool = False,
    causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """softmax(Q Kᵀ / √d) V, per head.

    Args:
        query: (B, h, T, d); key, value: (B, h, S, d).
        mask: bool, broadcastable to (B, h, T, S), True where a query may attend a key.
            Every query must be allowed at least one key.
        dropout: dropout on the attention weights (pass 0 outside training).
        need_weights: also return the weights (B, h, T, S); this takes the explicit
            formula, otherwise torch's fused kernel (same numbers, tested).
        causal: also mask future keys, the T queries being the last T of the S steps
            (S > T when earlier steps come from a KV cache).

    Returns:
        (B, h, T, d) outputs and the weights or None.
    """
    if causal and query.shape[-2] == 1:
        causal = False  # one new query, the last step: it may see every key
    if causal:
        same_steps = query.shape[-2] == key.shape[-2]
        if mask is None and same_steps and not need_weights:  # the kernel's own causal path
            out = F.scaled_dot_product_attention(
                query, key, value, dropout_p=dropout, is_causal=True
            )
            return out, None
        order = causal_mask(query.shape[-2], key.shape[-2] - query.shape[-2], query.device)
        mask = order if mask is None else mask & order
    if not need_weights:
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=dropout)
        return out, None
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])  # (B, h, T, S)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if dropout > 0:
        weights = F.dropout(weights, dropout)
    return weights @ value, weights


def causal_mask(steps: int, offset: int = 0, device: torch.device | None = None) -> Tensor:
    """(T, offset + T) bool: query i (absolute position offset + i) sees keys ≤ offset + i.

    With a KV cache, the T new queries follow ``offset`` cached steps."""
    keys = torch.arange(offset + steps, device=device)
    queries = torch.arange(offset, offset + steps, device=device)
    return keys[None, :] <= queries[:, None]


class RotaryEmbedding(nn.Module):
    """Rotary positions (Su et al. 2021, RoFormer), "rotate-half" layout of GPT-NeoX / Llama.

    Feature pairs (j, j + d/2) of queries and keys at position p are rotated by the
    angle p · θ_j with θ_j = base^(-2j/d), so the score q_p · k_p' depends on p - p'
    only. Applied to (B, h, T, d) queries and keys; values are not rotated.
    """

    def __init__(self, head_size: int, max_positions: int, base: float = 10000.0) -> None:
        super().__init__()
        if head_size % 2:
            raise ValueError(f"rotary positions need an even head size, got {head_size}")
        inverse = base ** (-torch.arange(0, head_size, 2, dtype=torch.float64) / head_size)
        angles = torch.arange(max_positions, dtype=torch.float64)[:, None] * inverse  # (P, d/2)
        angles = torch.cat([angles, angles], dim=-1)  # (P, d)
        self.register_buffer("cos", angles.cos().float(), persistent=False)
        self.register_buffer("sin", angles.sin().float(), persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """Rotate (B, h, T, d) ``x`` whose first step is at absolute position ``offset``."""
        steps = x.shape[-2]
        cos = self.cos[offset : offset + steps].to(x.dtype)
        sin = self.sin[offset : offset + steps].to(x.dtype)
        first, second = x.chunk(2, dim=-1)
        rotated = torch.cat([-second, first], dim=-1)
        return x * cos + rotated * sin


class KVCache:
    """Keys and values of the steps decoded so far, per layer, for incremental decoding.

    ``layer(i)``: layer i's (B, h, S, d) keys and values; ``mask``: (B, S) bool, valid
    cached steps, None while all are valid; ``length`` = S, the absolute position of the
    next step. Storage grows by doubling, so appending one step copies nothing (HF's
    ``DynamicCache`` concatenates instead: O(S) per step). A Transformer stack passes
    the cache to every layer, then calls :meth:`advance`.
    """

    def __init__(self, num_layers: int) -> None:
        self._keys: list[Tensor | None] = [None] * num_layers
        self._values: list[Tensor | None] = [None] * num_layers
        self.mask: Tensor | None = None
        self.length = 0

    def layer(self, index: int) -> tuple[Tensor, Tensor]:
        """Layer ``index``'s cached (B, h, S, d) keys and values."""
        keys, values = self._keys[index], self._values[index]
        if keys is None or values is None:
            raise ValueError(f"layer {index} has nothing cached yet")
        return keys[:, :, : self.length], values[:, :, : self.length]

    def update(self, layer: int, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        """Store (B, h, T, d) ``key``/``value`` after the cached steps of ``layer``; return
        its keys and values of all S + T steps."""
        start, end = self.length, self.length + key.shape[2]
        keys, values = self._keys[layer], self._values[layer]
        if keys is None or values is None or keys.shape[2] < end:
            capacity = max(end, 64, 2 * (0 if keys is None else keys.shape[2]))
            batch, heads, _, size = key.shape
            grown_keys = key.new_empty(batch, heads, capacity, size)
            grown_values = value.new_empty(batch, heads, capacity, value.shape[-1])
            if keys is not None and values is not None:
                grown_keys[:, :, :start] = keys[:, :, :start]
                grown_values[:, :, :start] = values[:, :, :start]
            keys, values = grown_keys, grown_values
            self._keys[layer], self._values[layer] = keys, values
        keys[:, :, start:end] = key
        values[:, :, start:end] = value
        return keys[:, :, :end], values[:, :, :end]

    def key_mask(self, mask: Tensor | None, batch: int, steps: int) -> Tensor | None:
        """(B, S + T) valid keys: the cached steps' then the T new steps' (B, T) ``mask``;
        None (no mask needed) while every step is valid."""
        if self.mask is None and mask is None:
            return None
        old = self.mask
        if old is None:
            old = torch.ones(batch, self.length, dtype=torch.bool, device=mask.device)
        if mask is None:
            mask = torch.ones(batch, steps, dtype=torch.bool, device=old.device)
        return torch.cat([old, mask], dim=1)

    def advance(self, mask: Tensor | None, batch: int, steps: int) -> None:
        """Record T new steps with (B, T) validity ``mask`` (None: all valid), after every
        layer saw them."""
        self.mask = self.key_mask(mask, batch, steps)
        self.length += steps

    def reorder(self, rows: Tensor) -> KVCache:
        """A cache of the given (N,) batch rows (beam search: each hypothesis continues
        its parent's cache); the storage beyond ``length`` is not copied."""
        cache = KVCache(len(self._keys))
        cache.length = self.length
        for index, (keys, values) in enumerate(zip(self._keys, self._values, strict=True)):
            if keys is not None and values is not None:
                cache._keys[index] = keys[rows, :, : self.length]
                cache._values[index] = values[rows, :, : self.length]
        cache.mask = None if self.mask is None else self.mask[rows]
        return cache


ATTENTION_SCORES = ("dot", "general", "additive")


class GlobalAttention(nn.Module):
    """Attention of a recurrent decoder over the encoder outputs (module doc).

    ``forward(query, keys, memory (B, S, M), mask (B, S) | None)`` -> ``context, weights``:
    one step's query (B, H) gives (B, M) and (B, S); every step's queries at once (B, T, H)
    give (B, T, M) and (B, T, S) (a decoder without input feeding, teacher-forced).
    ``keys = prepare(memory)`` is computed once per source (the memory itself for dot and
    general, W₂ h for additive), so a decoding step costs one (B, S) score. ``general``
    maps the query (sᵀW h = (Wᵀs)·h) rather than the memory, which is cheaper per step.
    ``dot`` needs H = M.
    """

    def __init__(self, score: str, query_size: int, memory_size: int) -> None:
        super().__init__()
        if score not in ATTENTION_SCORES:
            raise ValueError(f"unknown attention score {score!r}; use one of {ATTENTION_SCORES}")
        if score == "dot" and query_size != memory_size:
            raise ValueError(
                f"dot attention needs query size {query_size} == memory size {memory_size}"
            )
        self.score = score
        if score == "general":
            self.weight = nn.Linear(query_size, memory_size, bias=False)
        elif score == "additive":
            self.query_weight = nn.Linear(query_size, query_size, bias=True)
            self.memory_weight = nn.Linear(memory_size, query_size, bias=False)
            self.vector = nn.Linear(query_size, 1, bias=False)

    def prepare(self, memory: Tensor) -> Tensor:
        """(B, S, M) memory -> the keys scores are computed against."""
        return self.memory_weight(memory) if self.score == "additive" else memory

    def forward(
        self, query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        one_step = query.dim() == 2
        queries = query.unsqueeze(1) if one_step else query  # (B, T, H)
        if self.score == "additive":
            hidden = torch.tanh(
                self.query_weight(queries).unsqueeze(2) + keys.unsqueeze(1)
            )  # (B, T, S, H)
            scores = self.vector(hidden).squeeze(-1)  # (B, T, S)
        else:
            projected = self.weight(queries) if self.score == "general" else queries  # (B, T, M)
            scores = torch.bmm(projected, keys.transpose(1, 2))  # (B, T, S)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        context = torch.bmm(weights, memory)  # (B, T, M)
        if one_step:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights


class MultiHeadAttention(nn.Module):
    """Multi-head attention with padding and causal masks, rotary positions and a KV cache.

    Self-attention (``memory=None``) projects queries, keys and values with one fused
    (E, 3E) linear map ``qkv``; cross-attention (``kv_size`` given) projects the queries
    with ``query`` and the memory with ``key_value`` (E_kv -> 2E). ``output`` is W^O.

    ``forward(x, mask=None, causal=False, memory=None, memory_mask=None, cache=None,
    layer=0, rotary=None, need_weights=False)``:
        x: (B, T, E) queries' inputs; mask: (B, T) bool valid steps of ``x`` (self-
        attention keys); memory: (B, S, E_kv) and memory_mask (B, S) for cross-
        attention; cache: a :class:`KVCache` holding this layer's earlier steps (self-
        attention only); rotary: a :class:`RotaryEmbedding` applied to queries and keys.
        Returns (B, T, E) and, with ``need_weights``, the weights (B, h, T, S).
    """

    def __init__(
        self,
        size: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        kv_size: int | None = None,
    ) -> None:
        super().__init__()
        if size % num_heads:
            raise ValueError(f"size {size} is not divisible by num_heads {num_heads}")
        self.size, self.num_heads, self.head_size = size, num_heads, size // num_heads
        self.dropout = dropout
        self.cross = kv_size is not None
        if self.cross:
            self.query = nn.Linear(size, size, bias=bias)
            self.key_value = nn.Linear(kv_size, 2 * size, bias=bias)
        else:
            self.qkv = nn.Linear(size, 3 * size, bias=bias)
        self.output = nn.Linear(size, size, bias=bias)

    def project_memory(self, memory: Tensor) -> tuple[Tensor, Tensor]:
        """Cross-attention: (B, S, E_kv) memory -> its (B, h, S, d) keys and values. An
        incremental decoder computes them once per source and passes the pair as
        ``memory`` at every step (fairseq's static encoder-side cache)."""
        key, value = self.key_value(memory).chunk(2, dim=-1)
        return self._heads(key), self._heads(value)

    def _heads(self, x: Tensor) -> Tensor:
        """(B, T, E) -> (B, h, T, d)."""
        batch, steps, _ = x.shape
        return x.view(batch, steps, self.num_heads, self.head_size).transpose(1, 2)

    def forward(
        self,
        x: Tensor,
        mask: Tensor | None = None,
        causal: bool = False,
        memory: Tensor | tuple[Tensor, Tensor] | None = None,
        memory_mask: Tensor | None = None,
        cache: KVCache | None = None,
        layer: int = 0,
        rotary: RotaryEmbedding | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        batch, steps, _ = x.shape
        if self.cross:
            if memory is None:
                raise ValueError("cross-attention needs memory (B, S, E_kv)")
            query = self._heads(self.query(x))
            key, value = memory if isinstance(memory, tuple) else self.project_memory(memory)
            key_mask = memory_mask
        else:
            query, key, value = (self._heads(t) for t in self.qkv(x).chunk(3, dim=-1))
            offset = cache.length if cache is not None else 0
            if rotary is not None:
                query, key = rotary(query, offset), rotary(key, offset)
            if cache is not None:
                key, value = cache.update(layer, key, value)
                mask = cache.key_mask(mask, batch, steps)
            key_mask = mask
        # (B, 1, 1, S): True where a key may be attended; the causal part is added below.
        full = None if key_mask is None else key_mask[:, None, None, :]
        dropout = self.dropout if self.training else 0.0
        out, weights = scaled_dot_product_attention(
            query, key, value, full, dropout, need_weights, causal=causal and not self.cross
        )
        out = out.transpose(1, 2).reshape(batch, steps, self.size)  # heads concatenated
        return self.output(out), weights
