"""text- and time-series-classification on real data: MR and UCR, with their baselines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seqlab.bundle import load_bundle
from seqlab.errors import UserError
from seqlab.families import FAMILIES
from seqlab.families.classification import class_weights
from seqlab.recipe import load_recipe
from seqlab.run import train_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def test_class_weights_are_sklearn_balanced() -> None:
    from sklearn.utils.class_weight import compute_class_weight

    labels = [0, 0, 0, 1, 2, 2]
    expected = compute_class_weight("balanced", classes=np.arange(3), y=np.array(labels))
    assert np.allclose(class_weights(labels, 3), expected)


def test_limit_takes_a_seeded_random_subset_of_both_classes() -> None:
    recipe = load_recipe(RECIPES / "mr-bilstm.toml", ["data.limit=200"])
    prepared = recipe.family.prepare(recipe)
    texts, labels = prepared.data["train"]
    assert len(texts) == 200 and 0.35 < np.mean(labels) < 0.65
    assert len(prepared.data["test"][1]) == 1057  # the fixed 10% test split stays whole


def test_one_nearest_neighbour_baseline_matches_brute_force_on_the_whole_train_set() -> None:
    """The baselines see the official training set (train + valid), as the archive's."""
    recipe = load_recipe(RECIPES / "ucr-ecg200-gru.toml", ['data.baselines=["nn1_euclidean"]'])
    family = FAMILIES["time-series-classification"]
    prepared = family.prepare(recipe)
    (train_x, train_y), (valid_x, valid_y) = prepared.data["train"], prepared.data["valid"]
    train_x, train_y = [*train_x, *valid_x], [*train_y, *valid_y]
    assert len(train_y) == 100
    test_x, test_y = prepared.data["test"]
    brute = [train_y[int(np.argmin([np.sum((a - b) ** 2) for b in train_x]))] for a in test_x]
    expected = float(np.mean(np.asarray(brute) == np.asarray(test_y)))
    got = family.baseline(prepared.data, "test", recipe.data)
    assert got["nn1_euclidean_accuracy"] == pytest.approx(expected) == 0.88  # UCR: ED 0.880
    assert set(got) == {"nn1_euclidean_accuracy", "nn1_euclidean_seconds"}


def test_valid_zero_trains_on_the_whole_train_set_monitoring_the_training_loss(
    tmp_path: Path,
) -> None:
    """Fawaz et al. 2019's protocol: no validation split, the lowest training loss kept."""
    quick = ["data.valid=0", "train.epochs=3", "train.progress=false", "data.baselines=[]"]
    recipe = load_recipe(RECIPES / "ucr-ecg200-fcn.toml", quick)
    prepared = recipe.family.prepare(recipe)
    assert len(prepared.data["train"][1]) == 100 and len(prepared.data["valid"][1]) == 0
    assert len(prepared.batches["valid"]) == 0 and "no validation split" in prepared.description
    result = train_recipe(recipe, tmp_path / "run")
    assert not any(key.startswith("valid_") for key in result.metrics)
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0 and result.metrics["epochs"] == 3
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    epochs = [r for r in rows if r["kind"] == "train_epoch"]
    assert len(epochs) == 3 and not [r for r in rows if r["kind"] == "valid"]
    best = min(range(3), key=lambda i: epochs[i]["loss"])
    assert result.metrics["best_epoch"] == best + 1
    for bad, match in (
        ("train.monitor=accuracy", "needs a validation split"),
        ("eval.split=valid", "keeps no validation split"),
    ):
        with pytest.raises(UserError, match=match):
            load_recipe(RECIPES / "ucr-ecg200-fcn.toml", ["data.valid=0", bad])
    with pytest.raises(UserError, match=r"data\.valid: input should be less than 1"):
        load_recipe(RECIPES / "ucr-ecg200-fcn.toml", ["data.valid=1"])


@pytest.mark.e2e
def test_ucr_ecg200_gru_learns(tmp_path: Path) -> None:
    recipe = load_recipe(RECIPES / "ucr-ecg200-gru.toml", ["train.progress=false"])
    result = train_recipe(recipe, tmp_path / "run")
    assert result.metrics["test_accuracy"] > 0.72  # majority class: 0.64; 1-NN: 0.88
    bundle = load_bundle(result.bundle)
    series = recipe.family.prepare(recipe).data["test"][0][:5]
    requests = [bundle.family.request_from_text(" ".join(map(str, x)), top_k=2) for x in series]
    answers = bundle.predict(requests)
    assert all(a.label in ("-1", "1") and len(a.top) == 2 for a in answers)
    with pytest.raises(UserError, match="cannot read a series"):
        bundle.family.request_from_text("0.1 abc")


@pytest.mark.e2e
def test_mr_bilstm_quick_run_learns_sentiment(tmp_path: Path) -> None:
    recipe = load_recipe(
        RECIPES / "mr-bilstm.toml", ["train.epochs=2", "train.progress=false", "data.limit=4000"]
    )
    metrics = train_recipe(recipe, tmp_path / "run").metrics
    assert metrics["test_accuracy"] > 0.62
    assert metrics["test_tfidf_logreg_accuracy"] > 0.65
