"""Choosing the next token from logits: greedy, temperature, top-k, top-p (nucleus).

Legend: B batch, V vocabulary size.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def filter_logits(logits: Tensor, top_k: int | None = None, top_p: float | None = None) -> Tensor:
    """Mask (B, V) logits outside the top-k / nucleus top-p set with -inf."""
    if top_k is not None and 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and 0.0 < top_p < 1.0:
        # Holtzman et al. 2019: keep the smallest set whose probability mass reaches top_p.
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        drop_sorted = cumulative - torch.softmax(sorted_logits, dim=-1) >= top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def sample_next(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """(B, V) logits -> (B,) token ids. ``temperature == 0`` is greedy (argmax)."""
    if temperature <= 0:
        return logits.argmax(-1)
    logits = filter_logits(logits / temperature, top_k, top_p)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def sample_tokens(
    first_logits: Tensor,
    step: Callable[[int], Tensor],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    stop_id: int | None = None,
    seed: int | None = None,
    min_new_tokens: int = 0,
) -> list[int]:
    """Sample one continuation: ``first_logits`` (1, V) after the prompt, then
    ``step(token)`` -> (1, V) logits after each drawn token; returns the new ids.

    Sampling stops at ``stop_id`` (not returned), which is never drawn before
    ``min_new_tokens`` tokens exist (HF ``generate``'s ``min_new_tokens``).
    """
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    logits, new = first_logits, []
    for _ in range(max_new_tokens):
        logits = logits.float().cpu()
        if stop_id is not None and len(new) < min_new_tokens:
            logits[:, stop_id] = float("-inf")
        token = int(sample_next(logits, temperature, top_k, top_p, generator).item())
        if stop_id is not None and token == stop_id:
            break
        new.append(token)
        if len(new) < max_new_tokens:
            logits = step(token)
    return new
