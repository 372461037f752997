"""The callback surface of the training loop: ``on_train_start``, ``on_epoch_start``,
``on_step_end``, ``on_eval_end`` and ``on_train_end``.

Built-ins: a rich progress bar with live loss, ``metrics.jsonl``, ``loss.png`` and
early stopping. Each is small; write your own by subclassing :class:`Callback`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


@dataclass
class TrainState:
    """What callbacks see: counters, the latest numbers and a stop flag."""

    epoch: int = 0
    step: int = 0
    lr: float = 0.0
    loss: float = math.nan  # running mean train loss of the current epoch
    steps_per_epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # one dict per epoch
    best: float | None = None
    best_epoch: int = 0
    stop: bool = False
    stop_reason: str = ""
    monitored: str = "valid"  # the split on_eval_end's metrics are of ("train": no validation)
    earlier_seconds: float = 0.0  # a resumed run: training seconds of the processes before
    # train.average_last: the averaged weights' epochs, validation metrics and whether the
    # run kept them ({"epochs": [first, last], "kept": bool, "valid_loss": ..., ...})
    averaged: dict[str, Any] | None = None


class Callback:
    def on_train_start(self, state: TrainState) -> None: ...
    def on_epoch_start(self, state: TrainState) -> None: ...  # state.epoch: the one starting
    def on_step_end(self, state: TrainState) -> None: ...
    def on_eval_end(self, state: TrainState, metrics: dict[str, float]) -> None: ...
    def on_train_end(self, state: TrainState) -> None: ...


class ProgressBar(Callback):
    """A live bar for the running epoch (loss, learning rate); each finished epoch
    leaves one printed line. Only the running epoch's bar stays live: rich redraws every
    live bar ten times a second, and 300 finished bars kept live cost 3% of a core
    (measured into a file; 0.3% for one bar), growing with every epoch."""

    def __init__(self, every: int = 10) -> None:
        self.every = every
        self.progress: Progress | None = None
        self.task = None
        self.task_epoch = 0

    def on_train_start(self, state: TrainState) -> None:
        self.progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4f} lr {task.fields[lr]:.3g}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self.progress.start()

    def on_step_end(self, state: TrainState) -> None:
        assert self.progress is not None
        if self.task is None or self.task_epoch != state.epoch:
            if self.task is not None:
                self.progress.remove_task(self.task)
            total = state.steps_per_epoch or None
            self.task = self.progress.add_task(
                "train", total=total, epoch=state.epoch, loss=state.loss, lr=state.lr
            )
            self.task_epoch = state.epoch
        if state.step % self.every == 0:
            in_epoch = state.step - (state.epoch - 1) * state.steps_per_epoch
            self.progress.update(self.task, completed=in_epoch, loss=state.loss, lr=state.lr)

    def on_eval_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        assert self.progress is not None
        if self.task is not None:
            self.progress.remove_task(self.task)  # the line below is the epoch's record
            self.task = None
        text = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        self.progress.console.print(
            f"  epoch {state.epoch} {state.monitored}: loss {state.loss:.4g} (train)  {text}"
            if state.monitored == "valid"
            else f"  epoch {state.epoch} {state.monitored}: {text}"
        )

    def on_train_end(self, state: TrainState) -> None:
        if self.progress is not None:
            self.progress.stop()


class MetricsLogger(Callback):
    """Appends one JSON line per logged step and per evaluation to ``metrics.jsonl``:
    ``kind`` "train" (a step), "valid" (an evaluation), "train_epoch" (an epoch's training
    loss, when there is no validation split)."""

    def __init__(self, path: str | Path, every: int = 20) -> None:
        self.path, self.every = Path(path), every

    def on_train_start(self, state: TrainState) -> None:
        """Keep only the rows the (resumed) state has seen, so each step is logged once.

        A fresh run (step 0) starts an empty file; a resumed one drops the rows written
        after its checkpoint (and a line cut short by a kill).
        """
        kept = []
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                seen = (
                    row["step"] <= state.step
                    if row.get("kind") == "train"
                    else row["epoch"] <= len(state.history)
                )
                if seen:
                    kept.append(line + "\n")
        self.path.write_text("".join(kept), encoding="utf-8")

    def _write(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    def on_step_end(self, state: TrainState) -> None:
        if state.step % self.every == 0:
            self._write(
                {
                    "kind": "train",
                    "epoch": state.epoch,
                    "step": state.step,
                    "loss": state.loss,
                    "lr": state.lr,
                }
            )

    def on_eval_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        kind = "valid" if state.monitored == "valid" else f"{state.monitored}_epoch"
        self._write({"kind": kind, "epoch": state.epoch, "step": state.step, **metrics})


class LossPlot(Callback):
    """Draws train and validation loss per epoch into ``loss.png`` after each epoch."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def on_eval_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        from seqlab.evaluate.plots import plot_history

        history = state.history
        if state.monitored != "valid":  # no validation split: a valid line with no points
            history = [{"valid_loss": math.nan, **record} for record in history]
        plot_history(history, self.path)


class EarlyStopping(Callback):
    """Stops when ``monitor`` has not improved for ``patience`` evaluations."""

    def __init__(self, patience: int, monitor: str = "loss", mode: str = "min") -> None:
        self.patience, self.monitor, self.mode = patience, monitor, mode
        self.best: float | None = None
        self.bad = 0

    def on_eval_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        value = metrics[self.monitor]
        better = self.best is None or (
            value < self.best if self.mode == "min" else value > self.best
        )
        if better:
            self.best, self.bad = value, 0
            return
        self.bad += 1
        if self.bad >= self.patience:
            state.stop = True
            state.stop_reason = f"early stopping: no {self.monitor} gain in {self.patience} epochs"
