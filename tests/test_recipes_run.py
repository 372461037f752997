"""Every shipped recipe trains (a few steps), writes a bundle, and the bundle answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.bundle import load_bundle
from seqlab.data.datasets import DATASETS
from seqlab.recipe import apply_overrides, load_recipe_dict, recipe_from_dict
from seqlab.run import train_recipe

RECIPES = sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*.toml"))
QUICK = ["train.max_steps=3", "train.progress=false", "eval.samples=1", "eval.baseline=false"]


@pytest.mark.e2e
@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_recipe_trains_and_its_bundle_predicts(path: Path, tmp_path: Path) -> None:
    raw = load_recipe_dict(path)
    raw.pop("compare", None)  # a `seqlab compare` grid: its base recipe trains here
    recipe = recipe_from_dict(apply_overrides(raw, QUICK))
    info = DATASETS.get(recipe.data.dataset)
    if info is not None and not info.is_available():
        pytest.skip(f"{recipe.data.dataset} is not installed (seqlab datasets prepare)")
    result = train_recipe(recipe, tmp_path / "run")
    bundle = load_bundle(result.bundle)
    inputs = "0.1 0.5 0.9 0.3" if bundle.tokenizer is None else "the film"
    (answer,) = bundle.predict([bundle.family.request_from_text(inputs, top_k=2)])
    assert len(answer.top) == 2 and 0.0 <= answer.score <= 1.0
