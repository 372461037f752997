"""Count-based language models: the baselines every neural LM is shown beside.

Unigram with add-one smoothing and bigram with add-k smoothing (Jurafsky & Martin,
ch. 3): P(w | v) = (c(v, w) + k) / (c(v) + k |V|). Counting is vectorised with numpy
(pairs encoded as v * |V| + w), so PTB's 900k tokens fit in well under a second.

It is also the ``type = "ngram"`` model of the ``text-generation`` family: it trains
from a recipe, is saved in a bundle (its counts in ``model.safetensors``), ranks next
tokens and generates, like the neural language model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import torch

from seqlab.config import PositiveFloat
from seqlab.decoding.sampling import sample_tokens
from seqlab.errors import UserError


@dataclass
class NGramConfig:
    """The ``[model]`` table of a count LM: ``order`` and the add-k candidates (the one
    with the lowest validation perplexity is kept). ``vocab_size`` comes from the data."""

    TYPES: ClassVar[tuple[str, ...]] = ("ngram",)

    type: str = "ngram"
    order: Literal[1, 2] = 2
    k: list[PositiveFloat] = field(default_factory=lambda: [1.0, 0.1, 0.03, 0.01, 0.003, 0.001])
    vocab_size: int = 0


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
        candidates = [float(value) for value in np.atleast_1d(k)]
        self.config = NGramConfig(order=order, k=candidates, vocab_size=vocab_size)

    @classmethod
    def from_config(cls, config: NGramConfig) -> NGramLM:
        return cls(config.vocab_size, config.order, config.k)

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

    def next_log_probs(self, context: Sequence[int]) -> np.ndarray:
        """(V,) natural-log P(w | context) for every w (the bigram reads the last id)."""
        total = self.unigram_.sum()
        if self.order == 1 or not len(context):
            return np.log((self.unigram_ + 1.0) / (total + self.vocab_size))
        v = int(context[-1])
        row = np.zeros(self.vocab_size)
        lo, hi = np.searchsorted(self.pair_codes_, [v * self.vocab_size, (v + 1) * self.vocab_size])
        row[self.pair_codes_[lo:hi] - v * self.vocab_size] = self.pair_counts_[lo:hi]
        return np.log((row + self.k_) / (self.context_counts_[v] + self.k_ * self.vocab_size))

    context_size = None  # any prompt length (a bigram reads the last token)

    def generate(
        self,
        prompt: list[int],
        max_new_tokens: int = 50,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        stop_id: int | None = None,
        seed: int | None = None,
        min_new_tokens: int = 0,
    ) -> list[int]:
        """Sample a continuation; the same arguments as ``LanguageModel.generate``."""
        tokens = list(prompt)

        def logits_after(token: int | None = None) -> torch.Tensor:
            if token is not None:
                tokens.append(token)
            return torch.from_numpy(self.next_log_probs(tokens)).float().unsqueeze(0)  # (1, V)

        options = (temperature, top_k, top_p, stop_id, seed, min_new_tokens)
        return sample_tokens(logits_after(), logits_after, max_new_tokens, *options)

    # ------------------------------------------------------------ persistence (bundles)
    def save_weights(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        tensors = {
            "unigram": self.unigram_,
            "pair_codes": self.pair_codes_,
            "pair_counts": self.pair_counts_,
            "context_counts": self.context_counts_,
            "k": np.asarray([self.k_]),
        }
        save_file(tensors, str(folder / "model.safetensors"))

    def load_weights(self, folder: Path) -> NGramLM:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            tensors = load_file(str(folder / "model.safetensors"))
            self.unigram_, self.context_counts_ = tensors["unigram"], tensors["context_counts"]
            self.pair_codes_, self.pair_counts_ = tensors["pair_codes"], tensors["pair_counts"]
            self.k_ = float(tensors["k"][0])
        except (SafetensorError, OSError, KeyError) as exc:
            raise UserError(f"{folder}: the n-gram counts are corrupted ({exc})") from None
        if len(self.unigram_) != self.vocab_size:
            raise UserError(
                f"{folder}: counts for {len(self.unigram_)} tokens, config says {self.vocab_size}",
                "re-create the bundle with `seqlab train`",
            )
        return self
