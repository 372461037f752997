"""The training loop: schedules (formula oracles), learning, resume = uninterrupted."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import warnings
from pathlib import Path

import pytest
import torch

from seqlab.data.batching import ClassificationBatches
from seqlab.errors import UserError
from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.nn.encoders import RecurrentConfig
from seqlab.train.callbacks import Callback
from seqlab.train.checkpoint import load_checkpoint, save_checkpoint
from seqlab.train.config import TrainConfig, cpu_has_native_bf16
from seqlab.train.loop import LearningRate, WeightAverage, build_optimizer, evaluate, fit


def test_step_schedule_is_zaremba_halving_after_epoch_4() -> None:
    schedule = LearningRate(TrainConfig(lr=1.0, schedule="step", decay_start=4, gamma=0.5), 100)
    got = [schedule.at(0, epoch) for epoch in range(1, 9)]
    assert got == [1.0 * 0.5 ** max(0, e - 4) for e in range(1, 9)]


def test_cosine_warmup_and_plateau() -> None:
    cfg = TrainConfig(lr=0.1, schedule="cosine", epochs=2, warmup_steps=10)
    schedule = LearningRate(cfg, 50)
    assert schedule.at(0, 1) == pytest.approx(0.1 * 0.5 * (1 + math.cos(0)) * 1 / 10)
    assert schedule.at(50, 2) == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert schedule.at(100, 2) == pytest.approx(0.0)
    plateau = LearningRate(TrainConfig(lr=1.0, schedule="plateau", gamma=0.1, patience_lr=1), 5)
    for value in [1.0, 0.5, 0.6]:
        plateau.end_epoch(value, higher_is_better=False)
    assert plateau.at(0, 4) == pytest.approx(0.1)


def test_cosine_ends_at_min_lr_at_max_steps() -> None:
    cfg = TrainConfig(lr=1e-3, min_lr=1e-4, schedule="cosine", epochs=100, max_steps=2000)
    schedule = LearningRate(cfg, 50)
    assert schedule.at(1000, 20) == pytest.approx(1e-4 + 0.9e-3 * 0.5)
    assert schedule.at(2000, 40) == pytest.approx(1e-4)


def test_adamw_decays_matrices_only_and_takes_betas() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    cfg = TrainConfig(optimizer="adamw", weight_decay=0.1, betas=(0.9, 0.99))
    optimizer = build_optimizer(model, cfg)
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert [p.shape for p in decayed["params"]] == [(4, 3)]
    assert len(plain["params"]) == 3 and decayed["betas"] == (0.9, 0.99)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_fused_adam_takes_the_same_steps_as_torch_s_reference_loop(name: str) -> None:
    """build_optimizer uses torch's fused kernel; 20 steps match the per-tensor loop."""
    torch.manual_seed(0)
    fused = torch.nn.Sequential(torch.nn.Embedding(50, 8), torch.nn.Linear(8, 3))
    plain = copy.deepcopy(fused)
    cfg = TrainConfig(optimizer=name, lr=0.01, weight_decay=0.1)
    ours = build_optimizer(fused, cfg)
    assert ours.param_groups[0]["fused"]
    groups = [{"params": g["params"], "weight_decay": g["weight_decay"]} for g in ours.param_groups]
    by_name = {id(p): i for i, p in enumerate(fused.parameters())}
    twins = list(plain.parameters())
    reference = getattr(torch.optim, "Adam" if name == "adam" else "AdamW")(
        [
            {
                "params": [twins[by_name[id(p)]] for p in g["params"]],
                "weight_decay": g["weight_decay"],
            }
            for g in groups
        ],
        lr=0.01,
        foreach=False,
    )
    ids = torch.randint(0, 50, (16,))
    for _ in range(20):
        for model, optimizer in ((fused, ours), (plain, reference)):
            optimizer.zero_grad()
            model(ids).pow(2).sum().backward()
            optimizer.step()
    for a, b in zip(fused.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam", "adamw"])
def test_optimizers(name: str) -> None:
    model = torch.nn.Linear(2, 1)
    cfg = TrainConfig(
        optimizer=name, lr=0.1, momentum=0.9 if name == "sgd" else 0.0, nesterov=name == "sgd"
    )
    optimizer = build_optimizer(model, cfg)
    assert optimizer.param_groups[0]["lr"] == 0.1
    with pytest.raises(UserError, match="unknown optimizer"):
        build_optimizer(model, TrainConfig(optimizer="lbfgs2"))


def _task(seed: int = 0):
    """Token sequences; class = whether token 3 occurs. Learnable in a few epochs."""
    g = torch.Generator().manual_seed(seed)
    ids, labels = [], []
    for _ in range(160):
        n = int(torch.randint(3, 9, (1,), generator=g))
        seq = torch.randint(4, 10, (n,), generator=g).tolist()
        if torch.rand(1, generator=g) < 0.5:
            seq[int(torch.randint(0, n, (1,), generator=g))] = 3
        ids.append(seq)
        labels.append(int(3 in seq))
    train = ClassificationBatches(ids[:128], labels[:128], batch_size=16, seed=0)
    valid = ClassificationBatches(ids[128:], labels[128:], batch_size=32, shuffle=False)
    return train, valid


def _model(dropout: float = 0.0) -> SequenceClassifier:
    torch.manual_seed(0)
    config = SequenceClassifierConfig(
        vocab_size=10,
        embedding_dim=8,
        encoder=RecurrentConfig(hidden_size=16),
        pooling="max",
        head_dropout=dropout,
    )
    return SequenceClassifier(config)


def test_fit_learns_and_writes_run_files(tmp_path: Path) -> None:
    train, valid = _task()
    model = _model()
    before = evaluate(model, valid)["accuracy"]
    cfg = TrainConfig(lr=0.02, epochs=6, monitor="accuracy", progress=False, log_every=4)
    state = fit(model, train, valid, cfg, run_dir=tmp_path)
    after = evaluate(model, valid)["accuracy"]
    assert after > 0.9 > before
    assert after == pytest.approx(state.best)  # best weights are restored
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert sum(1 for x in lines if x["kind"] == "valid") == 6
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*tmp"))  # no half-written files left


def test_resume_equals_uninterrupted(tmp_path: Path) -> None:
    cfg = dict(lr=0.01, progress=False, schedule="step", decay_start=1, gamma=0.5)
    train, valid = _task()
    straight = _model()
    fit(straight, train, valid, TrainConfig(epochs=3, **cfg), run_dir=tmp_path / "a")
    train, valid = _task()
    resumed = _model()
    fit(resumed, train, valid, TrainConfig(epochs=2, **cfg), run_dir=tmp_path / "b")
    resumed = _model()  # a new process would rebuild the model from scratch
    state = fit(
        resumed, train, valid, TrainConfig(epochs=3, **cfg), run_dir=tmp_path / "b", resume=True
    )
    assert state.epoch == 3 and len(state.history) == 3
    for (name, a), b in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        assert torch.allclose(a, b, atol=1e-6), name


def test_early_stopping_and_budgets() -> None:
    train, valid = _task()
    state = fit(
        _model(), train, valid, TrainConfig(lr=0.0, epochs=20, early_stopping=2, progress=False)
    )
    assert state.epoch == 3 and "early stopping" in state.stop_reason
    state = fit(_model(), train, valid, TrainConfig(epochs=5, max_steps=3, progress=False))
    assert state.step == 3 and state.epoch == 1


def test_bad_monitor_and_resume_without_checkpoint(tmp_path: Path) -> None:
    train, valid = _task()
    with pytest.raises(UserError, match="not a validation metric"):
        fit(_model(), train, valid, TrainConfig(epochs=1, monitor="bleu", progress=False))
    with pytest.raises(UserError, match="no checkpoint"):
        fit(_model(), train, valid, TrainConfig(epochs=1, progress=False), tmp_path, resume=True)


def test_same_seed_same_weights() -> None:
    runs = []
    for seed in (0, 0, 1):  # the train seed drives dropout; data.seed drives shuffling
        train, valid = _task()
        model = _model(dropout=0.5)
        fit(model, train, valid, TrainConfig(epochs=2, seed=seed, progress=False))
        runs.append(torch.cat([p.flatten() for p in model.parameters()]))
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


def test_bf16_trains_in_bfloat16_and_keeps_float32_weights_and_evaluation() -> None:
    """precision = "bf16": autocast in the training forward pass only (mixed precision)."""
    train, valid = _task()
    model = _model()
    seen: list[tuple[bool, torch.dtype]] = []
    model.head.register_forward_hook(lambda m, _, out: seen.append((m.training, out.dtype)))
    cfg = TrainConfig(lr=0.02, epochs=6, monitor="accuracy", precision="bf16", progress=False)
    fit(model, train, valid, cfg)
    assert {dtype for training, dtype in seen if training} == {torch.bfloat16}
    assert {dtype for training, dtype in seen if not training} == {torch.float32}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert evaluate(model, valid)["accuracy"] > 0.9
    losses = [
        fit(_model(), *_task(), TrainConfig(epochs=1, precision=p, progress=False)).loss
        for p in ("fp32", "bf16")
    ]
    assert losses[0] != losses[1] and losses[1] == pytest.approx(losses[0], rel=0.01)


def test_bf16_on_a_gpu_without_bfloat16_is_refused_before_training(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("seqlab.train.loop.resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    model = _model()
    with pytest.raises(UserError, match="no bfloat16 support"):
        fit(model, *_task(), TrainConfig(epochs=1, precision="bf16", progress=False))
    assert next(model.parameters()).device.type == "cpu"


@pytest.mark.parametrize("native", [False, True])
def test_bf16_on_a_cpu_without_native_bfloat16_warns_and_still_trains(
    monkeypatch: pytest.MonkeyPatch, native: bool
) -> None:
    monkeypatch.setattr("seqlab.train.loop.resolve_device", lambda name: torch.device("cpu"))
    monkeypatch.setattr("seqlab.train.loop.cpu_has_native_bf16", lambda: native)
    cfg = TrainConfig(epochs=1, precision="bf16", progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        state = fit(_model(), *_task(), cfg)
        fit(_model(), *_task(), dataclasses.replace(cfg, precision="fp32"))
    emulated = [w for w in caught if "emulated" in str(w.message)]
    assert len(emulated) == (0 if native else 1)  # bf16 only, never fp32
    assert math.isfinite(state.loss)


@pytest.mark.parametrize(
    ("capabilities", "native"),
    [
        ({"architecture": "x86_64", "avx512_bf16": False, "amx_bf16": False}, False),
        ({"architecture": "x86_64", "avx512_bf16": True, "amx_bf16": False}, True),
        ({"architecture": "x86_64", "avx512_bf16": False, "amx_bf16": True}, True),
        ({"architecture": "aarch64"}, True),
    ],
)
def test_cpu_has_native_bf16_reads_the_x86_flags(
    monkeypatch: pytest.MonkeyPatch, capabilities: dict[str, object], native: bool
) -> None:
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities)
    assert cpu_has_native_bf16() is native


def test_budget_stop_mid_epoch_is_recorded_and_resumes_mid_epoch(tmp_path: Path) -> None:
    train, valid = _task()  # 8 batches an epoch
    cfg = dict(lr=0.02, progress=False, log_every=1)
    state = fit(_model(), train, valid, TrainConfig(epochs=2, max_steps=3, **cfg), tmp_path)
    assert state.stop_reason == "step budget reached at step 3 (epoch 1, 3/8 batches)"
    assert state.history[-1]["partial_epoch"] is True
    resumed = fit(_model(), train, valid, TrainConfig(epochs=2, **cfg), tmp_path, resume=True)
    straight = fit(_model(), train, valid, TrainConfig(epochs=2, **cfg), tmp_path / "straight")
    assert resumed.step == straight.step == 16
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in straight.history]
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["kind"] == "train"] == list(range(1, 17))
    assert [r["epoch"] for r in rows if r["kind"] == "valid"] == [1, 2]  # the partial eval is gone


def test_a_resumed_run_counts_the_time_of_the_processes_before_it(tmp_path: Path) -> None:
    """The checkpoint carries the training seconds so far: a resumption adds to them (the
    run's ``train_seconds``) and ``max_minutes`` budgets the whole run, not each process."""
    train, valid = _task()  # 8 batches an epoch
    cfg = dict(lr=0.02, progress=False)
    fit(_model(), train, valid, TrainConfig(epochs=2, max_steps=3, **cfg), tmp_path)
    saved = load_checkpoint(tmp_path / "checkpoint.pt")
    assert saved["seconds"] > 0
    saved["seconds"] = 120.0  # as if the first process had trained for two minutes
    save_checkpoint(tmp_path / "checkpoint.pt", saved)
    state = fit(
        _model(), train, valid, TrainConfig(epochs=2, max_minutes=1, **cfg), tmp_path, resume=True
    )
    assert state.earlier_seconds == 120.0
    assert state.step == 4 and state.stop_reason.startswith("time budget reached at step 4")
    state = fit(
        _model(), train, valid, TrainConfig(epochs=2, max_minutes=3, **cfg), tmp_path, resume=True
    )
    assert state.step == 16 and not state.stop_reason  # 3 minutes leave room for the rest


def test_early_stopped_run_stays_stopped_on_resume(tmp_path: Path) -> None:
    train, valid = _task()
    cfg = TrainConfig(lr=0.0, epochs=20, early_stopping=2, progress=False)
    first = fit(_model(), train, valid, cfg, tmp_path)
    again = fit(_model(), train, valid, cfg, tmp_path, resume=True)
    assert again.epoch == first.epoch == 3 and "early stopping" in again.stop_reason


def test_resume_refuses_a_different_recipe_and_devices_are_checked(tmp_path: Path) -> None:
    train, valid = _task()
    recipe = {"train": {"lr": 0.01, "epochs": 1}, "data": {"seed": 0}}
    fit(_model(), train, valid, TrainConfig(epochs=1, progress=False), tmp_path, recipe=recipe)
    # A budget may change, and the precision.
    longer = {"train": {"lr": 0.01, "epochs": 3, "precision": "bf16"}, "data": {"seed": 0}}
    fit(
        _model(),
        train,
        valid,
        TrainConfig(epochs=1, progress=False),
        tmp_path,
        resume=True,
        recipe=longer,
    )
    other = {"train": {"lr": 0.5, "epochs": 1}, "data": {"seed": 0}}
    with pytest.raises(UserError, match=r"different recipe \(train.lr: 0.01 there, 0.5 now\)"):
        fit(
            _model(), train, valid, TrainConfig(progress=False), tmp_path, resume=True, recipe=other
        )
    model = _model()
    fit(model, train, valid, TrainConfig(epochs=1, device="auto", progress=False))
    assert next(model.parameters()).device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA device"):
            fit(_model(), train, valid, TrainConfig(epochs=1, device="cuda", progress=False))


def test_without_validation_batches_the_lowest_training_loss_is_kept(tmp_path: Path) -> None:
    """No validation split (Fawaz et al. 2019): each epoch's mean training loss is the
    monitored `loss`; the weights of the epoch with the lowest one come back."""
    train, _ = _task()
    empty = ClassificationBatches([], [], batch_size=32, shuffle=False)
    assert len(empty) == 0
    snapshots = []

    class Sabotage(Callback):  # epoch 2's weights are kept, then wrecked (x -5) for epoch 3
        def on_eval_end(self, state, metrics) -> None:
            snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
            if state.epoch == 2:
                with torch.no_grad():
                    for p in model.parameters():
                        p.mul_(-5.0)

    model = _model()
    cfg = TrainConfig(lr=0.02, epochs=3, progress=False, log_every=100)
    state = fit(model, train, empty, cfg, run_dir=tmp_path, callbacks=[Sabotage()])
    losses = [h["train_loss"] for h in state.history]
    assert losses[2] > losses[1] < losses[0]  # learning, then the sabotaged epoch
    assert state.best_epoch == 2 and state.best == losses[1]
    assert all(not k.startswith("valid_") for h in state.history for k in h)
    for name, value in model.state_dict().items():
        assert torch.equal(value, snapshots[1][name]), name
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in rows if r["kind"] == "train_epoch"] == losses
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(UserError, match="needs validation batches"):
        fit(_model(), train, None, TrainConfig(epochs=1, monitor="accuracy", progress=False))


