"""The training loop: one visible function, a small callback surface.

The loop calls ``model(batch, state)`` and reads ``output.loss``; validation sums come
from ``model.metric_sums(output, batch)`` and each metric's direction from
``model.METRICS``. Without validation batches (None, or none at all: a family trained
on its whole training set, as Fawaz et al. 2019 train time-series classifiers) the
epoch's mean training loss stands in for ``loss``, the only metric it can monitor.
When the batches say ``carries_state`` (a token stream cut for truncated BPTT) the
loop passes each batch's final state, detached, into the next, as PyTorch's
word_language_model example does; models keep nothing between calls.
Task differences live in the families and recipes, never in this loop.

Checkpoints (``checkpoint.pt`` in the run folder, atomic) are written after every
epoch and, with ``train.checkpoint_every = N``, every N steps. They hold everything a
run depends on — weights, optimiser, schedule, early stopping, the position in the
epoch, the carried state and the RNG states — so a run killed at any moment and
resumed ends with exactly the losses and weights of an uninterrupted one.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import random
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from seqlab.config import flatten
from seqlab.errors import UserError
from seqlab.train.callbacks import (
    Callback,
    EarlyStopping,
    LossPlot,
    MetricsLogger,
    ProgressBar,
    TrainState,
)
from seqlab.train.checkpoint import load_checkpoint, save_checkpoint
from seqlab.train.config import TrainConfig, cpu_has_native_bf16, resolve_device

OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamw")
SCHEDULES = ("none", "step", "cosine", "plateau")
# Recipe keys that may change between a run and its resumption: budgets, display, and
# where and in which precision it computes.
RESUMABLE_CHANGES = {
    "train.epochs",
    "train.max_steps",
    "train.max_minutes",
    "train.progress",
    "train.log_every",
    "train.checkpoint_every",
    "train.average_last",
    "train.device",
    "train.precision",
    "eval",
}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_optimizer(
    model: nn.Module, cfg: TrainConfig, param_groups: Sequence[dict[str, Any]] | None = None
) -> torch.optim.Optimizer:
    """The optimiser of ``cfg`` over the trainable parameters, or over ``param_groups``
    (dicts with ``params`` and an ``lr_scale`` the scheduled lr is multiplied by, e.g.
    discriminative learning rates: :mod:`seqlab.transfer.tuning`). Groups may hold
    frozen parameters that a callback unfreezes later; frozen ones are simply skipped."""
    if param_groups is None:
        param_groups = [{"params": [p for p in model.parameters() if p.requires_grad]}]
    groups = [{**g, "params": list(g["params"]), "lr_scale": g.get("lr_scale", 1.0)}
              for g in param_groups]  # fmt: skip
    params = [p for g in groups for p in g["params"]]
    if cfg.optimizer == "adamw":
        # Decoupled decay on weight matrices and embeddings only, not on biases and
        # LayerNorm gains (Loshchilov & Hutter 2019; nanoGPT, HF Trainer).
        groups = [
            {**g, "params": [p for p in g["params"] if (p.dim() >= 2) == matrices],
             "weight_decay": cfg.weight_decay if matrices else 0.0}
            for g in groups
            for matrices in (True, False)
        ]  # fmt: skip
    groups = [g for g in groups if g["params"]]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            groups,
            lr=cfg.lr,
            momentum=cfg.momentum,
            nesterov=cfg.nesterov,
            weight_decay=cfg.weight_decay,
        )
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(
            groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
    betas = tuple(cfg.betas)
    # torch's fused Adam kernel: the same update, ~7x faster than its per-tensor loop on CPU
    # (one Brown tagger step: 35 -> 5 ms); for float parameters on CPU or CUDA.
    fused = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(
            groups, lr=cfg.lr, betas=betas, weight_decay=cfg.weight_decay, fused=fused
        )
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=betas, fused=fused)
    raise UserError(f"unknown optimizer '{cfg.optimizer}'", f"use one of {', '.join(OPTIMIZERS)}")


class LearningRate:
    """Learning rate per step: linear warm-up, then a per-epoch schedule.

    ``step``: lr * gamma ** floor((epoch - decay_start) / step_size) after
    ``decay_start`` (Zaremba 2014: halve each epoch after the 4th);
    ``cosine``: cosine decay to ``min_lr`` over the run (``epochs`` or ``max_steps``,
    whichever ends first; warm-up included, as nanoGPT); ``plateau``: lr *= gamma when the
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
            if cfg.max_steps is not None:
                total = min(total, cfg.max_steps)
            progress = min(step, total) / total
            lr = cfg.min_lr + (cfg.lr - cfg.min_lr) * 0.5 * (1 + math.cos(math.pi * progress))
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


