"""Forecast scores, baselines and backtests against hand-computed values and brute force.

Oracles: metrics worked out by hand on a few values and recomputed by explicit loops
over random arrays; the pinball loss also by scikit-learn's ``mean_pinball_loss``; the
naive, seasonal-naive and drift forecasts written out by hand and by their textbook
formulas (1-based indices, as printed); ETS on a noise-free trend + season, whose truth
is known; ARIMA on a simulated AR(1), whose one-step forecast is phi·y_T; the seasonal
strength against its formula on statsmodels' own STL components; ARIMA's seasonal
difference on a noise-free trend + season (exact forecast beyond one season), on a
shifted pattern (the forecast shifts by the pattern) and on a drifting season (beats
seasonal naive, and the Fourier regression it replaces); backtests against a manual
loop. Real data: weekly Mauna Loa CO2 (statsmodels), on which ETS and ARIMA must beat
the seasonal-naive forecast, and hourly San Francisco temperatures, on which ARIMA must.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import mean_pinball_loss

from seqlab.evaluate import forecast as forecast_module
from seqlab.evaluate.forecast import (
    BASELINES,
    arima,
    backtest,
    coverage,
    drift,
    ets,
    mae,
    mase,
    naive,
    pinball,
    rmse,
    rolling_origins,
    seasonal_naive,
    seasonal_strength,
    smape,
)

# ---------------------------------------------------------------- point metrics


def test_mae_rmse_by_hand() -> None:
    actual, predicted = [1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 1.0, 8.0]  # errors 1, 0, 2, 4
    assert mae(actual, predicted) == pytest.approx(7 / 4)
    assert rmse(actual, predicted) == pytest.approx(math.sqrt((1 + 0 + 4 + 16) / 4))


def test_mae_rmse_smape_against_loops_on_two_dimensional_arrays() -> None:
    rng = np.random.default_rng(1)
    actual, predicted = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    actual[0, 0] = predicted[0, 0] = 0.0  # one 0/0 sMAPE term
    absolute, squared, symmetric = [], [], []
    for y, y_hat in zip(actual.ravel().tolist(), predicted.ravel().tolist(), strict=True):
        absolute.append(abs(y - y_hat))
        squared.append((y - y_hat) ** 2)
        denominator = abs(y) + abs(y_hat)
        symmetric.append(0.0 if denominator == 0 else 200 * abs(y - y_hat) / denominator)
    assert mae(actual, predicted) == pytest.approx(sum(absolute) / 24)
    assert rmse(actual, predicted) == pytest.approx(math.sqrt(sum(squared) / 24))
    assert smape(actual, predicted) == pytest.approx(sum(symmetric) / 24)


def test_smape_by_hand_with_a_zero_denominator() -> None:
    # terms: 200·10/210; 0 (|y| + |ŷ| = 0); 200·100/100 = 200 (opposite signs: the maximum)
    value = smape([100.0, 0.0, 50.0], [110.0, 0.0, -50.0])
    assert value == pytest.approx((2000 / 210 + 0 + 200) / 3)
    assert smape([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert smape([3.0, -2.0], [3.0, -2.0]) == 0.0


@pytest.mark.parametrize("metric", [mae, rmse, smape])
def test_metrics_reject_nan_and_mismatched_shapes(metric) -> None:
    with pytest.raises(ValueError, match="actual contains NaN"):
        metric([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(ValueError, match="shape"):
        metric([1.0, 2.0, 3.0], [1.0, 2.0])


def test_mase_by_hand() -> None:
    history = [1.0, 3.0, 2.0, 5.0, 4.0]
    actual, predicted = [6.0, 7.0], [5.0, 9.0]  # MAE 1.5
    # lag 1: |3-1|, |2-3|, |5-2|, |4-5| = 2, 1, 3, 1 -> 7/4
    assert mase(actual, predicted, history) == pytest.approx(1.5 / (7 / 4))
    # lag 2: |2-1|, |5-3|, |4-2| = 1, 2, 2 -> 5/3
    assert mase(actual, predicted, history, season=2) == pytest.approx(1.5 / (5 / 3))


def test_mase_against_a_loop() -> None:
    rng = np.random.default_rng(2)
    history = rng.normal(size=40).cumsum()
    actual, predicted = rng.normal(size=7), rng.normal(size=7)
    for season in (1, 4, 12):
        scale = sum(abs(history[t] - history[t - season]) for t in range(season, 40))
        scale /= 40 - season
        error = sum(abs(y - y_hat) for y, y_hat in zip(actual, predicted, strict=True)) / 7
        assert mase(actual, predicted, history, season) == pytest.approx(error / scale)


def test_mase_rejects_short_or_flat_histories() -> None:
    with pytest.raises(ValueError, match="at least 5 values"):
        mase([1.0], [2.0], [1.0, 2.0, 3.0, 4.0], season=4)
    with pytest.raises(ValueError, match="scale 0"):
        mase([1.0], [2.0], [5.0, 5.0, 5.0])
    with pytest.raises(ValueError, match="scale 0"):  # constant at lag 2, not at lag 1
        mase([1.0], [2.0], [1.0, 2.0, 1.0, 2.0], season=2)
    with pytest.raises(ValueError, match="history contains NaN"):
        mase([1.0], [2.0], [1.0, float("nan"), 3.0])


def test_coverage_by_hand_ends_included() -> None:
    actual = [1.0, 2.0, 3.0, 4.0, 5.0]
    lower = [0.0, 2.0, 4.0, 0.0, 5.0]
    upper = [2.0, 3.0, 5.0, 3.0, 5.0]
    # inside, on the lower end, below, above, on both ends: 3 of 5
    assert coverage(actual, lower, upper) == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="lower bounds are above"):
        coverage([1.0], [2.0], [0.0])


def test_pinball_by_hand() -> None:
    # y - ŷ = 2: q·2; y - ŷ = -2: (q - 1)·(-2)
    assert pinball([10.0], [[8.0]], [0.9]) == pytest.approx(1.8)
    assert pinball([10.0], [[12.0]], [0.9]) == pytest.approx(0.2)
    # both quantiles of both points: (1.8 + 0.2) + (0.2 + 1.8), over 4
    assert pinball([10.0, 10.0], [[8.0, 12.0], [12.0, 8.0]], [0.9, 0.1]) == pytest.approx(1.0)


def test_pinball_at_the_median_is_half_the_mae() -> None:
    rng = np.random.default_rng(3)
    actual, predicted = rng.normal(size=20), rng.normal(size=20)
    assert pinball(actual, predicted[:, None], [0.5]) == pytest.approx(mae(actual, predicted) / 2)


def test_pinball_against_the_definition_and_scikit_learn() -> None:
    rng = np.random.default_rng(4)
    quantiles = [0.1, 0.5, 0.9]
    actual, predictions = rng.normal(size=(5, 3)), rng.normal(size=(5, 3, 3))
    losses = []
    for index in np.ndindex(actual.shape):
        for column, q in enumerate(quantiles):
            error = actual[index] - predictions[(*index, column)]
            losses.append(max(q * error, (q - 1) * error))
    assert pinball(actual, predictions, quantiles) == pytest.approx(sum(losses) / len(losses))
    flat_actual, flat_predicted = actual.ravel(), predictions[..., 2].ravel()
    expected = mean_pinball_loss(flat_actual, flat_predicted, alpha=0.9)
    assert pinball(flat_actual, flat_predicted[:, None], [0.9]) == pytest.approx(expected)


def test_pinball_rejects_bad_quantiles_and_shapes() -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        pinball([1.0], [[1.0]], [1.0])
    with pytest.raises(ValueError, match="trailing axis"):
        pinball([1.0, 2.0], [1.0, 2.0], [0.5])


# ---------------------------------------------------------------- simple baselines


def test_naive_and_drift_by_hand() -> None:
    np.testing.assert_array_equal(naive([1.0, 2.0, 5.0], 3), [5.0, 5.0, 5.0])
    # slope (7 - 1) / 3 = 2 from y_T = 7
    np.testing.assert_allclose(drift([1.0, 3.0, 4.0, 7.0], 3), [9.0, 11.0, 13.0])
    np.testing.assert_allclose(drift([4.0, 2.0], 2, season=12), [0.0, -2.0])


def test_seasonal_naive_by_hand_and_by_its_formula() -> None:
    history = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    np.testing.assert_array_equal(seasonal_naive(history, 5, 3), [5.0, 6.0, 7.0, 5.0, 6.0])
    np.testing.assert_array_equal(seasonal_naive(history, 2, 1), naive(history, 2))
    rng = np.random.default_rng(5)
    series = rng.normal(size=30)
    total = len(series)
    for season in (1, 2, 7, 12):
        # ŷ_{T+h} = y_{T+h-m(⌊(h-1)/m⌋+1)} with 1-based y
        expected = [series[total + h - season * ((h - 1) // season + 1) - 1] for h in range(1, 26)]
        np.testing.assert_array_equal(seasonal_naive(series, 25, season), expected)


def test_simple_baselines_reject_short_histories_and_bad_horizons() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        seasonal_naive([1.0, 2.0, 3.0], 2, 4)
    with pytest.raises(ValueError, match="at least 2"):
        drift([1.0], 2)
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        naive([1.0], 0)
    with pytest.raises(ValueError, match="history contains NaN"):
        naive([1.0, float("nan")], 1)


def test_baselines_by_name() -> None:
    expected = {
        "naive": naive,
        "seasonal_naive": seasonal_naive,
        "drift": drift,
        "ets": ets,
        "arima": arima,
    }
    assert expected == BASELINES


# ---------------------------------------------------------------- ETS and ARIMA


def test_ets_forecasts_a_noise_free_trend_and_season() -> None:
    time = np.arange(132)
    pattern = np.array([3, 5, 2, -1, -4, -6, -3, 0, 1, 4, 2, -3], dtype=float)
    series = 50 + 0.5 * time + (pattern - pattern.mean())[time % 12]
    history, truth = series[:120], series[120:]  # 10 seasons, then 1 to forecast
    forecast = ets(history, 12, 12)
    # The trend is damped (statsmodels bounds phi by 0.995): at most 0.5·Σ(1 - 0.995^h)
    # ≈ 0.19 short of the line at h = 12.
    assert np.max(np.abs(forecast - truth)) < 0.25
    # seasonal naive misses a full season of trend: 0.5·12 = 6 at every step
    assert mae(truth, seasonal_naive(history, 12, 12)) == pytest.approx(6.0)
    assert mae(truth, forecast) < 0.1


def test_ets_is_non_seasonal_below_two_full_seasons() -> None:
    history = 10 + np.sin(np.arange(20.0)) + 0.3 * np.arange(20.0)
    np.testing.assert_allclose(ets(history, 4, 12), ets(history, 4, 1))


@pytest.fixture(scope="module")
def autoregressive() -> np.ndarray:
    """500 values of y_t = 0.6·y_{t-1} + e_t, e_t ~ N(0, 1), after a burn-in of 100."""
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(600)
    series = np.zeros(600)
    for t in range(1, 600):
        series[t] = 0.6 * series[t - 1] + noise[t]
    return series[100:]


def test_arima_recovers_the_autoregressive_one_step_forecast(autoregressive) -> None:
    last = autoregressive[-1]
    assert abs(last) > 1  # far enough from 0 to tell phi·y_T from 0 and from y_T
    forecast = arima(autoregressive, 3)
    assert forecast.shape == (3,)
    # The standard errors of phi (≈ 0.036) and of the mean (≈ 0.11) leave phi·y_T
    # within about 0.1 of the one-step forecast.
    assert forecast[0] == pytest.approx(0.6 * last, abs=0.15)
    assert abs(forecast[2]) < abs(forecast[1]) < abs(forecast[0])  # decays to the mean


def test_arima_fits_only_the_last_max_history_values(autoregressive) -> None:
    recent = autoregressive[-150:]
    prefixed = np.concatenate([np.full(50, 100.0), recent])
    np.testing.assert_array_equal(arima(prefixed, 2, max_history=150), arima(recent, 2))


def test_arima_forecasts_a_constant_history_as_that_constant() -> None:
    np.testing.assert_array_equal(arima(np.full(30, 4.0), 3, 12), [4.0, 4.0, 4.0])


# ---------------------------------------------------------------- seasonal differencing

PATTERN = np.array([3, 5, 2, -1, -4, -6, -3, 0, 1, 4, 2, -3], dtype=float)


@pytest.fixture(scope="module")
def drifting_season() -> np.ndarray:
    """312 values (26 seasons of 12): a period-12 pattern whose amplitude drifts slowly
    (±30% over 400 steps) on a level that drifts slowly (a sine of amplitude 8 over 600
    steps, falling by about 1 per season near the end), plus N(0, 0.1²) noise."""
    time = np.arange(312)
    rng = np.random.default_rng(7)
    level = 20 + 8 * np.sin(2 * np.pi * time / 600)
    amplitude = 1 + 0.3 * np.sin(2 * np.pi * time / 400)
    return level + amplitude * PATTERN[time % 12] + 0.1 * rng.standard_normal(312)


def _strength_by_hand(series: np.ndarray, season: int) -> float:
    from statsmodels.tsa.seasonal import STL

    components = STL(series, period=season).fit()
    seasonal, remainder = components.seasonal, components.resid
    return max(0.0, 1 - np.var(remainder) / np.var(seasonal + remainder))


def test_seasonal_strength_is_the_formula_on_stl_components(
    drifting_season, autoregressive
) -> None:
    strong = seasonal_strength(drifting_season, 12)
    assert strong == pytest.approx(_strength_by_hand(drifting_season, 12), rel=1e-12)
    assert strong > 0.64  # auto.arima's threshold: seasonally difference
    weak = seasonal_strength(autoregressive, 12)
    assert weak == pytest.approx(_strength_by_hand(autoregressive, 12), rel=1e-12)
    assert weak < 0.64
    assert seasonal_strength(np.full(24, 3.0), 12) == 0.0  # S + R is 0: no season at all
    assert seasonal_strength(np.arange(48.0), 12) == 0.0  # a line: S + R is 0 up to rounding


def test_seasonal_strength_rejects_short_histories_and_no_season() -> None:
    with pytest.raises(ValueError, match="at least 24"):
        seasonal_strength(np.arange(23.0), 12)
    with pytest.raises(ValueError, match="season of at least 2"):
        seasonal_strength(np.arange(23.0), 1)


def test_arima_continues_a_noise_free_trend_and_season_exactly() -> None:
    # y_t - y_{t-12} = 6 for every t: the seasonal difference is a constant, so the
    # SARIMA(·)(0,1,0)_12 forecast is the last season plus 6 per season, here up to
    # 30 steps (beyond one season the integration runs on its own forecasts).
    time = np.arange(150)
    series = 50 + 0.5 * time + PATTERN[time % 12]
    history, truth = series[:120], series[120:]
    np.testing.assert_allclose(arima(history, 30, 12), truth, rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def drifting_forecast(drifting_season) -> np.ndarray:
    """arima's 12-step forecast of the drifting season from its first 300 values."""
    return arima(drifting_season[:300], 12, 12)


