"""Recipes: TOML -> dataclasses, overrides, did-you-mean errors, round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from seqlab.errors import UserError
from seqlab.recipe import (
    Recipe,
    apply_overrides,
    dump_toml,
    load_recipe,
    load_recipe_dict,
    recipe_from_dict,
    recipe_to_dict,
)

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def shipped_recipe(path: Path, overrides: list[str] | None = None) -> Recipe:
    """A shipped recipe; for a `seqlab compare` grid, its base recipe."""
    raw = load_recipe_dict(path)
    if raw.pop("compare", None) is not None:
        with pytest.raises(UserError, match=r"\[compare\] grid"):
            recipe_from_dict({**raw, "compare": {}})
    return recipe_from_dict(apply_overrides(raw, overrides or []))


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_recipe_parses(path: Path) -> None:
    from seqlab.families import FAMILIES

    recipe = shipped_recipe(path)
    assert recipe.task in FAMILIES
    assert recipe.name == path.stem


TASK = {"task": "text-classification"}


def test_types_are_checked_and_ints_become_floats() -> None:
    recipe = recipe_from_dict(
        TASK | {"train": {"lr": 1, "epochs": 3}, "data": {"max_length": None}}
    )
    assert recipe.train.lr == 1.0 and isinstance(recipe.train.lr, float)
    with pytest.raises(UserError, match=r"train.epochs: input should be a valid integer"):
        recipe_from_dict(TASK | {"train": {"epochs": "three"}})


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("train", {"lr": float("nan")}, "train.lr: input should be a finite number"),
        ("train", {"lr": 0}, "train.lr: input should be greater than 0"),
        ("data", {"batch_size": 0}, "data.batch_size: input should be greater than or equal to 1"),
        ("data", {"batch_size": -5}, "greater than or equal to 1"),
        ("model", {"head_dropout": 1.5}, "model.head_dropout: input should be less than 1"),
        ("train", {"momentum": -0.1}, "greater than or equal to 0"),
        ("train", {"optimizer": "lbfgs"}, "train.optimizer: input should be 'sgd'"),
        ("model", {"encoder": {"num_layers": 0}}, "model.encoder.num_layers"),
        ("model", {"encoder": {"type": "lstn"}}, "did you mean 'lstm'"),
        ("model", {"encoder": {"type": "cnn", "bidirectional": True}}, "model.encoder.bidirect"),
        ("model", {"pooling": "median"}, "model.pooling: input should be"),
    ],
)
def test_field_constraints_are_one_line_errors(section: str, values: dict, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        recipe_from_dict(TASK | {section: values})
    assert "\n" not in str(info.value)


def test_task_names_and_families() -> None:
    with pytest.raises(UserError, match="did you mean 'text-generation'"):
        recipe_from_dict({"task": "text-generaton"})
    with pytest.raises(UserError, match="has no task"):
        recipe_from_dict({})
    with pytest.raises(UserError, match=r"unknown key 'data.bptt'"):  # an LM-only key
        recipe_from_dict(TASK | {"data": {"bptt": 20}})


def test_unknown_key_suggests_the_close_one() -> None:
    with pytest.raises(UserError, match=r"unknown key 'train.learning_rat'.*") as info:
        recipe_from_dict(TASK | {"train": {"learning_rat": 0.1}})
    with pytest.raises(UserError, match=r"did you mean 'epochs'"):
        recipe_from_dict(TASK | {"train": {"epoch": 3}})
    with pytest.raises(UserError, match=r"did you mean 'train'"):
        recipe_from_dict(TASK | {"trian": {}})
    assert "use one of" in str(info.value) and "lr" in str(info.value)


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


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*.toml")), ids=lambda p: p.name)
def test_resolved_recipe_round_trips_through_toml(path: Path) -> None:
    recipe = shipped_recipe(path, ["train.lr=0.5"])
    text = dump_toml(recipe_to_dict(recipe))
    again = recipe_from_dict(tomllib.loads(text))
    assert recipe_to_dict(again) == recipe_to_dict(recipe)
    assert ("[model.encoder]" in text) == hasattr(recipe.model, "encoder")


def test_missing_and_broken_recipe_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="recipe not found"):
        load_recipe(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nlr = ")
    with pytest.raises(UserError, match="not valid TOML"):
        load_recipe(bad)