class WeightAverage:
    """The running mean of a model's weights at the ends of epochs (checkpoint averaging).

    Floating-point tensors are summed; integer buffers (counters) keep their last value.
    Its ``state_dict`` goes into the checkpoint, so a resumed run averages the same epochs.
    The epochs summed are always consecutive and inside the window: a sum that began
    before ``since`` or does not end just before ``epoch`` (a resume that changed
    ``train.epochs`` and so moved the window) is dropped and begins again at ``epoch``.
    """

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        self.first_epoch = 0

    def add(self, weights: dict[str, torch.Tensor], epoch: int, since: int = 0) -> None:
        if self.first_epoch < since or epoch != self.first_epoch + self.count:
            self.sums, self.count = {}, 0
        if not self.count:
            self.first_epoch = epoch
        for name, value in weights.items():
            value = value.detach()
            if value.is_floating_point() and name in self.sums:
                self.sums[name] += value
            else:
                self.sums[name] = value.clone()
        self.count += 1

    def mean(self) -> dict[str, torch.Tensor]:
        return {
            name: value / self.count if value.is_floating_point() else value
            for name, value in self.sums.items()
        }

    def state_dict(self) -> dict[str, Any]:
        return {"sums": self.sums, "count": self.count, "first_epoch": self.first_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sums, self.count = state["sums"], state["count"]
        self.first_epoch = state["first_epoch"]


def _detach(state: Any) -> Any:
    return None if state is None else tuple(s.detach() for s in state)


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
    """Mean of every metric over all examples/tokens (sums / counts, not batch means)."""
    model.eval()
    device = model_device(model)
    carry = getattr(batches, "carries_state", False)
    sums: dict[str, list[float]] = {}
    state = None
    for batch in batches:
        batch = batch.to(device)
        output = model(batch, state)
        state = output.state if carry else None
        for name, (total, count) in model.metric_sums(output, batch).items():
            acc = sums.setdefault(name, [0.0, 0.0])
            acc[0] += total
            acc[1] += count
    if not sums:
        raise UserError("the evaluation split is empty", "use more data or a larger split")
    return model.summarize({k: total / max(count, 1.0) for k, (total, count) in sums.items()})


def _check_same_recipe(
    saved: dict[str, Any] | None, given: dict[str, Any] | None, where: Path
) -> None:
    """Refuse to resume a checkpoint with a recipe that would change its results.

    A setting the saved recipe lacks was added to seqlab after the checkpoint was
    written; it is not a change (``seqlab.run`` first fills such settings with
    their defaults, so an explicit non-default value is still caught there)."""
    if saved is None or given is None:
        return
    a, b = flatten(saved), flatten(given)
    for key in sorted(set(a) | set(b)):
        if key in RESUMABLE_CHANGES or key.split(".")[0] in RESUMABLE_CHANGES:
            continue
        if key not in a:
            continue
        if a.get(key) != b.get(key):
            raise UserError(
                f"the checkpoint in {where} was made by a different recipe "
                f"({key}: {a.get(key)!r} there, {b.get(key)!r} now)",
                "resume with the same recipe and --set options, or train into a new --out",
            )


def check_resumable(
    run_dir: str | Path,
    recipe: dict[str, Any] | None,
    normalize: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """A UserError unless ``run_dir`` has a checkpoint made by the same ``recipe``.

    ``normalize`` maps the saved recipe through today's schema first (its new
    settings take their defaults)."""
    path = Path(run_dir) / "checkpoint.pt"
    if not path.exists():
        raise UserError(f"no checkpoint to resume in {run_dir}", "train once without --resume")
    saved = load_checkpoint(path).get("recipe")
    if saved is not None and normalize is not None:
        saved = normalize(saved)
    _check_same_recipe(saved, recipe, Path(run_dir))


def _rng_state() -> dict[str, Any]:
    state = {
        "torch": torch.get_rng_state(),
        "numpy": json.dumps(np.random.get_state()[1].tolist()),
        "numpy_pos": int(np.random.get_state()[2]),
        "python": json.dumps(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    keys = np.asarray(json.loads(state["numpy"]), dtype=np.uint32)
    np.random.set_state(("MT19937", keys, state["numpy_pos"], 0, 0.0))
    version, internal, gauss = json.loads(state["python"])
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _choose_average(
    model: nn.Module,
    average: WeightAverage,
    best_weights: dict[str, torch.Tensor],
    valid_batches: Any,
    cfg: TrainConfig,
    state: TrainState,
    higher: bool,
) -> dict[str, torch.Tensor]:
    """The averaged weights when validation finds them no worse than the best epoch's
    (always, without validation), else the best epoch's; ``state.averaged`` says which."""
    averaged = average.mean()
    model.load_state_dict(averaged)
    epochs = [average.first_epoch, average.first_epoch + average.count - 1]
    if state.monitored != "valid":
        state.averaged = {"epochs": epochs, "kept": True}
        return averaged
    metrics = evaluate(model, valid_batches)
    value = metrics[cfg.monitor]
    kept = state.best is None or (value >= state.best if higher else value <= state.best)
    valid = {f"valid_{name}": number for name, number in metrics.items()}
    state.averaged = {"epochs": epochs, "kept": kept, **valid}
    if kept:
        state.best = value
        return averaged
    return best_weights


def fit(
    model: nn.Module,
    train_batches: Any,
    valid_batches: Any,
    cfg: TrainConfig,
    run_dir: str | Path | None = None,
    callbacks: Sequence[Callback] = (),
    resume: bool = False,
    recipe: dict[str, Any] | None = None,
    param_groups: Sequence[dict[str, Any]] | None = None,
) -> TrainState:
    """Train ``model``; keep the best weights by ``cfg.monitor``; return the final state.

    ``param_groups`` (see :func:`build_optimizer`) scale the scheduled lr per group.

    ``valid_batches`` None or empty: the monitored ``loss`` is each epoch's mean
    training loss (nothing else can be monitored), and the history has no ``valid_*``.

    ``cfg.average_last = N``: the weights at the ends of epochs ``epochs - N + 1`` to
    ``epochs`` are averaged; the run returns them when their monitored validation metric
    is no worse than the best epoch's (or always, without validation), and says which in
    ``state.averaged``. A run stopped early averages the epochs of the window it reached
    (none if it stopped before the window). A resume that changes ``train.epochs`` moves
    the window: epochs summed before it are dropped, so the average never mixes weights
    from before a warm restart with those after it (it may then hold fewer than N).

    ``run_dir`` gets ``metrics.jsonl``, ``loss.png`` and ``checkpoint.pt``.
    ``resume=True`` continues from that checkpoint, exactly where it was written;
    ``recipe`` (the resolved recipe as a dict) is stored in it, and a resumption with
    a recipe that differs (except in budgets, display, device and precision) is refused.
    """
    device = resolve_device(cfg.device)
    if cfg.precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise UserError(
            "train.precision = 'bf16' but this GPU has no bfloat16 support",
            "use --set train.precision=fp32",
        )
    if cfg.precision == "bf16" and device.type == "cpu" and not cpu_has_native_bf16():
        warnings.warn(
            "train.precision = 'bf16' on a CPU without AVX512-BF16 or AMX: bfloat16 is "
            "emulated there and slower than fp32 (benchmarks/precision.py measures both); "
            "use --set train.precision=fp32",
            stacklevel=2,
        )
    seed_everything(cfg.seed)
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    # Same seed, same machine -> same numbers; warn (not fail) on ops without such a kernel.
    torch.use_deterministic_algorithms(cfg.deterministic, warn_only=True)
    model.to(device)
    run_dir = Path(run_dir) if run_dir is not None else None
    steps_per_epoch = len(train_batches)
    if steps_per_epoch == 0:
        raise UserError(
            "the training split has no batches", "use more data or a smaller batch_size"
        )
    directions = getattr(model, "METRICS", {"loss": "min"})
    if cfg.monitor not in directions:
        raise UserError(
            f"train.monitor '{cfg.monitor}' is not a validation metric",
            f"use one of {', '.join(directions)}",
        )
    validating = valid_batches is not None and len(valid_batches) > 0
    if not validating and cfg.monitor != "loss":
        raise UserError(
            f"train.monitor '{cfg.monitor}' needs validation batches, and there are none",
            "monitor 'loss' (then the training loss is monitored) or keep a validation split",
        )
    higher = directions[cfg.monitor] == "max"
    optimizer = build_optimizer(model, cfg, param_groups)
    schedule = LearningRate(cfg, steps_per_epoch)
    state = TrainState(
        steps_per_epoch=steps_per_epoch, monitored="valid" if validating else "train"
    )
    best_weights = copy.deepcopy(model.state_dict())
    average = WeightAverage()
    stopper = (
        EarlyStopping(cfg.early_stopping, cfg.monitor, "max" if higher else "min")
        if cfg.early_stopping
        else None
    )
    all_callbacks: list[Callback] = list(callbacks)
    if cfg.progress:
        all_callbacks.append(ProgressBar())
    if stopper is not None:
        all_callbacks.append(stopper)

    # Where the run is: batches done in the current epoch, its running loss, the state.
    in_epoch, total, count, carried = 0, 0.0, 0, None
    checkpoint_path = run_dir / "checkpoint.pt" if run_dir is not None else None

    def run_seconds() -> float:
        """Training seconds of the whole run: the processes before this one, and this one."""
        return state.earlier_seconds + time.monotonic() - started

    def save(epoch_done: bool) -> None:
        if checkpoint_path is None:
            return
        save_checkpoint(
            checkpoint_path,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "best_weights": best_weights,
                "epoch": state.epoch,
                "step": state.step,
                "in_epoch": 0 if epoch_done else in_epoch,
                "epoch_done": epoch_done,
                "loss_sum": total,
                "loss_count": count,
                "carried": carried,
                "history": state.history,
                "best": state.best,
                "best_epoch": state.best_epoch,
                "stopper_bad": stopper.bad if stopper is not None else 0,
                "early_stopped": stopper is not None and stopper.bad >= stopper.patience,
                "rng": _rng_state(),
                "average": average.state_dict(),
                "seconds": run_seconds(),
                "recipe": recipe,
            },
        )

    epoch_open = False  # True when resuming into the middle of an epoch
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        all_callbacks += [
            MetricsLogger(run_dir / "metrics.jsonl", cfg.log_every),
            LossPlot(run_dir / "loss.png"),
        ]
        if resume:
            check_resumable(run_dir, recipe)
            saved = load_checkpoint(checkpoint_path)
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            schedule.load_state_dict(saved["schedule"])
            best_weights = saved["best_weights"]
            state.epoch, state.step = saved["epoch"], saved["step"]
            state.history, state.best = saved["history"], saved["best"]
            state.best_epoch = saved["best_epoch"]
            if stopper is not None:
                stopper.best, stopper.bad = state.best, saved["stopper_bad"]
            if saved["early_stopped"]:  # a finished run stays finished
                state.stop, state.stop_reason = True, "early stopping (before the resumption)"
            epoch_open = not saved["epoch_done"]
            in_epoch, total, count = saved["in_epoch"], saved["loss_sum"], saved["loss_count"]
            carried = (
                None if saved["carried"] is None else tuple(s.to(device) for s in saved["carried"])
            )
            _set_rng_state(saved["rng"])
            state.earlier_seconds = saved.get("seconds", 0.0)  # older checkpoints: none
            if "average" in saved:
                average.load_state_dict(saved["average"])
            if count:
                state.loss = total / count

    started = time.monotonic()
    for callback in all_callbacks:
        callback.on_train_start(state)
    carry = getattr(train_batches, "carries_state", False)
    while not state.stop and (epoch_open or state.epoch < cfg.epochs):
        if not epoch_open:
            state.epoch += 1
            in_epoch, total, count, carried = 0, 0.0, 0, None
            torch.manual_seed(cfg.seed + state.epoch)  # dropout noise of each epoch
        epoch_open = False
        for callback in all_callbacks:
            callback.on_epoch_start(state)
        if hasattr(train_batches, "set_epoch"):
            train_batches.set_epoch(state.epoch)
        model.train()
        for batch in itertools.islice(train_batches, in_epoch, None):
            state.lr = schedule.at(state.step, state.epoch)
            for group in optimizer.param_groups:
                group["lr"] = state.lr * group.get("lr_scale", 1.0)  # older checkpoints: none
            with torch.autocast(device.type, torch.bfloat16, enabled=cfg.precision == "bf16"):
                output = model(batch.to(device), carried)
            carried = _detach(output.state) if carry else None
            loss = output.loss
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
            in_epoch += 1
            total, count = total + loss.item(), count + 1
            state.loss = total / count
            for callback in all_callbacks:
                callback.on_step_end(state)
            if cfg.checkpoint_every and state.step % cfg.checkpoint_every == 0:
                save(epoch_done=False)
            out_of_time = cfg.max_minutes and run_seconds() > 60 * cfg.max_minutes
            if (cfg.max_steps and state.step >= cfg.max_steps) or out_of_time:
                what = "step" if cfg.max_steps and state.step >= cfg.max_steps else "time"
                state.stop = True
                state.stop_reason = (
                    f"{what} budget reached at step {state.step} "
                    f"(epoch {state.epoch}, {in_epoch}/{steps_per_epoch} batches)"
                )
                break
        partial = in_epoch < steps_per_epoch
        if partial:
            save(epoch_done=False)  # a resumption continues mid-epoch, not from the eval

        # No validation split: the epoch's running training loss, as Keras' monitor="loss".
        metrics = evaluate(model, valid_batches) if validating else {"loss": state.loss}
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
            **({f"valid_{k}": v for k, v in metrics.items()} if validating else {}),
            **({"partial_epoch": True} if partial else {}),
        }
        state.history.append(record)
        for callback in all_callbacks:
            callback.on_eval_end(state, metrics)
        if not partial:
            window = cfg.epochs - cfg.average_last + 1
            if cfg.average_last and state.epoch >= window:
                average.add(model.state_dict(), state.epoch, since=window)
            save(epoch_done=True)

    for callback in all_callbacks:
        callback.on_train_end(state)
    if average.count:
        best_weights = _choose_average(
            model, average, best_weights, valid_batches, cfg, state, higher
        )
    model.load_state_dict(best_weights)
    model.eval()
    torch.use_deterministic_algorithms(was_deterministic)
    return state
