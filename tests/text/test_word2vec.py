"""word2vec: the pieces against brute force / gensim / the word2vec.c equations, and learning."""

from __future__ import annotations

import heapq
import itertools

import numpy as np
import pytest
import torch

from seqlab.errors import UserError
from seqlab.text.word2vec import (
    Word2Vec,
    alias_table,
    context_pairs,
    encode_corpus,
    huffman_tree,
    keep_probabilities,
    sample_negatives,
)
from seqlab.text.word2vec_data import Scratch, interleaved_order


def topic_corpus(topics: int = 4, words_per_topic: int = 8, sentences: int = 1500, seed: int = 0):
    """Sentences drawn from one topic each: words of a topic co-occur, others never do."""
    rng = np.random.default_rng(seed)
    vocab = [[f"t{t}w{w}" for w in range(words_per_topic)] for t in range(topics)]
    corpus = []
    for _ in range(sentences):
        topic = vocab[rng.integers(topics)]
        corpus.append([topic[i] for i in rng.integers(0, words_per_topic, 10)])
    return corpus


# ----------------------------------------------------------------- pair generation
@pytest.mark.parametrize("window", [1, 2, 5])
def test_context_pairs_fixed_window_match_brute_force(window: int) -> None:
    rng = np.random.default_rng(window)
    sentence_ids = np.sort(rng.integers(0, 6, 40))
    centres, contexts = context_pairs(sentence_ids, window, np.full(40, window))
    expected = [
        (i, j)
        for i in range(40)
        for j in range(40)
        if i != j and abs(i - j) <= window and sentence_ids[i] == sentence_ids[j]
    ]
    assert list(zip(centres.tolist(), contexts.tolist(), strict=True)) == expected


