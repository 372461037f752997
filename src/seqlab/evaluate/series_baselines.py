"""Same-run baselines of time-series classification: 1-NN Euclidean, 1-NN DTW, MiniRocket.

Every function takes the training series, their labels and the series to classify,
and returns one predicted label per series to classify:

    f(train_x: N series, train_y (N,), test_x: M series, ...) -> predictions (M,)

A series is a 1-D float array; series may differ in length (some UCR sets do). Labels
are any integers (class ids); a prediction is one of the training labels.

- :func:`nn1_euclidean`: 1-nearest neighbour under the Euclidean distance, all series
  zero-padded on the right to the longest one (numpy; the UCR archive's "ED (w=0)").
- :func:`nn1_dtw`: 1-nearest neighbour under dynamic time warping in dtaidistance's C
  implementation (OpenMP over ``threads`` threads), with a Sakoe-Chiba band given as a
  fraction of the series length (the archive's "DTW (learned_w)" learns that fraction
  by leave-one-out on train; ``window=None`` or 1 is its unconstrained "DTW (w=100)").
- :func:`minirocket`: aeon's MiniRocket transform (~10,000 features of random dilated
  convolutions) + scikit-learn's RidgeClassifierCV (Dempster, Schmidt & Webb 2021), the
  strong and fast reference of the archive (``n_jobs`` numba threads).

dtaidistance and aeon are the optional extra ``ts`` (``pip install 'seqlab[ts]'``);
each is imported inside its function, and a missing one is a :class:`UserError`.
Ties go to the first training series (numpy's ``argmin``), as in a brute-force loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from seqlab.errors import UserError

Series = Sequence[np.ndarray]  # series of possibly different lengths, each (T_i,)
Labels = Sequence[int] | np.ndarray  # (N,) integer class ids

TS_EXTRA = "pip install 'seqlab[ts]' (dtaidistance and aeon)"
MINIROCKET_MIN_LENGTH = 9  # MiniRocket's kernels have 9 taps: shorter series are padded


def _labels(train_x: Series, train_y: Labels) -> np.ndarray:
    labels = np.asarray(train_y)
    if len(labels) != len(train_x):
        raise ValueError(f"{len(train_x)} training series but {len(labels)} labels")
    if len(labels) == 0:
        raise ValueError("no training series")
    return labels


def pad_series(series: Series, length: int) -> np.ndarray:
    """(len(series), length) float64: each series zero-padded on the right to ``length``
    (a longer one is an error: nothing is cut)."""
    out = np.zeros((len(series), length), dtype=np.float64)
    for row, values in zip(out, series, strict=True):
        values = np.asarray(values, dtype=np.float64).ravel()
        if len(values) > length:
            raise ValueError(f"a series of {len(values)} steps does not fit in {length}")
        row[: len(values)] = values
    return out


def nn1_euclidean(train_x: Series, train_y: Labels, test_x: Series) -> np.ndarray:
    """(M,) labels of the nearest training series by Euclidean distance.

    ``train_x``: N series, ``train_y``: (N,) labels, ``test_x``: M series. All series
    are zero-padded on the right to the longest of both sets, so a step present in one
    series only is compared with 0. Distances are ``|b|^2 - 2 b.a + |a|^2`` of the
    (M, N) matrix, computed in float64.
    """
    labels = _labels(train_x, train_y)
    if len(test_x) == 0:
        return labels[:0]
    length = max(len(x) for x in [*train_x, *test_x])
    a = pad_series(train_x, length)  # (N, T)
    b = pad_series(test_x, length)  # (M, T)
    distances = (b**2).sum(1, keepdims=True) - 2 * b @ a.T + (a**2).sum(1)  # (M, N)
    return labels[distances.argmin(1)]


def dtw_radius(window: float | None, length: int) -> int | None:
    """The Sakoe-Chiba radius r (allowed |i - j| <= r) of a window given as a fraction of
    ``length``: ``round(window * length)``; None (unconstrained) for ``window=None``.
    ``window=0`` is r = 0: the diagonal only, i.e. the Euclidean distance."""
    if window is None:
        return None
    if not 0.0 <= window <= 1.0:
        raise UserError(
            f"the DTW window {window} is not a fraction of the series length",
            "give a number in [0, 1] (0.1 = 10% of the length) or None for full DTW",
        )
    return int(np.floor(window * length + 0.5))


def nn1_dtw(
    train_x: Series,
    train_y: Labels,
    test_x: Series,
    window: float | None = 0.1,
    threads: int = 2,
    chunk: int = 256,
) -> np.ndarray:
    """(M,) labels of the nearest training series by dynamic time warping.

    The DTW of two series a (n steps) and b (m steps) is the square root of the least
    sum of squared differences ``(a_i - b_j)^2`` along a warping path from (0, 0) to
    (n-1, m-1) with steps (1, 0), (0, 1), (1, 1), inside the band
    ``-r - max(0, n - m) <= j - i <= r + max(0, m - n)`` — the Sakoe-Chiba band of
    radius ``r = dtw_radius(window, longest series)`` around both diagonals, the one
    from (0, 0) and the one into (n-1, m-1), and the steps between them (equal lengths:
    ``|i - j| <= r``); ``window=None`` (or 1) leaves the path unconstrained (the UCR archive's
    "DTW (w=100)"), ``window=0`` is the Euclidean distance of equal-length series.

    Computed by dtaidistance's C code (``dtw.distance_matrix_fast`` over the block
    train x test, OpenMP with ``threads`` threads, ``chunk`` test series a call so the
    memory stays N x chunk doubles). Its ``use_pruning`` is left off: it abandons a
    pair past the pair's Euclidean distance, and returns inf where the DTW equals it
    (window 0; measured with dtaidistance 2.5.1), which would corrupt the argmin.
    """
    labels = _labels(train_x, train_y)
    if len(test_x) == 0:
        return labels[:0]
    try:
        from dtaidistance import dtw
    except ImportError:
        raise UserError("1-NN DTW needs dtaidistance", TS_EXTRA) from None
    from threadpoolctl import threadpool_limits

    train = [np.ascontiguousarray(x, dtype=np.float64).ravel() for x in train_x]
    test = [np.ascontiguousarray(x, dtype=np.float64).ravel() for x in test_x]
    length = max(len(x) for x in [*train, *test])
    radius = dtw_radius(window, length)
    # dtaidistance's window w allows shifts < w from both diagonals, so r = w - 1; 0 = no band.
    band = 0 if radius is None else radius + 1
    n = len(train)
    nearest = np.empty(len(test), dtype=np.int64)
    with threadpool_limits(limits=threads, user_api="openmp"):
        for start in range(0, len(test), chunk):
            part = test[start : start + chunk]
            # Rows 0..n-1 (train) against columns n..n+len(part)-1 (this chunk), row-major.
            flat = dtw.distance_matrix_fast(
                train + part,
                block=((0, n), (n, n + len(part))),
                compact=True,
                window=band,
            )
            distances = np.asarray(flat, dtype=np.float64).reshape(n, len(part))
            nearest[start : start + len(part)] = distances.argmin(0)
    return labels[nearest]


def minirocket(
    train_x: Series,
    train_y: Labels,
    test_x: Series,
    seed: int = 0,
    n_kernels: int = 10_000,
    n_jobs: int = 2,
) -> np.ndarray:
    """(M,) labels predicted by MiniRocket + RidgeClassifierCV, aeon's
    ``MiniRocketClassifier`` (its defaults: 10,000 kernels, at most 32 dilations each,
    features scaled without centring, ridge alphas 10^-3 .. 10^3 chosen by leave-one-out).

    aeon takes an (N, 1, T) array of equal-length series: series of different lengths
    (and any shorter than MiniRocket's 9-tap kernels) are zero-padded on the right to the
    longest of both sets, as :func:`nn1_euclidean` pads them. ``seed`` fixes the random
    biases' choice of training examples, so a seed gives the same predictions (with any
    ``n_jobs``: the transform is parallel over series, numba threads).
    """
    labels = _labels(train_x, train_y)
    if len(test_x) == 0:
        return labels[:0]
    try:
        from aeon.classification.convolution_based import MiniRocketClassifier
    except ImportError:
        raise UserError("MiniRocket needs aeon", TS_EXTRA) from None

    length = max(MINIROCKET_MIN_LENGTH, *(len(x) for x in [*train_x, *test_x]))
    train = pad_series(train_x, length)[:, None, :]  # (N, 1, T)
    test = pad_series(test_x, length)[:, None, :]  # (M, 1, T)
    classifier = MiniRocketClassifier(n_kernels=n_kernels, n_jobs=n_jobs, random_state=seed)
    # aeon sets the process's OpenMP threads to n_jobs (numba and torch share libgomp) and
    # leaves them there: torch then ran every later training on n_jobs spinning threads,
    # 10x slower on a shared machine (tests/evaluate/test_series_baselines.py).
    threads = torch.get_num_threads()
    try:
        classifier.fit(train, labels)
        return np.asarray(classifier.predict(test)).astype(labels.dtype)
    finally:
        torch.set_num_threads(threads)


def warm_up() -> None:
    """Compile aeon's MiniRocket kernels once: numba caches them beside the package, so
    later processes skip the ~50 s compilation (``make install`` calls this)."""
    rng = np.random.default_rng(0)
    series = [rng.normal(size=16).astype(np.float32) for _ in range(4)]
    minirocket(series, [0, 1, 0, 1], series[:2], n_kernels=84, n_jobs=1)


BASELINES = {
    "nn1_euclidean": nn1_euclidean,
    "nn1_dtw": nn1_dtw,
    "minirocket": minirocket,
}
