"""Clustering: purity equals a brute-force count, NMI equals scikit-learn's (edge cases
included), c-TF-IDF equals its formula computed term by term, KMeans and HDBSCAN recover
well-separated blobs, and ``cluster_index`` describes each cluster."""

from __future__ import annotations

import math
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from seqlab.embed.cluster import (
    cluster_index,
    contingency,
    hdbscan_labels,
    kmeans_labels,
    nmi,
    purity,
    top_terms,
)
from seqlab.embed.index import unit_rows
from seqlab.errors import UserError


def _purity_brute_force(true: list, predicted: list) -> float:
    total = 0
    for cluster in set(predicted):
        members = [t for t, p in zip(true, predicted, strict=True) if p == cluster]
        total += max(members.count(c) for c in set(members))
    return total / len(true)


@pytest.mark.parametrize("seed", range(5))
def test_purity_equals_a_brute_force_count(seed: int) -> None:
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 4, 60).tolist()
    predicted = rng.integers(-1, 6, 60).tolist()  # -1: HDBSCAN's noise, one more cluster
    assert purity(true, predicted) == pytest.approx(_purity_brute_force(true, predicted))


def test_purity_extremes() -> None:
    assert purity(["a", "a", "b", "b"], [0, 0, 1, 1]) == 1.0
    assert purity(["a", "b", "a", "b"], [0, 0, 0, 0]) == 0.5
    assert purity(["a", "b", "c"], [0, 1, 2]) == 1.0  # one item a cluster: why NMI is beside it


@pytest.mark.parametrize("seed", range(5))
def test_nmi_equals_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 5, 80)
    noisy = np.where(rng.random(80) < 0.3, rng.integers(0, 7, 80), true + 10)
    for predicted in (noisy, rng.integers(0, 3, 80), true, (true + 1) % 5):
        assert nmi(true, predicted) == pytest.approx(normalized_mutual_info_score(true, predicted))


@pytest.mark.parametrize(
    ("true", "predicted"),
    [([0, 0, 0], [1, 1, 1]), ([0, 0, 1, 1], [5, 5, 5, 5]), ([0, 1, 2], [0, 1, 2]), (["a"], [3])],
)
def test_nmi_edge_cases_equal_sklearn(true: list, predicted: list) -> None:
    assert nmi(true, predicted) == pytest.approx(normalized_mutual_info_score(true, predicted))


def test_contingency_counts_pairs() -> None:
    table = contingency(["a", "b", "a", "a"], [1, 1, 2, 1])
    np.testing.assert_array_equal(table, [[2, 1], [1, 0]])
    with pytest.raises(UserError):
        contingency([0, 1], [0])


def test_top_terms_are_c_tf_idf_term_by_term() -> None:
    texts = [
        "oil prices oil supply",
        "oil gas prices",
        "goal match goal",
        "match striker prices",
    ]
    labels = [0, 0, 1, 1]
    found = top_terms(texts, labels, top=3, stop_words=[])
    words = {c: Counter(w for t, l in zip(texts, labels, strict=True) if l == c for w in t.split())
             for c in (0, 1)}  # fmt: skip
    total = sum(words.values(), Counter())
    average = sum(sum(counter.values()) for counter in words.values()) / 2
    for cluster, counter in words.items():
        size = sum(counter.values())
        scores = {w: n / size * math.log(1 + average / total[w]) for w, n in counter.items()}
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:3]
        assert [term for term, _ in found[cluster]] == [term for term, _ in best]
        for (_, ours), (_, theirs) in zip(found[cluster], best, strict=True):
            assert ours == pytest.approx(theirs)
    assert found[0][0][0] == "oil" and found[1][0][0] == "goal"


def _blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.eye(16)[:3] * 5
    labels = np.repeat(np.arange(3), 20)
    return unit_rows(centres[labels] + rng.standard_normal((60, 16)) * 0.3), labels


def test_kmeans_and_hdbscan_recover_separated_blobs() -> None:
    vectors, labels = _blobs()
    assert nmi(labels, kmeans_labels(vectors, 3, seed=1)) == pytest.approx(1.0)
    found = hdbscan_labels(np.vstack([vectors, -np.ones((1, 16)) / 4]), min_cluster_size=5)
    assert nmi(labels, found[:60]) == pytest.approx(1.0)
    assert found[60] == -1  # the far point is noise
    with pytest.raises(UserError, match="k = 61"):
        kmeans_labels(vectors, 61)
    with pytest.raises(UserError, match="min_cluster_size"):
        hdbscan_labels(vectors, 1)


def test_cluster_index_describes_each_cluster() -> None:
    vectors, labels = _blobs()
    words = ["oil prices", "goal match", "chip phone"]
    items = [
        {"id": f"d{n}", "text": f"{words[c]} item{n}", "label": ["biz", "sport", "tech"][c]}
        for n, c in enumerate(labels)
    ]
    found = cluster_index(SimpleNamespace(vectors=vectors, items=items), "kmeans", k=3, terms=2)
    assert found.metrics == {"nmi": pytest.approx(1.0), "purity": 1.0}
    assert sorted(c.size for c in found.clusters) == [20, 20, 20]
    for cluster in found.clusters:
        assert cluster.share == 1.0
        assert set(cluster.terms) == set(
            words[["biz", "sport", "tech"].index(cluster.majority)].split()
        )
        assert cluster.example.startswith(words[["biz", "sport", "tech"].index(cluster.majority)])
    unlabelled = [{**item, "label": None} for item in items]
    assert cluster_index(SimpleNamespace(vectors=vectors, items=unlabelled), k=3).metrics == {}
    with pytest.raises(UserError, match="kmeans or hdbscan"):
        cluster_index(SimpleNamespace(vectors=vectors, items=items), "dbscan")