def test_arima_forecast_shifts_by_an_added_periodic_pattern(
    drifting_season, drifting_forecast
) -> None:
    # A period-12 pattern added to the history leaves y_t - y_{t-12} unchanged, so a
    # seasonally differenced model forecasts the same plus that pattern's continuation
    # (the Fourier regression of the D = 0 path, 3 harmonics of 6, could not).
    extra = np.array([0, 4, -2, 7, 1, -5, 3, 3, -8, 2, 0, 6], dtype=float)
    shifted = arima(drifting_season[:300] + extra[np.arange(300) % 12], 12, 12)
    np.testing.assert_allclose(shifted - drifting_forecast, extra, rtol=0, atol=1e-5)


def test_arima_seasonally_differences_a_drifting_season(
    drifting_season, drifting_forecast, monkeypatch
) -> None:
    history, truth = drifting_season[:300], drifting_season[300:]
    seasonal_naive_error = mae(truth, seasonal_naive(history, 12, 12))
    # Seasonal naive misses the season-on-season fall of the level (about 1); the ARIMA
    # on the seasonal differences carries it, leaving about the noise.
    assert seasonal_naive_error > 0.8
    assert mae(truth, drifting_forecast) < 0.3 * seasonal_naive_error
    # The Fourier regression (forced by a strength of 0) is no better than seasonal naive.
    monkeypatch.setattr(forecast_module, "seasonal_strength", lambda history, season: 0.0)
    assert mae(truth, arima(history, 12, 12)) > 0.8 * seasonal_naive_error


