"""Time series as data: timelines and their mistakes, CSV reading, calendar features,
chronological splits, the scaler, and windows that never leak a target into its inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.data.timeseries import (
    Scaler,
    TimeSeries,
    calendar_features,
    make_windows,
    read_series_csv,
    regularise,
    split_by_time,
    window_starts,
)
from seqlab.errors import UserError


def _hours(*offsets: int) -> np.ndarray:
    return np.datetime64("2024-01-01T00", "s") + np.array(offsets) * np.timedelta64(1, "h")


# ---------------------------------------------------------------- timelines


def test_a_regular_timeline_is_read_in_its_coarsest_unit() -> None:
    days = np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]").astype("datetime64[s]")
    full, frequency, values, filled = regularise(days, np.arange(4.0)[:, None])
    assert frequency == "1 day" and filled == 0 and values[:, 0].tolist() == [0, 1, 2, 3]
    assert (full == days).all()
    weeks = days[:1] + np.arange(3) * np.timedelta64(7, "D")
    assert regularise(weeks, np.zeros((3, 1)))[1] == "7 days"
    years = np.array(["1700", "1701", "1702"], dtype="datetime64[Y]").astype("datetime64[s]")
    assert regularise(years, np.zeros((3, 1)))[1] == "1 year"
    months = np.array(["2024-01", "2024-02", "2024-03"], dtype="datetime64[M]")
    assert regularise(months.astype("datetime64[s]"), np.zeros((3, 1)))[1] == "1 month"


def test_gaps_and_missing_values_are_named_or_interpolated() -> None:
    time = _hours(0, 1, 2, 5, 6)  # hours 3 and 4 are missing
    values = np.array([[0.0], [1.0], [2.0], [5.0], [6.0]])
    with pytest.raises(UserError, match=r"gap: 2 missing step\(s\) of 1 hour after 2024-01-01T02"):
        regularise(time, values)
    full, _, filled_values, filled = regularise(time, values, interpolate=True)
    assert len(full) == 7 and filled == 2 and filled_values[:, 0].tolist() == list(range(7))
    holes = np.array([[0.0], [np.nan], [4.0]])
    with pytest.raises(UserError, match=r"missing value at 2024-01-01T01 \(row 2\)"):
        regularise(_hours(0, 1, 2), holes)
    assert regularise(_hours(0, 1, 2), holes, interpolate=True)[2][:, 0].tolist() == [0, 2, 4]
    with pytest.raises(UserError, match="starts or ends with a missing value"):
        regularise(_hours(0, 1, 2), np.array([[np.nan], [1.0], [2.0]]), interpolate=True)


def test_irregular_and_unsorted_timestamps_are_refused() -> None:
    late = np.datetime64("2024-01-01T04:20", "s")  # 20 minutes after a 1-hour grid
    irregular = np.concatenate([_hours(0, 1, 2, 3, 4), [late]])
    message = r"irregular: .*T04:00:00 -> .*T04:20:00 is not a multiple of .* step \(1 hour\)"
    with pytest.raises(UserError, match=message):
        regularise(irregular, np.zeros((6, 1)), interpolate=True)
    with pytest.raises(UserError, match=r"\(row 3\) does not come after"):
        regularise(_hours(0, 2, 1), np.zeros((3, 1)))
    with pytest.raises(UserError, match="needs at least 2"):
        regularise(_hours(0), np.zeros((1, 1)))


# ---------------------------------------------------------------- CSV


def test_a_csv_with_targets_and_covariates(tmp_path: Path) -> None:
    path = tmp_path / "load.csv"
    path.write_text(
        "when,load,price,note\n2024-01-01 00:00,1.0,10,x\n2024-01-01 01:00,2.0,11,y\n"
        "2024-01-01 03:00,4.0,13,z\n"
    )
    with pytest.raises(UserError, match="gap: 1 missing step"):
        read_series_csv(path, "when", ["load"], ["price"])
    series = read_series_csv(path, "when", ["load"], ["price"], interpolate=True, season=24)
    assert series.values[:, 0].tolist() == [1, 2, 3, 4] and series.covariates[2, 0] == 12
    assert series.columns == ["load"] and series.covariate_names == ["price"]
    assert series.filled == 2 and series.frequency == "1 hour" and series.season == 24
    with pytest.raises(UserError, match=r"column 'note' is not numeric: 'x' at row 2"):
        read_series_csv(path, "when", ["load"], ["note"])
    with pytest.raises(UserError, match=r"no column 'lod' — did you mean 'load'"):
        read_series_csv(path, "when", ["lod"])
    with pytest.raises(UserError, match="row 2: 'soon' is not a date"):
        bad = tmp_path / "bad.csv"
        bad.write_text("when,load\nsoon,1\n")
        read_series_csv(bad, "when", ["load"])


# ---------------------------------------------------------------- calendar


def test_calendar_features_follow_the_clock_and_the_week() -> None:
    monday_six = np.array(["2024-01-01T06:00", "2024-01-03T18:00"], dtype="datetime64[s]")
    features, names = calendar_features(monday_six, "1 hour")
    assert names[:4] == ["hour_of_day_sin", "hour_of_day_cos", "day_of_week_sin", "day_of_week_cos"]
    np.testing.assert_allclose(features[:, 0], [1.0, -1.0], atol=1e-12)  # sin(2π·6/24), 18 h
    # 2024-01-01 was a Monday: the week's phase is 0 at Monday 00:00, so 6 h in = 1/28.
    np.testing.assert_allclose(features[0, 2], np.sin(2 * np.pi * (0.25 / 7)), atol=1e-12)
    weekly, weekly_names = calendar_features(monday_six, "7 days")
    assert weekly_names == ["day_of_year_sin", "day_of_year_cos"] and weekly.shape == (2, 2)
    years = np.array(["1700", "1701"], dtype="datetime64[Y]").astype("datetime64[s]")
    assert calendar_features(years, "1 year")[1] == []
    series = TimeSeries("x", monday_six, np.zeros(2), ["y"], "1 hour").with_calendar()
    assert series.covariates.shape == (2, 6) and len(series.covariate_names) == 6


# ---------------------------------------------------------------- splits, scaler


def test_chronological_splits_and_a_training_only_scaler() -> None:
    split = split_by_time(100, 0.1, 20)
    assert (split.span("train"), split.span("valid"), split.span("test")) == (
        (0, 70),
        (70, 80),
        (80, 100),
    )
    with pytest.raises(UserError, match="cannot split 10 steps"):
        split_by_time(10, 5, 5)
    rng = np.random.default_rng(0)
    values = rng.normal(3.0, 2.0, size=(100, 2))
    scaler = Scaler.fit(values[: split.train_end])
    changed = values.copy()
    changed[split.train_end :] += 1000.0  # the future does not move the scaler
    assert Scaler.fit(changed[: split.train_end]) == scaler
    scaled = scaler.transform(values[: split.train_end])
    np.testing.assert_allclose(scaled.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(0), 1.0, atol=1e-12)
    np.testing.assert_allclose(scaler.inverse(scaler.transform(values)), values)
    assert Scaler.from_dict(scaler.to_dict()) == scaler
    assert Scaler.fit(np.ones((5, 1))).std == [1.0]  # a constant column is not divided by 0


# ---------------------------------------------------------------- windows


@settings(max_examples=200, deadline=None)
@given(
    length=st.integers(2, 60),
    bounds=st.tuples(st.integers(0, 60), st.integers(0, 60)),
    input_length=st.integers(1, 12),
    horizon=st.integers(1, 12),
    stride=st.integers(1, 5),
)
def test_windows_equal_brute_force_and_never_leak_a_target(
    length: int, bounds: tuple[int, int], input_length: int, horizon: int, stride: int
) -> None:
    start, end = min(bounds), min(max(bounds), length)
    expected = [
        s
        for s in range(max(start, input_length), end - horizon + 1)
        if (s - max(start, input_length)) % stride == 0
    ]
    if not expected:
        with pytest.raises(UserError, match="holds no window"):
            window_starts(start, end, input_length, horizon, stride)
        return
    starts = window_starts(start, end, input_length, horizon, stride)
    assert starts.tolist() == expected
    steps = np.arange(length, dtype=float)[:, None]  # each value is its own step
    windows = make_windows(
        steps, np.stack([steps[:, 0], -steps[:, 0]], 1), starts, input_length, horizon
    )
    assert windows.inputs.shape == (len(starts), input_length, 1)
    assert windows.targets.shape == (len(starts), horizon, 1)
    assert windows.future.shape == (len(starts), horizon, 2)
    assert (windows.inputs.max(axis=(1, 2)) < windows.targets.min(axis=(1, 2))).all()
    assert (windows.targets >= start).all() and (windows.targets < end).all()
    assert (windows.inputs >= 0).all()
    np.testing.assert_array_equal(windows.targets[:, 0, 0], starts)  # contiguous, in order
    np.testing.assert_array_equal(windows.future[..., 0], windows.targets[..., 0])
    np.testing.assert_array_equal(windows.past[..., 0], windows.inputs[..., 0])
