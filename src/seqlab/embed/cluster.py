"""Clusters of a collection's vectors, the terms that describe them, and their scores.

Legend: N items, E embedding size, K clusters, C classes, V terms.

* :func:`kmeans_labels` — scikit-learn's KMeans (k-means++ starts, 10 restarts). On unit
  vectors squared Euclidean distance is ``2 - 2 cos``, so this is (nearly) spherical
  k-means by cosine.
* :func:`hdbscan_labels` — ``sklearn.cluster.HDBSCAN`` (Campello et al. 2013): finds
  the number of clusters itself and leaves sparse regions as noise (label -1).
* :func:`top_terms` — c-TF-IDF (Grootendorst 2022, BERTopic): all texts of a cluster as
  one document, ``tf(t, c) * log(1 + A / f(t))`` with A the mean number of words per
  cluster and f(t) the frequency of t in the whole collection, so a term scores high
  when it is frequent in this cluster and rare elsewhere.
* :func:`purity` and :func:`nmi` — agreement with known classes (e.g. BBC topics).
  Purity = (1/N) sum_k max_c n(k, c): the share of items in their cluster's majority
  class (it favours many small clusters, so read it beside NMI). NMI = I(Y; K) /
  mean(H(Y), H(K)), scikit-learn's default "arithmetic" normalisation (tested equal).
  HDBSCAN's noise counts as one more cluster in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from seqlab.errors import UserError

Method = Literal["kmeans", "hdbscan"]
NOISE = -1


def kmeans_labels(vectors: np.ndarray | sp.spmatrix, k: int, seed: int = 0) -> np.ndarray:
    """(N, E) dense or sparse vectors -> (N,) cluster ids 0..k-1."""
    from sklearn.cluster import KMeans

    if not 1 <= k <= vectors.shape[0]:
        raise UserError(f"k = {k} clusters for {vectors.shape[0]} items", "pass 1 <= k <= items")
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(vectors)


def hdbscan_labels(vectors: np.ndarray, min_cluster_size: int = 5) -> np.ndarray:
    """(N, E) dense vectors -> (N,) cluster ids, -1 for noise."""
    from sklearn.cluster import HDBSCAN

    if not 2 <= min_cluster_size <= vectors.shape[0]:
        raise UserError(
            f"min_cluster_size {min_cluster_size} for {vectors.shape[0]} items",
            "pass at least 2 and at most the number of items",
        )
    return HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit_predict(vectors)


def contingency(true: Sequence[Any], predicted: Sequence[Any]) -> np.ndarray:
    """(C, K) counts n(c, k) of items of class c in cluster k (rows/columns in sorted order)."""
    if len(true) != len(predicted):
        raise UserError(f"{len(true)} classes for {len(predicted)} clusters", "one each")
    _, rows = np.unique(np.asarray(true), return_inverse=True)
    _, columns = np.unique(np.asarray(predicted), return_inverse=True)
    table = np.zeros((rows.max(initial=-1) + 1, columns.max(initial=-1) + 1), dtype=np.int64)
    np.add.at(table, (rows, columns), 1)
    return table


def purity(true: Sequence[Any], predicted: Sequence[Any]) -> float:
    """Share of items whose class is their cluster's majority class (module doc)."""
    table = contingency(true, predicted)
    return float(table.max(axis=0).sum() / max(table.sum(), 1))


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def nmi(true: Sequence[Any], predicted: Sequence[Any]) -> float:
    """Normalised mutual information, arithmetic normalisation (module doc)."""
    table = contingency(true, predicted).astype(np.float64)
    if table.shape[0] == table.shape[1] <= 1:  # one class, one cluster: identical labelings
        return 1.0
    n = table.sum()
    joint = table / n  # (C, K)
    outer = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)
    nonzero = joint > 0
    mutual = float((joint[nonzero] * np.log(joint[nonzero] / outer[nonzero])).sum())
    if mutual <= 0:
        return 0.0
    mean_entropy = (_entropy(table.sum(1)) + _entropy(table.sum(0))) / 2
    return mutual / max(mean_entropy, np.finfo(np.float64).eps)


