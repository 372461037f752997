"""Anomaly scores against scikit-learn (roc_auc_score, average_precision_score, PCA,
precision / recall / F1), ties included, and the F1-maximising threshold by brute force."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from seqlab.evaluate.anomaly import (
    PCABaseline,
    best_threshold,
    pca_scores,
    pr_auc,
    roc_auc,
    roc_curve,
    threshold_scores,
)


def _cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(3)
    cases = []
    for n, ties in [(7, False), (40, False), (40, True), (300, True)]:
        labels = rng.integers(0, 2, n)
        labels[:2] = [0, 1]  # both classes
        scores = rng.normal(size=n) + labels
        if ties:  # few distinct values: many ties within and across the classes
            scores = np.round(scores * 2) / 2
        cases.append((scores, labels))
    cases.append((np.array([1.0, 1.0, 1.0, 1.0]), np.array([0, 1, 0, 1])))  # all tied
    cases.append((np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 1, 0, 0])))  # all wrong
    return cases


@pytest.mark.parametrize("case", range(len(_cases())))
def test_roc_auc_and_average_precision_equal_sklearn(case: int) -> None:
    scores, labels = _cases()[case]
    assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert pr_auc(scores, labels) == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12
    )
    fpr, tpr = roc_curve(scores, labels)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


@pytest.mark.parametrize("case", range(len(_cases())))
def test_threshold_scores_equal_sklearn(case: int) -> None:
    scores, labels = _cases()[case]
    for threshold in (*np.unique(scores), scores.min() - 1, scores.max() + 1):
        flagged = (scores > threshold).astype(int)
        found = threshold_scores(scores, labels, threshold)
        assert found["precision"] == pytest.approx(
            precision_score(labels, flagged, zero_division=0)
        )
        assert found["recall"] == pytest.approx(recall_score(labels, flagged, zero_division=0))
        assert found["f1"] == pytest.approx(f1_score(labels, flagged, zero_division=0))
        assert found["flagged"] == pytest.approx(flagged.mean())


@pytest.mark.parametrize("case", range(len(_cases())))
def test_best_threshold_maximises_f1_by_brute_force(case: int) -> None:
    scores, labels = _cases()[case]
    threshold = best_threshold(scores, labels)
    best = threshold_scores(scores, labels, threshold)["f1"]
    values = np.unique(scores)
    candidates = [*values, values.min() - 1]
    brute = max(f1_score(labels, (scores > t).astype(int), zero_division=0) for t in candidates)
    assert best == pytest.approx(brute)
    # It lies halfway between the lowest flagged score and the next lower one.
    above, below = scores[scores > threshold], scores[scores <= threshold]
    if below.size:
        assert threshold == pytest.approx((above.min() + below.max()) / 2)
    else:
        assert threshold < scores.min()


def test_best_threshold_prefers_the_higher_cut_on_equal_f1() -> None:
    scores = np.array([3.0, 2.0, 1.0, 0.0])
    labels = np.array([1, 0, 0, 1])
    # Flagging {3} and flagging all four both give F1 = 2/3: the higher cut wins.
    assert best_threshold(scores, labels) == 2.5
    assert threshold_scores(scores, labels, 2.5)["f1"] == pytest.approx(2 / 3)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="both normal"):
        roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="2 scores but 3 labels"):
        pr_auc([0.1, 0.2], [0, 1, 1])
    with pytest.raises(ValueError, match="NaN"):
        best_threshold([0.1, np.nan], [0, 1])
    with pytest.raises(ValueError, match="0 \\(normal\\) or 1"):
        roc_auc([0.1, 0.2], [0, 2])


@pytest.mark.parametrize("components", [3, 0.5, 0.9, 0.95])
def test_pca_reconstruction_equals_sklearn(components: float | int) -> None:
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(4, 30))
    train = rng.normal(size=(60, 4)) @ basis + 0.1 * rng.normal(size=(60, 30))
    test = rng.normal(size=(25, 4)) @ basis + rng.normal(size=(25, 30)) * rng.random((25, 1))
    reference = PCA(n_components=components, svd_solver="full").fit(train)
    ours = PCABaseline.fit(train, components)
    assert ours.components.shape == (reference.n_components_, 30)
    expected = reference.inverse_transform(reference.transform(test))
    np.testing.assert_allclose(ours.reconstruct(test), expected, atol=1e-9)
    np.testing.assert_allclose(
        pca_scores(train, test, components), ((test - expected) ** 2).mean(1), atol=1e-9
    )
    assert ours.errors(test).shape == (25, 30)


def test_pca_refuses_bad_component_counts() -> None:
    train = np.random.default_rng(0).normal(size=(5, 8))
    with pytest.raises(ValueError, match="need 1 to 5"):
        PCABaseline.fit(train, 6)
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        PCABaseline.fit(train, 1.5)