def test_arima_keeps_the_fourier_regression_without_a_season(autoregressive, monkeypatch) -> None:
    history = autoregressive[-200:]
    assert seasonal_strength(history, 12) < 0.64
    forecast = arima(history, 6, 12)
    # the same forecast as with the seasonal difference ruled out: the D = 0 path
    monkeypatch.setattr(forecast_module, "seasonal_strength", lambda history, season: 0.0)
    np.testing.assert_array_equal(forecast, arima(history, 6, 12))


# ---------------------------------------------------------------- backtests


def test_rolling_origins() -> None:
    assert rolling_origins(100, 10, 3) == [70, 80, 90]
    assert rolling_origins(100, 10, 3, step=5) == [80, 85, 90]
    assert rolling_origins(100, 10, 3, end=50) == [20, 30, 40]
    assert rolling_origins(100, 10, 1) == [90]


def test_rolling_origins_exact_fit_and_too_short() -> None:
    # 3 windows of 10 plus one value of history: 31 values are exactly enough
    assert rolling_origins(31, 10, 3) == [1, 11, 21]
    with pytest.raises(ValueError, match="need 31 values"):
        rolling_origins(30, 10, 3)
    with pytest.raises(ValueError, match="need 31 values"):
        rolling_origins(100, 10, 3, end=30)
    with pytest.raises(ValueError, match="end must be"):
        rolling_origins(100, 10, 3, end=101)
    with pytest.raises(ValueError, match="folds must be a positive integer"):
        rolling_origins(100, 10, 0)


