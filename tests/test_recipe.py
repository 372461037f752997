"""Recipes: TOML -> dataclasses, overrides, did-you-mean errors, round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from seqlab.errors import UserError
from seqlab.recipe import (
    apply_overrides,
    dump_toml,
    load_recipe,
    recipe_from_dict,
    recipe_to_dict,
)

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_recipe_parses(path: Path) -> None:
    recipe = load_recipe(path)
    assert recipe.task in ("classify", "lm")
    assert recipe.name == path.stem


def test_types_are_checked_and_ints_become_floats() -> None:
    recipe = recipe_from_dict({"train": {"lr": 1, "epochs": 3}, "data": {"max_length": None}})
    assert recipe.train.lr == 1.0 and isinstance(recipe.train.lr, float)
    with pytest.raises(UserError, match=r"train.epochs must be int"):
        recipe_from_dict({"train": {"epochs": "three"}})


def test_unknown_key_suggests_the_close_one() -> None:
    with pytest.raises(UserError, match=r"unknown key 'train.learning_rat'.*") as info:
        recipe_from_dict({"train": {"learning_rat": 0.1}})
    with pytest.raises(UserError, match=r"did you mean 'epochs'"):
        recipe_from_dict({"train": {"epoch": 3}})
    with pytest.raises(UserError, match=r"did you mean 'train'"):
        recipe_from_dict({"trian": {}})
    assert "known keys" in str(info.value) or "did you mean" in str(info.value)


def test_overrides_parse_toml_values() -> None:
    raw = apply_overrides(
        {"train": {"lr": 0.1}},
        [
            "train.lr=0.01",
            "data.dataset=ptb",
            "train.clip_norm=none_is_a_string",
            'data.options={name = "ECG200"}',
        ],
    )
    assert raw["train"]["lr"] == 0.01
    assert raw["data"]["dataset"] == "ptb"
    assert raw["data"]["options"] == {"name": "ECG200"}
    with pytest.raises(UserError, match="not key=value"):
        apply_overrides({}, ["train.lr"])


def test_resolved_recipe_round_trips_through_toml() -> None:
    recipe = load_recipe(RECIPES / "ucr-ecg200-gru.toml", ["train.lr=0.5"])
    text = dump_toml(recipe_to_dict(recipe))
    again = recipe_from_dict(tomllib.loads(text))
    assert recipe_to_dict(again) == recipe_to_dict(recipe)


def test_missing_and_broken_recipe_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="recipe not found"):
        load_recipe(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nlr = ")
    with pytest.raises(UserError, match="not valid TOML"):
        load_recipe(bad)
