"""One training run from a recipe: prepare → build → fit → report → bundle.

The same few calls for every family (``recipe.family``); nothing here knows a task.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from torch import nn

from seqlab import atomic
from seqlab.bundle import save_bundle
from seqlab.errors import UserError
from seqlab.nn.lora import strip_lora
from seqlab.recipe import Recipe, dump_toml, recipe_from_dict, recipe_to_dict
from seqlab.train.callbacks import TrainState
from seqlab.train.config import resolve_device
from seqlab.train.loop import check_resumable, seed_everything
from seqlab.transfer.tuning import adapter_bytes, prepare_transfer


@dataclass
class RunResult:
    bundle: Path
    metrics: dict[str, Any]
    lines: list[str]
    seconds: float


def _averaged(state: TrainState, monitor: str) -> str:
    """What ``train.average_last`` did, for the metrics: "epochs 26-30" (the bundle holds
    their mean) or why the best epoch's weights were kept instead; "" when off."""
    if state.averaged is None:
        return ""
    first, last = state.averaged["epochs"]
    epochs = f"epochs {first}-{last}" if last > first else f"epoch {first}"
    if state.averaged["kept"]:
        return epochs
    value, best = state.averaged[f"valid_{monitor}"], f"epoch {state.best_epoch}: {state.best:.4f}"
    return f"{epochs}, not kept (valid {monitor} {value:.4f}; {best})"


def train_recipe(
    recipe: Recipe,
    out: str | Path,
    resume: bool = False,
    command: str | None = None,
    console: Console | None = None,
) -> RunResult:
    """Train the recipe's model; write the run folder and ``OUT/bundle``."""
    console = console or Console()
    # Every mistake is found before anything is written into the run folder.
    resolve_device(recipe.train.device)
    out = Path(out)
    resolved = recipe_to_dict(recipe)
    if resume:
        check_resumable(out, resolved, lambda saved: recipe_to_dict(recipe_from_dict(saved)))
    family = recipe.family
    started = time.monotonic()
    seed_everything(recipe.train.seed)
    prepared = family.prepare(recipe)
    model = family.new_model(recipe, prepared)
    plan = None
    if recipe.transfer.active:
        if not isinstance(model, nn.Module):
            raise UserError(
                f"[transfer] applies to neural networks; this {type(model).__name__} is fitted "
                "in closed form",
                "remove the [transfer] table",
            )
        plan = prepare_transfer(model, recipe.transfer)
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out / "recipe.toml", dump_toml(resolved))
    parameters = sum(p.numel() for p in model.parameters()) if isinstance(model, nn.Module) else 0
    console.print(
        f"[bold]{recipe.name}[/]: {prepared.description}; "
        f"{parameters:,} parameters; {len(prepared.batches['train'])} batches/epoch"
    )
    if plan is not None:
        console.print(plan.description)
    state = family.train(model, prepared, recipe, out, resume, plan)
    if state.stop_reason:
        console.print(f"stopped: {state.stop_reason}")
    train_seconds = state.earlier_seconds + time.monotonic() - started  # a resumed run: all
    with torch.no_grad():
        metrics, lines = family.report(model, prepared, recipe)
        figures = family.card_figures(model, prepared)
    history = state.history  # one record per evaluated epoch (one for fitted models)
    best = history[state.best_epoch - 1] if state.best_epoch else (history or [{}])[-1]
    averaged = _averaged(state, recipe.train.monitor)
    if state.averaged is not None and state.averaged["kept"]:
        best = state.averaged  # the weights the bundle holds are the averaged ones
    metrics = {
        **{k: v for k, v in best.items() if k.startswith("valid_")},
        **metrics,
        **({"trainable_parameters": plan.trainable} if plan is not None else {}),
        "epochs": state.epoch,
        "best_epoch": state.best_epoch,
        **({"averaged": averaged} if averaged else {}),
        "train_seconds": round(train_seconds, 1),
        **({"stopped": state.stop_reason} if state.stop_reason else {}),
    }
    files = {}
    if plan is not None and plan.lora:
        # The bundle keeps the merged weights (it loads with no LoRA code) and, beside
        # them, the adapters alone: a small file to share or to load onto the base model.
        files["adapters.safetensors"] = adapter_bytes(model)
        model = strip_lora(model)
        size = len(files["adapters.safetensors"])
        console.print(f"LoRA adapters: {size:,} bytes (bundle/adapters.safetensors)")
        metrics["adapter_bytes"] = size
    bundle = save_bundle(
        out / "bundle",
        model,
        task=recipe.task,
        preprocessing=prepared.preprocessing,
        tokenizer=prepared.tokenizer,
        metrics=metrics,
        recipe=resolved,
        command=command,
        data=prepared.description,
        figures=figures,
        files=files,
    )
    table = family.metrics_table(metrics)
    table.title = f"{recipe.name} — results"
    console.print(table)
    for line in lines:
        console.print(line)
    console.print(f"bundle: {bundle}")
    return RunResult(bundle, metrics, lines, time.monotonic() - started)
