"""Batched greedy and beam search over any step function (RNN, Transformer, GPT).

Legend: B sentences, K beam size, N rows currently decoded (B, B*K, or fewer once
sentences finish), V vocabulary size, M selected rows.

``max_length`` is an ``int`` (the same limit for every sentence) or a (B,) integer
tensor of per-sentence limits (e.g. fairseq's ``max_len_a * src_len + max_len_b``),
each >= 1 and counting the generated tokens including the eos. A batch with
per-sentence limits gives exactly what each sentence decoded alone with its own int
limit gives; the loop runs up to the largest limit.

A model is driven through a callback ``step(tokens, state) -> (scores, new_state)``:
``tokens`` (N,) long are the last tokens of the N rows, ``scores`` (N, V) their
next-token logits or log-probabilities (both work: they go through ``log_softmax``,
which leaves log-probabilities unchanged), and ``state`` anything whose tensors have
one row per decoded row along dim 0 (encoder memory, recurrent hidden state, KV cache,
...). The search selects rows of the state with :func:`reorder_state` when beams are
re-parented and when finished sentences are dropped from the batch, so a step always
sees exactly the rows it is asked for.

Scores of finished hypotheses use the GNMT length penalty (Wu et al. 2016,
arXiv:1609.08144, eq. 14): ``score = log_prob / lp(Y)`` with
``lp(Y) = ((5 + |Y|) / 6) ** alpha``, |Y| counting the generated tokens including the
eos; ``alpha = 0`` ranks by the summed log-probability.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

Step = Callable[[Tensor, Any], tuple[Tensor, Any]]
"""``step(tokens (N,) long, state) -> (logits or log-probs (N, V), new state)``."""


def reorder_state(state: Any, indices: Tensor) -> Any:
    """Select rows ``indices`` (M,) along dim 0 of every tensor in ``state``.

    ``state`` is a Tensor (N, ...) -> (M, ...), None, a tuple (named tuples keep their
    type), list or dict of those (nested), or an object with a ``reorder(indices)``
    method (e.g. a KV cache), which is called and its result used. Rows may repeat
    (one parent beam feeding several children). Anything else raises TypeError: a
    per-row value that is not a tensor could not be reordered, so it is refused rather
    than passed through unchanged.
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.index_select(0, indices.to(state.device))
    reorder = getattr(state, "reorder", None)
    if callable(reorder):
        return reorder(indices)
    if isinstance(state, dict):
        return type(state)((key, reorder_state(value, indices)) for key, value in state.items())
    if isinstance(state, tuple):
        items = [reorder_state(value, indices) for value in state]
        return type(state)(*items) if hasattr(state, "_fields") else tuple(items)
    if isinstance(state, list):
        return [reorder_state(value, indices) for value in state]
    raise TypeError(
        f"cannot reorder a state of type {type(state).__name__}: use tensors, None, "
        "tuples/lists/dicts of them, or an object with a reorder(indices) method"
    )


def gnmt_penalty(length: int, alpha: float) -> float:
    """GNMT length penalty lp(Y) = ((5 + |Y|) / 6) ** alpha for ``length`` = |Y| tokens."""
    return ((5.0 + length) / 6.0) ** alpha


def _log_probs(scores: Tensor, eos_id: int, mask_eos: bool) -> Tensor:
    """(N, V) logits or log-probs -> float32 log-probs, eos set to -inf if ``mask_eos``
    (no renormalisation: the kept tokens keep the model's log-probabilities)."""
    log_probs = torch.log_softmax(scores.float(), dim=-1)
    if mask_eos:
        log_probs[:, eos_id] = float("-inf")
    return log_probs


def _check_limits(
    max_length: int | Tensor, batch: int, device: torch.device
) -> tuple[int, Tensor | None]:
    """``max_length`` -> (number of steps to run, (B,) long limits on ``device`` or None
    for an int). Raises ValueError for a limit < 1 or a tensor that is not (B,) integer."""
    if isinstance(max_length, Tensor):
        dtype = max_length.dtype
        if dtype.is_floating_point or dtype.is_complex or dtype == torch.bool:
            raise ValueError(f"max_length must be an int or an integer tensor, got dtype {dtype}")
        if max_length.shape != (batch,):
            raise ValueError(
                f"max_length as a tensor must have shape (B,) = ({batch},), one limit per "
                f"sentence, got {tuple(max_length.shape)}"
            )
        limits = max_length.to(device=device, dtype=torch.long)
        if batch == 0:
            return 0, limits
        smallest, largest = limits.aminmax()
        if int(smallest) < 1:
            raise ValueError(f"max_length must be >= 1 for every sentence, got {int(smallest)}")
        return int(largest), limits
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    return max_length, None


