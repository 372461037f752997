"""The few statistics a comparison reports: t-intervals over seeds and Spearman's ρ.

Runs of one configuration that differ only in their seed are a small sample (2-5), so
intervals use Student's t distribution, not the normal one. Tested against scipy.stats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

NAN = float("nan")


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """The mean of ``values`` and the half-width of its ``confidence`` t-interval.

    mean ± t_{(1+c)/2, n-1} · s / √n, with s the sample standard deviation (ddof 1).
    The half-width is nan for fewer than two values (no spread to measure).
    """
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return NAN, NAN
    mean = float(a.mean())
    if a.size < 2:
        return mean, NAN
    sem = float(a.std(ddof=1)) / math.sqrt(a.size)
    return mean, float(stats.t.ppf((1 + confidence) / 2, a.size - 1)) * sem


def welch_ci(
    a: Sequence[float], b: Sequence[float], confidence: float = 0.95
) -> tuple[float, float]:
    """mean(a) - mean(b) and the half-width of its Welch t-interval (unequal variances).

    Degrees of freedom by Welch–Satterthwaite; nan when either sample has one value or
    both have no spread.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size == 0 or y.size == 0:
        return NAN, NAN
    diff = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return diff, NAN
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    if vx + vy == 0:
        return diff, NAN
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    return diff, float(stats.t.ppf((1 + confidence) / 2, df) * math.sqrt(vx + vy))


def ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n of ``values`` (ascending), ties sharing the mean of their ranks."""
    a = np.asarray(values, dtype=float)
    order = np.argsort(a, kind="stable")
    result = np.empty(a.size)
    start = 0
    while start < a.size:
        end = start
        while end + 1 < a.size and a[order[end + 1]] == a[order[start]]:
            end += 1
        result[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return result


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's ρ: the Pearson correlation of the ranks (nan if n < 2 or a side is flat)."""
    if len(x) != len(y):
        raise ValueError(f"spearman needs two sequences of one length, got {len(x)} and {len(y)}")
    if len(x) < 2:
        return NAN
    rx, ry = ranks(x), ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    norm = math.sqrt(float((rx**2).sum() * (ry**2).sum()))
    return NAN if norm == 0 else float((rx * ry).sum()) / norm