def test_progress_bar_keeps_only_the_running_epoch_live() -> None:
    """rich redraws every live bar ten times a second: finished epochs must not pile up."""
    from seqlab.train.callbacks import ProgressBar, TrainState

    bar, state = ProgressBar(every=1), TrainState(steps_per_epoch=3)
    bar.on_train_start(state)
    try:
        for epoch in range(1, 6):
            state.epoch = epoch
            for _ in range(3):
                state.step += 1
                bar.on_step_end(state)
                assert len(bar.progress.tasks) == 1
            bar.on_eval_end(state, {"loss": 0.5})
            assert len(bar.progress.tasks) == 0
    finally:
        bar.on_train_end(state)


class _Snapshots(Callback):
    """The weights at each epoch's end; ``negate_at`` flips their signs after that epoch's
    evaluation (the best-epoch copy is taken before, the average's after)."""

    def __init__(self, model: torch.nn.Module, negate_at: int = 0) -> None:
        self.model, self.negate_at, self.weights = model, negate_at, []

    def on_eval_end(self, state, metrics) -> None:
        if state.epoch == self.negate_at:
            with torch.no_grad():
                for p in self.model.parameters():
                    p.neg_()
        self.weights.append({k: v.clone() for k, v in self.model.state_dict().items()})


def _mean(weights: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {name: sum(w[name] for w in weights) / len(weights) for name in weights[0]}


def test_average_last_returns_the_mean_of_the_last_epochs_weights() -> None:
    """Checkpoint averaging (Vaswani et al. 2017): epochs 3-5 of 5, their plain mean; kept
    because validation finds it no worse than the best epoch (accuracy 1.0 both), and its
    metrics recorded."""
    train, valid = _task()
    model = _model()
    snapshots = _Snapshots(model)
    cfg = TrainConfig(lr=0.02, epochs=5, average_last=3, monitor="accuracy", progress=False)
    state = fit(model, train, valid, cfg, callbacks=[snapshots])
    expected = _mean(snapshots.weights[2:])
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=1e-6)
    assert state.averaged is not None
    assert state.averaged["epochs"] == [3, 5] and state.averaged["kept"]
    assert state.averaged["valid_loss"] == pytest.approx(evaluate(model, valid)["loss"])
    assert state.best == state.averaged["valid_accuracy"] == 1.0


