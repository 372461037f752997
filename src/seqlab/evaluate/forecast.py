"""Scores, baselines and rolling-origin backtests of time-series forecasts.

Arrays in, floats or arrays out (plain numpy, float64 inside).

Point metrics, ``f(actual, predicted) -> float`` on arrays of one shape (any shape):

- :func:`mae`, :func:`rmse`: mean absolute error, root mean squared error.
- :func:`smape`: symmetric MAPE as in the M4 competition, in percent (0-200): the mean
  of ``200 * |y - ŷ| / (|y| + |ŷ|)``, a term whose denominator is 0 counting 0.
- :func:`mase`: mean absolute scaled error (Hyndman & Koehler 2006, as in M4): the MAE
  over the in-sample MAE of the seasonal-naive forecast on the history.
- :func:`coverage`: share of actual values inside a prediction interval.
- :func:`pinball`: mean quantile (pinball) loss of quantile forecasts.

Baseline forecasters, ``f(history (T,), horizon, season=1) -> forecast (horizon,)``,
collected in :data:`BASELINES`:

- :func:`naive` (last value), :func:`seasonal_naive` (last full season),
  :func:`drift` (line through the first and the last value);
- :func:`ets`: exponential smoothing with an additive damped trend (and additive
  seasonality on two full seasons or more), fitted by statsmodels;
- :func:`arima`: ARIMA with the order picked by AIC, fitted by statsmodels; a season
  is handled by a seasonal difference when it is strong (:func:`seasonal_strength` of
  an STL decomposition above 0.64, as R's ``auto.arima``), else by Fourier regressors
  (dynamic harmonic regression).

Backtests: :func:`rolling_origins` places the forecast origins of ``folds`` windows at
the end of a series; :func:`backtest` forecasts from each origin and averages the scores.

Errors in the inputs (NaN, mismatched shapes, too short histories) raise ``ValueError``.
statsmodels is imported inside :func:`ets`, :func:`arima` and :func:`seasonal_strength` only.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "BASELINES",
    "SEASONAL_STRENGTH_THRESHOLD",
    "Forecaster",
    "arima",
    "backtest",
    "coverage",
    "drift",
    "ets",
    "mae",
    "mase",
    "naive",
    "pinball",
    "rmse",
    "rolling_origins",
    "seasonal_naive",
    "seasonal_strength",
    "smape",
]

Forecaster = Callable[[np.ndarray, int, int], np.ndarray]
"""``forecaster(history (T,), horizon, season) -> forecast (horizon,)``."""

# ---------------------------------------------------------------- checks


def _values(name: str, values: ArrayLike) -> np.ndarray:
    """``values`` as a float64 array; ValueError if empty or holding NaN."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN; fill or drop the missing values first")
    return array


