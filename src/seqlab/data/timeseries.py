"""Time series as data: a regular timeline, its values and covariates; reading a CSV with
honest checks; calendar features; chronological splits; a scaler fitted on the training
span only; and the windows a forecaster learns from.

Shapes: T = time steps, C = target columns, F = covariate columns, N = windows,
L = input (history) length, H = horizon.

The one rule that keeps a backtest honest is in :func:`window_starts`: a window's
targets lie wholly inside its split and its inputs wholly before its targets, so no
target is ever an input of its own window, and a split's scaler (:class:`Scaler`) is
fitted on the training span only. Inputs of validation and test windows may reach back
into earlier splits: that is the history a deployed forecaster would have.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqlab.data.loaders import _file
from seqlab.errors import UserError, did_you_mean

# datetime64 units tried from the coarsest: a timeline is read in the coarsest unit that
# represents every timestamp exactly (years for yearly data, months for monthly...).
_UNITS = ("Y", "M", "D", "h", "m", "s")
_UNIT_NAMES = {"Y": "year", "M": "month", "D": "day", "h": "hour", "m": "minute", "s": "second"}
_SECONDS = {"D": 86_400, "h": 3_600, "m": 60, "s": 1}


@dataclass
class TimeSeries:
    """A regular series: ``values`` (T, C) targets at ``time`` (T,) ``datetime64``, one
    ``frequency`` apart (e.g. ``"1 hour"``, ``"7 days"``, ``"1 year"``); ``covariates``
    (T, F) are known in advance (calendar features, planned inputs) and may be empty.
    ``season`` is the main seasonal period in steps (24 for hourly temperatures, 52 for
    weekly CO2; 1 when there is none), used by seasonal baselines and MASE."""

    name: str
    time: np.ndarray
    values: np.ndarray
    columns: list[str]
    frequency: str
    season: int = 1
    covariates: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    covariate_names: list[str] = field(default_factory=list)
    filled: int = 0  # values interpolated when the series was read (missing or gaps)

    def __post_init__(self) -> None:
        if self.values.ndim == 1:
            self.values = self.values[:, None]
        if self.covariates.size == 0:
            self.covariates = np.zeros((len(self.values), 0))
        if len(self.time) != len(self.values) or len(self.covariates) != len(self.values):
            raise ValueError("time, values and covariates must have the same length")

    def __len__(self) -> int:
        return len(self.values)

    def with_calendar(self) -> TimeSeries:
        """The same series with :func:`calendar_features` appended to its covariates."""
        features, names = calendar_features(self.time, self.frequency)
        return TimeSeries(
            self.name,
            self.time,
            self.values,
            self.columns,
            self.frequency,
            self.season,
            np.concatenate([self.covariates, features], axis=1),
            [*self.covariate_names, *names],
            self.filled,
        )


# ---------------------------------------------------------------- the timeline


def _timeline(time: np.ndarray) -> tuple[str, np.ndarray]:
    """The coarsest unit representing every timestamp exactly, and the timestamps in it."""
    for unit in _UNITS:
        coarse = time.astype(f"datetime64[{unit}]")
        if (coarse.astype(time.dtype) == time).all():
            return unit, coarse.astype(np.int64)
    return "s", time.astype("datetime64[s]").astype(np.int64)


def _describe(step: int, unit: str) -> str:
    """``(60, "m")`` -> ``"1 hour"``: the step in the largest unit that divides it."""
    if unit in _SECONDS:
        seconds = step * _SECONDS[unit]
        unit = next(u for u in ("D", "h", "m", "s") if seconds % _SECONDS[u] == 0)
        step = seconds // _SECONDS[unit]
    name = _UNIT_NAMES[unit]
    return f"{step} {name}{'s' if step != 1 else ''}"


def regular_timeline(
    time: np.ndarray, interpolate: bool = False, where: str = "the series"
) -> tuple[np.ndarray, str, np.ndarray]:
    """Check that ``time`` (T,) ``datetime64`` is increasing and regular.

    Returns the complete timeline, its frequency and, for each given timestamp, its row
    in that timeline. Missing timestamps (a gap of whole steps) are an error naming the
    first gap, unless ``interpolate`` (then their rows are new and the caller fills
    them); a timestamp off the step grid is always an error."""
    if len(time) < 2:
        raise UserError(f"{where} has {len(time)} timestamp(s)", "a series needs at least 2")
    unit, ticks = _timeline(time)
    steps = np.diff(ticks)
    if (steps <= 0).any():
        at = int(np.argmax(steps <= 0)) + 1
        raise UserError(
            f"{where}: timestamp {time[at]} (row {at + 1}) does not come after {time[at - 1]}",
            "sort the rows by time and drop duplicate timestamps",
        )
    sizes, counts = np.unique(steps, return_counts=True)
    step = int(sizes[counts.argmax()])  # the most common step
    off_grid = steps % step != 0
    if off_grid.any():
        at = int(np.argmax(off_grid)) + 1
        raise UserError(
            f"{where} is irregular: {time[at - 1]} -> {time[at]} is not a multiple of the "
            f"series' step ({_describe(step, unit)})",
            "resample it to a regular step first",
        )
    gaps = steps != step
    if gaps.any() and not interpolate:
        at = int(np.argmax(gaps)) + 1
        missing = int(steps[at - 1] // step) - 1
        raise UserError(
            f"{where} has a gap: {missing} missing step(s) of {_describe(step, unit)} "
            f"after {time[at - 1]} (next: {time[at]})",
            "fill it, or interpolate it (data.interpolate = true in the recipe)",
        )
    rows = (ticks - ticks[0]) // step
    full = (ticks[0] + np.arange(int(rows[-1]) + 1) * step).astype(f"datetime64[{unit}]")
    return full, _describe(step, unit), rows


def _interpolate(values: np.ndarray, where: str) -> np.ndarray:
    """Linear interpolation of NaNs inside each column; NaN at either end is an error."""
    values = values.copy()
    steps = np.arange(len(values))
    for column in range(values.shape[1]):
        known = ~np.isnan(values[:, column])
        if not known[0] or not known[-1]:
            raise UserError(
                f"{where} starts or ends with a missing value", "trim the series to known values"
            )
        values[:, column] = np.interp(steps, steps[known], values[known, column])
    return values


def regularise(
    time: np.ndarray, values: np.ndarray, interpolate: bool = False, where: str = "the series"
) -> tuple[np.ndarray, str, np.ndarray, int]:
    """``time`` (T,), ``values`` (T, C) -> complete timeline, frequency, values with gaps
    and missing values filled by linear interpolation (only with ``interpolate``; else
    the first one is an error naming its timestamp), and how many values were filled."""
    full, frequency, rows = regular_timeline(time, interpolate, where)
    filled_values = np.full((len(full), values.shape[1]), np.nan)
    filled_values[rows] = values
    missing = np.isnan(filled_values)
    if missing.any():
        if not interpolate:
            at = int(np.argmax(missing.any(axis=1)))
            raise UserError(
                f"{where} has a missing value at {full[at]} (row {at + 1})",
                "fill it, or interpolate it (data.interpolate = true in the recipe)",
            )
        filled_values = _interpolate(filled_values, where)
    return full, frequency, filled_values, int(missing.sum())


# ---------------------------------------------------------------- reading a CSV


def parse_time(text: str, where: str) -> np.datetime64:
    """A timestamp as ``datetime64[s]``: ISO (``2010-01-31``, ``2010-01-31 13:00``,
    slashes too) or ``YYYYMMDD``; anything else is a UserError naming ``where``."""
    text = text.strip()
    candidates = [text.replace("/", "-")]
    if text.isdigit() and len(text) == 8:  # 19580329
        candidates.insert(0, f"{text[:4]}-{text[4:6]}-{text[6:]}")
    for candidate in candidates:
        try:
            return np.datetime64(candidate.replace(" ", "T")).astype("datetime64[s]")
        except ValueError:
            continue
    raise UserError(
        f"{where}: {text!r} is not a date or time",
        "use ISO dates like 2010-01-31 or 2010-01-31 13:00",
    )


def _number(text: str, column: str, row: int, where: str) -> float:
    text = text.strip()
    if text in ("", "NA", "NaN", "nan", "null"):
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise UserError(
            f"{where} column {column!r} is not numeric: {text!r} at row {row}",
            "targets and covariates must be numbers",
        ) from None


def read_series_csv(
    path: str | Path,
    time_column: str,
    targets: Sequence[str],
    covariates: Sequence[str] = (),
    interpolate: bool = False,
    season: int = 1,
) -> TimeSeries:
    """A CSV with a time column, one or more target columns and optional covariates (known
    in advance) -> a :class:`TimeSeries`. Irregular timestamps, gaps and missing values
    are one clear error each (``interpolate`` fills gaps and missing values linearly)."""
    path = Path(path)
    where = path.name
    if not path.is_file():
        raise UserError(f"series file not found: {path}", "check the path")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for column in (time_column, *targets, *covariates):
            if column not in header:
                raise UserError(
                    f"{where} has no column {column!r}",
                    f"{did_you_mean(column, header)} (columns: {', '.join(header)})",
                )
        rows = list(reader)
    if not targets:
        raise UserError("no target column given", f"name one of: {', '.join(header)}")
    time = np.array(
        [parse_time(row[time_column], f"{where} row {i + 2}") for i, row in enumerate(rows)]
    ).astype("datetime64[s]")
    columns = [*targets, *covariates]
    table = np.array(
        [[_number(row[c], c, i + 2, where) for c in columns] for i, row in enumerate(rows)],
        dtype=np.float64,
    ).reshape(len(rows), len(columns))
    full, frequency, table, filled = regularise(time, table, interpolate, where)
    return TimeSeries(
        path.stem,
        full,
        table[:, : len(targets)],
        list(targets),
        frequency,
        season,
        table[:, len(targets) :],
        list(covariates),
        filled,
    )


# ---------------------------------------------------------------- calendar features


def calendar_features(time: np.ndarray, frequency: str) -> tuple[np.ndarray, list[str]]:
    """(T, K) sine / cosine pairs of the calendar cycles shorter than a year that the
    step can see: hour of day (sub-daily steps), day of week (daily or finer), day of
    year (finer than a year). Known for any future timestamp, so a forecaster may read
    them over the horizon."""
    unit, _ = _timeline(time)
    step_seconds = _step_seconds(frequency)
    seconds = time.astype("datetime64[s]").astype(np.int64)
    days = seconds / 86_400.0
    cycles: list[tuple[str, np.ndarray]] = []
    if step_seconds is not None and step_seconds < 86_400:
        cycles.append(("hour_of_day", (seconds % 86_400) / 86_400.0))
    if step_seconds is not None and step_seconds <= 86_400:
        cycles.append(("day_of_week", ((days + 3) % 7) / 7.0))  # 1970-01-01 was a Thursday
    if unit != "Y":
        year_start = time.astype("datetime64[Y]").astype("datetime64[s]").astype(np.int64)
        cycles.append(("day_of_year", (seconds - year_start) / (365.25 * 86_400)))
    features = [f(2 * np.pi * phase) for _, phase in cycles for f in (np.sin, np.cos)]
    names = [f"{name}_{f}" for name, _ in cycles for f in ("sin", "cos")]
    if not features:
        return np.zeros((len(time), 0)), []
    return np.stack(features, axis=1), names


def parse_frequency(frequency: str) -> tuple[int, str]:
    """``"7 days"`` -> ``(7, "D")``: a step as a count of one ``datetime64`` unit."""
    count, name = frequency.split()
    unit = next(u for u, n in _UNIT_NAMES.items() if name.rstrip("s") == n)
    return int(count), unit


def _step_seconds(frequency: str) -> int | None:
    """Seconds per step for fixed-length steps; None for months and years."""
    count, unit = parse_frequency(frequency)
    return count * _SECONDS[unit] if unit in _SECONDS else None


def timestamps_around(last: np.datetime64, frequency: str, before: int, after: int) -> np.ndarray:
    """(before + 1 + after,) ``datetime64[s]``: ``before`` steps before ``last``, ``last``,
    then ``after`` steps, one ``frequency`` apart (calendar months and years too)."""
    count, unit = parse_frequency(frequency)
    offsets = (np.arange(-before, after + 1) * count).astype(f"timedelta64[{unit}]")
    return (last.astype(f"datetime64[{unit}]") + offsets).astype("datetime64[s]")


# ---------------------------------------------------------------- splits and scaling


@dataclass(frozen=True)
class TimeSplit:
    """Chronological split of T steps: train [0, train_end), valid [train_end, valid_end),
    test [valid_end, length)."""

    train_end: int
    valid_end: int
    length: int

    def span(self, split: str) -> tuple[int, int]:
        """[start, end) of ``split`` ("train", "valid", "test")."""
        return {
            "train": (0, self.train_end),
            "valid": (self.train_end, self.valid_end),
            "test": (self.valid_end, self.length),
        }[split]


def split_by_time(length: int, valid: float | int, test: float | int) -> TimeSplit:
    """The last ``test`` steps are the test span, the ``valid`` before them validation; a
    float is a fraction of ``length``, an int a number of steps."""
    sizes = [round(part * length) if isinstance(part, float) else part for part in (valid, test)]
    valid_size, test_size = sizes
    if valid_size < 0 or test_size < 1 or valid_size + test_size >= length:
        raise UserError(
            f"cannot split {length} steps into valid {valid_size} and test {test_size}",
            "use smaller valid / test spans (training needs the rest)",
        )
    return TimeSplit(length - valid_size - test_size, length - test_size, length)


@dataclass
class Scaler:
    """Per-column standardisation (x - mean) / std, fitted on the training span only;
    stored in the bundle (``to_dict`` / ``from_dict``)."""

    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        """``values`` (T, C): the training span."""
        std = values.std(axis=0)
        return cls(values.mean(axis=0).tolist(), np.where(std > 0, std, 1.0).tolist())

    def transform(self, values: np.ndarray) -> np.ndarray:
        """(..., C) -> scaled (..., C)."""
        return (values - np.asarray(self.mean)) / np.asarray(self.std)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """Scaled (..., C) -> original units (..., C)."""
        return values * np.asarray(self.std) + np.asarray(self.mean)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Scaler:
        return cls(list(raw["mean"]), list(raw["std"]))


# ---------------------------------------------------------------- windows


def window_starts(
    start: int, end: int, input_length: int, horizon: int, stride: int = 1
) -> np.ndarray:
    """(N,) first target steps ``s`` of the windows whose targets [s, s + H) lie inside
    [start, end) and whose inputs [s - L, s) start at step 0 or later."""
    if input_length < 1 or horizon < 1 or stride < 1:
        raise ValueError("input_length, horizon and stride must be at least 1")
    first = max(start, input_length)
    last = end - horizon
    if last < first:
        raise UserError(
            f"a span of steps [{start}, {end}) holds no window of {input_length} inputs and "
            f"{horizon} targets",
            "use a shorter input length or horizon, or a longer series / split",
        )
    return np.arange(first, last + 1, stride)


@dataclass
class Windows:
    """The model's view of N windows: ``inputs`` (N, L, C) past targets, ``past`` (N, L, F)
    and ``future`` (N, H, F) covariates, ``targets`` (N, H, C), ``starts`` (N,) first
    target steps."""

    inputs: np.ndarray
    past: np.ndarray
    future: np.ndarray
    targets: np.ndarray
    starts: np.ndarray


def make_windows(
    values: np.ndarray, covariates: np.ndarray, starts: np.ndarray, input_length: int, horizon: int
) -> Windows:
    """Cut ``values`` (T, C) and ``covariates`` (T, F) into :class:`Windows` at ``starts``
    (from :func:`window_starts`)."""
    inputs = np.stack([values[s - input_length : s] for s in starts])
    targets = np.stack([values[s : s + horizon] for s in starts])
    past = np.stack([covariates[s - input_length : s] for s in starts])
    future = np.stack([covariates[s : s + horizon] for s in starts])
    return Windows(inputs, past, future, targets, starts)


# ---------------------------------------------------------------- the registry's series


def _statsmodels_series(
    dataset: str, time_column: str, column: str, season: int, interpolate: bool = False
) -> TimeSeries:
    series = read_series_csv(
        _file("statsmodels", f"datasets/{dataset}/{dataset}.csv"),
        time_column,
        [column],
        interpolate=interpolate,
        season=season,
    )
    series.name = dataset
    return series


def load_co2() -> TimeSeries:
    """Weekly Mauna Loa CO2 (ppm), 1958-03-29 .. 2001-12-29: 2,284 weeks, the 59 missing
    ones interpolated linearly; season 52 (weeks)."""
    return _statsmodels_series("co2", "date", "co2", season=52, interpolate=True)


def load_sunspots() -> TimeSeries:
    """Yearly sunspot activity 1700-2008 (309 values); the ~11-year cycle is not a
    calendar season, so season = 1 (as the M4 competition does for yearly data)."""
    return _statsmodels_series("sunspots", "YEAR", "SUNACTIVITY", season=1)


def load_nile() -> TimeSeries:
    """Yearly Nile flow at Aswan 1871-1970 (100 values), season 1."""
    return _statsmodels_series("nile", "year", "volume", season=1)


def _vega_temperatures(file: str) -> TimeSeries:
    series = read_series_csv(
        _file("vega_datasets", f"_data/{file}.csv"),
        "date",
        ["temp"],
        interpolate=True,  # one missing hour: 2010-03-14 03:00, the spring DST change
        season=24,
    )
    series.name = file
    return series


def load_sf_temps() -> TimeSeries:
    """Hourly San Francisco temperature (°F), 2010: 8,760 hours (the DST hour of
    2010-03-14 interpolated); season 24."""
    return _vega_temperatures("sf-temps")


def load_seattle_temps() -> TimeSeries:
    """Hourly Seattle temperature (°F), 2010: 8,760 hours (the DST hour of 2010-03-14
    interpolated); season 24."""
    return _vega_temperatures("seattle-temps")