def test_an_average_worse_than_the_best_epoch_is_not_kept() -> None:
    """Epoch 6's weights go into the average negated: the mean of w5 and -w6 is near zero
    and predicts nothing, so the best epoch's weights come back and the run says why."""
    train, valid = _task()
    model = _model()
    snapshots = _Snapshots(model, negate_at=6)
    cfg = TrainConfig(lr=0.02, epochs=6, average_last=2, monitor="accuracy", progress=False)
    state = fit(model, train, valid, cfg, callbacks=[snapshots])
    assert state.averaged is not None and not state.averaged["kept"]
    assert state.averaged["epochs"] == [5, 6]
    assert state.averaged["valid_accuracy"] < state.best
    assert evaluate(model, valid)["accuracy"] == pytest.approx(state.best)
    best = state.history[state.best_epoch - 1]["valid_accuracy"]
    assert state.best == best > 0.9


def test_without_validation_the_average_is_always_kept() -> None:
    train, _ = _task()
    empty = ClassificationBatches([], [], batch_size=32, shuffle=False)
    model = _model()
    snapshots = _Snapshots(model)
    cfg = TrainConfig(lr=0.02, epochs=3, average_last=2, progress=False)
    state = fit(model, train, empty, cfg, callbacks=[snapshots])
    assert state.averaged == {"epochs": [2, 3], "kept": True}
    expected = _mean(snapshots.weights[1:])
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=1e-6)


