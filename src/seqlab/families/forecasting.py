"""``time-series-forecasting``: a history window -> the next H steps, honestly backtested.

Data: a registered series (``sf-temps``, ``seattle-temps``, ``co2``, ``sunspots``,
``nile``) or ``file``: a CSV with ``data.time_column``, ``data.targets`` and optional
``data.covariates`` (known in advance). Calendar features (hour of day, day of week,
day of year as sine / cosine) are added as covariates unless ``data.calendar = false``.
The series is split by time (the last ``data.test`` steps test, the ``data.valid``
before them validation); the scaler is fitted on the training span only and stored in
the bundle; windows never let a target into its own inputs (seqlab.data.timeseries).

Report: a rolling-origin backtest over the test span — non-overlapping windows of H
steps, the last ``data.backtest_folds`` of them — of the model and, at the same origins
with the same history, the baselines of ``data.baselines`` (naive, seasonal naive,
drift, ETS, ARIMA; seqlab.evaluate.forecast). Metrics: MAE, RMSE, sMAPE, MASE (scaled
by the in-sample seasonal-naive error of the history), and for quantile models the
coverage of the outer quantiles' interval and the pinball loss. A quantile model's
intervals are conformalised after training (CQR, Romano et al. 2019) on the validation
windows — ``data.calibrate`` — and the report gives the coverage before and after. Model:
:class:`~seqlab.models.forecaster.Forecaster`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from seqlab.config import PositiveInt
from seqlab.data.config import DataConfig
from seqlab.data.datasets import load_dataset
from seqlab.data.timeseries import (
    Scaler,
    TimeSeries,
    Windows,
    calendar_features,
    make_windows,
    parse_time,
    read_series_csv,
    split_by_time,
    timestamps_around,
    window_starts,
)
from seqlab.errors import UserError
from seqlab.evaluate import forecast as scores
from seqlab.families.base import Family, Prepared, validated
from seqlab.models.forecaster import ForecastBatch, Forecaster, ForecasterConfig

POINT_METRICS = ("mae", "rmse", "smape", "mase")
BASELINE_NAMES = tuple(scores.BASELINES)


@dataclass
class ForecastData(DataConfig):
    """The recipe's ``[data]`` for forecasting."""

    dataset: str = "sf-temps"
    time_column: str = "date"  # file: the timestamp column
    targets: list[str] = field(default_factory=list)  # file: the columns to forecast
    covariates: list[str] = field(default_factory=list)  # file: columns known in advance
    interpolate: bool = False  # file: fill gaps and missing values linearly
    season: PositiveInt | None = None  # the seasonal period in steps (default: the data set's)
    calendar: bool = True  # add calendar features as covariates
    input_length: PositiveInt = 48
    horizon: PositiveInt = 24
    stride: PositiveInt = 1  # steps between training windows
    valid: float = 0.1  # a fraction of the series (< 1) or a number of steps (>= 1)
    test: float = 0.1
    backtest_folds: PositiveInt = 20  # the report's test windows (the last ones)
    # Quantile models: conformalise each interval on the validation windows (CQR).
    calibrate: bool = True
    baselines: list[str] = field(default_factory=lambda: list(BASELINE_NAMES))


@dataclass
class ForecastPreprocessing:
    """Stored in a bundle: what turns a raw history into the model's input and back."""

    columns: list[str]
    covariate_names: list[str]
    frequency: str
    season: int
    input_length: int
    horizon: int
    mean: list[float]
    std: list[float]
    covariate_mean: list[float] = field(default_factory=list)
    covariate_std: list[float] = field(default_factory=list)
    calendar_features: int = 0  # the last covariates are calendar features, computed
    # CQR: per outer-inner quantile pair (lowest with highest, ...), (H, C) scaled amounts
    # that widen (or narrow, when negative) the pair's interval; [] = as trained.
    interval_widening: list[list[list[float]]] = field(default_factory=list)

    @property
    def scaler(self) -> Scaler:
        return Scaler(self.mean, self.std)

    @property
    def covariate_scaler(self) -> Scaler:
        return Scaler(self.covariate_mean, self.covariate_std)


