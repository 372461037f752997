"""seqlab.run: what a training run reports beside the family's metrics."""

from __future__ import annotations

from pathlib import Path

import torch

from seqlab.bundle import load_bundle
from seqlab.recipe import load_recipe
from seqlab.run import _averaged, train_recipe
from seqlab.train.callbacks import TrainState

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def test_an_averaged_run_says_which_epochs_its_bundle_holds(tmp_path: Path) -> None:
    """ECG200's FCN (BatchNorm: float running statistics are averaged, the integer batch
    counter is the last epoch's), 4 epochs, the last 2 averaged into the bundle."""
    quick = ["data.valid=0", "train.epochs=4", "train.average_last=2", "train.progress=false"]
    recipe = load_recipe(RECIPES / "ucr-ecg200-fcn.toml", [*quick, "data.baselines=[]"])
    result = train_recipe(recipe, tmp_path / "run")
    assert result.metrics["averaged"] == "epochs 3-4"
    state = load_bundle(result.bundle).model.state_dict()
    counters = [v for k, v in state.items() if k.endswith("num_batches_tracked")]
    assert counters and all(int(c) == 4 * 7 for c in counters)  # 100 series, batches of 16
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_the_report_says_why_an_average_was_not_kept() -> None:
    state = TrainState(best=0.95, best_epoch=7)
    state.averaged = {"epochs": [9, 10], "kept": False, "valid_accuracy": 0.9312}
    assert _averaged(state, "accuracy") == (
        "epochs 9-10, not kept (valid accuracy 0.9312; epoch 7: 0.9500)"
    )
    state.averaged = {"epochs": [10, 10], "kept": True}
    assert _averaged(state, "accuracy") == "epoch 10"
    assert _averaged(TrainState(), "loss") == ""
