"""Recipes: TOML files parsed into the same nested dataclasses the code uses.

A recipe has a top-level ``task`` and four sections, ``data``, ``model``, ``train``
and ``eval``. Unknown keys are errors with a "did you mean" hint, ``--set
train.lr=0.01`` overrides any key, and the resolved recipe is written into the run
folder and the bundle so every result names its exact recipe.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from seqlab.errors import UserError


@dataclass
class DataConfig:
    """Where the examples come from and how they become batches."""

    dataset: str = "mr"  # a name from `seqlab datasets`, or "file"
    path: str | None = None  # a user file (CSV/TSV for classification, plain text for LM)
    text_column: str = "text"
    label_column: str = "label"
    tokenizer: str = "word"  # word | whitespace | char | bpe | wordpiece
    lowercase: bool = True
    min_freq: int = 1
    max_vocab: int | None = None
    vocab_size: int = 8000  # for bpe / wordpiece
    max_length: int | None = None  # truncate longer texts (tokens)
    batch_size: int = 32
    eval_batch_size: int = 64
    bptt: int = 35  # truncated back-propagation length (language models)
    seed: int = 0
    limit: int | None = None  # keep only the first N training examples/lines (quick runs)
    options: dict[str, Any] = field(default_factory=dict)  # extra loader arguments


@dataclass
class TrainConfig:
    """Optimiser, schedule and stopping rules for :func:`seqlab.train.loop.fit`."""

    optimizer: str = "adam"  # sgd | rmsprop | adam | adamw
    lr: float = 1e-3
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    epochs: int = 10
    schedule: str = "none"  # none | step | cosine | plateau
    decay_start: int = 0  # step: lr *= gamma every `step_size` epochs after this epoch
    step_size: int = 1
    gamma: float = 0.5
    warmup_steps: int = 0  # linear warm-up, any schedule
    patience_lr: int = 1  # plateau: epochs without improvement before lr *= gamma
    clip_norm: float | None = 5.0
    early_stopping: int | None = None  # patience in epochs; None = off
    monitor: str = "loss"  # a validation metric name
    class_weights: str | None = None  # None | "balanced"
    seed: int = 0
    deterministic: bool = True
    max_steps: int | None = None  # stop after this many optimiser steps (quick runs)
    max_minutes: float | None = None  # wall-clock budget
    log_every: int = 20
    progress: bool = True


@dataclass
class EvalConfig:
    """What to report after training."""

    split: str = "test"
    baseline: bool = True  # measure the classical baseline in the same run
    samples: int = 3  # generated samples / example predictions shown


@dataclass
class Recipe:
    """A whole run: task + data + model + train + eval."""

    task: str = "classify"
    name: str = "run"
    data: DataConfig = field(default_factory=DataConfig)
    model: dict[str, Any] = field(default_factory=dict)  # parsed by the task's model config
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


def _suggest(key: str, options: list[str]) -> str:
    close = difflib.get_close_matches(key, options, n=1)
    return f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(options)}"


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Check/convert a TOML value against a dataclass field annotation."""
    if isinstance(annotation, str):
        annotation = eval(annotation, vars(typing) | {"Any": Any})
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except UserError as exc:
                errors.append(str(exc))
        raise UserError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin in (dict, list, tuple):
        if not isinstance(value, origin if origin is not tuple else (list, tuple)):
            raise UserError(f"{where} must be a {origin.__name__}, got {value!r}")
        return tuple(value) if origin is tuple else value
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise UserError(f"{where} must be true or false, got {value!r}")
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation in (int, float, str) and not isinstance(value, annotation):
        raise UserError(f"{where} must be {annotation.__name__}, got {value!r}")
    return value


def build_dataclass(cls: type, values: dict[str, Any], where: str) -> Any:
    """Build dataclass ``cls`` from a dict; unknown keys are errors with a hint."""
    if not isinstance(values, dict):
        raise UserError(f"[{where}] must be a table of key = value lines")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise UserError(
                f"unknown key '{where}.{key}' in the recipe", _suggest(key, sorted(fields))
            )
        kwargs[key] = _coerce(value, hints[key], f"{where}.{key}")
    return cls(**kwargs)


_SECTIONS = {"data": DataConfig, "train": TrainConfig, "eval": EvalConfig}


def recipe_from_dict(raw: dict[str, Any]) -> Recipe:
    """Parse a nested dict (as read from TOML) into a :class:`Recipe`."""
    known = ["task", "name", "data", "model", "train", "eval"]
    for key in raw:
        if key not in known:
            raise UserError(f"unknown key '{key}' in the recipe", _suggest(key, known))
    recipe = Recipe(
        task=_coerce(raw.get("task", "classify"), str, "task"),
        name=_coerce(raw.get("name", "run"), str, "name"),
        model=dict(raw.get("model", {})),
    )
    for section, cls in _SECTIONS.items():
        setattr(recipe, section, build_dataclass(cls, raw.get(section, {}), section))
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
    """The resolved recipe as a plain dict (JSON/TOML-able), every default filled in."""
    return dataclasses.asdict(recipe)


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
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} to TOML")


def dump_toml(raw: dict[str, Any]) -> str:
    """Write a two-level dict as TOML (None values are left out: they are the default)."""
    top = [f"{k} = {_toml_value(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    lines = [*top]
    for section, values in raw.items():
        if isinstance(values, dict):
            lines += ["", f"[{section}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]
    return "\n".join(lines) + "\n"
