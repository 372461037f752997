"""The training loop: one visible function, a small callback surface.

A model returns ``(output, loss)`` from ``model(inputs, lengths, targets)`` and gives
per-batch validation sums with ``model.metric_sums(output, targets)``. Task
differences live in the model families and recipes, never in this loop.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from seqlab.errors import UserError
from seqlab.recipe import TrainConfig
from seqlab.train.callbacks import (
    Callback,
    EarlyStopping,
    LossPlot,
    MetricsLogger,
    ProgressBar,
    TrainState,
)
from seqlab.train.checkpoint import load_checkpoint, save_checkpoint

OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamw")
SCHEDULES = ("none", "step", "cosine", "plateau")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=cfg.lr,
            momentum=cfg.momentum,
            nesterov=cfg.nesterov,
            weight_decay=cfg.weight_decay,
        )
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise UserError(f"unknown optimizer '{cfg.optimizer}'", f"use one of {', '.join(OPTIMIZERS)}")


class LearningRate:
    """Learning rate per step: linear warm-up, then a per-epoch schedule.

    ``step``: lr * gamma ** floor((epoch - decay_start) / step_size) after
    ``decay_start`` (Zaremba 2014: halve each epoch after the 4th);
    ``cosine``: cosine decay to 0 over the run; ``plateau``: lr *= gamma when the
    monitored metric has not improved for ``patience_lr`` epochs.
    """

    def __init__(self, cfg: TrainConfig, steps_per_epoch: int) -> None:
        if cfg.schedule not in SCHEDULES:
            raise UserError(
                f"unknown schedule '{cfg.schedule}'", f"use one of {', '.join(SCHEDULES)}"
            )
        self.cfg, self.steps_per_epoch = cfg, max(1, steps_per_epoch)
        self.plateau_scale, self.best, self.bad = 1.0, math.inf, 0

    def at(self, step: int, epoch: int) -> float:
        cfg = self.cfg
        if cfg.schedule == "step":
            lr = cfg.lr * cfg.gamma ** max(
                0, (epoch - cfg.decay_start + cfg.step_size - 1) // cfg.step_size
            )
        elif cfg.schedule == "cosine":
            total = cfg.epochs * self.steps_per_epoch
            lr = cfg.lr * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
        else:
            lr = cfg.lr * self.plateau_scale
        if cfg.warmup_steps and step < cfg.warmup_steps:
            lr *= (step + 1) / cfg.warmup_steps
        return lr

    def end_epoch(self, value: float, higher_is_better: bool) -> None:
        value = -value if higher_is_better else value
        if value < self.best:
            self.best, self.bad = value, 0
        else:
            self.bad += 1
            if self.cfg.schedule == "plateau" and self.bad >= self.cfg.patience_lr:
                self.plateau_scale *= self.cfg.gamma
                self.bad = 0

    def state_dict(self) -> dict[str, float]:
        return {"plateau_scale": self.plateau_scale, "best": self.best, "bad": self.bad}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.plateau_scale, self.best, self.bad = (
            state["plateau_scale"],
            state["best"],
            int(state["bad"]),
        )


def _reset(model: nn.Module) -> None:
    if hasattr(model, "reset_state"):  # stateful models (truncated BPTT) start each pass fresh
        model.reset_state()


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
    """Mean of every metric over all examples/tokens (sums / counts, not batch means)."""
    model.eval()
    _reset(model)
    sums: dict[str, list[float]] = {}
    for batch in batches:
        output, _ = model(batch.inputs, batch.lengths, batch.targets)
        for name, (total, count) in model.metric_sums(output, batch.targets).items():
            acc = sums.setdefault(name, [0.0, 0.0])
            acc[0] += total
            acc[1] += count
    _reset(model)
    if not sums:
        raise UserError("the evaluation split is empty", "use more data or a larger split")
    return model.summarize({k: total / max(count, 1.0) for k, (total, count) in sums.items()})


def _higher_is_better(metric: str) -> bool:
    return metric in ("accuracy", "f1", "macro_f1", "auc")


def fit(
    model: nn.Module,
    train_batches: Any,
    valid_batches: Any,
    cfg: TrainConfig,
    run_dir: str | Path | None = None,
    callbacks: Sequence[Callback] = (),
    resume: bool = False,
) -> TrainState:
    """Train ``model``; keep the best weights by ``cfg.monitor``; return the final state.

    ``run_dir`` gets ``metrics.jsonl``, ``loss.png`` and ``checkpoint.pt`` (atomic,
    each epoch). ``resume=True`` continues from that checkpoint.
    """
    seed_everything(cfg.seed)
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    # Same seed, same machine -> same numbers; warn (not fail) on ops without such a kernel.
    torch.use_deterministic_algorithms(cfg.deterministic, warn_only=True)
    run_dir = Path(run_dir) if run_dir is not None else None
    steps_per_epoch = len(train_batches)
    if steps_per_epoch == 0:
        raise UserError(
            "the training split has no batches", "use more data or a smaller batch_size"
        )
    optimizer = build_optimizer(model, cfg)
    schedule = LearningRate(cfg, steps_per_epoch)
    higher = _higher_is_better(cfg.monitor)
    state = TrainState(steps_per_epoch=steps_per_epoch)
    best_weights = copy.deepcopy(model.state_dict())

    all_callbacks: list[Callback] = list(callbacks)
    if cfg.progress:
        all_callbacks.append(ProgressBar())
    if cfg.early_stopping:
        all_callbacks.append(
            EarlyStopping(cfg.early_stopping, cfg.monitor, "max" if higher else "min")
        )
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        all_callbacks += [
            MetricsLogger(run_dir / "metrics.jsonl", cfg.log_every),
            LossPlot(run_dir / "loss.png"),
        ]
        checkpoint_path = run_dir / "checkpoint.pt"
        if resume:
            if not checkpoint_path.exists():
                raise UserError(
                    f"no checkpoint to resume in {run_dir}", "train once without --resume"
                )
            saved = load_checkpoint(checkpoint_path)
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            schedule.load_state_dict(saved["schedule"])
            best_weights = saved["best_weights"]
            state.epoch, state.step = saved["epoch"], saved["step"]
            state.history, state.best, state.best_epoch = (
                saved["history"],
                saved["best"],
                saved["best_epoch"],
            )
            for callback in all_callbacks:  # early stopping resumes with what it had seen
                if isinstance(callback, EarlyStopping):
                    callback.best, callback.bad = state.best, state.epoch - state.best_epoch

    started = time.monotonic()
    for callback in all_callbacks:
        callback.on_train_start(state)
    while state.epoch < cfg.epochs and not state.stop:
        state.epoch += 1
        torch.manual_seed(cfg.seed + state.epoch)  # dropout noise reproducible on resume
        if hasattr(train_batches, "set_epoch"):
            train_batches.set_epoch(state.epoch)
        model.train()
        _reset(model)
        total, count = 0.0, 0
        for batch in train_batches:
            state.lr = schedule.at(state.step, state.epoch)
            for group in optimizer.param_groups:
                group["lr"] = state.lr
            _, loss = model(batch.inputs, batch.lengths, batch.targets)
            if not torch.isfinite(loss):
                raise UserError(
                    f"the loss became {loss.item()} at step {state.step}",
                    "lower train.lr or set train.clip_norm",
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip_norm:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_norm)
            optimizer.step()
            state.step += 1
            total, count = total + loss.item(), count + 1
            state.loss = total / count
            for callback in all_callbacks:
                callback.on_step_end(state)
            out_of_time = cfg.max_minutes and time.monotonic() - started > 60 * cfg.max_minutes
            if (cfg.max_steps and state.step >= cfg.max_steps) or out_of_time:
                state.stop, state.stop_reason = True, "step or time budget reached"
                break

        metrics = evaluate(model, valid_batches)
        if cfg.monitor not in metrics:
            raise UserError(
                f"train.monitor '{cfg.monitor}' is not a validation metric",
                f"use one of {', '.join(metrics)}",
            )
        schedule.end_epoch(metrics[cfg.monitor], higher)
        value = metrics[cfg.monitor]
        if state.best is None or (value > state.best if higher else value < state.best):
            state.best, state.best_epoch = value, state.epoch
            best_weights = copy.deepcopy(model.state_dict())
        record = {
            "epoch": state.epoch,
            "step": state.step,
            "lr": state.lr,
            "train_loss": state.loss,
            **{f"valid_{k}": v for k, v in metrics.items()},
            "seconds": time.monotonic() - started,
        }
        state.history.append(record)
        for callback in all_callbacks:
            callback.on_eval_end(state, metrics)
        if run_dir is not None:
            save_checkpoint(
                checkpoint_path,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "schedule": schedule.state_dict(),
                    "best_weights": best_weights,
                    "epoch": state.epoch,
                    "step": state.step,
                    "history": state.history,
                    "best": state.best,
                    "best_epoch": state.best_epoch,
                },
            )

    for callback in all_callbacks:
        callback.on_train_end(state)
    model.load_state_dict(best_weights)
    model.eval()
    torch.use_deterministic_algorithms(was_deterministic)
    return state