def top_terms(
    texts: Sequence[str], labels: Sequence[int], top: int = 8, stop_words: str = "english"
) -> dict[int, list[tuple[str, float]]]:
    """c-TF-IDF's ``top`` terms of each cluster (module doc): {cluster: [(term, score)]}."""
    from seqlab.text.bow import BagOfWords

    labels = np.asarray(labels)
    clusters = np.unique(labels)
    bow = BagOfWords(stop_words=stop_words)
    counts = bow.fit_transform(list(texts)).astype(np.float64)  # (N, V)
    _, column = np.unique(labels, return_inverse=True)
    member = sp.csr_matrix(
        (np.ones(len(labels)), (column, np.arange(len(labels)))), shape=(len(clusters), len(labels))
    )
    per_cluster = np.asarray((member @ counts).todense())  # (K, V) counts of each cluster
    words = per_cluster.sum(axis=1, keepdims=True)  # (K, 1)
    tf = per_cluster / np.maximum(words, 1)
    frequency = per_cluster.sum(axis=0)  # (V,)
    idf = np.log1p(words.mean() / np.maximum(frequency, 1))
    scores = tf * idf  # (K, V)
    terms = bow.get_feature_names_out()
    result = {}
    for row, cluster in enumerate(clusters):
        best = np.lexsort((np.arange(len(terms)), -scores[row]))[:top]
        result[int(cluster)] = [
            (str(terms[i]), float(scores[row, i])) for i in best if scores[row, i] > 0
        ]
    return result


@dataclass
class Cluster:
    """One cluster: its id (-1: noise), size, top terms, the item nearest its mean vector
    and, when the items have labels, the majority label and its share."""

    cluster: int
    size: int
    terms: list[str]
    example_id: str
    example: str
    majority: str | None = None
    share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Clustering:
    """(N,) labels, one :class:`Cluster` each (largest first), NMI / purity when labelled."""

    labels: np.ndarray
    clusters: list[Cluster]
    metrics: dict[str, float] = field(default_factory=dict)


def cluster_index(
    index: Any,
    method: Method = "kmeans",
    k: int = 5,
    seed: int = 0,
    min_cluster_size: int = 5,
    terms: int = 8,
) -> Clustering:
    """Cluster an :class:`~seqlab.embed.index.EmbeddingIndex`'s vectors and describe each
    cluster; NMI and purity against the items' labels when every item has one."""
    vectors = index.vectors
    if method == "kmeans":
        labels = kmeans_labels(vectors, k, seed)
    elif method == "hdbscan":
        labels = hdbscan_labels(vectors, min_cluster_size)
    else:
        raise UserError(f"unknown clustering method {method!r}", "use kmeans or hdbscan")
    texts = [item["text"] for item in index.items]
    described = top_terms(texts, labels, terms)
    known = [item.get("label") for item in index.items]
    labelled = all(label is not None for label in known)
    known = [str(label) for label in known]
    clusters = []
    for cluster in np.unique(labels):
        rows = np.flatnonzero(labels == cluster)
        centre = vectors[rows].mean(axis=0)  # the example is the member nearest the mean
        example = int(rows[np.argmax(vectors[rows] @ centre)])
        majority = share = None
        if labelled:
            names, counts = np.unique([known[r] for r in rows], return_counts=True)
            majority, share = str(names[counts.argmax()]), float(counts.max() / len(rows))
        clusters.append(
            Cluster(
                int(cluster), len(rows), [term for term, _ in described[int(cluster)]],
                str(index.items[example]["id"]), texts[example], majority, share,
            )
        )  # fmt: skip
    clusters.sort(key=lambda c: (c.cluster == NOISE, -c.size, c.cluster))
    metrics = {"nmi": nmi(known, labels), "purity": purity(known, labels)} if labelled else {}
    return Clustering(labels, clusters, metrics)
