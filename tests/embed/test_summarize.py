"""Summaries: TextRank's power iteration equals the principal eigenvector of the damped
transition matrix and networkx's PageRank; the centroid method picks the sentences
nearest the mean (skipping near-duplicates when asked); lead-k is the first k; ROUGE-1
equals Google's rouge_score without stemming; the sentence splitter's rules hold."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.embed.index import unit_rows
from seqlab.embed.summarize import (
    centroid_scores,
    rouge1,
    similarity_graph,
    split_sentences,
    summarize,
    summarize_text,
    textrank_scores,
    transition_matrix,
)
from seqlab.errors import UserError


def _graph(seed: int, size: int = 12, isolated: bool = False) -> np.ndarray:
    vectors = unit_rows(np.random.default_rng(seed).standard_normal((size, 8)))
    if isolated:  # sentence 0 has a negative cosine to every other: a dangling node
        vectors[1:] = np.abs(vectors[1:])
        vectors[0] = -1 / np.sqrt(8)
    return similarity_graph(vectors)


def _principal_eigenvector(weights: np.ndarray, damping: float) -> np.ndarray:
    """Brute force: the stationary distribution pi = pi G of the damped chain
    G = d P + (1 - d) / S, i.e. G's left eigenvector of eigenvalue 1, summing to 1."""
    size = len(weights)
    google = damping * transition_matrix(weights) + (1 - damping) / size
    values, vectors = np.linalg.eig(google.T)
    principal = np.real(vectors[:, np.argmax(np.real(values))])
    return principal / principal.sum()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("damping", [0.85, 0.5])
def test_textrank_equals_the_principal_eigenvector(seed: int, damping: float) -> None:
    weights = _graph(seed, isolated=seed == 3)
    if seed == 3:
        assert weights[0].sum() == 0  # really dangling
    scores = textrank_scores(weights, damping)
    np.testing.assert_allclose(scores, _principal_eigenvector(weights, damping), atol=1e-10)
    assert scores.sum() == pytest.approx(1.0)


def test_textrank_equals_networkx_pagerank() -> None:
    nx = pytest.importorskip("networkx")
    weights = _graph(7, size=15)
    graph = nx.from_numpy_array(weights)
    theirs = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-12, max_iter=1000)
    np.testing.assert_allclose(textrank_scores(weights), [theirs[i] for i in range(15)], atol=1e-8)


def test_similarity_graph_drops_negative_edges_and_self_loops() -> None:
    vectors = unit_rows(np.array([[1.0, 0.0], [-1.0, 0.1], [1.0, 1.0]]))
    weights = similarity_graph(vectors)
    assert (weights >= 0).all() and np.diag(weights).sum() == 0
    assert weights[0, 1] == 0 and weights[0, 2] == pytest.approx(np.sqrt(0.5))


def test_centroid_picks_the_sentences_nearest_the_mean_with_optional_redundancy() -> None:
    vectors = unit_rows(
        np.array([[1, 0, 0], [0.9, 0.1, 0], [0.9, 0.1, 0.001], [0, 1, 0.2], [0, 0, 1]])
    )
    sentences = [f"s{n}" for n in range(5)]
    scores = centroid_scores(vectors)
    centre = vectors.mean(0) / np.linalg.norm(vectors.mean(0))
    np.testing.assert_allclose(scores, vectors @ centre, atol=1e-6)
    plain = summarize(sentences, vectors, 2, "centroid")
    assert plain.indices == sorted(np.argsort(-scores)[:2].tolist()) == [1, 2]
    distinct = summarize(sentences, vectors, 2, "centroid", redundancy=0.99)
    assert len(distinct.indices) == 2 and not {1, 2} <= set(distinct.indices)


def test_lead_is_the_first_sentences_and_bad_arguments_are_one_line() -> None:
    sentences = ["a.", "b.", "c.", "d."]
    assert summarize(sentences, None, 2, "lead").sentences == ["a.", "b."]
    assert summarize(sentences, None, 9, "lead").indices == [0, 1, 2, 3]
    with pytest.raises(UserError, match="did you mean 'textrank'"):
        summarize(sentences, None, 2, "textrnk")
    with pytest.raises(UserError, match="one vector a sentence"):
        summarize(sentences, np.zeros((2, 3)), 2, "textrank")


@pytest.mark.parametrize(
    ("candidate", "reference"),
    [
        ("The cat sat on the mat.", "the cat was on the mat"),
        ("Oil prices rise; OIL prices fall!", "Oil prices rise again"),
        ("Café au lait costs £3.50 in 2004", "cafe lait costs 3 50"),
        ("nothing shared here", "completely different words"),
        ("", "a reference"),
        ("the the the the", "the cat"),
    ],
)
def test_rouge1_equals_rouge_score_without_stemming(candidate: str, reference: str) -> None:
    scorer = pytest.importorskip("rouge_score.rouge_scorer")
    theirs = scorer.RougeScorer(["rouge1"], use_stemmer=False).score(reference, candidate)["rouge1"]
    ours = rouge1(candidate, reference)
    assert ours.precision == pytest.approx(theirs.precision)
    assert ours.recall == pytest.approx(theirs.recall)
    assert ours.f1 == pytest.approx(theirs.fmeasure)


def test_split_sentences_rules() -> None:
    text = (
        "Ad sales boost Time Warner profit\n"
        'Profits at TimeWarner jumped 76% to $1.13bn. Mr. Parsons said "It is fine." '
        "Then J. K. Rowling met U.S. troops in Iraq. Was it 3.5 times more? Yes!\n\n"
        "  A new paragraph (without a full stop)  "
    )
    assert split_sentences(text) == [
        "Ad sales boost Time Warner profit",
        "Profits at TimeWarner jumped 76% to $1.13bn.",
        'Mr. Parsons said "It is fine."',
        "Then J. K. Rowling met U.S. troops in Iraq.",
        "Was it 3.5 times more?",
        "Yes!",
        "A new paragraph (without a full stop)",
    ]
    assert split_sentences(" \n\n ") == []


def test_summarize_text_with_minilm_keeps_document_order(minilm_folder) -> None:
    from seqlab.transfer.embedder import load_embedder

    embedder = load_embedder(minilm_folder)
    article = (
        "Oil prices rose to a record high on Monday. OPEC said it would cut production. "
        "Analysts expect oil prices to keep rising this winter. My cat likes to sleep. "
        "Petrol at the pump is now more expensive than ever."
    )
    for method in ("textrank", "centroid"):
        summary = summarize_text(article, embedder, 3, method)
        assert summary.indices == sorted(summary.indices) and len(summary.indices) == 3
        assert 3 not in summary.indices  # the off-topic sentence is not central
    with pytest.raises(UserError, match="no sentences"):
        summarize_text("  ", embedder)