def greedy_search(
    step: Step,
    state: Any,
    start: Tensor,
    max_length: int | Tensor,
    eos_id: int,
    min_length: int = 0,
) -> tuple[list[list[int]], Tensor]:
    """Batched greedy decoding of B rows.

    ``start`` (B,) long: first input tokens (e.g. <bos>); ``state`` has B rows. Each step
    feeds the last tokens of the unfinished rows and takes the argmax of the
    log-probabilities; eos is masked out until a row has ``min_length`` tokens. A row
    finishes at eos and is dropped from the batch (its state rows too), or when it holds
    its ``max_length`` tokens: an ``int``, or a (B,) integer tensor of per-row limits
    (each >= 1, ValueError otherwise), each row then decoded exactly as alone with its
    own limit. The loop ends when every row finished or after the largest limit.

    Returns per row the generated ids without the eos, and (B,) float32 summed
    log-probabilities of the chosen tokens, including the eos when it was produced.
    """
    batch, device = start.shape[0], start.device
    steps, limits = _check_limits(max_length, batch, device)
    rows = torch.arange(batch, device=device)  # (N,) original row of each decoded row
    row_limits = limits  # (N,) limit of each decoded row, None for an int
    tokens = start
    history = torch.full((batch, steps), eos_id, dtype=torch.long, device=device)
    if limits is None:
        lengths = torch.full((batch,), steps, dtype=torch.long, device=device)
    else:
        lengths = limits.clone()
    total = torch.zeros(batch, dtype=torch.float32, device=device)
    for t in range(steps):
        out, state = step(tokens, state)
        best_lp, best = _log_probs(out, eos_id, t < min_length).max(dim=-1)  # (N,), (N,)
        total[rows] = total[rows] + best_lp
        history[rows, t] = best
        ended = best == eos_id
        # rows at their own limit stop too (an int limit is the end of the loop)
        drop = ended if row_limits is None else ended | (row_limits == t + 1)
        if bool(drop.any()):
            lengths[rows[ended]] = t
            keep = (~drop).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            rows, best = rows[keep], best[keep]
            if row_limits is not None:
                row_limits = row_limits[keep]
            if t + 1 < steps:
                state = reorder_state(state, keep)
        tokens = best
    ids = history.tolist()
    return [ids[b][:n] for b, n in enumerate(lengths.tolist())], total


@dataclass
class Hypothesis:
    """One beam-search result."""

    tokens: list[int]  # generated ids, without the final eos
    score: float  # the length-normalised score used for ranking: log_prob / lp(|Y|)
    log_prob: float  # summed log-probability (eos included when finished)
    finished: bool  # ended with eos (False: cut at max_length)


