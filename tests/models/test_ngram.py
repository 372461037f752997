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


def test_next_token_distribution_is_the_table_row_and_generation_samples_it() -> None:
    rng = np.random.default_rng(2)
    vocab = 6
    train = rng.integers(0, vocab, 300)
    model = NGramLM(vocab, order=2, k=0.1).fit(train)
    counts = np.zeros((vocab, vocab))
    for a, b in itertools.pairwise(train):
        counts[a, b] += 1
    table = (counts + 0.1) / (counts.sum(1, keepdims=True) + 0.1 * vocab)
    for context in range(vocab):
        assert np.allclose(np.exp(model.next_log_probs([4, context])), table[context])
    unigram = (np.bincount(train, minlength=vocab) + 1) / (len(train) + vocab)
    assert np.allclose(np.exp(NGramLM(vocab, order=1).fit(train).next_log_probs([3])), unigram)
    greedy = model.generate([2], 4, temperature=0)
    expected, last = [], 2
    for _ in range(4):
        last = int(table[last].argmax())
        expected.append(last)
    assert greedy == expected
    assert model.generate([1], 8, seed=3) == model.generate([1], 8, seed=3)
    stop = int(table[2].argmax())
    assert model.generate([2], 4, temperature=0, stop_id=stop) == []


def test_counts_round_trip_through_a_bundle(tmp_path) -> None:
    from seqlab.bundle import load_bundle, save_bundle
    from seqlab.families.generation import LMPreprocessing
    from seqlab.text.tokenizers import WordTokenizer

    tokenizer = WordTokenizer().fit(["a b c a b", "c a"])
    stream = np.array(tokenizer.encode("a b c a b c a a b"))
    model = NGramLM(tokenizer.vocab_size, k=[0.5, 0.05]).fit(stream, stream[:4])
    save_bundle(
        tmp_path / "b",
        model,
        task="text-generation",
        preprocessing=LMPreprocessing(),
        tokenizer=tokenizer,
    )
    loaded = load_bundle(tmp_path / "b").model
    assert isinstance(loaded, NGramLM) and loaded.k_ == model.k_
    assert np.array_equal(loaded.log_probs(stream), model.log_probs(stream))