def _pair(actual: ArrayLike, predicted: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``actual`` and ``predicted`` as float64 arrays of one shape."""
    actual_array = _values("actual", actual)
    predicted_array = _values("predicted", predicted)
    if actual_array.shape != predicted_array.shape:
        raise ValueError(
            f"actual has shape {actual_array.shape} but predicted {predicted_array.shape}"
        )
    return actual_array, predicted_array


def _series(name: str, values: ArrayLike, minimum: int) -> np.ndarray:
    """A one-dimensional float64 series of at least ``minimum`` values."""
    array = _values(name, values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if len(array) < minimum:
        raise ValueError(f"{name} has {len(array)} values, needs at least {minimum}")
    return array


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# ---------------------------------------------------------------- point metrics


def mae(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Mean absolute error, ``mean |y - ŷ|``, over arrays of one shape."""
    actual_array, predicted_array = _pair(actual, predicted)
    return float(np.mean(np.abs(actual_array - predicted_array)))


def rmse(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Root mean squared error, ``sqrt(mean (y - ŷ)²)``, over arrays of one shape."""
    actual_array, predicted_array = _pair(actual, predicted)
    return float(np.sqrt(np.mean((actual_array - predicted_array) ** 2)))


def smape(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Symmetric mean absolute percentage error of the M4 competition, in percent.

    ``mean 200 * |y - ŷ| / (|y| + |ŷ|)`` over arrays of one shape; a term with
    ``|y| + |ŷ| = 0`` (both zero, a perfect forecast) counts 0. Ranges over 0-200.
    """
    actual_array, predicted_array = _pair(actual, predicted)
    denominator = np.abs(actual_array) + np.abs(predicted_array)
    error = np.abs(actual_array - predicted_array)
    safe = np.where(denominator > 0, denominator, 1.0)
    terms = np.where(denominator > 0, 200.0 * error / safe, 0.0)
    return float(np.mean(terms))


def mase(actual: ArrayLike, predicted: ArrayLike, history: ArrayLike, season: int = 1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler 2006; the M4 definition).

    The MAE of the forecast over the in-sample MAE of the seasonal-naive forecast on
    ``history``: ``mean |h_t - h_{t-m}|`` for ``t >= m`` with ``m = season``. Below 1,
    the forecast beats the in-sample seasonal-naive one-step forecast.

    Shapes: ``actual`` and ``predicted`` alike (any shape), ``history`` (T,) with
    ``T >= season + 1``. ValueError if the history is too short or constant at lag
    ``season`` (scale 0).
    """
    season = _positive("season", season)
    past = _series("history", history, minimum=1)
    if len(past) < season + 1:
        raise ValueError(
            f"MASE with season {season} needs a history of at least {season + 1} values, "
            f"got {len(past)}"
        )
    scale = float(np.mean(np.abs(past[season:] - past[:-season])))
    if scale == 0:
        raise ValueError(
            f"MASE is undefined: the history does not change at lag {season} (scale 0)"
        )
    return mae(actual, predicted) / scale


def coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share (0-1) of actual values inside their interval ``[lower, upper]`` (ends included).

    Shapes: the three arrays alike (any shape). ValueError if some ``lower > upper``.
    """
    actual_array = _values("actual", actual)
    lower_array = _values("lower", lower)
    upper_array = _values("upper", upper)
    if not actual_array.shape == lower_array.shape == upper_array.shape:
        raise ValueError(
            f"actual, lower and upper have shapes {actual_array.shape}, "
            f"{lower_array.shape}, {upper_array.shape}; they must be equal"
        )
    if (lower_array > upper_array).any():
        raise ValueError("some lower bounds are above their upper bounds")
    inside = (lower_array <= actual_array) & (actual_array <= upper_array)
    return float(np.mean(inside))


def pinball(
    actual: ArrayLike, quantile_predictions: ArrayLike, quantiles: Sequence[float]
) -> float:
    """Mean pinball (quantile) loss over all points and quantiles.

    Per point and quantile ``q``: ``max(q * (y - ŷ), (q - 1) * (y - ŷ))``.

    Shapes: ``actual`` (...), ``quantile_predictions`` (..., Q) with ``Q = len(quantiles)``,
    ``quantiles`` (Q,) each strictly between 0 and 1.
    """
    actual_array = _values("actual", actual)
    predictions = _values("quantile_predictions", quantile_predictions)
    levels = _series("quantiles", quantiles, minimum=1)
    if ((levels <= 0) | (levels >= 1)).any():
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {levels.tolist()}")
    expected = (*actual_array.shape, len(levels))
    if predictions.shape != expected:
        raise ValueError(
            f"quantile_predictions has shape {predictions.shape}, expected {expected} "
            "(the shape of actual plus a trailing axis of one column per quantile)"
        )
    error = actual_array[..., None] - predictions
    return float(np.mean(np.maximum(levels * error, (levels - 1) * error)))


# ---------------------------------------------------------------- baseline forecasters


def naive(history: ArrayLike, horizon: int, season: int = 1) -> np.ndarray:
    """The last value repeated: ``ŷ_{T+h} = y_T``. ``season`` is ignored.

    Shapes: ``history`` (T,) with T >= 1 -> forecast (horizon,).
    """
    _positive("season", season)
    past = _series("history", history, minimum=1)
    return np.full(_positive("horizon", horizon), past[-1])


def seasonal_naive(history: ArrayLike, horizon: int, season: int = 1) -> np.ndarray:
    """The last full season repeated: ``ŷ_{T+h} = y_{T+h-m(⌊(h-1)/m⌋+1)}``, ``m = season``.

    Shapes: ``history`` (T,) with T >= season -> forecast (horizon,). With ``season=1``
    this is :func:`naive`.
    """
    season = _positive("season", season)
    horizon = _positive("horizon", horizon)
    past = _series("history", history, minimum=season)
    steps = np.arange(horizon)  # h - 1
    return past[len(past) - season + steps % season].copy()


def drift(history: ArrayLike, horizon: int, season: int = 1) -> np.ndarray:
    """The line through the first and the last value: ``ŷ_{T+h} = y_T + h (y_T - y_1)/(T-1)``.

    ``season`` is ignored. Shapes: ``history`` (T,) with T >= 2 -> forecast (horizon,).
    """
    _positive("season", season)
    horizon = _positive("horizon", horizon)
    past = _series("history", history, minimum=2)
    slope = (past[-1] - past[0]) / (len(past) - 1)
    return past[-1] + slope * np.arange(1, horizon + 1)


def ets(history: ArrayLike, horizon: int, season: int = 1) -> np.ndarray:
    """Exponential smoothing: additive damped trend, additive seasonality if it fits.

    statsmodels' ``ExponentialSmoothing`` (Holt-Winters) with ``trend="add"``,
    ``damped_trend=True`` and, when ``season > 1`` and the history holds at least two
    full seasons, ``seasonal="add"`` with ``seasonal_periods=season``; the smoothing
    parameters, the damping and the initial states are fitted by statsmodels (least
    squares, ``initialization_method="estimated"``). statsmodels' convergence warnings
    are silenced inside this call; BLAS runs on one thread during the fit (it is
    made of many tiny matrix products, which threads only slow down).

    Shapes: ``history`` (T,) -> forecast (horizon,).
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    from threadpoolctl import threadpool_limits

    season = _positive("season", season)
    horizon = _positive("horizon", horizon)
    past = _series("history", history, minimum=2)
    seasonal = season > 1 and len(past) >= 2 * season
    model = ExponentialSmoothing(
        past,
        trend="add",
        damped_trend=True,
        seasonal="add" if seasonal else None,
        seasonal_periods=season if seasonal else None,
        initialization_method="estimated",
    )
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = model.fit()
    return np.asarray(fitted.forecast(horizon), dtype=np.float64)


def _fourier(length: int, season: int) -> np.ndarray:
    """Fourier regressors of period ``season`` at times 0..length-1: (length, columns).

    ``K = min(3, season // 2)`` pairs ``sin(2πkt/m), cos(2πkt/m)`` for k = 1..K; the sine
    of ``k = m/2`` (identically 0) is left out.
    """
    time = np.arange(length, dtype=np.float64)
    columns = []
    for k in range(1, min(3, season // 2) + 1):
        angle = 2 * np.pi * k * time / season
        if 2 * k != season:
            columns.append(np.sin(angle))
        columns.append(np.cos(angle))
    return np.column_stack(columns)


def _differences(past: np.ndarray, regressors: np.ndarray | None) -> int:
    """0 or 1: whether the KPSS test (5%) rejects level stationarity of the series.

    As in Hyndman's ``auto.arima`` (``ndiffs``): the long-run variance uses the short
    bandwidth ``trunc(3 sqrt(n) / 13)`` lags (urca's ``ur.kpss(use.lag=...)`` there), and
    with regressors the test is run on the residuals of the least-squares regression of
    the series on a constant and the regressors. (statsmodels' data-dependent
    ``nlags="auto"`` picks far more lags on persistent series and then rarely rejects.)
    """
    from statsmodels.tsa.stattools import kpss

    design = np.ones((len(past), 1))
    if regressors is not None:
        design = np.column_stack([design, regressors])
    coefficients = np.linalg.lstsq(design, past, rcond=None)[0]
    # statsmodels 0.15 warns that kpss will return a KPSSResult; item 1 is the p-value of
    # the tuple and of the KPSSResult alike.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        lags = int(3 * np.sqrt(len(past)) / 13)
        p_value = kpss(past - design @ coefficients, regression="c", nlags=lags)[1]
    return int(p_value < 0.05)


def _fit_arima(model: Any) -> Any:
    """The fit of a statsmodels ``ARIMA`` by the innovations algorithm, else by the Kalman filter.

    The innovations MLE is the fast one; it fails (division by a zero variance) on
    noise-free stretches, where the state-space MLE still works. None if both fail.
    """
    for method in ("innovations_mle", "statespace"):
        try:
            return model.fit(method=method, cov_type="none")
        except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):
            continue
    return None


SEASONAL_STRENGTH_THRESHOLD = 0.64
"""Seasonal strength above which :func:`arima` takes a seasonal difference (as R's
``forecast::nsdiffs`` with its default ``test="seas"``)."""


def seasonal_strength(history: ArrayLike, season: int) -> float:
    """Seasonal strength of an STL decomposition (Wang, Smith & Hyndman 2006), in 0-1.

    ``F_s = max(0, 1 - Var(R) / Var(S + R))`` with ``S`` and ``R`` the seasonal and the
    remainder components of statsmodels' ``STL(history, period=season)`` (its defaults:
    a seasonal smoother of 7, not robust). Near 1 for a series dominated by its season,
    near 0 for one without. R's ``forecast::nsdiffs`` (default heuristic, as used by
    ``auto.arima``) takes a seasonal difference when ``F_s > 0.64``; it decomposes by
    ``mstl``, whose seasonal window for one season is 11 rather than statsmodels' 7, so
    values near the threshold can differ from R's. A series whose ``S + R`` does not
    vary (e.g. a constant or a pure line) has strength 0.

    Shapes: ``history`` (T,) with ``T >= 2 * season`` and ``season >= 2``.
    """
    from statsmodels.tsa.seasonal import STL

    season = _positive("season", season)
    if season < 2:
        raise ValueError(f"seasonal strength needs a season of at least 2, got {season}")
    past = _series("history", history, minimum=2 * season)
    decomposition = STL(past, period=season).fit()
    seasonal, remainder = np.asarray(decomposition.seasonal), np.asarray(decomposition.resid)
    total = float(np.var(seasonal + remainder))
    if total <= 1e-12 * max(1.0, float(np.var(past))):
        return 0.0
    return max(0.0, 1.0 - float(np.var(remainder)) / total)


def _best_arima_forecast(
    series: np.ndarray,
    horizon: int,
    d: int,
    trend: str,
    exog: np.ndarray | None = None,
    future: np.ndarray | None = None,
) -> np.ndarray:
    """The forecast of the ARIMA(p, d, q), p, q in 0..2, of lowest AIC; ValueError if none fits."""
    from statsmodels.tsa.arima.model import ARIMA

    fits = [
        _fit_arima(ARIMA(series, exog=exog, order=(p, d, q), trend=trend))
        for p, q in itertools.product(range(3), range(3))
    ]
    fits = [fit for fit in fits if fit is not None and np.isfinite(fit.aic)]
    if not fits:
        raise ValueError(f"no ARIMA(p, {d}, q) with p, q in 0..2 could be fitted")
    best = min(fits, key=lambda fit: fit.aic)
    return np.asarray(best.forecast(horizon, exog=future), dtype=np.float64)


def arima(history: ArrayLike, horizon: int, season: int = 1, max_history: int = 2000) -> np.ndarray:
    """ARIMA(p, d, q) with the order picked by AIC; a seasonal difference or Fourier terms.

    - Only the last ``max_history`` values of ``history`` are used (default 2000), which
      keeps a call to a few seconds on any length.
    - ``season > 1``: the seasonal difference ``D`` ∈ {0, 1} is decided as R's
      ``forecast::auto.arima`` does by default (``nsdiffs``' seasonal-strength
      heuristic): ``D = 1`` when the :func:`seasonal_strength` of the STL decomposition
      exceeds 0.64 (Wang, Smith & Hyndman 2006) and the history holds at least two full
      seasons (and ``season + 3`` values).

      - ``D = 1``: a SARIMA(p, d, q)(0, 1, 0) with period ``m = season``. The ARIMA is
        fitted to the seasonal differences ``z_t = y_t - y_{t-m}``, and its forecast
        integrated back, ``ŷ_{T+h} = ẑ_{T+h} + y_{T+h-m}`` (``y_{T+h-m}`` itself a
        forecast for ``h > m``) — exactly the SARIMA(p, d, q)(0, 1, 0)_m forecast, the
        seasonal part having no parameters.
      - ``D = 0``: ``K = min(3, season // 2)`` sine/cosine pairs of period ``season``
        are regressors, and the errors of that regression follow the ARIMA (dynamic
        harmonic regression, Hyndman & Athanasopoulos, *Forecasting: Principles and
        Practice*, 10.5).
    - ``d`` ∈ {0, 1} by the KPSS test at 5%, with ``auto.arima``'s short bandwidth of
      ``trunc(3 sqrt(n) / 13)`` lags, on the series to model (the seasonal differences
      if ``D = 1``, else the residuals of the Fourier regression, if any);
      then every ``p, q`` ∈ {0, 1, 2} is fitted by statsmodels' ``ARIMA`` and the lowest
      AIC wins. The ARIMA has a constant if ``d = 0`` (with ``D = 1``: a seasonal drift,
      the mean change over one season), a drift if ``d = 1`` and ``D = 0``, neither if
      ``d = D = 1`` (as in ``auto.arima``: no constant once two differences are taken).
      Fits use maximum likelihood by the innovations algorithm
      (``method="innovations_mle"``, regression effects by feasible GLS), or by the
      Kalman filter (``method="statespace"``) where that fails; orders whose fit fails
      both ways are skipped.
    - A constant history is forecast as that constant, and a history whose seasonal
      differences are constant (``D = 1``) as its last season plus that constant
      (there is nothing to fit).

    statsmodels' model warnings (convergence, start parameters, differencing notices)
    and numpy's warnings from degenerate candidate fits are silenced inside this call;
    BLAS runs on one thread during the decomposition and the fits (tiny matrix
    products, which threads only slow down).

    Shapes: ``history`` (T,) with T >= 3 -> forecast (horizon,).
    """
    from statsmodels.tools.sm_exceptions import ModelWarning
    from threadpoolctl import threadpool_limits

    season = _positive("season", season)
    horizon = _positive("horizon", horizon)
    max_history = _positive("max_history", max_history)
    past = _series("history", history, minimum=3)[-max_history:]
    if np.ptp(past) == 0:
        return np.full(horizon, past[-1])
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ModelWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message="Non-(stationary|invertible) starting")
        warnings.filterwarnings("ignore", message="Provided `endog` series has been differenced")
        seasonal_difference = (
            season > 1
            and len(past) >= max(2 * season, season + 3)
            and seasonal_strength(past, season) > SEASONAL_STRENGTH_THRESHOLD
        )
        if seasonal_difference:
            changes = past[season:] - past[:-season]
            if np.ptp(changes) == 0:
                change_forecast = np.full(horizon, changes[-1])
            else:
                d = _differences(changes, None)
                change_forecast = _best_arima_forecast(changes, horizon, d, trend="n" if d else "c")
            extended = np.concatenate([past, np.empty(horizon)])
            for step in range(horizon):
                at = len(past) + step
                extended[at] = change_forecast[step] + extended[at - season]
            return extended[len(past) :]
        regressors = _fourier(len(past) + horizon, season) if season > 1 else None
        in_sample = None if regressors is None else regressors[: len(past)]
        future = None if regressors is None else regressors[len(past) :]
        d = _differences(past, in_sample)
        trend = "t" if d else "c"  # a drift after differencing, else a constant
        return _best_arima_forecast(past, horizon, d, trend, in_sample, future)


BASELINES: dict[str, Forecaster] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "drift": drift,
    "ets": ets,
    "arima": arima,
}
"""The baseline forecasters by name."""

# ---------------------------------------------------------------- backtests


def rolling_origins(
    length: int, horizon: int, folds: int, step: int | None = None, end: int | None = None
) -> list[int]:
    """Forecast origins of ``folds`` backtest windows at the end of a series, earliest first.

    An origin is the index of the first forecast step: the window of origin ``o`` is
    ``[o, o + horizon)`` and its history ``[0, o)``. The last window ends at ``end``
    (default ``length``), the others ``step`` (default ``horizon``) apart before it:
    ``end - horizon - step * (folds - 1), ..., end - horizon``. ValueError unless every
    window fits in ``[1, end)`` (at least one value of history) and ``end <= length``.
    """
    horizon = _positive("horizon", horizon)
    folds = _positive("folds", folds)
    step = horizon if step is None else _positive("step", step)
    end = length if end is None else end
    if not 0 < end <= length:
        raise ValueError(f"end must be in 1..{length} (the series length), got {end}")
    first = end - horizon - step * (folds - 1)
    if first < 1:
        needed = horizon + step * (folds - 1) + 1
        raise ValueError(
            f"{folds} folds of horizon {horizon}, {step} apart, need {needed} values up to "
            f"end={end} (one of history before the first window); use fewer folds, a "
            "shorter horizon or step, or a longer series"
        )
    return [first + step * fold for fold in range(folds)]


def window_scores(
    actual: ArrayLike, predicted: ArrayLike, history: ArrayLike, season: int = 1
) -> dict[str, float]:
    """:func:`mae`, :func:`rmse`, :func:`smape` and :func:`mase` of one forecast window
    (``actual`` and ``predicted`` (H,); ``history`` (T,): what came before it)."""
    return {
        "mae": mae(actual, predicted),
        "rmse": rmse(actual, predicted),
        "smape": smape(actual, predicted),
        "mase": mase(actual, predicted, history, season),
    }


def backtest(
    forecaster: Forecaster,
    series: ArrayLike,
    origins: Sequence[int],
    horizon: int,
    season: int = 1,
) -> dict[str, float]:
    """Rolling-origin backtest: forecast from each origin, score, average.

    At each origin ``o``, ``forecaster(series[:o], horizon, season)`` is scored against
    ``series[o : o + horizon]`` by :func:`mae`, :func:`rmse`, :func:`smape` and
    :func:`mase` (with ``history = series[:o]``). Returns the mean of each score over
    the origins, and ``"folds"``: the number of origins.

    Shapes: ``series`` (T,); each origin in ``1..T - horizon``.
    """
    horizon = _positive("horizon", horizon)
    values = _series("series", series, minimum=2)
    if len(origins) == 0:
        raise ValueError("no origins to backtest; see rolling_origins")
    scores: dict[str, list[float]] = {"mae": [], "rmse": [], "smape": [], "mase": []}
    for origin in origins:
        if not 1 <= origin <= len(values) - horizon:
            raise ValueError(
                f"origin {origin} with horizon {horizon} does not fit a series of "
                f"{len(values)} values (origins must be in 1..{len(values) - horizon})"
            )
        history, actual = values[:origin], values[origin : origin + horizon]
        forecast = np.asarray(forecaster(history, horizon, season), dtype=np.float64)
        if forecast.shape != (horizon,):
            raise ValueError(
                f"the forecaster returned shape {forecast.shape}, expected ({horizon},)"
            )
        for name, value in window_scores(actual, forecast, history, season).items():
            scores[name].append(value)
    result = {name: float(np.mean(fold_scores)) for name, fold_scores in scores.items()}
    result["folds"] = len(origins)
    return result