@pytest.mark.parametrize(("forecaster", "season"), [(drift, 1), (seasonal_naive, 4)])
def test_backtest_equals_a_manual_loop(forecaster, season) -> None:
    rng = np.random.default_rng(6)
    series = rng.normal(size=60).cumsum() + 20
    origins = rolling_origins(len(series), 6, 4, step=3)
    scores: dict[str, list[float]] = {"mae": [], "rmse": [], "smape": [], "mase": []}
    for origin in origins:
        history, actual = series[:origin], series[origin : origin + 6]
        forecast = forecaster(history, 6, season)
        scores["mae"].append(np.mean(np.abs(actual - forecast)))
        scores["rmse"].append(np.sqrt(np.mean((actual - forecast) ** 2)))
        scores["smape"].append(
            np.mean(200 * np.abs(actual - forecast) / (np.abs(actual) + np.abs(forecast)))
        )
        scale = np.mean(np.abs(history[season:] - history[:-season]))
        scores["mase"].append(np.mean(np.abs(actual - forecast)) / scale)
    result = backtest(forecaster, series, origins, 6, season)
    assert result["folds"] == 4
    for name, values in scores.items():
        assert result[name] == pytest.approx(np.mean(values))


def test_backtest_passes_the_history_before_each_origin() -> None:
    series = np.arange(1.0, 21.0)
    seen = []

    def last_value(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
        seen.append((history.copy(), horizon, season))
        return np.full(horizon, history[-1])

    backtest(last_value, series, [10, 15], 5, season=2)
    assert [len(history) for history, _, _ in seen] == [10, 15]
    np.testing.assert_array_equal(seen[1][0], series[:15])
    assert {(horizon, season) for _, horizon, season in seen} == {(5, 2)}


def test_backtest_rejects_bad_origins_and_forecasts() -> None:
    series = np.arange(1.0, 21.0)
    with pytest.raises(ValueError, match="does not fit"):
        backtest(naive, series, [16], 5)
    with pytest.raises(ValueError, match="expected \\(5,\\)"):
        backtest(lambda history, horizon, season: history[-3:], series, [10], 5)


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def co2_backtests() -> dict[str, dict[str, float]]:
    """Weekly Mauna Loa CO2: the last 104 weeks as 2 folds of 52, season 52."""
    from statsmodels.datasets import co2

    series = co2.load_pandas().data["co2"].interpolate(method="linear").to_numpy()
    origins = rolling_origins(len(series), 52, 2)
    return {
        name: backtest(BASELINES[name], series, origins, 52, 52)
        for name in ("naive", "seasonal_naive", "ets", "arima")
    }


def test_co2_ets_beats_seasonal_naive(co2_backtests) -> None:
    assert co2_backtests["ets"]["folds"] == 2
    assert co2_backtests["ets"]["mase"] < co2_backtests["seasonal_naive"]["mase"]
    assert co2_backtests["seasonal_naive"]["mase"] < co2_backtests["naive"]["mase"]


def test_co2_arima_beats_seasonal_naive(co2_backtests) -> None:
    assert co2_backtests["arima"]["mase"] < co2_backtests["seasonal_naive"]["mase"]


@pytest.fixture(scope="module")
def sf_backtests() -> dict[str, dict[str, float]]:
    """Hourly San Francisco temperatures: the last 96 hours as 4 folds of 24, season 24."""
    from seqlab.data.timeseries import load_sf_temps

    series = load_sf_temps().values[:, 0]
    origins = rolling_origins(len(series), 24, 4)
    return {
        name: backtest(BASELINES[name], series, origins, 24, 24)
        for name in ("seasonal_naive", "arima")
    }


def test_sf_temperatures_are_strongly_seasonal() -> None:
    from seqlab.data.timeseries import load_sf_temps

    assert seasonal_strength(load_sf_temps().values[-2000:, 0], 24) > 0.64


def test_sf_temperatures_arima_beats_seasonal_naive(sf_backtests) -> None:
    assert sf_backtests["arima"]["folds"] == 4
    assert sf_backtests["arima"]["mase"] < sf_backtests["seasonal_naive"]["mase"]