def beam_search(
    step: Step,
    state: Any,
    start: Tensor,
    beam_size: int,
    max_length: int | Tensor,
    eos_id: int,
    length_penalty: float = 0.0,
    min_length: int = 0,
    num_return: int = 1,
    early_stopping: bool = True,
) -> list[list[Hypothesis]]:
    """Batched beam search: all B sentences x K beams are decoded as one (B*K)-row batch.

    ``start`` (B,) long: first input tokens; ``state`` has B rows (e.g. encoder outputs
    per sentence) and is expanded to B*K rows. ``step`` output goes through
    ``log_softmax`` (float32), so it may return logits or log-probabilities.
    ``max_length`` is an ``int`` or a (B,) integer tensor of per-sentence limits L (each
    >= 1, ValueError otherwise); below, L is the sentence's own limit.

    Each step, per sentence, the K alive beams' summed log-probs plus the step's
    log-probs (K*V candidates) give the top 2K candidates (``torch.topk`` on a (B, K*V)
    view: ties follow its order, the same for a sentence alone or in a batch).
    Eos candidates among the top K become finished hypotheses, scored
    ``log_prob / lp(|Y|)`` with the GNMT penalty ``lp(Y) = ((5 + |Y|) / 6) **
    length_penalty`` (|Y| includes the eos); the best K non-eos candidates continue,
    ranked by summed log-prob. At the first step only beam 0 is alive. Eos is masked
    out (-inf, no renormalisation) until a hypothesis has ``min_length`` tokens; no
    hypothesis has more than L tokens (eos included).

    With ``early_stopping=True`` a sentence is done as soon as it holds K finished
    hypotheses (HF ``early_stopping=True``). With ``early_stopping=False`` it is done
    once it holds K finished hypotheses and no alive beam can still finish with a score
    strictly above the worst of the K best: as log-probs are <= 0, an alive beam with
    summed log-prob s after n tokens finishes at best with score
    ``s / max(lp(n + 1), lp(L))`` (lp is monotone in the length), so the returned
    hypotheses are those of running the sentence to L. A sentence whose beams all
    reached -inf is done too, and so is a sentence at step L (its alive beams, L tokens
    long, are kept as unfinished hypotheses). Done sentences are dropped from the batch
    (their state rows removed by :func:`reorder_state`), so uneven lengths cost only the
    rows still decoded. The search stops when every sentence is done, at the latest
    after the largest L steps; a batch equals its sentences decoded one by one, each
    with its own int limit.

    Returns per sentence at most ``num_return`` (<= K) hypotheses: the finished ones,
    best score first, then, only if fewer than ``num_return`` finished, the alive beams
    cut at L (``finished=False``, score ``log_prob / lp(L)``), best score first.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    if not 1 <= num_return <= beam_size:
        raise ValueError(f"num_return must be in [1, beam_size={beam_size}], got {num_return}")
    batch, beams, device = start.shape[0], beam_size, start.device
    steps, limits = _check_limits(max_length, batch, device)
    neg_inf = float("-inf")
    state = reorder_state(state, torch.arange(batch, device=device).repeat_interleave(beams))
    tokens = start.repeat_interleave(beams)  # (B*K,)
    scores = torch.full(
        (batch, beams), neg_inf, dtype=torch.float32, device=device
    )  # (n, K) summed log-probs
    scores[:, 0] = 0.0
    history = torch.empty(batch * beams, 0, dtype=torch.long, device=device)  # (n*K, t)
    active = torch.arange(batch, device=device)  # (n,) original sentence of each row block
    active_limits = limits  # (n,) limit of each active sentence, None for an int
    distinct = [] if limits is None else sorted(set(limits.tolist()))
    best_finished = torch.full(
        (batch, beams), neg_inf, dtype=torch.float32, device=device
    )  # (n, K) descending
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    # alive beams of the sentences cut at their limit: (ids (K, L), log-probs (K,), lp(L))
    cut_alive: dict[int, tuple[Tensor, Tensor, float]] = {}
    offsets = torch.arange(batch, device=device).unsqueeze(1) * beams  # (B, 1)
    for t in range(steps):
        out, state = step(tokens, state)
        log_probs = _log_probs(out, eos_id, t < min_length)  # (n*K, V)
        n, vocab = active.numel(), log_probs.shape[-1]
        candidates = (scores.unsqueeze(-1) + log_probs.view(n, beams, vocab)).view(n, -1)
        top_scores, top_index = candidates.topk(min(2 * beams, beams * vocab), dim=-1)
        top_beam, top_token = top_index // vocab, top_index % vocab  # (n, 2K)
        is_eos = top_token == eos_id
        # Finished: eos among the top K (HF/fairseq), with a finite score.
        ended = is_eos[:, :beams] & torch.isfinite(top_scores[:, :beams])  # (n, K)
        if bool(ended.any()):
            penalty = gnmt_penalty(t + 1, length_penalty)
            normalised = top_scores[:, :beams] / penalty  # (n, K)
            where, rank = ended.nonzero(as_tuple=True)
            parents = offsets[:n, 0][where] + top_beam[where, rank]
            events = zip(
                active[where].tolist(),
                history[parents].tolist(),
                normalised[where, rank].tolist(),
                top_scores[where, rank].tolist(),
                strict=True,
            )
            for sentence, ids, score, log_prob in events:
                kept = finished[sentence]
                kept.append(Hypothesis(ids, score, log_prob, True))
                if len(kept) > 2 * beams:  # stable sort: earlier hypotheses win ties
                    kept.sort(key=lambda hypothesis: -hypothesis.score)
                    del kept[beams:]
            fresh = normalised.masked_fill(~ended, neg_inf)
            best_finished = torch.cat([best_finished, fresh], dim=1).topk(beams, dim=1).values
        # Continuing: the first K non-eos candidates in rank order (>= K exist: at most
        # one eos candidate per beam among the top 2K).
        order = is_eos.to(torch.int8).argsort(dim=-1, stable=True)[:, :beams]  # (n, K)
        scores = top_scores.gather(1, order)
        new_tokens = top_token.gather(1, order)
        parent_rows = offsets[:n] + top_beam.gather(1, order)  # (n, K)
        done = torch.isneginf(scores[:, 0])
        full = torch.isfinite(best_finished[:, -1])
        if early_stopping:
            done |= full
        else:
            # s <= 0, so s / lp(L') over the reachable lengths L' in [n + 1, L] is
            # largest at the largest lp, found at one end (lp is monotone in L').
            if active_limits is None:
                reach = max(
                    gnmt_penalty(t + 2, length_penalty), gnmt_penalty(steps, length_penalty)
                )
                best_alive = scores[:, 0] / reach
            else:
                best_alive = _alive_bound(scores[:, 0], t, active_limits, distinct, length_penalty)
            done |= full & (best_finished[:, -1] >= best_alive)
        # Sentences at their limit are done; their alive beams are kept as unfinished
        # hypotheses (only needed while fewer than num_return finished).
        if limits is None:
            cut = ~done if t + 1 == steps else None
        else:
            cut = (active_limits == t + 1) & ~done
        if cut is not None and bool(cut.any()):
            blocks = cut.nonzero().squeeze(1)
            sentences = active[blocks].tolist()
            needed = [i for i, s in enumerate(sentences) if len(finished[s]) < num_return]
            if needed:
                blocks = blocks[needed]
                ids = torch.cat(
                    [history[parent_rows[blocks].reshape(-1)], new_tokens[blocks].reshape(-1, 1)],
                    dim=1,
                ).view(len(needed), beams, t + 1)
                penalty = gnmt_penalty(t + 1, length_penalty)
                for i, block_scores, block_ids in zip(needed, scores[blocks], ids, strict=True):
                    cut_alive[sentences[i]] = (block_ids, block_scores, penalty)
            done |= cut
        if bool(done.any()):
            keep = (~done).nonzero().squeeze(1)
            active, scores, best_finished = active[keep], scores[keep], best_finished[keep]
            new_tokens, parent_rows = new_tokens[keep], parent_rows[keep]
            if active_limits is not None:
                active_limits = active_limits[keep]
        if active.numel() == 0:
            break
        selected = parent_rows.reshape(-1)
        history = torch.cat([history[selected], new_tokens.reshape(-1, 1)], dim=1)
        if t + 1 < steps:
            state = reorder_state(state, selected)
        tokens = new_tokens.reshape(-1)

    results: list[list[Hypothesis]] = []
    for sentence in range(batch):
        ranked = sorted(finished[sentence], key=lambda hypothesis: -hypothesis.score)
        ranked = ranked[:num_return]
        if len(ranked) < num_return and sentence in cut_alive:
            block_ids, block_scores, penalty = cut_alive[sentence]
            alive = [
                Hypothesis(ids, score, log_prob, False)
                for ids, score, log_prob in zip(
                    block_ids.tolist(),
                    (block_scores / penalty).tolist(),
                    block_scores.tolist(),
                    strict=True,
                )
                if log_prob > neg_inf
            ]
            alive.sort(key=lambda hypothesis: -hypothesis.score)
            ranked += alive[: num_return - len(ranked)]
        results.append(ranked)
    return results


def _alive_bound(best: Tensor, t: int, limits: Tensor, distinct: list[int], alpha: float) -> Tensor:
    """(n,) best alive summed log-probs s at step t, (n,) per-sentence limits L ->
    ``s / max(lp(t + 2), lp(L))``, the best score each can still finish with.

    ``distinct`` lists the limits of the batch. Each division is by the same Python
    float as for a sentence alone with its int limit (one division per distinct value,
    most often a single one), so the bound is bitwise the one-by-one bound, whatever
    the device's kernel does with a scalar divisor.
    """
    near = gnmt_penalty(t + 2, alpha)
    groups: dict[float, list[int]] = {}
    for limit in distinct:
        if limit > t + 1:  # a sentence at its limit t + 1 is done at this step anyway
            groups.setdefault(max(near, gnmt_penalty(limit, alpha)), []).append(limit)
    if not groups:
        return best / near
    (reach, _), *others = groups.items()
    bound = best / reach
    for reach, members in others:
        mask = torch.isin(limits, torch.tensor(members, device=limits.device))
        bound = torch.where(mask, best / reach, bound)
    return bound