class ForecastRequest(BaseModel):
    """A history (oldest first; its last ``input_length`` steps are read), one value a
    step for one target or one row a step for several; ``last_time``: the history's last
    timestamp (needed when the model reads calendar features); ``future_covariates``:
    the horizon's values of the recipe's covariates, one row a step."""

    model_config = ConfigDict(extra="forbid")

    history: list[float] | list[list[float]] = Field(min_length=1)
    last_time: str | None = None
    future_covariates: list[list[float]] | None = None
    past_covariates: list[list[float]] | None = None


class ForecastResponse(BaseModel):
    """``forecast`` (H, C) point forecasts in the data's units; ``quantiles``: level ->
    (H, C) for quantile models; ``times``: the forecast steps' timestamps when known."""

    forecast: list[list[float]]
    columns: list[str]
    quantiles: dict[str, list[list[float]]] = Field(default_factory=dict)
    times: list[str] = Field(default_factory=list)


class ForecastBatches:
    """Re-iterable batches of windows (shuffled each epoch for training)."""

    carries_state = False

    def __init__(
        self, windows: Windows, batch_size: int, shuffle: bool = False, seed: int = 0
    ) -> None:
        self.tensors = [
            torch.as_tensor(a, dtype=torch.float32)
            for a in (windows.inputs, windows.past, windows.future, windows.targets)
        ]
        self.batch_size, self.shuffle, self.seed, self.epoch = batch_size, shuffle, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return math.ceil(len(self.tensors[0]) / self.batch_size)

    def __iter__(self) -> Iterator[ForecastBatch]:
        count = len(self.tensors[0])
        order = (
            np.random.default_rng((self.seed, self.epoch)).permutation(count)
            if self.shuffle
            else np.arange(count)
        )
        for start in range(0, count, self.batch_size):
            rows = torch.as_tensor(order[start : start + self.batch_size])
            yield ForecastBatch(*(t[rows] for t in self.tensors), rows)


@dataclass
class SeriesData:
    """What ``prepare`` keeps beside the batches: the series (original units), its scaled
    values and covariates, the split and the report's backtest origins."""

    series: TimeSeries
    scaled: np.ndarray
    covariates: np.ndarray
    split: Any
    origins: np.ndarray


