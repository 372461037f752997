"""Bundles: a folder a model is rebuilt from, with no pickle.

    config.json        family, task, model config, labels, seqlab version
    model.safetensors  the weights (shared/tied tensors stored once)
    tokenizer.json     the tokenizer with its vocabulary
    recipe.toml        the resolved recipe that made it
    metrics.json       the measured results
    README.md          a model card: data, metrics, the command that made it

A bundle is written to a temporary folder beside its target and renamed into place,
so a crash leaves the old bundle or none, never half of one.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import nn

import seqlab
from seqlab import atomic
from seqlab.errors import UserError
from seqlab.models.registry import MODELS
from seqlab.recipe import dump_toml
from seqlab.text.tokenizers import Tokenizer, load_tokenizer

REQUIRED = ("config.json", "model.safetensors")


@dataclass
class Bundle:
    """A loaded bundle: the model (in eval mode) and everything needed to use it."""

    path: Path
    model: nn.Module
    family: str
    task: str
    tokenizer: Tokenizer | None
    labels: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def family_of(model: nn.Module) -> str:
    for name, (_, cls) in MODELS.items():
        if type(model) is cls:
            return name
    raise TypeError(f"{type(model).__name__} is not in seqlab.models.registry.MODELS")


def _card(
    name: str,
    task: str,
    family: str,
    config: dict[str, Any],
    metrics: dict[str, Any],
    command: str | None,
    data: str | None,
) -> str:
    lines = [
        f"# {name}",
        "",
        f"seqlab {seqlab.__version__} bundle — task `{task}`, family `{family}`.",
        "",
    ]
    if data:
        lines += ["## Data", "", data, ""]
    if metrics:
        lines += ["## Metrics", "", "| metric | value |", "|---|---|"]
        for key, value in metrics.items():
            shown = f"{value:.4f}" if isinstance(value, float) else str(value)
            lines.append(f"| {key} | {shown} |")
        lines.append("")
    encoder = config.get("encoder", "?")
    size = f"{config.get('num_layers', '?')}x{config.get('hidden_size', '?')}"
    lines += ["## Model", "", f"encoder `{encoder}` {size}; full config in `config.json`.", ""]
    if command:
        lines += ["## Reproduce", "", "```", command, "```", ""]
    lines += [
        "## Use",
        "",
        "```python",
        "from seqlab.bundle import load_bundle",
        "bundle = load_bundle('PATH')",
        "```",
        "",
    ]
    return "\n".join(lines)


def save_bundle(
    path: str | Path,
    model: nn.Module,
    *,
    task: str,
    tokenizer: Tokenizer | None = None,
    labels: list[str] | None = None,
    metrics: dict[str, Any] | None = None,
    recipe: dict[str, Any] | None = None,
    command: str | None = None,
    data: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a bundle folder atomically and return its path."""
    path = Path(path)
    family = family_of(model)
    config = dataclasses.asdict(model.config)
    with atomic.folder(path) as tmp:
        meta = {
            "seqlab_version": seqlab.__version__,
            "family": family,
            "task": task,
            "model": config,
            "labels": labels or [],
            "extra": extra or {},
        }
        (tmp / "config.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        save_model(model, str(tmp / "model.safetensors"))
        if tokenizer is not None:
            tokenizer.save(tmp / "tokenizer.json")
        if recipe is not None:
            (tmp / "recipe.toml").write_text(dump_toml(recipe), encoding="utf-8")
        (tmp / "metrics.json").write_text(json.dumps(metrics or {}, indent=2) + "\n")
        card = _card(path.name, task, family, config, metrics or {}, command, data)
        (tmp / "README.md").write_text(card, encoding="utf-8")
    return path


def load_bundle(path: str | Path, device: str = "cpu") -> Bundle:
    """Rebuild a model from its bundle folder (config alone, then the weights)."""
    path = Path(path)
    if not path.is_dir():
        raise UserError(f"bundle not found: {path}", "pass the folder written by `seqlab train`")
    for name in REQUIRED:
        if not (path / name).is_file():
            raise UserError(f"bundle {path} has no {name}", "re-create it with `seqlab train`")
    try:
        meta = json.loads((path / "config.json").read_text(encoding="utf-8"))
        family = meta["family"]
        config_cls, model_cls = MODELS[family]
        known = {f.name for f in dataclasses.fields(config_cls)}
        config = config_cls(**{k: v for k, v in meta["model"].items() if k in known})
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise UserError(
            f"bundle {path}: config.json is corrupted ({exc})",
            "re-create the bundle with `seqlab train`",
        ) from None
    model = model_cls(config)
    try:
        missing, unexpected = load_model(model, str(path / "model.safetensors"), strict=False)
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise UserError(
            f"bundle {path}: model.safetensors is corrupted ({exc})",
            "re-create the bundle with `seqlab train`",
        ) from None
    # Tied weights are stored once, so one name of a shared tensor is reported missing.
    by_storage: dict[int, list[str]] = {}
    for name, tensor in model.state_dict().items():
        by_storage.setdefault(tensor.data_ptr(), []).append(name)
    shared = {name for names in by_storage.values() if len(names) > 1 for name in names}
    missing = [name for name in missing if name not in shared]
    if missing or unexpected:
        raise UserError(
            f"bundle {path}: weights do not match config.json "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})",
            "re-create the bundle with `seqlab train`",
        )
    model.to(device).eval()
    tokenizer = None
    if (path / "tokenizer.json").is_file():
        try:
            tokenizer = load_tokenizer(path / "tokenizer.json")
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, ValueError) as exc:
            raise UserError(
                f"bundle {path}: tokenizer.json is corrupted ({exc})",
                "re-create the bundle with `seqlab train`",
            ) from None
    metrics = {}
    if (path / "metrics.json").is_file():
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    return Bundle(
        path,
        model,
        family,
        meta.get("task", family),
        tokenizer,
        meta.get("labels", []),
        metrics,
        meta.get("extra", {}),
    )
