"""The grid: points, parameter solve, budget, resume, and every bad input as one line."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import seqlab.compare.grid as grid
from seqlab.compare.grid import (
    check_folder,
    count_parameters,
    plan_compare,
    run_compare,
    solve_size,
)
from seqlab.errors import UserError
from seqlab.recipe import load_recipe

from .conftest import write_tiny


def test_plan_makes_one_point_per_combination(tiny: Path) -> None:
    plan = plan_compare(tiny)
    assert plan.rows == ["rnn_tanh", "gru"] and plan.replicates == ["train.seed"]
    names = [p.name for p in plan.points]  # every row once per seed, seed-major
    assert names == [
        "type-rnn_tanh__seed-1",
        "type-gru__seed-1",
        "type-rnn_tanh__seed-2",
        "type-gru__seed-2",
    ]
    assert [p.first for p in plan.points] == [True, True, False, False]
    for point in plan.points:
        assert point.recipe.model.encoder.type == point.row
        assert point.recipe.train.seed == point.values["train.seed"]
    assert len({p.recipe.name for p in plan.points}) == 4


def test_budget_is_equal_training_tokens(tiny: Path) -> None:
    plan = plan_compare(tiny)
    budget = plan.points[0].budget
    assert budget.batch_tokens[:10] == [4 * 8] * 10  # batch_size x bptt
    assert budget.max_steps == 10 and budget.tokens == 320  # budget_tokens = 320
    assert all(p.recipe.train.max_steps == 10 for p in plan.points)


def test_budget_in_epochs(tmp_path: Path) -> None:
    path = write_tiny(tmp_path)
    text = path.read_text().replace("budget_tokens = 320", "epochs = 2")
    path.write_text(text)
    plan = plan_compare(path)
    budget = plan.points[0].budget
    assert budget.epochs == 2 and budget.max_steps is None
    assert budget.tokens == 2 * budget.tokens_per_epoch
    assert all(p.recipe.train.epochs == 2 and p.recipe.train.max_steps is None for p in plan.points)


def test_solve_size_hits_a_quadratic_target() -> None:
    def count(h: int) -> int:  # a 2-layer LSTM's recurrent weights + a 10k x H decoder
        return 8 * h * h + 10_000 * h

    for target in (50_000, 1_000_000, 5_000_000):
        size, got = solve_size(count, target, tolerance=0.02)
        assert abs(got - target) <= 0.02 * target
        assert abs(got - target) <= min(abs(count(s) - target) for s in (size - 1, size + 1))
    size, _ = solve_size(count, 1_000_000, tolerance=0.05, multiple_of=8)
    assert size % 8 == 0


def test_parameter_solve_on_real_models(tmp_path: Path) -> None:
    path = write_tiny(tmp_path, extra="parameters = 20_000\ntolerance = 0.02")
    plan = plan_compare(path)
    for point in plan.points:
        assert point.recipe.model.encoder.hidden_size == plan.solved[point.row]
    for row in plan.rows:
        assert abs(plan.parameters[row] - 20_000) <= 400
    assert plan.solved["rnn_tanh"] > plan.solved["gru"]  # one gate block vs three
    # The count is the trained model's: the family's new_model on the prepared data.
    recipe = plan.points[1].recipe
    prepared = recipe.family.prepare(recipe)
    model = recipe.family.new_model(recipe, prepared)
    assert count_parameters(recipe, prepared) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("count", "target", "message"),
    [
        (lambda h: 1000 + h, 10, "impossible parameter target 10: even the size = 1"),
        (lambda h: 1000, 5000, "does not change the parameter count"),
        (lambda h: h, 10**9, "impossible parameter target"),
        (lambda h: 100 * h, 150, "the nearest is"),
    ],
)
def test_impossible_parameter_targets(count, target: int, message: str) -> None:
    with pytest.raises(UserError, match=message):
        solve_size(count, target, tolerance=0.02)


BAD = [
    ('compare.grid.model.encoder.type=["lstmm"]', "unknown model.encoder.type 'lstmm'", "lstm"),
    ('compare.grid.model.encoder.hiden_size=[8]', "unknown key 'model.encoder.hiden_size'",
     "hidden_size"),
    ('compare.grid.modle.lr=[1]', "unknown key 'modle'", "model"),
    ("compare.parameters=10", "impossible parameter target 10", "compare"),
    ("compare.budget_tokens=0", "compare.budget_tokens", "fix"),
    ("compare.epochs=3", "both budget_tokens and epochs", "one"),
    ("compare.rank_by=test_lost", "'test_lost' is not a metric", "test_loss"),
    ("train.max_minutes=5", "max_minutes", "budget_tokens"),
    ("compare.overrides.rnn_tanhh.train.lr=1.0", "overrides: unknown row 'rnn_tanhh'", "rnn_tanh"),
    ('compare.replicates=["data.seed"]', "'data.seed' is not a grid key", "train.seed"),
]  # fmt: skip


@pytest.mark.parametrize(("override", "message", "fix"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_user_error(tiny: Path, override: str, message: str, fix: str) -> None:
    with pytest.raises(UserError) as caught:
        plan_compare(tiny, [override])
    assert message in caught.value.message and fix in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_claims_are_refused(tmp_path: Path) -> None:
    path = write_tiny(tmp_path)
    text = path.read_text().replace('rows = ["gru", "rnn_tanh"]', 'rows = ["gru", "rnn_tanhh"]')
    path.write_text(text)
    with pytest.raises(UserError, match=r"unknown row 'rnn_tanhh'.*did you mean 'rnn_tanh'"):
        plan_compare(path)


def test_a_recipe_without_compare_table(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="has no \\[compare\\] table"):
        plan_compare(write_tiny(tmp_path, compare=False))


def test_a_folder_of_another_grid_is_refused(tiny: Path) -> None:
    plan = plan_compare(tiny)
    out = tiny.parent / "out"
    out.mkdir()
    (out / grid.SPEC_FILE).write_text(json.dumps({"spec": plan.spec}))
    check_folder(out, plan.spec)  # the same grid: fine
    other = plan_compare(tiny, ["compare.budget_tokens=640"])
    with pytest.raises(UserError, match=r"different grid .*budget_tokens: 320 there, 640 now"):
        check_folder(out, other.spec)
    # Report-only keys may change: the claims, the published numbers.
    relabelled = plan_compare(tiny, ['compare.published_source="elsewhere"'])
    check_folder(out, relabelled.spec)
    stray = tiny.parent / "stray"
    stray.mkdir()
    (stray / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not a compare folder"):
        check_folder(stray, plan.spec)


def test_interrupted_grid_resumes_without_retraining(tiny: Path, monkeypatch) -> None:
    """Kill the grid in its third run, right after its step-3 checkpoint; run it again."""
    import seqlab.train.loop as loop

    plan = plan_compare(tiny)
    out = tiny.parent / "out"
    real_train, real_save = grid.train_recipe, loop.save_checkpoint
    calls: list[tuple[str, bool]] = []

    def killed_after_save(path, payload):
        real_save(path, payload)
        raise KeyboardInterrupt  # as a SIGKILL right after the checkpoint was written

    def train(recipe, run_dir, resume=False, **kwargs):
        calls.append((Path(run_dir).name, resume))
        if len(calls) == 3:
            monkeypatch.setattr(loop, "save_checkpoint", killed_after_save)
        return real_train(recipe, run_dir, resume=resume, **kwargs)

    monkeypatch.setattr(grid, "train_recipe", train)
    with pytest.raises(KeyboardInterrupt):
        run_compare(plan, out)
    names = [p.name for p in plan.points]
    assert [c[0] for c in calls] == names[:3]
    assert not (out / "runs" / names[2] / "bundle").exists()
    model = "bundle/model.safetensors"
    done = {n: (out / "runs" / n / model).stat().st_mtime_ns for n in names[:2]}

    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    calls.clear()
    records = run_compare(plan, out)
    assert calls == [(names[2], True), (names[3], False)]  # resumed; the last one fresh
    for name, mtime in done.items():  # finished runs were not retrained
        assert (out / "runs" / name / model).stat().st_mtime_ns == mtime
    assert [r["status"] for r in records] == ["done"] * 4
    resumed = json.loads((out / "runs" / names[2] / "point.json").read_text())
    assert resumed["steps"] == 10  # the whole budget
    # The resumed run equals an uninterrupted one (exact resume through train_recipe).
    real_train(plan.points[2].recipe, tiny.parent / "fresh")
    fresh = json.loads((tiny.parent / "fresh" / "bundle" / "metrics.json").read_text())
    assert resumed["metrics"]["test_loss"] == fresh["test_loss"]

    calls.clear()
    run_compare(plan, out)  # all done: nothing trains
    assert calls == []


def test_a_failed_run_is_recorded_not_fatal(tiny: Path, monkeypatch) -> None:
    plan = plan_compare(tiny)
    real = grid.train_recipe

    def diverging(recipe, run_dir, resume=False, **kwargs):
        if recipe.model.encoder.type == "rnn_tanh":
            raise UserError("the loss became nan at step 4", "lower train.lr")
        return real(recipe, run_dir, resume=resume, **kwargs)

    monkeypatch.setattr(grid, "train_recipe", diverging)
    records = run_compare(plan, tiny.parent / "out")
    assert [r["status"] for r in records] == ["failed", "done", "failed", "done"]
    assert "nan" in records[0]["error"]
    # A rerun says so, and names the file to delete to retry it; then it trains again.
    console = Console(file=io.StringIO(), width=400)
    run_compare(plan, tiny.parent / "out", console=console)
    shown = console.file.getvalue()
    failed = tiny.parent / "out" / "runs" / records[0]["name"] / "point.json"
    assert "failed earlier (the loss became nan at step 4" in shown and str(failed) in shown
    monkeypatch.setattr(grid, "train_recipe", real)
    failed.unlink()
    assert [r["status"] for r in run_compare(plan, tiny.parent / "out")][:2] == ["done", "done"]


def test_the_base_recipe_trains_alone(tiny: Path) -> None:
    """A compare recipe is an ordinary recipe plus a table `seqlab compare` reads."""
    raw = grid.read_compare(tiny)[0]
    assert "compare" not in raw
    assert load_recipe(write_tiny(tiny.parent, compare=False)).name == "tiny"


def test_a_row_can_have_its_own_settings(tiny: Path) -> None:
    plan = plan_compare(tiny, ["compare.overrides.gru.train.lr=0.5"])
    assert {p.row: p.recipe.train.lr for p in plan.points} == {"gru": 0.5, "rnn_tanh": 0.03}


def test_claim_point_locks_and_takes_over_a_dead_process(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert grid.claim_point(run) is None
    lock = run / ".lock"
    assert lock.read_text() == f"{os.getpid()} {socket.gethostname()}"
    assert grid.claim_point(run) == lock.read_text()  # held by a live process (this one)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(f"{dead.pid} {socket.gethostname()}")
    assert grid.claim_point(run) is None  # stale: its process is gone, so it is taken over
    assert lock.read_text().startswith(f"{os.getpid()} ")
    lock.write_text(f"{dead.pid} another-host")  # cannot be checked from here: left alone
    assert grid.claim_point(run) == f"{dead.pid} another-host"


def test_two_processes_share_one_grid(tiny: Path, monkeypatch) -> None:
    """A point locked by another live process is skipped; once that process is gone
    the next run trains the point, and every record is read back."""
    plan = plan_compare(tiny)
    out = tiny.parent / "out"
    names = [p.name for p in plan.points]
    real = grid.train_recipe
    calls: list[str] = []

    def train(recipe, run_dir, resume=False, **kwargs):
        calls.append(Path(run_dir).name)
        return real(recipe, run_dir, resume=resume, **kwargs)

    monkeypatch.setattr(grid, "train_recipe", train)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        held = out / "runs" / names[1]
        held.mkdir(parents=True)
        (out / grid.SPEC_FILE).write_text(json.dumps({"spec": plan.spec}))  # as a process would
        (held / ".lock").write_text(f"{other.pid} {socket.gethostname()}")
        console = Console(file=io.StringIO(), width=400)
        records = run_compare(plan, out, console=console)
        shown = console.file.getvalue()
    finally:
        other.kill()
        other.wait()
    assert calls == [names[0], names[2], names[3]]
    assert [r["name"] for r in records] == [names[0], names[2], names[3]]
    assert f"being trained by process {other.pid}" in shown
    assert "1 run(s) are still being trained by other processes" in shown
    assert not [n for n in names if n != names[1] and (out / "runs" / n / ".lock").exists()]
    calls.clear()
    records = run_compare(plan, out)  # the holder died: its stale lock is taken over
    assert calls == [names[1]]
    assert [r["name"] for r in records] == names and not (held / ".lock").exists()
