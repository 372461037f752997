"""Batched greedy and beam search over any step function (RNN, Transformer, GPT).

Legend: B sentences, K beam size, N rows currently decoded (B, B*K, or fewer once
sentences finish), V vocabulary size, M selected rows.

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


def greedy_search(
    step: Step,
    state: Any,
    start: Tensor,
    max_length: int,
    eos_id: int,
    min_length: int = 0,
) -> tuple[list[list[int]], Tensor]:
    """Batched greedy decoding of B rows.

    ``start`` (B,) long: first input tokens (e.g. <bos>); ``state`` has B rows. Each step
    feeds the last tokens of the unfinished rows and takes the argmax of the
    log-probabilities; eos is masked out until a row has ``min_length`` tokens. A row
    finishes at eos and is dropped from the batch (its state rows too); the loop ends
    when every row finished or ``max_length`` tokens were produced.

    Returns per row the generated ids without the eos, and (B,) float32 summed
    log-probabilities of the chosen tokens, including the eos when it was produced.
    """
    batch, device = start.shape[0], start.device
    rows = torch.arange(batch, device=device)  # (N,) original row of each decoded row
    tokens = start
    history = torch.full((batch, max(max_length, 0)), eos_id, dtype=torch.long, device=device)
    lengths = torch.full((batch,), max(max_length, 0), dtype=torch.long, device=device)
    total = torch.zeros(batch, dtype=torch.float32, device=device)
    for t in range(max_length):
        out, state = step(tokens, state)
        best_lp, best = _log_probs(out, eos_id, t < min_length).max(dim=-1)  # (N,), (N,)
        total[rows] = total[rows] + best_lp
        history[rows, t] = best
        ended = best == eos_id
        if bool(ended.any()):
            lengths[rows[ended]] = t
            keep = (~ended).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            rows, best = rows[keep], best[keep]
            if t + 1 < max_length:
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
    max_length: int,
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

    Each step, per sentence, the K alive beams' summed log-probs plus the step's
    log-probs (K*V candidates) give the top 2K candidates (``torch.topk`` on a (B, K*V)
    view: ties follow its order, the same for a sentence alone or in a batch).
    Eos candidates among the top K become finished hypotheses, scored
    ``log_prob / lp(|Y|)`` with the GNMT penalty ``lp(Y) = ((5 + |Y|) / 6) **
    length_penalty`` (|Y| includes the eos); the best K non-eos candidates continue,
    ranked by summed log-prob. At the first step only beam 0 is alive. Eos is masked
    out (-inf, no renormalisation) until a hypothesis has ``min_length`` tokens; no
    hypothesis has more than ``max_length`` tokens (eos included).

    With ``early_stopping=True`` a sentence is done as soon as it holds K finished
    hypotheses (HF ``early_stopping=True``). With ``early_stopping=False`` it is done
    once it holds K finished hypotheses and no alive beam can still finish with a score
    strictly above the worst of the K best: as log-probs are <= 0, an alive beam with
    summed log-prob s after n tokens finishes at best with score
    ``s / max(lp(n + 1), lp(max_length))`` (lp is monotone in the length), so the
    returned hypotheses are those of running the sentence to ``max_length``. A sentence
    whose beams all reached -inf is done too. Done sentences are dropped from the batch (their state
    rows removed by :func:`reorder_state`), so uneven lengths cost only the rows still
    decoded. The search stops when every sentence is done or after ``max_length`` steps.

    Returns per sentence at most ``num_return`` (<= K) hypotheses: the finished ones,
    best score first, then, only if fewer than ``num_return`` finished, the alive beams
    cut at ``max_length`` (``finished=False``), best score first.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    if not 1 <= num_return <= beam_size:
        raise ValueError(f"num_return must be in [1, beam_size={beam_size}], got {num_return}")
    batch, beams, device = start.shape[0], beam_size, start.device
    neg_inf = float("-inf")
    state = reorder_state(state, torch.arange(batch, device=device).repeat_interleave(beams))
    tokens = start.repeat_interleave(beams)  # (B*K,)
    scores = torch.full(
        (batch, beams), neg_inf, dtype=torch.float32, device=device
    )  # (n, K) summed log-probs
    scores[:, 0] = 0.0
    history = torch.empty(batch * beams, 0, dtype=torch.long, device=device)  # (n*K, t)
    active = torch.arange(batch, device=device)  # (n,) original sentence of each row block
    best_finished = torch.full(
        (batch, beams), neg_inf, dtype=torch.float32, device=device
    )  # (n, K) descending
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    offsets = torch.arange(batch, device=device).unsqueeze(1) * beams  # (B, 1)
    for t in range(max_length):
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
            # s <= 0, so s / lp(L) over the reachable lengths L in [n + 1, max_length] is
            # largest at the largest lp, found at one end (lp is monotone in L).
            reach = max(
                gnmt_penalty(t + 2, length_penalty), gnmt_penalty(max_length, length_penalty)
            )
            best_alive = scores[:, 0] / reach
            done |= full & (best_finished[:, -1] >= best_alive)
        if bool(done.any()):
            keep = (~done).nonzero().squeeze(1)
            active, scores, best_finished = active[keep], scores[keep], best_finished[keep]
            new_tokens, parent_rows = new_tokens[keep], parent_rows[keep]
        selected = parent_rows.reshape(-1)
        history = torch.cat([history[selected], new_tokens.reshape(-1, 1)], dim=1)
        if active.numel() == 0:
            break
        if t + 1 < max_length:
            state = reorder_state(state, selected)
        tokens = new_tokens.reshape(-1)

    results: list[list[Hypothesis]] = []
    alive_block = {sentence: i for i, sentence in enumerate(active.tolist())}
    for sentence in range(batch):
        ranked = sorted(finished[sentence], key=lambda hypothesis: -hypothesis.score)
        ranked = ranked[:num_return]
        block = alive_block.get(sentence)
        if len(ranked) < num_return and block is not None:
            length = history.shape[1]
            penalty = gnmt_penalty(length, length_penalty)
            block_scores = scores[block]
            alive = [
                Hypothesis(ids, score, log_prob, False)
                for ids, score, log_prob in zip(
                    history[block * beams : (block + 1) * beams].tolist(),
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
