"""Count-based language models: the baselines every neural LM is shown beside.

Unigram with add-one smoothing and bigram with add-k smoothing (Jurafsky & Martin,
ch. 3): P(w | v) = (c(v, w) + k) / (c(v) + k |V|). Counting is vectorised with numpy
(pairs encoded as v * |V| + w), so PTB's 900k tokens fit in well under a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from seqlab.errors import UserError


class NGramLM:
    """``order`` 1 or 2 over integer token ids in ``[0, vocab_size)``.

    ``fit(ids)`` counts one token stream; ``perplexity(ids)`` scores another (the
    first token of a stream is scored by the unigram model). ``k`` may be a list:
    the value with the lowest perplexity on ``tune_ids`` is kept (``k_``).
    """

    def __init__(self, vocab_size: int, order: int = 2, k: float | Sequence[float] = 0.01) -> None:
        if order not in (1, 2):
            raise UserError(f"n-gram order {order} is not supported", "use order 1 or 2")
        self.vocab_size, self.order, self.k = vocab_size, order, k

    def fit(self, ids: np.ndarray, tune_ids: np.ndarray | None = None) -> NGramLM:
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size < 2:
            raise UserError("the training stream is empty", "give the n-gram model some text")
        self.unigram_ = np.bincount(ids, minlength=self.vocab_size).astype(np.float64)
        pairs = ids[:-1] * self.vocab_size + ids[1:]
        self.pair_codes_, self.pair_counts_ = np.unique(pairs, return_counts=True)
        self.context_counts_ = np.bincount(ids[:-1], minlength=self.vocab_size).astype(np.float64)
        candidates = [self.k] if np.isscalar(self.k) else list(self.k)
        self.k_ = float(candidates[0])
        if len(candidates) > 1:
            scores = {}
            for k in candidates:
                self.k_ = float(k)
                scores[k] = self.perplexity(tune_ids if tune_ids is not None else ids)
            self.k_ = float(min(scores, key=scores.get))
        return self

    def log_probs(self, ids: np.ndarray) -> np.ndarray:
        """Natural-log probability of every token of ``ids`` given its predecessor."""
        ids = np.asarray(ids, dtype=np.int64)
        total = self.unigram_.sum()
        unigram = np.log((self.unigram_[ids] + 1.0) / (total + self.vocab_size))
        if self.order == 1:
            return unigram
        pairs = ids[:-1] * self.vocab_size + ids[1:]
        where = np.searchsorted(self.pair_codes_, pairs).clip(max=len(self.pair_codes_) - 1)
        counts = np.where(self.pair_codes_[where] == pairs, self.pair_counts_[where], 0)
        bigram = np.log(
            (counts + self.k_) / (self.context_counts_[ids[:-1]] + self.k_ * self.vocab_size)
        )
        return np.concatenate([unigram[:1], bigram])

    def perplexity(self, ids: np.ndarray) -> float:
        return math.exp(-float(self.log_probs(ids).mean()))
