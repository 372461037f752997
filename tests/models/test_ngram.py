"""Count LMs against brute-force probability tables."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from seqlab.errors import UserError
from seqlab.models.ngram import NGramLM


def test_bigram_matches_brute_force_add_k() -> None:
    rng = np.random.default_rng(0)
    vocab = 7
    train = rng.integers(0, vocab, 500)
    test = rng.integers(0, vocab, 100)
    k = 0.5
    model = NGramLM(vocab, order=2, k=k).fit(train)
    counts = np.zeros((vocab, vocab))
    for a, b in itertools.pairwise(train):
        counts[a, b] += 1
    table = (counts + k) / (counts.sum(1, keepdims=True) + k * vocab)
    assert np.allclose(table.sum(1), 1.0)
    unigram = (np.bincount(train, minlength=vocab) + 1) / (len(train) + vocab)
    expected = [math.log(unigram[test[0]])] + [
        math.log(table[a, b]) for a, b in itertools.pairwise(test)
    ]
    assert np.allclose(model.log_probs(test), expected)
    assert model.perplexity(test) == pytest.approx(math.exp(-np.mean(expected)))


def test_unigram_perplexity_of_uniform_stream_is_vocab_size() -> None:
    stream = np.tile(np.arange(10), 100)
    assert NGramLM(10, order=1).fit(stream).perplexity(stream) == pytest.approx(10.0)


def test_k_is_tuned_on_held_out_data() -> None:
    rng = np.random.default_rng(1)
    train, valid = rng.integers(0, 50, 2000), rng.integers(0, 50, 500)
    model = NGramLM(50, k=[1.0, 0.1, 0.01]).fit(train, valid)
    best = min((NGramLM(50, k=k).fit(train).perplexity(valid), k) for k in [1.0, 0.1, 0.01])
    assert model.k_ == best[1]


def test_bad_order_and_empty_stream() -> None:
    with pytest.raises(UserError):
        NGramLM(5, order=3)
    with pytest.raises(UserError, match="empty"):
        NGramLM(5).fit(np.array([1]))
