"""Recipes: TOML files parsed into the same nested dataclasses the code uses.

A recipe has a top-level ``task`` (a family of :data:`seqlab.families.FAMILIES`, e.g.
``text-classification``), a ``name`` and four sections: ``data`` and ``model`` (the
family's own configs), ``train`` (:class:`~seqlab.train.config.TrainConfig`) and
``eval``; an optional fifth, ``transfer`` (:class:`~seqlab.transfer.tuning.TransferConfig`:
freezing, gradual unfreezing, per-layer learning rates, LoRA), applies to any model.
Every section is validated by pydantic (:func:`seqlab.config.validate`): unknown keys
are errors with a "did you mean" hint and values are checked against their constraints.
``--set train.lr=0.01`` overrides any key, and the resolved recipe is written into the
run folder and the bundle so every result names its exact recipe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from seqlab.config import NonNegativeInt, to_dict, validate
from seqlab.errors import UserError, did_you_mean
from seqlab.train.config import TrainConfig
from seqlab.transfer.tuning import TransferConfig


@dataclass
class EvalConfig:
    """What to report after training."""

    split: str = "test"
    baseline: bool = True  # measure the classical baseline in the same run
    samples: NonNegativeInt = 3  # generated samples / example predictions shown


@dataclass
class Recipe:
    """A whole run: task + data + model + train + eval (``data``/``model``: the family's)."""

    task: str
    name: str
    data: Any
    model: Any
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)

    @property
    def family(self) -> Any:
        from seqlab.families import get_family

        return get_family(self.task)


_KEYS = ["task", "name", "data", "model", "train", "eval", "transfer"]


def recipe_from_dict(raw: dict[str, Any]) -> Recipe:
    """Parse a nested dict (as read from TOML) into a :class:`Recipe`."""
    from seqlab.families import FAMILIES, get_family

    if "compare" in raw:
        raise UserError(
            "this recipe has a [compare] grid: it describes many runs, not one",
            "run `seqlab compare FILE`, or remove the [compare] table to train its base recipe",
        )
    for key in raw:
        if key not in _KEYS:
            raise UserError(f"unknown key '{key}' in the recipe", did_you_mean(key, _KEYS))
    if "task" not in raw:
        raise UserError("the recipe has no task", f'add e.g. task = "{next(iter(FAMILIES))}"')
    family = get_family(raw["task"])
    name = raw.get("name", "run")
    if not isinstance(name, str) or not name:
        raise UserError(f"name must be a non-empty string, got {name!r}", 'e.g. name = "my-run"')
    recipe = Recipe(
        task=raw["task"],
        name=name,
        data=validate(family.data_config, raw.get("data", {}), "data"),
        model=validate(family.model_config, raw.get("model", {}), "model"),
        train=validate(TrainConfig, raw.get("train", {}), "train"),
        eval=validate(EvalConfig, raw.get("eval", {}), "eval"),
        transfer=validate(TransferConfig, raw.get("transfer", {}), "transfer"),
    )
    family.check_recipe(recipe)
    return recipe


def _parse_value(text: str) -> Any:
    """Parse the right-hand side of ``--set key=value`` as a TOML value, else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` overrides to the raw recipe dict (returns a copy)."""
    raw = json.loads(json.dumps(raw))
    for item in overrides:
        if "=" not in item:
            raise UserError(f"--set '{item}' is not key=value", "write e.g. --set train.lr=0.01")
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        node = raw
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise UserError(f"--set {key}: '{part}' is not a section")
        node[parts[-1]] = _parse_value(text.strip())
    return raw


def load_recipe_dict(path: str | Path) -> dict[str, Any]:
    """Read a TOML recipe file into a dict, with one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"recipe not found: {path}", "pass a .toml file, e.g. recipes/mr-bilstm.toml"
        )
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(
            f"recipe {path} is not valid TOML: {exc}", "fix the line it names"
        ) from None


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> Recipe:
    """Load a recipe file, apply ``--set`` overrides and validate every key."""
    return recipe_from_dict(apply_overrides(load_recipe_dict(path), overrides or []))


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    """The resolved recipe as a plain dict (JSON/TOML-able), every default filled in.
    ``transfer`` appears only when the recipe uses it, so a recipe without it resolves
    as it did before the section existed (saved runs and bundles stay comparable)."""
    sections = ["data", "model", "train", "eval"] + (["transfer"] if recipe.transfer.active else [])
    return {
        "task": recipe.task,
        "name": recipe.name,
        **{s: to_dict(getattr(recipe, s)) for s in sections},
    }


def _toml_key(key: str) -> str:
    """A bare TOML key, or a quoted one (``"head.*"``: a parameter pattern)."""
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} to TOML")


def dump_toml(raw: dict[str, Any], prefix: str = "") -> str:
    """Write a nested dict as TOML: tables as ``[section]`` / ``[model.encoder]`` headers.

    TOML has no null: a None value is written as a comment (``# max_length = none``),
    so the file reads back with that key at its default.
    """
    lines = []
    for key, value in raw.items():
        if value is None:
            lines.append(f"# {key} = none")
        elif not isinstance(value, dict) or not value or key == "options":
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in raw.items():
        if isinstance(value, dict) and value and key != "options":
            lines += ["", f"[{prefix}{key}]", dump_toml(value, f"{prefix}{key}.").rstrip("\n")]
    return "\n".join(line for line in lines).strip("\n") + "\n"
