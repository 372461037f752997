"""Bundles: a folder a model is rebuilt from, with no pickle.

    config.json        format version, task, model config, preprocessing, the recipe
    model.safetensors  the weights (shared/tied tensors stored once)
    features.json      (a TF-IDF model) its vocabularies; other models may add files
    tokenizer.json     the tokenizer with its vocabulary (text families)
    recipe.toml        the resolved recipe that made it, for people to read
    metrics.json       the measured results
    README.md          a model card: data, metrics, the command that made it

A model is a torch module (its state dict goes to ``model.safetensors``) or an object
with ``save_weights(folder)`` / ``load_weights(folder)`` and a ``config`` (a TF-IDF +
logistic-regression classifier). ``config.json`` holds everything ``predict`` needs;
its keys are validated on load (by the family's own config classes), so a mistyped or
unknown key is a clear error.
A bundle is written to a temporary folder beside its target and renamed into place,
so a crash leaves the old bundle or none, never half of one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import nn

import seqlab
from seqlab import atomic
from seqlab.config import to_dict, validate
from seqlab.errors import UserError
from seqlab.families import Family, get_family
from seqlab.recipe import Recipe, dump_toml, recipe_from_dict
from seqlab.text.tokenizers import Tokenizer, load_tokenizer

FORMAT_VERSION = 2
REQUIRED = ("config.json", "model.safetensors")
_RECREATE = "re-create the bundle with `seqlab train`"


@dataclass
class Bundle:
    """A loaded bundle: the model (in eval mode) and everything needed to use it.

    ``predict(requests)`` answers the family's typed requests; the model keeps no
    state between calls, so one bundle may serve concurrent requests.
    """

    path: Path
    task: str
    family: Family
    model: nn.Module
    preprocessing: Any
    tokenizer: Tokenizer | None = None
    recipe: Recipe | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def predict(self, requests: list[Any]) -> list[Any]:
        return self.family.predict(self, requests)


def _card(
    name: str,
    meta: dict[str, Any],
    metrics: dict[str, Any],
    command: str | None,
    data: str | None,
    figures: dict[str, tuple[str, bytes]],
) -> str:
    lines = [
        f"# {name}",
        "",
        f"seqlab {seqlab.__version__} bundle (format {FORMAT_VERSION}) — task `{meta['task']}`.",
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
    encoder = meta["model"].get("encoder") or {}
    size = f"{encoder.get('num_layers', '?')}x{encoder.get('hidden_size', '?')}"
    lines += [
        "## Model",
        "",
        f"encoder `{encoder.get('type', '?')}` {size}; see `config.json`.",
        "",
    ]
    for filename, (caption, _) in figures.items():
        lines += [f"![{caption}]({filename})", "", f"*{caption}*", ""]
    if command:
        lines += ["## Reproduce", "", "```", command, "```", ""]
    lines += [
        "## Use",
        "",
        "```bash",
        "seqlab predict PATH 'some input'",
        "```",
        "",
        "```python",
        "from seqlab.bundle import load_bundle",
        "bundle = load_bundle('PATH')",
        "bundle.predict([bundle.family.request_from_text('some input')])",
        "```",
        "",
    ]
    return "\n".join(lines)


def save_bundle(
    path: str | Path,
    model: nn.Module,
    *,
    task: str,
    preprocessing: Any,
    tokenizer: Tokenizer | None = None,
    metrics: dict[str, Any] | None = None,
    recipe: dict[str, Any] | None = None,
    command: str | None = None,
    data: str | None = None,
    figures: dict[str, tuple[str, bytes]] | None = None,
    files: dict[str, bytes] | None = None,
) -> Path:
    """Write a bundle folder atomically and return its path; ``figures`` (file name ->
    (caption, PNG bytes)) are saved beside the card, which shows them; ``files`` (file
    name -> bytes, e.g. LoRA adapters) are saved as they are."""
    path = Path(path)
    get_family(task)
    meta = {
        "format_version": FORMAT_VERSION,
        "seqlab_version": seqlab.__version__,
        "task": task,
        "model": to_dict(model.config),
        "preprocessing": to_dict(preprocessing),
        "recipe": recipe,
    }
    with atomic.folder(path) as tmp:
        (tmp / "config.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        if isinstance(model, nn.Module):
            save_model(model, str(tmp / "model.safetensors"))
        else:
            model.save_weights(tmp)
        if tokenizer is not None:
            tokenizer.save(tmp / "tokenizer.json")
        if recipe is not None:
            (tmp / "recipe.toml").write_text(dump_toml(recipe), encoding="utf-8")
        (tmp / "metrics.json").write_text(json.dumps(metrics or {}, indent=2) + "\n")
        for filename, (_, png) in (figures or {}).items():
            (tmp / filename).write_bytes(png)
        for filename, content in (files or {}).items():
            (tmp / filename).write_bytes(content)
        card = _card(path.name, meta, metrics or {}, command, data, figures or {})
        (tmp / "README.md").write_text(card, encoding="utf-8")
    return path


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"bundle {path}: config.json is corrupted ({exc})", _RECREATE) from None
    if not isinstance(meta, dict):
        raise UserError(f"bundle {path}: config.json is not an object", _RECREATE)
    version = meta.get("format_version", 1)
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise UserError(
            f"bundle {path} has format {version}; this seqlab ({seqlab.__version__}) reads "
            f"format {FORMAT_VERSION}",
            "upgrade seqlab" if newer else _RECREATE,
        )
    missing = [key for key in ("task", "model", "preprocessing") if key not in meta]
    if missing:
        raise UserError(f"bundle {path}: config.json has no {missing[0]!r}", _RECREATE)
    return meta


def _load_weights(model: nn.Module, path: Path) -> None:
    try:
        missing, unexpected = load_model(model, str(path / "model.safetensors"), strict=False)
    except RuntimeError as exc:  # torch lists every mismatch on its own line: show the first
        first = next((line.strip() for line in str(exc).splitlines() if "mismatch" in line), "")
        raise UserError(
            f"bundle {path}: weights do not match config.json ({first or exc})", _RECREATE
        ) from None
    except (SafetensorError, OSError) as exc:
        raise UserError(
            f"bundle {path}: model.safetensors is corrupted ({exc})", _RECREATE
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
            _RECREATE,
        )


def load_bundle(path: str | Path, device: str = "cpu") -> Bundle:
    """Rebuild a model from its bundle folder (config alone, then the weights)."""
    path = Path(path)
    if not path.is_dir():
        raise UserError(f"bundle not found: {path}", "pass the folder written by `seqlab train`")
    for name in REQUIRED:
        if not (path / name).is_file():
            raise UserError(f"bundle {path} has no {name}", _RECREATE)
    meta = _read_meta(path)
    family = get_family(meta["task"])
    where = f"bundle {path}: config.json"
    config = validate(family.model_config, meta["model"], f"{where} model")
    preprocessing = validate(family.preprocessing, meta["preprocessing"], f"{where} preprocessing")
    recipe = recipe_from_dict(meta["recipe"]) if meta.get("recipe") else None
    model = family.build_model(config)
    if isinstance(model, nn.Module):
        _load_weights(model, path)
        model.to(device).eval()
    else:
        model.load_weights(path)
    tokenizer = None
    if (path / "tokenizer.json").is_file():
        try:
            tokenizer = load_tokenizer(path / "tokenizer.json")
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, ValueError) as exc:
            raise UserError(
                f"bundle {path}: tokenizer.json is corrupted ({exc})", _RECREATE
            ) from None
    if family.needs_tokenizer(config) and tokenizer is None:
        raise UserError(f"bundle {path} has no tokenizer.json", _RECREATE)
    metrics = {}
    if (path / "metrics.json").is_file():
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    return Bundle(path, meta["task"], family, model, preprocessing, tokenizer, recipe, metrics)
