"""Series-classification baselines against brute-force oracles; the family reports them."""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np
import pytest

from seqlab.errors import UserError
from seqlab.evaluate.series_baselines import dtw_radius, minirocket, nn1_dtw, nn1_euclidean
from seqlab.recipe import load_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def brute_dtw(a: np.ndarray, b: np.ndarray, radius: int | None) -> float:
    """The textbook recursion D[i, j] = (a_i - b_j)^2 + min(D[i-1, j], D[i, j-1],
    D[i-1, j-1]) inside the band -r - max(0, n - m) <= j - i <= r + max(0, m - n)."""
    n, m = len(a), len(b)
    low = -np.inf if radius is None else -radius - max(0, n - m)
    high = np.inf if radius is None else radius + max(0, m - n)
    cost = np.full((n + 1, m + 1), np.inf)
    cost[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if low <= j - i <= high:
                step = min(cost[i - 1, j], cost[i, j - 1], cost[i - 1, j - 1])
                cost[i, j] = (a[i - 1] - b[j - 1]) ** 2 + step
    return float(np.sqrt(cost[n, m]))


def brute_nn1(train_x, train_y, test_x, distance) -> np.ndarray:
    return np.asarray([train_y[int(np.argmin([distance(q, c) for c in train_x]))] for q in test_x])


def _random_series(rng: np.random.Generator, count: int, lengths: tuple[int, int]) -> list:
    return [rng.normal(size=int(rng.integers(*lengths))).cumsum() for _ in range(count)]


def test_nn1_euclidean_is_brute_force_over_zero_padded_series() -> None:
    rng = np.random.default_rng(0)
    train_x, test_x = _random_series(rng, 30, (5, 12)), _random_series(rng, 20, (5, 12))
    train_y = rng.integers(0, 3, 30)
    length = max(len(x) for x in [*train_x, *test_x])

    def padded(x: np.ndarray) -> np.ndarray:
        return np.pad(x, (0, length - len(x)))

    expected = brute_nn1(
        train_x, train_y, test_x, lambda q, c: np.sum((padded(q) - padded(c)) ** 2)
    )
    got = nn1_euclidean(train_x, train_y, test_x)
    assert got.shape == (20,) and np.array_equal(got, expected)
    # a test series equal to a training one is classified as that one
    assert nn1_euclidean(train_x, train_y, train_x[:5]).tolist() == train_y[:5].tolist()


@pytest.mark.parametrize("window", [None, 0.0, 0.1, 0.3, 1.0])
@pytest.mark.parametrize("lengths", [(10, 11), (6, 13)], ids=["equal", "unequal"])
def test_nn1_dtw_is_the_brute_force_recursion(window: float | None, lengths) -> None:
    rng = np.random.default_rng(1)
    train_x, test_x = _random_series(rng, 25, lengths), _random_series(rng, 15, lengths)
    train_y = np.arange(25)  # every training series its own label: the argmin is checked
    longest = max(len(x) for x in [*train_x, *test_x])
    radius = dtw_radius(window, longest)
    expected = brute_nn1(train_x, train_y, test_x, lambda q, c: brute_dtw(c, q, radius))
    got = nn1_dtw(train_x, train_y, test_x, window=window, chunk=4)  # several chunks
    assert np.array_equal(got, expected)


def test_dtw_window_zero_is_euclidean_and_warping_helps_shifted_shapes() -> None:
    rng = np.random.default_rng(2)
    train_x, test_x = _random_series(rng, 40, (16, 17)), _random_series(rng, 30, (16, 17))
    train_y = np.arange(40)
    assert np.array_equal(
        nn1_dtw(train_x, train_y, test_x, window=0.0), nn1_euclidean(train_x, train_y, test_x)
    )
    # class = where a bump sits; a test bump shifted by 2 steps: DTW finds its class
    t = np.arange(40)
    bump = [np.exp(-0.5 * ((t - centre) / 2.0) ** 2) for centre in (10, 30)]
    train = [bump[0], bump[1]]
    test = [np.roll(bump[0], 2), np.roll(bump[1], -2)]
    assert nn1_dtw(train, [0, 1], test, window=0.1).tolist() == [0, 1]
    assert dtw_radius(None, 96) is None and dtw_radius(0.1, 96) == 10
    with pytest.raises(UserError, match="fraction"):
        dtw_radius(1.5, 10)


def test_minirocket_separates_a_synthetic_problem_and_is_deterministic() -> None:
    """Sines of period 8 vs 20 under noise and random phase: MiniRocket finds them; a
    seed gives the same predictions on 2 threads (the default) and on 1."""
    rng = np.random.default_rng(3)

    def make(count: int) -> tuple[list[np.ndarray], np.ndarray]:
        labels = rng.integers(0, 2, count)
        t = np.arange(60)
        series = [
            np.sin(2 * np.pi * t / (8 if y else 20) + rng.uniform(0, 6.3))
            + 0.3 * rng.normal(size=60)
            for y in labels
        ]
        return series, labels

    (train_x, train_y), (test_x, test_y) = make(40), make(60)
    first = minirocket(train_x, train_y, test_x, seed=7, n_kernels=840)
    again = minirocket(train_x, train_y, test_x, seed=7, n_kernels=840, n_jobs=1)
    assert (first == test_y).mean() >= 0.95
    assert np.array_equal(first, again)
    # variable lengths and series shorter than the 9-tap kernels are zero-padded
    short = minirocket([x[: 5 + i % 30] for i, x in enumerate(train_x)], train_y, [test_x[0][:4]])
    assert short.shape == (1,) and short[0] in (0, 1)


def test_minirocket_leaves_torch_s_thread_count_as_it_found_it() -> None:
    """aeon sets the shared OpenMP runtime to n_jobs threads; a training after the baseline
    must not inherit them (it ran 10x slower on spinning threads)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        series = [np.sin(np.arange(30) / (2 + i % 2)) for i in range(10)]
        minirocket(series, [i % 2 for i in range(10)], series[:2], n_kernels=84, n_jobs=2)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_missing_ts_extra_is_one_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_ts(name: str, *args, **kwargs):
        if name.split(".")[0] in ("dtaidistance", "aeon"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ts)
    x, y = [np.zeros(10), np.ones(10)], [0, 1]
    with pytest.raises(UserError, match=r"seqlab\[ts\]"):
        nn1_dtw(x, y, x)
    with pytest.raises(UserError, match=r"seqlab\[ts\]"):
        minirocket(x, y, x)


def test_the_family_reports_all_three_on_ucr_coffee() -> None:
    """Coffee: 28 / 28 series of 286 steps; the archive's ED and DTW are both 1.0.
    The baselines see the whole official training set (train + valid, 28 series)."""
    recipe = load_recipe(RECIPES / "ucr-coffee-fcn.toml")
    family = recipe.family
    prepared = family.prepare(recipe)
    assert len(prepared.data["train"][1]) + len(prepared.data["valid"][1]) == 28
    got = family.baseline(prepared.data, "test", recipe.data)
    assert set(got) == {
        f"{name}_{what}"
        for name in ("nn1_euclidean", "nn1_dtw", "minirocket")
        for what in ("accuracy", "seconds")
    }
    assert got["nn1_euclidean_accuracy"] == 1.0  # the UCR archive's ED (w=0): error 0
    assert got["nn1_dtw_accuracy"] == 1.0  # DTW (learned_w 0) and DTW (w=100): error 0
    assert got["minirocket_accuracy"] >= 0.96
    assert all(got[f"{n}_seconds"] >= 0 for n in ("nn1_euclidean", "nn1_dtw", "minirocket"))
    assert all(f"{k}_accuracy" in family.metrics for k in ("nn1_dtw", "minirocket"))
    # the baselines to run are a recipe setting; an unknown one is refused when parsed
    only = load_recipe(RECIPES / "ucr-coffee-fcn.toml", ['data.baselines=["nn1_euclidean"]'])
    assert set(family.baseline(prepared.data, "test", only.data)) == {
        "nn1_euclidean_accuracy",
        "nn1_euclidean_seconds",
    }
    with pytest.raises(UserError, match=r"unknown data.baselines entry 'nn1_dwt'.*'nn1_dtw'"):
        load_recipe(RECIPES / "ucr-coffee-fcn.toml", ['data.baselines=["nn1_dwt"]'])