@pytest.mark.parametrize(("count", "batch"), [(10, 3), (12, 4), (7, 256), (1000, 256)])
def test_interleaved_order_spreads_each_batch_over_the_chunk(count: int, batch: int) -> None:
    order, batch_of = interleaved_order(count, batch)
    assert sorted(order.tolist()) == list(range(count))  # a permutation
    batches = -(-count // batch)
    assert batch_of.tolist() == sorted(batch_of.tolist()) and batch_of.max() == batches - 1
    for b in range(batches):
        members = order[batch_of == b]
        assert members.tolist() == list(range(b, count, batches))  # never two neighbours
        assert 0 < len(members) <= batch


def test_context_pairs_dynamic_window_match_brute_force() -> None:
    rng = np.random.default_rng(1)
    sentence_ids = np.sort(rng.integers(0, 4, 60))
    window = 4
    effective = window - rng.integers(0, window, 60)  # word2vec.c: b ~ U{0..window-1}
    centres, contexts = context_pairs(sentence_ids, window, effective)
    expected = [
        (i, j)
        for i in range(60)
        for j in range(60)
        if i != j and abs(i - j) <= effective[i] and sentence_ids[i] == sentence_ids[j]
    ]
    assert list(zip(centres.tolist(), contexts.tolist(), strict=True)) == expected


# --------------------------------------------------------------------- subsampling
def test_keep_probability_formula_and_gensim() -> None:
    from gensim.models import Word2Vec as GensimWord2Vec

    corpus = [["a"] * 500 + ["b"] * 60 + ["c"] * 7 + ["d"] * 2]
    sample = 1e-2
    model = GensimWord2Vec(vector_size=4, min_count=1, sample=sample, workers=1)
    model.build_vocab(corpus)
    words, counts, _, _ = encode_corpus(corpus, min_count=1)
    ours = keep_probabilities(counts, sample)
    threshold = sample * counts.sum()
    for word, count, probability in zip(words, counts, ours, strict=True):
        by_hand = min(1.0, (np.sqrt(count / threshold) + 1) * threshold / count)
        assert probability == pytest.approx(by_hand)
        gensim_probability = model.wv.get_vecattr(word, "sample_int") / 2**32
        assert probability == pytest.approx(gensim_probability, abs=1e-9)
    assert ours[0] < 1.0 and ours[-1] == 1.0  # frequent words are thinned, rare kept
    assert np.all(keep_probabilities(counts, 0) == 1.0)


# ------------------------------------------------------------------ huffman coding
def optimal_huffman_cost(counts: list[int]) -> int:
    heap = list(counts)
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_huffman_codes_are_optimal_and_prefix_free(seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 1000, 40)  # unsorted on purpose
    codes, points, lengths = huffman_tree(counts)
    words = [tuple(codes[w, : lengths[w]]) for w in range(len(counts))]
    for first, second in itertools.permutations(words, 2):
        assert second[: len(first)] != first  # no code is a prefix of another
    assert sum(2.0**-lengths) == pytest.approx(1.0)  # complete binary tree (Kraft)
    assert int((counts * lengths).sum()) == optimal_huffman_cost(counts.tolist())
    assert np.all(points[:, 0] == len(counts) - 2)  # every path starts at the root
    inner = points[lengths[:, None] > np.arange(points.shape[1])]
    assert inner.min() >= 0 and inner.max() <= len(counts) - 2


def test_huffman_lengths_match_gensim_cost() -> None:
    from gensim.models import Word2Vec as GensimWord2Vec

    corpus = topic_corpus(sentences=300)
    model = GensimWord2Vec(vector_size=4, min_count=1, hs=1, negative=0, workers=1)
    model.build_vocab(corpus)
    words, counts, _, _ = encode_corpus(corpus, min_count=1)
    _, _, lengths = huffman_tree(counts)
    gensim_cost = sum(
        model.wv.get_vecattr(w, "count") * len(model.wv.get_vecattr(w, "code")) for w in words
    )
    assert int((counts * lengths).sum()) == gensim_cost


# ------------------------------------------------------------- negative sampling
def test_alias_table_distribution_is_count_to_the_075() -> None:
    counts = np.array([1000, 300, 50, 7, 1, 1, 0, 12])
    accept, alias = alias_table(counts)
    size = len(counts)
    accept = accept.astype(np.float64)
    exact = accept / size  # mass a column keeps, plus what other columns send it
    np.add.at(exact, alias, (1 - accept) / size)
    target = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(exact, target, atol=1e-7)  # float32 tables
    draws = sample_negatives(accept, alias, (400_000,), np.random.default_rng(0))
    empirical = np.bincount(draws, minlength=size) / len(draws)
    np.testing.assert_allclose(empirical, target, atol=3e-3)
    assert empirical[6] == 0.0  # a zero count is never drawn


# ------------------------------------------------------------ the update equations
def test_bulk_update_equals_word2vec_c_per_pair_and_autograd() -> None:
    """One batch of distinct targets: the summed update equals word2vec.c's loop."""
    torch.manual_seed(0)
    model = Word2Vec(vector_size=6)
    hidden = torch.randn(3, 6)
    output = torch.randn(10, 6)
    targets = torch.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    labels = torch.tensor([[1.0, 0, 0]] * 3)
    weights = torch.tensor([[1.0, 1, 0], [1, 1, 1], [1, 1, 1]])  # a skipped negative
    alpha = 0.1
    expected_output = output.clone().numpy()
    expected_grad = np.zeros((3, 6), dtype=np.float32)
    for b in range(3):  # word2vec.c: neu1e += g * syn1neg[l2]; syn1neg[l2] += g * syn0[l1]
        for t in range(3):
            if weights[b, t] == 0:
                continue
            row = expected_output[targets[b, t]]
            f = float(row @ hidden[b].numpy())
            g = (labels[b, t].item() - 1 / (1 + np.exp(-f))) * alpha
            expected_grad[b] += g * row
            expected_output[targets[b, t]] = row + g * hidden[b].numpy()
    leaf = hidden.clone().requires_grad_(True)
    scores = (output[targets] * leaf[:, None, :]).sum(-1)
    loss = -(torch.nn.functional.logsigmoid(scores * (labels * 2 - 1)) * weights).sum()
    loss.backward()
    loss_sum = torch.zeros(())
    grad = model._sgd(
        hidden, output, targets, labels, weights, labels * 2 - 1, alpha, Scratch(), loss_sum
    )
    np.testing.assert_allclose(grad.numpy(), expected_grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(output.numpy(), expected_output, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad.numpy(), -alpha * leaf.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert loss_sum.item() == pytest.approx(loss.item(), rel=1e-5)


# -------------------------------------------------------------------- learning
@pytest.mark.parametrize(
    ("sg", "hs", "negative"), [(1, 0, 5), (0, 0, 5), (1, 1, 0), (0, 1, 0), (1, 1, 3)]
)
def test_every_variant_learns_topic_neighbours(sg: int, hs: int, negative: int) -> None:
    corpus = topic_corpus()
    model = Word2Vec(
        vector_size=16,
        window=3,
        min_count=1,
        sg=sg,
        hs=hs,
        negative=negative,
        sample=0,
        epochs=4,
        workers=1,
        progress=False,
        alpha=0.05 if sg == 0 else 0.025,
    ).fit(corpus)
    assert model.loss_history_[-1] < model.loss_history_[0]
    hits = 0
    for word in model.wv.index_to_key:
        neighbours = [w for w, _ in model.wv.most_similar(word, topn=5)]
        hits += sum(w[:2] == word[:2] for w in neighbours)
    assert hits / (5 * len(model.wv)) > 0.95  # nearest neighbours share the topic


def test_same_seed_same_vectors_with_one_worker() -> None:
    corpus = topic_corpus(sentences=200)
    first = Word2Vec(min_count=1, epochs=1, workers=1, progress=False, seed=3).fit(corpus)
    second = Word2Vec(min_count=1, epochs=1, workers=1, progress=False, seed=3).fit(corpus)
    np.testing.assert_array_equal(first.wv.vectors, second.wv.vectors)
    third = Word2Vec(min_count=1, epochs=1, workers=1, progress=False, seed=4).fit(corpus)
    assert not np.array_equal(first.wv.vectors, third.wv.vectors)


def test_two_worker_processes_learn_and_progress_bar_runs() -> None:
    """Two forked workers (one chunk each) update the shared matrices."""
    corpus = topic_corpus(sentences=1500)
    model = Word2Vec(
        vector_size=16, window=3, min_count=1, epochs=2, workers=2, progress=True, sample=0
    ).fit(corpus)
    assert model.wv.vectors.shape == (32, 16) and np.isfinite(model.wv.vectors).all()
    # Output vectors start at zero, so an untrained example costs (1 + 5 negatives) ln 2;
    # this corpus is learnt within the first epoch, after which the loss only jitters.
    untrained = 6 * np.log(2)
    assert model.words_per_second_ > 0 and max(model.loss_history_) < 0.5 * untrained
    same_topic = [
        w[:2] == word[:2]
        for word in model.wv.index_to_key
        for w, _ in model.wv.most_similar(word, topn=5)
    ]
    assert np.mean(same_topic) > 0.95


def test_vocabulary_sorted_by_frequency_and_min_count() -> None:
    corpus = [["a", "b", "b", "c", "c", "c", "d"]] * 3
    words, counts, ids, _ = encode_corpus(corpus, min_count=4)
    assert words == ["c", "b"] and counts.tolist() == [9, 6]
    assert ids.tolist() == [1, 1, 0, 0, 0] * 3


# ------------------------------------------------------------------- bad input
def test_empty_corpus_is_a_user_error() -> None:
    with pytest.raises(UserError, match="empty corpus"):
        Word2Vec(progress=False).fit([[], []])


def test_all_words_below_min_count_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"min_count=5.*most frequent occurs 2 times"):
        Word2Vec(min_count=5, progress=False).fit([["a", "b", "a"]])


def test_strings_instead_of_token_lists_are_a_user_error() -> None:
    with pytest.raises(UserError, match="list of tokens"):
        Word2Vec(progress=False).fit(["a sentence as a string"])
    with pytest.raises(UserError, match="one string"):
        Word2Vec(progress=False).fit("a b c")


def test_bad_parameters_and_untrained_model() -> None:
    with pytest.raises(UserError, match="no objective"):
        Word2Vec(negative=0, hs=0, progress=False).fit([["a", "b"]])
    with pytest.raises(UserError, match="not trained"):
        _ = Word2Vec().wv


def test_unknown_word_query_is_a_user_error() -> None:
    model = Word2Vec(min_count=1, epochs=1, progress=False).fit(topic_corpus(sentences=50))
    with pytest.raises(UserError, match="'missing' is not in the vocabulary"):
        model.wv.most_similar("missing")
