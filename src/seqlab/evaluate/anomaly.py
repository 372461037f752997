"""Scores of anomaly detectors and the PCA reconstruction baseline.

Arrays in, floats or arrays out (plain numpy, float64 inside). ``scores`` (N,) are
higher for more anomalous items; ``labels`` (N,) are 1 (or True) for anomalous, 0 for
normal. Ties are handled as scikit-learn handles them (tested against it):

- :func:`roc_auc`: the area under the ROC curve = the probability that a random
  anomalous item scores above a random normal one, a tie counting one half (the
  Mann-Whitney U statistic over average ranks; equal to ``roc_auc_score``).
- :func:`pr_auc`: average precision, sum over the distinct score values t (highest
  first) of (R_t - R_prev) * P_t, where P_t and R_t are the precision and recall of
  flagging every item that scores >= t (equal to ``average_precision_score``; no
  interpolation, so it is not the trapezoidal area that over-rates a detector).
- :func:`best_threshold`: the threshold that maximises F1 on (validation) scores.
- :func:`threshold_scores`: precision, recall and F1 of ``score > threshold``.
- :func:`pca_scores`: the reconstruction error of a PCA fitted on normal series only.

An item is anomalous when its score is strictly *above* the threshold, everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "PCABaseline",
    "best_threshold",
    "pca_scores",
    "pr_auc",
    "roc_auc",
    "roc_curve",
    "threshold_scores",
]


def _check(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(N,) float64 scores and (N,) bool labels; both classes must be present."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(labels).reshape(-1)
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores but {y.size} labels")
    if not np.isfinite(s).all():
        raise ValueError("the scores have a NaN or infinite value")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (normal) or 1 (anomalous)")
    y = y.astype(bool)
    if y.all() or not y.any():
        raise ValueError("the labels need both normal (0) and anomalous (1) items")
    return s, y


def _counts(s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At each distinct score value t, highest first: (t, TP, FP) of flagging scores >= t."""
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # the last index of each tie group
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    return s[last], tp, fp


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve (ties count one half): ``sklearn.metrics.roc_auc_score``."""
    from scipy.stats import rankdata

    s, y = _check(scores, labels)
    ranks = rankdata(s)  # average ranks over ties
    positives, negatives = int(y.sum()), int((~y).sum())
    u = ranks[y].sum() - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


def roc_curve(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rates, true positive rates) from (0, 0) to (1, 1), one point per
    distinct score value (for plots; its trapezoidal area is :func:`roc_auc`)."""
    s, y = _check(scores, labels)
    _, tp, fp = _counts(s, y)
    return np.r_[0.0, fp / (~y).sum()], np.r_[0.0, tp / y.sum()]


def pr_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Average precision (module doc): ``sklearn.metrics.average_precision_score``."""
    s, y = _check(scores, labels)
    _, tp, fp = _counts(s, y)
    precision, recall = tp / (tp + fp), tp / y.sum()
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def threshold_scores(scores: ArrayLike, labels: ArrayLike, threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of flagging ``score > threshold`` (0 where undefined, as
    scikit-learn's ``zero_division=0``), and the share of items flagged."""
    s, y = _check(scores, labels)
    flagged = s > threshold
    tp = float((flagged & y).sum())
    precision = tp / flagged.sum() if flagged.any() else 0.0
    recall = tp / y.sum()
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "flagged": float(flagged.mean()),
    }


def best_threshold(scores: ArrayLike, labels: ArrayLike) -> float:
    """The threshold that maximises F1 of ``score > threshold`` on these (validation) items.

    Every distinct score value t is a candidate cut ("flag all items scoring >= t"); the
    threshold returned lies halfway between t and the next lower distinct score, so an
    unseen item scoring between them falls on the side nearer to it; below the lowest
    score it is the next float down. Among cuts with equal F1 the highest threshold
    (fewest items flagged) wins.
    """
    s, y = _check(scores, labels)
    values, tp, fp = _counts(s, y)
    precision, recall = tp / (tp + fp), tp / y.sum()
    f1 = np.where(tp > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0.0)
    k = int(np.argmax(f1))  # the first maximum: the highest cut
    if k + 1 < values.size:
        return float((values[k] + values[k + 1]) / 2)
    return float(np.nextafter(values[k], -np.inf))


# ---------------------------------------------------------------- the PCA baseline
@dataclass
class PCABaseline:
    """A PCA of normal series: ``mean`` (T,), ``components`` (K, T) orthonormal rows.

    ``reconstruct(x)`` projects (M, T) series onto the K components and back;
    ``errors(x)`` gives the per-step squared errors (M, T), ``scores(x)`` their mean
    over steps (M,) — the usual PCA reconstruction anomaly score.
    """

    mean: np.ndarray
    components: np.ndarray

    @classmethod
    def fit(cls, train: ArrayLike, components: float | int = 0.95) -> PCABaseline:
        """Fit on ``train`` (N, T) normal series. ``components``: an int K, or a fraction
        in (0, 1) of the variance to explain — the fewest components whose explained
        variance is strictly above it (scikit-learn's ``PCA(n_components=0.95)``)."""
        x = np.asarray(train, dtype=np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError("PCA needs a (N, T) array of at least two series")
        mean = x.mean(axis=0)
        _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)
        if isinstance(components, float):
            if not 0 < components < 1:
                raise ValueError(f"a variance fraction must lie in (0, 1), got {components}")
            ratio = np.cumsum(singular**2) / np.sum(singular**2)
            k = int(np.searchsorted(ratio, components, side="right")) + 1
        else:
            k = int(components)
            if not 1 <= k <= vt.shape[0]:
                raise ValueError(f"{k} components: need 1 to {vt.shape[0]} for this data")
        return cls(mean, vt[: min(k, vt.shape[0])])

    def reconstruct(self, x: ArrayLike) -> np.ndarray:
        centred = np.asarray(x, dtype=np.float64) - self.mean  # (M, T)
        return centred @ self.components.T @ self.components + self.mean

    def errors(self, x: ArrayLike) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.reconstruct(x)) ** 2

    def scores(self, x: ArrayLike) -> np.ndarray:
        return self.errors(x).mean(axis=1)


def pca_scores(
    train_normal: ArrayLike, test: ArrayLike, components: float | int = 0.95
) -> np.ndarray:
    """(M,) mean squared reconstruction errors of ``test`` (M, T) under a PCA fitted on
    ``train_normal`` (N, T) (:meth:`PCABaseline.fit` for ``components``)."""
    return PCABaseline.fit(train_normal, components).scores(test)
