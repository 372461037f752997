"""Family time-series-forecasting: real data end to end, baselines equal to the forecast
module's own backtest, a scaler that never sees the future, bundles that reload and
forecast the same, and bad input as one clear line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seqlab.bundle import load_bundle
from seqlab.cli.main import app
from seqlab.data.datasets import DATASETS
from seqlab.errors import UserError
from seqlab.evaluate import forecast as scores
from seqlab.families import forecasting, get_family
from seqlab.recipe import recipe_from_dict
from seqlab.run import train_recipe

FAMILY = get_family("time-series-forecasting")
runner = CliRunner()


def _recipe(data: dict, model: dict | None = None, **train) -> dict:
    return {
        "task": "time-series-forecasting",
        "name": "tiny-forecast",
        "data": {"input_length": 48, "horizon": 24, "batch_size": 64, **data},
        "model": {
            "strategy": "direct",
            "head_hidden": 32,
            "encoder": {"type": "gru", "hidden_size": 16},
            **(model or {}),
        },
        "train": {"lr": 0.005, "epochs": 1, "max_steps": 40, "progress": False, **train},
        "eval": {"samples": 0},
    }


def _csv(path: Path, hours: int = 24 * 40, seed: int = 0) -> Path:
    """A daily cycle plus a slow trend and noise, with a known-in-advance covariate."""
    rng = np.random.default_rng(seed)
    steps = np.arange(hours)
    load = 10 + 3 * np.sin(2 * np.pi * steps / 24) + steps / 200 + rng.normal(0, 0.3, hours)
    price = np.cos(2 * np.pi * steps / 24)
    times = np.datetime64("2024-01-01T00") + steps.astype("timedelta64[h]")
    rows = [f"{t},{v:.4f},{p:.4f}" for t, v, p in zip(times, load, price, strict=True)]
    path.write_text("time,load,price\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def sf(tmp_path_factory: pytest.TempPathFactory):
    if not DATASETS["sf-temps"].is_available():
        pytest.skip("vega-datasets is not installed")
    out = tmp_path_factory.mktemp("sf") / "run"
    data = {"dataset": "sf-temps", "backtest_folds": 4, "baselines": ["naive", "seasonal_naive"]}
    recipe = recipe_from_dict(_recipe(data, {"quantiles": [0.1, 0.5, 0.9], "base": "seasonal"}))
    return recipe, train_recipe(recipe, out)


def test_real_data_report_has_every_metric_beside_the_baselines(sf) -> None:
    _, result = sf
    m = result.metrics
    for name in ("model", "naive", "seasonal_naive"):
        prefix = "test_" if name == "model" else f"test_{name}_"
        for metric in ("mae", "rmse", "smape", "mase"):
            assert math.isfinite(m[f"{prefix}{metric}"]), (name, metric)
    assert 0.0 <= m["test_coverage"] <= 1.0 and m["test_pinball"] > 0 and m["test_folds"] == 4
    assert 0.0 <= m["test_coverage_uncalibrated"] <= 1.0  # CQR on the validation windows
    widening = np.asarray(load_bundle(result.bundle).preprocessing.interval_widening)
    assert widening.shape == (1, 24, 1) and np.isfinite(widening).all()
    # A 40-step model on the seasonal-naive base is near that base already.
    assert m["test_mase"] < 2 * m["test_seasonal_naive_mase"] < m["test_naive_mase"]


def test_baseline_scores_equal_the_forecast_module_s_own_backtest(sf) -> None:
    recipe, result = sf
    prepared = FAMILY.prepare(recipe)
    kept = prepared.data
    values, horizon = kept.series.values[:, 0], recipe.data.horizon
    own = scores.backtest(scores.seasonal_naive, values, list(kept.origins), horizon, 24)
    m = result.metrics
    for metric in ("mae", "rmse", "smape", "mase"):
        assert m[f"test_seasonal_naive_{metric}"] == pytest.approx(own[metric])
    # The origins are the last non-overlapping windows of the test span.
    start, end = kept.split.span("test")
    assert kept.origins[-1] + horizon <= end and (np.diff(kept.origins) == horizon).all()
    assert kept.origins[0] >= start


def test_conformal_widening_is_the_split_conformal_quantile_and_reaches_nominal_coverage() -> None:
    rng = np.random.default_rng(0)
    n, levels = 999, [0.1, 0.5, 0.9]

    def draws(count: int) -> tuple[np.ndarray, np.ndarray]:
        truth = rng.normal(0.0, 1.0, (count, 2, 1))  # (N, H, C); the true 80% band is ±1.28
        found = np.broadcast_to([-0.5, 0.0, 0.5], (count, 2, 1, 3)).copy()  # far too narrow
        return found, truth

    found, truth = draws(n)
    widening = forecasting.conformal_widening(found, truth, levels)
    assert widening.shape == (1, 2, 1)
    # Brute force: the ceil((n + 1) * 0.8)-th smallest conformity score, per step.
    score = np.sort(np.maximum(-0.5 - truth, truth - 0.5)[:, 0, 0])
    assert widening[0, 0, 0] == score[math.ceil((n + 1) * 0.8) - 1]
    found, truth = draws(20_000)  # exchangeable new windows
    moved = forecasting.widen(found, widening)
    assert scores.coverage(truth, found[..., 0], found[..., -1]) < 0.45
    assert scores.coverage(truth, moved[..., 0], moved[..., -1]) == pytest.approx(0.8, abs=0.02)
    assert (moved[..., 1] == 0).all()  # the median is no pair's: it stays
    # Too wide an interval is narrowed (a negative widening).
    assert (forecasting.conformal_widening(found * 10, truth, levels) < 0).all()


def test_the_scaler_is_fitted_on_the_training_span_only(tmp_path: Path) -> None:
    path = _csv(tmp_path / "a.csv")
    recipe = recipe_from_dict(
        _recipe({"dataset": "file", "path": str(path), "time_column": "time", "targets": ["load"]})
    )
    first = FAMILY.prepare(recipe).preprocessing
    lines = path.read_text().splitlines()
    cut = len(lines) - 100  # change the last 99 hours (test span) beyond recognition
    changed = [f"{t},{float(v) * 100},{p}" for t, v, p in (x.split(",") for x in lines[cut:])]
    path.write_text("\n".join(lines[:cut] + changed) + "\n")
    again = FAMILY.prepare(recipe).preprocessing
    assert (first.mean, first.std) == (again.mean, again.std)
    assert (first.covariate_mean, first.covariate_std) == (
        again.covariate_mean,
        again.covariate_std,
    )


def test_a_bundle_reloads_and_forecasts_what_the_report_saw(sf) -> None:
    recipe, result = sf
    bundle = load_bundle(result.bundle)
    prepared = FAMILY.prepare(recipe, bundle.preprocessing)
    backtest = FAMILY.backtest(bundle.model, prepared)
    origin = int(prepared.data.origins[-1])
    series = prepared.data.series
    request = FAMILY.Request(
        history=series.values[origin - 48 : origin, 0].tolist(),
        last_time=str(series.time[origin - 1]),
    )
    (response,) = bundle.predict([request])
    np.testing.assert_allclose(
        np.asarray(response.forecast)[:, 0], backtest["model"][-1, :, 0], rtol=1e-5, atol=1e-4
    )
    assert response.times[0] == str(series.time[origin].astype("datetime64[s]"))
    assert set(response.quantiles) == {"0.1", "0.5", "0.9"}
    with pytest.raises(UserError, match="needs last_time"):
        bundle.predict([FAMILY.Request(history=request.history)])
    with pytest.raises(UserError, match="rows have different lengths"):
        bundle.predict([FAMILY.Request(history=[[1.0], [2.0, 3.0]], last_time=request.last_time)])
    with pytest.raises(UserError, match="has 3 steps, this model reads the last 48"):
        bundle.predict([FAMILY.Request(history=[1.0, 2.0, 3.0], last_time=request.last_time)])


def test_a_csv_with_covariates_trains_and_predicts_through_the_cli(tmp_path: Path) -> None:
    path = _csv(tmp_path / "load.csv")
    recipe = tmp_path / "load.toml"
    recipe.write_text(
        'task = "time-series-forecasting"\nname = "load"\n[data]\ndataset = "file"\n'
        f'path = "{path}"\ntime_column = "time"\ntargets = ["load"]\n'
        'calendar = false\ninput_length = 48\nhorizon = 24\nbaselines = ["seasonal_naive"]\n'
        'backtest_folds = 3\n[model]\nbase = "seasonal"\n[model.encoder]\n'
        'type = "gru"\nhidden_size = 16\n[train]\nepochs = 1\nmax_steps = 30\nprogress = false\n'
    )
    out = tmp_path / "run"
    trained = runner.invoke(app, ["train", str(recipe), "--out", str(out)])
    assert trained.exit_code == 0, trained.output
    assert "backtest MASE over 3 test windows" in trained.output
    assert (out / "bundle" / "forecast.png").is_file()
    history = " ".join(str(10 + math.sin(h / 24 * 2 * math.pi)) for h in range(48))
    predicted = runner.invoke(app, ["predict", str(out / "bundle"), history, "--json"])
    assert predicted.exit_code == 0, predicted.output
    assert predicted.output.count(",") >= 24  # 24 forecast values
    short = runner.invoke(app, ["predict", str(out / "bundle"), "1 2 3"])
    assert short.exit_code == 2 and "reads the last 48" in short.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"targets": ["lod"]}, "no column 'lod' — did you mean 'load'"),
        ({"targets": []}, "needs data.path and data.targets"),
        ({"input_length": 2000}, "holds no window"),
        ({"baselines": ["prophet"]}, "unknown baselines"),
    ],
)
def test_bad_data_is_one_line_exit_2(tmp_path: Path, change: dict, message: str) -> None:
    path = _csv(tmp_path / "load.csv", hours=24 * 20)
    data = {"dataset": "file", "path": str(path), "time_column": "time", "targets": ["load"]}
    raw = _recipe({**data, **change})
    lines = ["task = 'time-series-forecasting'", "name = 'bad'", "[data]"]
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in raw["data"].items()]
    (tmp_path / "bad.toml").write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["train", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_limits_keep_the_first_windows(tmp_path: Path) -> None:
    path = _csv(tmp_path / "load.csv")
    data = {"dataset": "file", "path": str(path), "time_column": "time", "targets": ["load"]}
    prepared = FAMILY.prepare(recipe_from_dict(_recipe({**data, "limit": 50, "eval_limit": 7})))
    assert len(prepared.batches["train"].tensors[0]) == 50
    assert len(prepared.batches["valid"].tensors[0]) == 7


def test_a_gap_is_named_unless_interpolated(tmp_path: Path) -> None:
    path = _csv(tmp_path / "load.csv", hours=24 * 20)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:100] + lines[103:]) + "\n")  # 3 hours missing
    data = {"dataset": "file", "path": str(path), "time_column": "time", "targets": ["load"]}
    with pytest.raises(UserError, match=r"gap: 3 missing step\(s\) of 1 hour after 2024-01-05T02"):
        FAMILY.prepare(recipe_from_dict(_recipe(data)))
    prepared = FAMILY.prepare(recipe_from_dict(_recipe({**data, "interpolate": True})))
    assert prepared.data.series.filled == 3 and len(prepared.data.series) == 24 * 20


def test_predict_a_csv_file_and_evaluate_on_a_csv_through_the_cli(tmp_path: Path) -> None:
    path = _csv(tmp_path / "load.csv")
    data = {"dataset": "file", "path": str(path), "time_column": "time", "targets": ["load"]}
    data |= {"baselines": ["seasonal_naive"], "backtest_folds": 3, "season": 24}
    out = tmp_path / "run"
    train_recipe(recipe_from_dict(_recipe(data, {"base": "seasonal"})), out)
    predicted = runner.invoke(app, ["predict", str(out / "bundle"), "--file", str(path), "--json"])
    assert predicted.exit_code == 0, predicted.output
    answer = json.loads(predicted.output)
    assert len(answer["forecast"]) == 24 and answer["times"][0] == "2024-02-10T00:00:00"
    other = _csv(tmp_path / "other.csv", hours=24 * 30, seed=5)
    for args, prefix in ((["--data", str(other)], "test"), (["--split", "valid"], "valid")):
        evaluated = runner.invoke(app, ["evaluate", str(out / "bundle"), *args])
        assert evaluated.exit_code == 0, evaluated.output
        metrics = json.loads(evaluated.output)
        assert metrics[f"{prefix}_folds"] == 3 and f"{prefix}_seasonal_naive_mase" in metrics
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(path.read_text().replace("load", "demand"))
    refused = runner.invoke(app, ["predict", str(out / "bundle"), "--file", str(wrong)])
    assert refused.exit_code == 2 and "has no column 'load'" in refused.output