class TimeSeriesForecasting(Family):
    task = "time-series-forecasting"
    summary = "history -> the next H steps (direct / recursive / seq2seq); ETS, ARIMA baselines"
    data_config = ForecastData
    model_config = ForecasterConfig
    preprocessing = ForecastPreprocessing
    Request = ForecastRequest
    Response = ForecastResponse
    ts_verbs = ("forecast", "backtest")
    example = "recipes/sf-temps-lstm.toml"
    example_input = "52.1 51.8 51.0 50.2 @ 2010-12-31T23:00"  # history @ its last timestamp
    uses_tokenizer = False
    metrics: ClassVar[dict[str, str]] = {
        "loss": "min",
        **{metric: "min" for metric in (*POINT_METRICS, "pinball")},
        "coverage": "max",
        **{f"{b}_{m}": "min" for b in BASELINE_NAMES for m in POINT_METRICS},
        "coverage_uncalibrated": "max",
    }

    # -------------------------------------------------------------- data
    def check_recipe(self, recipe: Any) -> None:
        unknown = sorted(set(recipe.data.baselines) - set(BASELINE_NAMES))
        if unknown:
            raise UserError(
                f"unknown baselines {unknown}", f"use some of {', '.join(BASELINE_NAMES)}"
            )
        levels = recipe.model.quantiles
        if any(not 0 < q < 1 for q in levels) or levels != sorted(set(levels)):
            raise UserError(
                f"model.quantiles = {levels}: need distinct increasing levels in (0, 1)",
                "e.g. [0.1, 0.5, 0.9]",
            )

    def load_series(self, data: ForecastData) -> TimeSeries:
        if data.dataset == "file":
            if not data.path or not data.targets:
                raise UserError(
                    "a forecasting file needs data.path and data.targets",
                    'e.g. path = "load.csv", time_column = "date", targets = ["load"]',
                )
            series = read_series_csv(
                data.path,
                data.time_column,
                data.targets,
                data.covariates,
                data.interpolate,
                data.season or 1,
            )
        else:
            self.check_dataset(data.dataset, (self.task,))
            series = load_dataset(data.dataset, **data.options)
            if data.season:
                series.season = data.season
        return series

    def prepare(self, recipe: Any, preprocessing: Any = None, tokenizer: Any = None) -> Prepared:
        """Load and split the series, fit the scalers on the training span, cut windows."""
        data: ForecastData = recipe.data
        plain = self.load_series(data)
        series = plain.with_calendar() if data.calendar else plain
        split = split_by_time(len(series), _steps(data.valid), _steps(data.test))
        train = slice(0, split.train_end)
        if preprocessing is None:
            scaler = Scaler.fit(series.values[train])
            covariate_scaler = Scaler.fit(series.covariates[train])
            preprocessing = ForecastPreprocessing(
                series.columns,
                series.covariate_names,
                series.frequency,
                series.season,
                data.input_length,
                data.horizon,
                scaler.mean,
                scaler.std,
                covariate_scaler.mean,
                covariate_scaler.std,
                len(series.covariate_names) - len(plain.covariate_names),
            )
        processing: ForecastPreprocessing = preprocessing
        scaled = processing.scaler.transform(series.values)
        covariates = processing.covariate_scaler.transform(series.covariates)
        length, horizon = processing.input_length, processing.horizon
        batches = {}
        for name in ("train", "valid", "test"):
            start, end = split.span(name)
            stride = data.stride if name == "train" else 1
            starts = window_starts(start, end, length, horizon, stride)
            limit = data.limit if name == "train" else data.eval_limit
            starts = starts[:limit] if limit else starts  # the first windows (quick runs)
            windows = make_windows(scaled, covariates, starts, length, horizon)
            size = data.batch_size if name == "train" else data.eval_batch_size
            batches[name] = ForecastBatches(windows, size, shuffle=name == "train", seed=data.seed)
        origins = self.origins(split, recipe, length, horizon)
        description = (
            f"`{series.name}`: {len(series):,} steps of {series.frequency}"
            f"{f' ({series.filled} filled)' if series.filled else ''}, "
            f"{len(series.columns)} target(s), {len(series.covariate_names)} covariate(s); "
            f"train / valid / test {split.train_end:,} / "
            f"{split.valid_end - split.train_end:,} / {len(series) - split.valid_end:,} steps; "
            f"windows of {length} -> {horizon}; {len(origins)} backtest origins "
            f"({recipe.eval.split})"
        )
        kept = SeriesData(series, scaled, covariates, split, origins)
        return Prepared(batches, processing, None, description, data=kept)

    def train(
        self,
        model: Forecaster,
        prepared: Prepared,
        recipe: Any,
        out: Path,
        resume: bool,
        plan: Any = None,
    ) -> Any:
        """The training loop, then (quantile models) the conformal calibration of the
        intervals on the validation windows, stored in the bundle's preprocessing."""
        state = super().train(model, prepared, recipe, out, resume, plan)
        if model.config.quantiles and recipe.data.calibrate and len(prepared.batches["valid"]):
            model.eval()
            batches = list(prepared.batches["valid"])
            widening = conformal_widening(
                np.concatenate([self.scaled_forecast(model, b) for b in batches]),
                np.concatenate([b.targets.numpy() for b in batches]),
                model.config.quantiles,
            )
            prepared.preprocessing = dataclasses.replace(
                prepared.preprocessing, interval_widening=widening.tolist()
            )
        return state

    @staticmethod
    def origins(split: Any, recipe: Any, length: int, horizon: int) -> np.ndarray:
        """The backtest origins: the last ``data.backtest_folds`` non-overlapping windows
        of the ``eval.split`` span (test by default)."""
        start, end = split.span(recipe.eval.split)
        starts = window_starts(start, end, length, horizon, horizon)
        return starts[-recipe.data.backtest_folds :]

    def build_model(self, config: ForecasterConfig) -> Forecaster:
        return Forecaster(config)

    def new_model(self, recipe: Any, prepared: Prepared) -> Forecaster:
        processing: ForecastPreprocessing = prepared.preprocessing
        config = dataclasses.replace(
            recipe.model,
            input_length=processing.input_length,
            horizon=processing.horizon,
            num_targets=len(processing.columns),
            num_covariates=len(processing.covariate_names),
            season=processing.season,
        )
        try:
            return self.build_model(config)
        except ValueError as error:  # a strategy the encoder cannot serve
            raise UserError(str(error), "see model.strategy in the recipe docs") from None

    # -------------------------------------------------------------- forecasting
    @torch.no_grad()
    def forecast(
        self, model: Forecaster, processing: ForecastPreprocessing, batch: ForecastBatch
    ) -> np.ndarray:
        """(N, H, C, Q) forecasts in the data's units of a batch of scaled windows, the
        intervals calibrated as the bundle says."""
        scaled = self.scaled_forecast(model, batch)
        if processing.interval_widening:
            scaled = widen(scaled, np.asarray(processing.interval_widening))
        inverse = processing.scaler.inverse(np.moveaxis(scaled, -1, -2))  # (N, H, Q, C)
        return np.moveaxis(inverse, -1, -2)

    @staticmethod
    @torch.no_grad()
    def scaled_forecast(model: Forecaster, batch: ForecastBatch) -> np.ndarray:
        """(N, H, C, Q) raw forecasts in the scaled units, quantiles sorted per value
        (monotone rearrangement, Chernozhukov et al. 2010: crossing quantiles are never a
        better forecast, and intervals stay intervals)."""
        device = next(model.parameters()).device
        output = model(dataclasses.replace(batch, targets=None).to(device))
        return np.sort(output.logits.float().cpu().numpy(), axis=-1)

    def backtest(self, model: Forecaster, prepared: Prepared) -> dict[str, np.ndarray]:
        """The model's and each baseline's (F, H, C) forecasts at the backtest origins,
        and the truth (F, H, C); quantile models add ``"quantiles"`` (F, H, C, Q)."""
        kept: SeriesData = prepared.data
        processing: ForecastPreprocessing = prepared.preprocessing
        length, horizon = processing.input_length, processing.horizon
        windows = make_windows(kept.scaled, kept.covariates, kept.origins, length, horizon)
        batch = next(iter(ForecastBatches(windows, len(kept.origins))))
        found = self.forecast(model, processing, batch)
        values = kept.series.values
        result = {
            "truth": np.stack([values[o : o + horizon] for o in kept.origins]),
            "model": found[..., model.point_index],
        }
        if model.config.quantiles:
            result["quantiles"] = found
        return result

    def baselines(self, prepared: Prepared, names: list[str]) -> dict[str, np.ndarray]:
        """Each baseline's (F, H, C) forecasts, fitted on all history before each origin."""
        kept: SeriesData = prepared.data
        horizon, season = prepared.preprocessing.horizon, kept.series.season
        values = kept.series.values
        return {
            name: np.stack(
                [
                    np.stack(
                        [
                            scores.BASELINES[name](values[:origin, c], horizon, season)
                            for c in range(values.shape[1])
                        ],
                        axis=-1,
                    )
                    for origin in kept.origins
                ]
            )
            for name in names
        }

    def score(
        self, truth: np.ndarray, predicted: np.ndarray, prepared: Prepared
    ) -> dict[str, float]:
        """Mean over origins and target columns of MAE, RMSE, sMAPE and MASE."""
        kept: SeriesData = prepared.data
        values, season = kept.series.values, kept.series.season
        found: dict[str, list[float]] = {m: [] for m in POINT_METRICS}
        for fold, origin in enumerate(kept.origins):
            for c in range(values.shape[1]):
                window = scores.window_scores(
                    truth[fold, :, c], predicted[fold, :, c], values[:origin, c], season
                )
                for name, value in window.items():
                    found[name].append(value)
        return {name: float(np.mean(v)) for name, v in found.items()}

    def report(
        self, model: Forecaster, prepared: Prepared, recipe: Any
    ) -> tuple[dict[str, Any], list[str]]:
        """The backtest of the model beside every baseline at the same origins."""
        model.eval()
        result = self.backtest(model, prepared)
        truth = result["truth"]
        split = recipe.eval.split
        metrics: dict[str, Any] = {
            f"{split}_{k}": v for k, v in self.score(truth, result["model"], prepared).items()
        }
        if "quantiles" in result:
            found, levels = result["quantiles"], model.config.quantiles
            metrics[f"{split}_coverage"] = scores.coverage(truth, found[..., 0], found[..., -1])
            metrics[f"{split}_pinball"] = scores.pinball(truth, found, levels)
            if prepared.preprocessing.interval_widening:  # what calibration changed
                as_trained = dataclasses.replace(prepared.preprocessing, interval_widening=[])
                raw = self.backtest(model, dataclasses.replace(prepared, preprocessing=as_trained))
                metrics[f"{split}_coverage_uncalibrated"] = scores.coverage(
                    truth, raw["quantiles"][..., 0], raw["quantiles"][..., -1]
                )
        baselines: dict[str, np.ndarray] = {}
        if recipe.eval.baseline:
            baselines = self.baselines(prepared, recipe.data.baselines)
            for name, predicted in baselines.items():
                for k, v in self.score(truth, predicted, prepared).items():
                    metrics[f"{split}_{name}_{k}"] = v
        metrics[f"{split}_folds"] = len(truth)
        ranked = sorted(
            [("model", metrics[f"{split}_mase"])]
            + [(name, metrics[f"{split}_{name}_mase"]) for name in baselines],
            key=lambda item: item[1],
        )
        lines = [
            f"backtest MASE over {len(truth)} {split} windows of {truth.shape[1]} steps: "
            + ", ".join(f"{name} {value:.3f}" for name, value in ranked)
        ]
        if "quantiles" in result:
            lo, hi = model.config.quantiles[0], model.config.quantiles[-1]
            line = (
                f"{lo:g}-{hi:g} quantile interval covers {metrics[f'{split}_coverage']:.1%} "
                f"(nominal {hi - lo:.0%})"
            )
            if f"{split}_coverage_uncalibrated" in metrics:
                line += f"; {metrics[f'{split}_coverage_uncalibrated']:.1%} before calibration"
            lines.append(line)
        return metrics, lines

    def card_figures(self, model: Forecaster, prepared: Prepared) -> dict[str, tuple[str, bytes]]:
        """The last backtest window: history, truth, forecast (and its interval)."""
        from seqlab.evaluate.plots import forecast_png

        model.eval()
        result = self.backtest(model, prepared)
        kept: SeriesData = prepared.data
        origin = int(kept.origins[-1])
        history = kept.series.values[max(0, origin - 3 * prepared.preprocessing.horizon) : origin]
        band = None
        if "quantiles" in result:
            band = (result["quantiles"][-1, :, 0, 0], result["quantiles"][-1, :, 0, -1])
        png = forecast_png(
            history[:, 0], result["truth"][-1, :, 0], result["model"][-1, :, 0], band,
            title=f"{kept.series.name}: the last test window ({kept.series.columns[0]})",
        )  # fmt: skip
        return {"forecast.png": ("the model's forecast of the last test window", png)}

    # -------------------------------------------------------------- using a bundle
    def predict(self, bundle: Any, requests: list[ForecastRequest]) -> list[ForecastResponse]:
        """Batched: every request's history is scaled, windowed and forecast together."""
        processing: ForecastPreprocessing = bundle.preprocessing
        windows = [self._window(processing, r) for r in requests]
        batch = ForecastBatch(*(torch.cat(parts) for parts in zip(*windows, strict=True)))
        found = self.forecast(bundle.model, processing, batch)  # (N, H, C, Q)
        model: Forecaster = bundle.model
        responses = []
        for request, row in zip(requests, found, strict=True):
            quantiles = {
                f"{q:g}": row[..., k].tolist() for k, q in enumerate(model.config.quantiles)
            }
            responses.append(
                ForecastResponse(
                    forecast=row[..., model.point_index].tolist(),
                    columns=processing.columns,
                    quantiles=quantiles,
                    times=[str(t) for t in self._future_times(processing, request)],
                )
            )
        return responses

    def _future_times(
        self, processing: ForecastPreprocessing, request: ForecastRequest
    ) -> list[np.datetime64]:
        """The horizon's timestamps, when the request gives the history's last one."""
        if request.last_time is None:
            return []
        last = parse_time(request.last_time, "last_time")
        return list(timestamps_around(last, processing.frequency, 0, processing.horizon)[1:])

    def _window(
        self, processing: ForecastPreprocessing, request: ForecastRequest
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A request -> (1, L, C) scaled inputs, (1, L, F) and (1, H, F) covariates."""
        length = processing.input_length
        try:
            history = np.asarray(request.history, dtype=np.float64)
        except ValueError:
            raise UserError(
                "the history's rows have different lengths", "one value a target in every row"
            ) from None
        if history.ndim == 1:
            history = history[:, None]
        if history.shape[1] != len(processing.columns):
            raise UserError(
                f"the history has {history.shape[1]} value(s) a step, this model forecasts "
                f"{len(processing.columns)} ({', '.join(processing.columns)})",
                "give one row a step with every target",
            )
        if len(history) < length:
            raise UserError(
                f"the history has {len(history)} steps, this model reads the last {length}",
                f"give at least {length} steps",
            )
        if not np.isfinite(history).all():
            raise UserError("the history has a missing or infinite value", "fill it first")
        history = history[-length:]
        past, future = self._covariates(processing, request)
        inputs = processing.scaler.transform(history)
        return tuple(torch.as_tensor(a, dtype=torch.float32)[None] for a in (inputs, past, future))  # type: ignore[return-value]

    def _covariates(
        self, processing: ForecastPreprocessing, request: ForecastRequest
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scaled past (L, F) and future (H, F) covariates: the request's own, then the
        calendar's, computed from ``last_time``."""
        length, horizon = processing.input_length, processing.horizon
        own = len(processing.covariate_names) - processing.calendar_features
        parts_past, parts_future = [], []
        if own:
            if request.future_covariates is None or request.past_covariates is None:
                raise UserError(
                    f"this model reads {own} covariate(s) "
                    f"({', '.join(processing.covariate_names[:own])})",
                    "give past_covariates (the history's last steps) and future_covariates "
                    "(the horizon's), one row a step",
                )
            past = np.asarray(request.past_covariates, dtype=np.float64)[-length:]
            future = np.asarray(request.future_covariates, dtype=np.float64)
            if past.shape != (length, own) or future.shape != (horizon, own):
                raise UserError(
                    f"covariates must be ({length}, {own}) past and ({horizon}, {own}) future "
                    f"rows, got {past.shape} and {future.shape}",
                    "one row a step, one value a covariate",
                )
            parts_past.append(past)
            parts_future.append(future)
        if processing.calendar_features:
            if request.last_time is None:
                raise UserError(
                    "this model reads calendar features: the request needs last_time, the "
                    "history's last timestamp",
                    "e.g. last_time = '2010-12-31T23:00' (`seqlab ts forecast` reads it from "
                    "the CSV)",
                )
            last = parse_time(request.last_time, "last_time")
            steps = timestamps_around(last, processing.frequency, length - 1, horizon)
            features, _ = calendar_features(steps, processing.frequency)
            parts_past.append(features[:length])
            parts_future.append(features[length:])
        if not parts_past:
            return np.zeros((length, 0)), np.zeros((horizon, 0))
        scaler = processing.covariate_scaler
        past = scaler.transform(np.concatenate(parts_past, axis=1))
        future = scaler.transform(np.concatenate(parts_future, axis=1))
        return past, future

    def _read_like(self, bundle: Any, path: str | Path) -> TimeSeries:
        """A CSV with the columns the bundle was trained on (its recipe's names)."""
        data: ForecastData = bundle.recipe.data
        processing: ForecastPreprocessing = bundle.preprocessing
        own = processing.covariate_names[
            : len(processing.covariate_names) - processing.calendar_features
        ]
        # A registered series was read with its known gaps interpolated; a file as the recipe says.
        interpolate = data.interpolate or data.dataset != "file"
        return read_series_csv(
            path, data.time_column, processing.columns, own, interpolate, processing.season
        )

    def requests_from_file(
        self, bundle: Any, path: Path, top_k: int = 1
    ) -> list[tuple[str, BaseModel]]:
        """A CSV series (the training columns): forecast the H steps after its last row."""
        self._no_own_covariates(bundle.preprocessing)
        series = self._read_like(bundle, path)
        return [(str(path), self._request_after(bundle, series.values, series.time[-1]))]

    def requests_from_dataset(self, bundle: Any, dataset: str) -> list[tuple[str, BaseModel]]:
        """A registered series: forecast the H steps after its end."""
        self._no_own_covariates(bundle.preprocessing)
        data = dataclasses.replace(bundle.recipe.data, dataset=dataset, options={})
        series = self.load_series(data)
        missing = sorted(set(bundle.preprocessing.columns) - set(series.columns))
        if missing:
            raise UserError(
                f"data set '{dataset}' has no column {', '.join(missing)} (it has "
                f"{', '.join(series.columns)})",
                "forecast a series with the columns the model was trained on",
            )
        values = series.values[:, [series.columns.index(c) for c in bundle.preprocessing.columns]]
        return [(dataset, self._request_after(bundle, values, series.time[-1]))]

    @staticmethod
    def _no_own_covariates(processing: ForecastPreprocessing) -> None:
        if len(processing.covariate_names) > processing.calendar_features:
            raise UserError(
                "this model reads covariates: their future values are not in the file",
                "send a request with future_covariates (the service), or train without them",
            )

    @staticmethod
    def _request_after(bundle: Any, values: np.ndarray, last_time: Any) -> ForecastRequest:
        """The request for the H steps after a series' (T, C) ``values`` ending at
        ``last_time``."""
        length = bundle.preprocessing.input_length
        if len(values) < length:
            raise UserError(
                f"the series has {len(values)} steps, this model reads the last {length}",
                f"give at least {length} steps",
            )
        return ForecastRequest(history=values[-length:].tolist(), last_time=str(last_time))

    def evaluate_file(self, bundle: Any, path: str) -> dict[str, Any]:
        """The backtest of ``seqlab evaluate --data``: the bundle's scalers, the file's
        split by time and the recipe's baselines."""
        recipe = bundle.recipe
        # The bundle's season (a registered series knows its own; a file has the recipe's),
        # and a file read as requests_from_file reads it.
        interpolate = recipe.data.interpolate or recipe.data.dataset != "file"
        data = dataclasses.replace(
            recipe.data,
            dataset="file",
            path=str(path),
            season=bundle.preprocessing.season,
            interpolate=interpolate,
        )
        data.targets = list(bundle.preprocessing.columns)
        own = bundle.preprocessing.covariate_names
        data.covariates = own[: len(own) - bundle.preprocessing.calendar_features]
        recipe = dataclasses.replace(recipe, data=data)
        prepared = self.prepare(recipe, bundle.preprocessing)
        return self.report(bundle.model, prepared, recipe)[0]

    def request_from_text(self, text: str, top_k: int = 1, **options: Any) -> BaseModel:
        """``"51.2 50.8 ..."`` (or comma-separated): one target's history, oldest first;
        ``"... @ 2010-12-31T23:00"`` also gives its last timestamp (``last_time``)."""
        values, _, last_time = text.partition("@")
        try:
            history = [float(v) for v in values.replace(",", " ").split()]
        except ValueError:
            raise UserError(
                f"cannot read a history from {text[:40]!r}",
                "give numbers, e.g. '51.2 50.8 @ 2010-12-31T23:00'",
            ) from None
        if last_time.strip():
            options.setdefault("last_time", last_time.strip())
        return validated(self.Request, history=history, **options)

    def show(self, response: ForecastResponse) -> str:
        rows = [" ".join(f"{v:.4g}" for v in step) for step in response.forecast]
        return " | ".join(rows)

    def rows(self, shown: str, response: ForecastResponse) -> list[dict[str, Any]]:
        """One row a forecast step and target: time, column, forecast, each quantile."""
        found = []
        for step, values in enumerate(response.forecast):
            for c, column in enumerate(response.columns):
                row: dict[str, Any] = {"input": shown, "step": step + 1}
                if response.times:
                    row["time"] = response.times[step]
                row |= {"column": column, "forecast": values[c]}
                row |= {f"q{q}": levels[step][c] for q, levels in response.quantiles.items()}
                found.append(row)
        return found

    def plot(self, response: ForecastResponse, path: str, request: Any = None) -> None:
        """The history's last steps, then the forecast and its outer-quantile interval."""
        from seqlab.atomic import write_bytes
        from seqlab.evaluate.plots import forecast_png

        history = np.asarray(request.history if request is not None else [], dtype=float)
        history = history.reshape(len(history), -1) if len(history) else np.zeros((0, 1))
        forecast = np.asarray(response.forecast)[:, 0]
        band = None
        if response.quantiles:
            levels = sorted(response.quantiles, key=float)
            band = tuple(np.asarray(response.quantiles[q])[:, 0] for q in (levels[0], levels[-1]))
        title = f"{response.columns[0]}: the forecast"
        if response.times:
            title += f" from {response.times[0]}"
        write_bytes(path, forecast_png(history[:, 0], None, forecast, band, title=title))


def conformal_widening(found: np.ndarray, truth: np.ndarray, levels: list[float]) -> np.ndarray:
    """Conformalised quantile regression (Romano, Patterson & Candès 2019), per horizon
    step and target: for each pair of quantiles (lowest with highest, then inwards) of
    nominal coverage 1 - a = q_hi - q_lo, the ceil((n + 1)(1 - a))-th smallest of the
    conformity scores max(q_lo - y, y - q_hi) over n calibration windows (the largest
    when that rank exceeds n).

    ``found`` (N, H, C, Q) sorted quantile forecasts, ``truth`` (N, H, C) -> (P, H, C)
    amounts to subtract from q_lo and add to q_hi (negative: the interval was too wide)."""
    count, pairs = len(found), len(levels) // 2
    widening = np.zeros((pairs, *found.shape[1:3]))
    for k in range(pairs):
        lo, hi = found[..., k], found[..., len(levels) - 1 - k]
        score = np.sort(np.maximum(lo - truth, truth - hi), axis=0)  # (N, H, C)
        rank = math.ceil((count + 1) * (levels[-1 - k] - levels[k]))  # 1-based
        widening[k] = score[min(rank, count) - 1]
    return widening


def widen(scaled: np.ndarray, widening: np.ndarray) -> np.ndarray:
    """(N, H, C, Q) sorted quantiles with each pair's interval moved out by its (H, C)
    amount of ``widening`` (P, H, C); sorted again, so quantiles never cross."""
    moved = scaled.copy()
    for k, amount in enumerate(widening):
        moved[..., k] -= amount
        moved[..., scaled.shape[-1] - 1 - k] += amount
    return np.sort(moved, axis=-1)


def _steps(part: float) -> float | int:
    """``data.valid`` / ``data.test``: a fraction below 1, else a number of steps."""
    return part if part < 1 else int(part)


__all__ = ["ForecastData", "ForecastRequest", "ForecastResponse", "TimeSeriesForecasting"]