def test_a_run_resumed_inside_the_averaging_window_averages_the_same_epochs(
    tmp_path: Path,
) -> None:
    """The running sum is in the checkpoint: stopped in epoch 3 of 4 (epoch 2 already
    summed), resumed, the result equals an uninterrupted run's."""
    train, valid = _task()  # 8 batches an epoch
    cfg = dict(lr=0.02, epochs=4, average_last=3, monitor="accuracy", progress=False)
    straight = _model()
    fit(straight, train, valid, TrainConfig(**cfg), tmp_path / "straight")
    fit(_model(), train, valid, TrainConfig(max_steps=20, **cfg), tmp_path / "resumed")
    assert load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["average"]["count"] == 1
    resumed = _model()
    state = fit(resumed, train, valid, TrainConfig(**cfg), tmp_path / "resumed", resume=True)
    assert state.averaged is not None and state.averaged["epochs"] == [2, 4]
    for (name, a), b in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)


def test_a_resume_that_moves_the_window_drops_the_epochs_summed_before_it(
    tmp_path: Path,
) -> None:
    """A warm restart: 4 epochs averaging 3-4, resumed with ``epochs=7`` (window 6-7). The
    average is the mean of epochs 6 and 7 only — not 3, 4, 6, 7 under the label "3-6".
    (No validation, so the average is always the weights returned.)"""
    train, _ = _task()
    empty = ClassificationBatches([], [], batch_size=32, shuffle=False)
    cfg = dict(lr=0.02, average_last=2, progress=False)
    fit(_model(), train, empty, TrainConfig(epochs=4, **cfg), tmp_path)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["average"]["count"] == 2
    model = _model()
    snapshots = _Snapshots(model)
    state = fit(model, train, empty, TrainConfig(epochs=7, **cfg), tmp_path, [snapshots], True)
    assert state.averaged == {"epochs": [6, 7], "kept": True}
    expected = _mean(snapshots.weights[1:])  # snapshots holds epochs 5, 6, 7: take 6 and 7
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=1e-6)


def test_weight_average_keeps_consecutive_epochs_inside_its_window() -> None:
    def weights(epoch: int) -> dict[str, torch.Tensor]:
        return {"w": torch.tensor([float(epoch)])}

    average = WeightAverage()
    for epoch in (3, 4):
        average.add(weights(epoch), epoch, since=3)
    assert (average.first_epoch, average.count) == (3, 2)
    average.add(weights(5), 5, since=4)  # the window moved past epoch 3: start over
    assert (average.first_epoch, average.count) == (5, 1)
    average.add(weights(8), 8, since=4)  # a gap: start over
    assert (average.first_epoch, average.count) == (8, 1)
    average.add(weights(9), 9, since=4)
    torch.testing.assert_close(average.mean()["w"], torch.tensor([8.5]))
