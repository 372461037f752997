"""``seqlab compare``: a grid of recipes trained under one stated budget.

A compare recipe is an ordinary recipe (the *base*) plus a ``[compare]`` table::

    [compare]
    grid = { "model.encoder.type" = ["lstm", "gru"], "train.seed" = [1, 2] }
    parameters = 5_000_000               # match every row's parameter count ...
    solve = "model.encoder.hidden_size"  # ... by solving for this size
    epochs = 4                           # the budget: or budget_tokens = 3_700_000

Every grid point (the cartesian product of the grid's values, any recipe key) is the
base with those values set, a full :class:`~seqlab.recipe.Recipe` made by
``recipe_from_dict``, trained by :func:`seqlab.run.train_recipe` into
``OUT/runs/<point>/``. Points that differ only in a *replicate* key (by default the
grid keys named ``seed``) form one *row* of the report: its metrics are the mean ± 95%
t-interval over them.

Equal budget: every run sees the same number of training tokens (``budget_tokens``, or
``epochs`` of the same data) — not the same wall time, which would favour fast kernels
(a ``train.max_minutes`` in the recipe is refused). Equal size: with ``parameters``,
each row's ``solve`` key is bisected until the built model (the family's
``new_model``, on the meta device) has the target count within ``tolerance``.

Resuming: ``OUT/compare.json`` holds the grid's spec, so a folder made by another grid
is refused; a point whose ``point.json`` exists is done and never retrained, a point
with a checkpoint continues through ``train_recipe(resume=True)``, exactly.

Several processes may train one grid at once (``seqlab compare`` started again on the
same folder, e.g. once per core): a point being trained holds ``OUT/runs/<point>/.lock``
(the process id and host); the others skip it and take the next point. A lock whose
process has died on this host is stale and taken over (its checkpoint resumes). Each
process writes the report of the points finished when it ends; the last one to end
writes the whole report.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import torch
from pydantic import ConfigDict, Field
from rich.console import Console
from torch import nn

from seqlab import atomic
from seqlab.config import NonNegativeFloat, PositiveInt, flatten, validate
from seqlab.errors import UserError, did_you_mean
from seqlab.families.base import Prepared
from seqlab.recipe import (
    Recipe,
    apply_overrides,
    load_recipe_dict,
    recipe_from_dict,
    recipe_to_dict,
)
from seqlab.run import train_recipe
from seqlab.train.config import TrainConfig, resolve_device
from seqlab.train.loop import build_optimizer

SPEC_FILE = "compare.json"
POINT_FILE = "point.json"
LOCK_FILE = ".lock"
# [compare] keys that only change how the report reads: a finished grid may edit them.
PRESENTATION = (
    "metrics",
    "rank_by",
    "published",
    "published_source",
    "scale_note",
    "claims",
)
LARGEST_SIZE = 1 << 22  # the parameter solve gives up beyond this size


@dataclass
class Claim:
    """A claim of the literature the report checks against the measured numbers.

    ``kind``: ``best`` / ``worst`` — ``rows`` are the best (worst) ``len(rows)`` of
    ``among`` (default: every row); ``better`` — ``rows[0]`` beats each other row;
    ``similar`` — ``rows[0]`` and ``rows[1]`` differ by at most ``tolerance``.
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    text: str
    kind: Literal["best", "worst", "better", "similar"]
    rows: list[str]
    among: list[str] | None = None
    tolerance: NonNegativeFloat | None = None


@dataclass
class CompareConfig:
    """The ``[compare]`` table of a recipe (module doc)."""

    grid: dict[str, list[Any]]  # recipe key -> values; every combination is a run
    replicates: list[str] | None = None  # grid keys averaged over (default: the *seed keys)
    parameters: PositiveInt | None = None  # target parameter count of every row
    solve: str = "model.encoder.hidden_size"  # the size solved for `parameters`
    multiple_of: PositiveInt = 1  # the solved size is a multiple of this (attention heads)
    tolerance: Annotated[float, Field(gt=0, lt=1)] = 0.02  # accepted relative miss
    budget_tokens: PositiveInt | None = None  # training tokens per run ...
    epochs: PositiveInt | None = None  # ... or epochs per run (default: train.epochs)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # row -> {key: value}
    metrics: list[str] | None = None  # report columns, e.g. ["valid_ppl", "test_ppl"]
    rank_by: str | None = None  # the metric rows are ranked by (default: the last test_ one)
    published: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> row -> x
    published_source: str = ""  # where the published numbers come from
    scale_note: str = ""  # how the published set-up differs from this one
    claims: list[Claim] = field(default_factory=list)
    diagnose: bool = True  # gradient flow + gate saturation of each row's first run
    diagnose_batches: PositiveInt = 4
    diagnose_set: list[str] = field(default_factory=list)  # e.g. ["data.bptt=100"]


@dataclass
class Budget:
    """What one run trains on: ``epochs`` (and ``max_steps``) of ``steps_per_epoch`` steps.

    ``batch_tokens``: the valid (unpadded) input steps of each training batch of one
    epoch, in order (the first epoch's order for shuffled data).
    """

    batch_tokens: list[int] = field(repr=False)
    epochs: int
    max_steps: int | None = None

    @property
    def steps_per_epoch(self) -> int:
        return len(self.batch_tokens)

    @property
    def tokens_per_epoch(self) -> int:
        return sum(self.batch_tokens)

    @property
    def tokens_per_step(self) -> float:
        return self.tokens_per_epoch / self.steps_per_epoch

    @property
    def steps(self) -> int:
        total = self.epochs * self.steps_per_epoch
        return total if self.max_steps is None else min(total, self.max_steps)

    def tokens_at(self, steps: int) -> int:
        """Training tokens after ``steps`` optimiser steps."""
        epochs, rest = divmod(steps, self.steps_per_epoch)
        return epochs * self.tokens_per_epoch + sum(self.batch_tokens[:rest])

    @property
    def tokens(self) -> int:
        """Training tokens of the whole run (the stated budget)."""
        return self.tokens_at(self.steps)


@dataclass
class Point:
    """One run of the grid: its values, its full recipe and where it trains."""

    name: str  # folder name under OUT/runs/
    row: str  # the row label (the values of the non-replicate keys)
    values: dict[str, Any]
    recipe: Recipe
    budget: Budget
    first: bool  # the first replicate of its row (the one diagnosed)

    @property
    def resolved(self) -> dict[str, Any]:
        return recipe_to_dict(self.recipe)


@dataclass
class Plan:
    """A validated grid: every point's recipe, before anything is trained or written."""

    name: str
    config: CompareConfig
    spec: dict[str, Any]  # what OUT/compare.json stores: base recipe + [compare]
    family: Any
    factors: list[str]  # grid keys that make rows
    replicates: list[str]  # grid keys averaged over
    rows: list[str]
    points: list[Point]
    solved: dict[str, int]  # row -> solved size (when `parameters` is set)
    parameters: dict[str, int]  # row -> parameter count of its model
    metrics: list[str]
    rank_by: str
    description: str  # the data, as the family describes it

    @property
    def higher_is_better(self) -> bool:
        return self.family.metrics[metric_base(self.rank_by, self.splits)] == "max"

    @property
    def splits(self) -> tuple[str, ...]:
        return ("valid", self.points[0].recipe.eval.split)


# ---------------------------------------------------------------- small helpers
def set_key(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set the dotted recipe ``key`` in the nested ``raw`` dict (creating tables)."""
    parts = key.split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise UserError(f"[compare] key '{key}': '{part}' is not a table of the recipe")
    node[parts[-1]] = value


def get_key(raw: dict[str, Any], key: str) -> Any:
    node: Any = raw
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def metric_base(name: str, splits: tuple[str, ...]) -> str | None:
    """``test_ppl`` -> ``ppl`` when the prefix is one of ``splits``, else None."""
    for split in splits:
        if name.startswith(f"{split}_"):
            return name[len(split) + 1 :]
    return None


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", str(value))


def _copy(raw: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(raw))


def _label(values: dict[str, Any], keys: list[str], fallback: str) -> str:
    return " / ".join(str(values[k]) for k in keys) if keys else fallback


def _point_name(values: dict[str, Any]) -> str:
    short = [key.rsplit(".", 1)[-1] for key in values]
    names = short if len(set(short)) == len(short) else list(values)
    return "__".join(f"{n}-{_slug(v)}" for n, v in zip(names, values.values(), strict=True))


def _parse(raw: dict[str, Any], where: str) -> Recipe:
    try:
        recipe = recipe_from_dict(raw)
        resolve_device(recipe.train.device)
    except UserError as error:
        raise UserError(f"{where}: {error.message}", error.fix) from None
    if recipe.train.max_minutes is not None:
        raise UserError(
            f"{where}: train.max_minutes makes the budget wall time, which favours fast kernels",
            "remove it; the budget is [compare] budget_tokens or epochs",
        )
    return recipe


# ---------------------------------------------------------------- data, sizes, budget
class _Data:
    """``family.prepare`` once per distinct (task, [data]) — the solve and budget reuse it."""

    def __init__(self) -> None:
        self.cache: dict[str, Prepared] = {}

    def __call__(self, recipe: Recipe) -> Prepared:
        key = json.dumps([recipe.task, recipe_to_dict(recipe)["data"]], sort_keys=True)
        if key not in self.cache:
            self.cache[key] = recipe.family.prepare(recipe)
        return self.cache[key]


def count_parameters(recipe: Recipe, prepared: Prepared) -> int:
    """Parameters of the model ``recipe`` trains (built on the meta device: no memory)."""
    with torch.device("meta"):
        model = recipe.family.new_model(recipe, dataclasses.replace(prepared))
    return sum(p.numel() for p in model.parameters()) if isinstance(model, nn.Module) else 0


def solve_size(
    count: Callable[[int], int],
    target: int,
    tolerance: float = 0.02,
    multiple_of: int = 1,
    what: str = "the size",
) -> tuple[int, int]:
    """The size (a multiple of ``multiple_of``) whose ``count(size)`` is nearest ``target``.

    ``count`` must not decrease with the size (true of hidden sizes). Doubling finds an
    upper bound, bisection the crossing; the nearer of its two sides wins. Returns
    ``(size, count)``; a UserError when no size is within ``tolerance`` (relative).
    """
    k = multiple_of
    smallest = count(k)
    if smallest > target * (1 + tolerance):
        raise UserError(
            f"impossible parameter target {target:,}: even {what} = {k} gives {smallest:,}",
            "raise [compare] parameters, or make the rest of the model smaller",
        )
    if count(2 * k) == smallest:
        raise UserError(
            f"{what} does not change the parameter count ({smallest:,})",
            "set [compare] solve to a size such as model.encoder.hidden_size",
        )
    high = 1
    while count(high * k) < target:
        high *= 2
        if high * k > LARGEST_SIZE:
            raise UserError(
                f"impossible parameter target {target:,}: {what} = {high * k:,} still gives "
                f"{count(high * k):,}",
                "lower [compare] parameters",
            )
    low = max(1, high // 2)  # count(low) < target <= count(high), or high == 1
    while high - low > 1:
        middle = (low + high) // 2
        if count(middle * k) < target:
            low = middle
        else:
            high = middle
    size, best = min(
        ((m * k, count(m * k)) for m in {low, high}), key=lambda item: abs(item[1] - target)
    )
    if abs(best - target) > tolerance * target:
        raise UserError(
            f"impossible parameter target {target:,}: the nearest is {what} = {size} with "
            f"{best:,} parameters ({abs(best - target) / target:.1%} off)",
            f"raise [compare] tolerance above {tolerance} or change the target",
        )
    return size, best


def batch_tokens(batches: Any) -> list[int]:
    """Valid input steps of each batch of one pass over ``batches`` (epoch 1's order)."""
    if hasattr(batches, "set_epoch"):
        batches.set_epoch(1)
    tokens = [int(batch.lengths.sum()) for batch in batches]
    if not tokens:
        raise UserError("the training split has no batches", "use more data")
    return tokens


def make_budget(config: CompareConfig, train: TrainConfig, batches: Any) -> Budget:
    """Equal training tokens: the fewest steps reaching ``budget_tokens``, or epochs."""
    tokens = batch_tokens(batches)
    if config.budget_tokens is not None:
        epochs, rest = divmod(config.budget_tokens, sum(tokens))
        steps = epochs * len(tokens)
        for count in tokens:
            if rest <= 0:
                break
            steps, rest = steps + 1, rest - count
        return Budget(tokens, max(1, math.ceil(steps / len(tokens))), max(1, steps))
    if config.epochs is not None:
        return Budget(tokens, config.epochs)
    return Budget(tokens, train.epochs, train.max_steps)


# ---------------------------------------------------------------- the plan
def read_compare(path: str | Path, overrides: list[str] | None = None) -> tuple[dict, dict]:
    """The base recipe and the raw ``[compare]`` table of a compare recipe file."""
    raw = apply_overrides(load_recipe_dict(path), overrides or [])
    table = raw.pop("compare", None)
    if table is None:
        raise UserError(
            f"{path} has no [compare] table",
            'add e.g. [compare] grid = { "model.encoder.type" = ["lstm", "gru"] } '
            "(see recipes/compare-ci.toml)",
        )
    if not isinstance(table, dict):
        raise UserError("[compare] must be a table of key = value lines")
    table = dict(table)
    for key in ("grid", "overrides"):
        if isinstance(table.get(key), dict):
            if key == "grid":
                table[key] = flatten(table[key])
            else:
                table[key] = {
                    row: flatten(v) if isinstance(v, dict) else v for row, v in table[key].items()
                }
    return raw, table


def plan_compare(path: str | Path, overrides: list[str] | None = None) -> Plan:
    """Validate a compare recipe into a :class:`Plan`: every point parsed, sizes solved.

    Nothing is written; every mistake (an unknown key or cell in the grid, an impossible
    parameter target, a zero budget) is one UserError before any training.
    """
    base, table = read_compare(path, overrides)
    config = validate(CompareConfig, table, "compare")
    if not config.grid:
        raise UserError("[compare] grid is empty", 'e.g. grid = { "train.seed" = [1, 2] }')
    for key, values in config.grid.items():
        if key.split(".")[0] == "compare":
            raise UserError(f"compare.grid key '{key}' is not a recipe key")
        if not values:
            raise UserError(f"compare.grid.{key} has no values", "list at least one value")
    if config.budget_tokens is not None and config.epochs is not None:
        raise UserError(
            "[compare] sets both budget_tokens and epochs", "state the budget one way: keep one"
        )
    keys = list(config.grid)
    replicates = (
        config.replicates
        if config.replicates is not None
        else [k for k in keys if k.rsplit(".", 1)[-1] == "seed"]
    )
    for key in replicates:
        if key not in config.grid:
            raise UserError(
                f"compare.replicates: '{key}' is not a grid key", did_you_mean(key, keys)
            )
    factors = [k for k in keys if k not in replicates]
    if config.parameters is not None and config.solve in config.grid:
        raise UserError(
            f"compare.solve '{config.solve}' is also a grid key",
            "either solve it for the parameter target or list its values, not both",
        )
    base_recipe = _parse(_copy(base), "the base recipe")
    name = base_recipe.name
    family = base_recipe.family

    def combos(names: list[str]) -> Iterator[dict[str, Any]]:
        for values in itertools.product(*(config.grid[k] for k in names)):
            yield dict(zip(names, values, strict=True))

    rows = {_label(v, factors, name): v for v in combos(factors)}

    first = dict(zip(replicates, (config.grid[k][0] for k in replicates), strict=True))
    row_raw: dict[str, dict[str, Any]] = {}
    for row, values in rows.items():  # every row parses before anything is solved
        raw = _copy(base)
        for key, value in {**values, **config.overrides.get(row, {}), **first}.items():
            set_key(raw, key, value)
        _parse(raw, f"[compare] row {row}")
        row_raw[row] = raw
    for row in config.overrides:
        if row not in rows:
            raise UserError(f"compare.overrides: unknown row '{row}'", did_you_mean(row, rows))
    _check_claims(config.claims, list(rows))
    splits = ("valid", base_recipe.eval.split)
    metrics, rank_by = _check_metrics(config, family, base_recipe, splits)

    data = _Data()
    solved: dict[str, int] = {}
    parameters: dict[str, int] = {}
    for row, raw in row_raw.items():
        recipe = _parse(raw, f"[compare] row {row}")
        if config.parameters is None:
            parameters[row] = count_parameters(recipe, data(recipe))
            continue
        prepared = data(recipe)

        def count(size: int, raw: dict = raw, row: str = row, prepared: Prepared = prepared) -> int:
            trial = _copy(raw)
            set_key(trial, config.solve, size)
            return count_parameters(_parse(trial, f"[compare] row {row}"), prepared)

        solved[row], parameters[row] = solve_size(
            count, config.parameters, config.tolerance, config.multiple_of, config.solve
        )
        set_key(raw, config.solve, solved[row])

    points: list[Point] = []
    for number, replicate in enumerate(combos(replicates)):  # every row once, then again
        for row, values in rows.items():
            raw = _copy(row_raw[row])
            for key, value in replicate.items():
                set_key(raw, key, value)
            point_values = {**values, **replicate}
            point_name = _point_name(point_values) if point_values else "run"
            where = f"[compare] grid point {point_name}"
            recipe = _parse(raw, where)
            budget = make_budget(config, recipe.train, data(recipe).batches["train"])
            set_key(raw, "train.epochs", budget.epochs)
            set_key(raw, "train.max_steps", budget.max_steps)
            raw["name"] = f"{name}-{point_name}"
            recipe = _parse(raw, where)
            points.append(Point(point_name, row, point_values, recipe, budget, number == 0))
    description = data(points[0].recipe).description
    spec = {"recipe": base, "compare": {k: v for k, v in table.items() if k not in PRESENTATION}}
    return Plan(
        name,
        config,
        spec,
        family,
        factors,
        replicates,
        list(rows),
        points,
        solved,
        parameters,
        metrics,
        rank_by,
        description,
    )


def _check_claims(claims: list[Claim], rows: list[str]) -> None:
    """Each claim names known rows, as many as its kind needs."""
    for number, claim in enumerate(claims):
        where = f"compare.claims.{number} ({claim.text!r})"
        for row in [*claim.rows, *(claim.among or [])]:
            if row not in rows:
                raise UserError(f"{where}: unknown row '{row}'", did_you_mean(row, rows))
        needed = {"best": 1, "worst": 1, "better": 2, "similar": 2}[claim.kind]
        if len(claim.rows) < needed or (claim.kind == "similar" and len(claim.rows) != 2):
            raise UserError(
                f"{where}: a '{claim.kind}' claim needs "
                f"{'exactly 2' if claim.kind == 'similar' else f'at least {needed}'} rows",
                "fix its rows",
            )
        if claim.kind == "similar" and claim.tolerance is None:
            raise UserError(
                f"{where}: a 'similar' claim needs a tolerance", "e.g. tolerance = 0.02"
            )


def _check_metrics(
    config: CompareConfig, family: Any, recipe: Recipe, splits: tuple[str, ...]
) -> tuple[list[str], str]:
    """The report's columns and ranking metric, each ``<split>_<a metric of the family>``."""
    monitor = recipe.train.monitor
    metrics = config.metrics or [f"valid_{monitor}", f"{splits[1]}_{monitor}"]
    rank_by = config.rank_by or next(
        (m for m in reversed(metrics) if m.startswith(f"{splits[1]}_")), metrics[-1]
    )
    known = [f"{s}_{m}" for s in splits for m in family.metrics]
    for where, name in [*(("compare.metrics", m) for m in metrics), ("compare.rank_by", rank_by)]:
        if metric_base(name, splits) not in family.metrics:
            raise UserError(f"{where}: '{name}' is not a metric", did_you_mean(name, known))
    for metric, values in config.published.items():
        if metric_base(metric, splits) not in family.metrics:
            raise UserError(
                f"compare.published: '{metric}' is not a metric", did_you_mean(metric, known)
            )
        if not isinstance(values, dict):
            raise UserError(f"compare.published.{metric} must map row names to numbers")
    return metrics, rank_by


# ---------------------------------------------------------------- running
def check_folder(out: Path, spec: dict[str, Any]) -> None:
    """Refuse a report folder that another grid (or something else) made."""
    stored = out / SPEC_FILE
    if stored.is_file():
        saved = json.loads(stored.read_text(encoding="utf-8")).get("spec")
        if saved != spec:
            a, b = flatten(saved or {}), flatten(spec)
            key = next(k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
            raise UserError(
                f"{out} holds a compare made by a different grid "
                f"({key}: {a.get(key)!r} there, {b.get(key)!r} now)",
                "pass a new --out, or delete that folder to start over",
            )
    elif out.exists() and any(out.iterdir()):
        raise UserError(
            f"{out} exists and is not a compare folder (no {SPEC_FILE})",
            "pass a new or empty --out",
        )


def _bundle_recipe(run_dir: Path) -> dict[str, Any] | None:
    config = run_dir / "bundle" / "config.json"
    if not config.is_file():
        return None
    return json.loads(config.read_text(encoding="utf-8")).get("recipe")


def measure_throughput(
    model: nn.Module, batches: Any, train: TrainConfig, steps: int = 20, warmup: int = 3
) -> float:
    """Training tokens per second of the whole step — forward, backward, clipping and the
    recipe's optimiser — over ``steps`` batches after ``warmup`` (the weights change)."""
    device = next(model.parameters()).device
    model.train()
    optimizer = build_optimizer(model, dataclasses.replace(train, lr=1e-12))
    tokens, started = 0, 0.0
    pool = list(itertools.islice(iter(batches), steps + warmup))  # reused if the split is short
    for index, batch in enumerate(itertools.islice(itertools.cycle(pool), steps + warmup)):
        if index == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
        batch = batch.to(device)
        loss = model(batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if train.clip_norm:
            nn.utils.clip_grad_norm_(model.parameters(), train.clip_norm)
        optimizer.step()
        if index >= warmup:
            tokens += int(batch.lengths.sum())
    if device.type == "cuda":
        torch.cuda.synchronize()
    return tokens / max(time.perf_counter() - started, 1e-9)


def _steps_trained(run_dir: Path) -> int:
    """The optimiser steps of a finished run: the last evaluation's ``step``."""
    last = 0
    path = run_dir / "metrics.jsonl"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("kind") == "valid":
                last = row["step"]
    return last


def finish_point(plan: Plan, point: Point, run_dir: Path, data: _Data) -> dict[str, Any]:
    """After training: parameters, tokens/s, the diagnosis; the record ``point.json`` keeps."""
    from seqlab.bundle import load_bundle
    from seqlab.compare.diagnose import diagnose_bundle, with_overrides

    device = resolve_device(point.recipe.train.device)
    bundle = load_bundle(run_dir / "bundle", device=str(device))
    model = bundle.model
    torch_model = isinstance(model, nn.Module)
    steps = _steps_trained(run_dir)
    record: dict[str, Any] = {
        "status": "done",
        "name": point.name,
        "row": point.row,
        "values": point.values,
        "parameters": sum(p.numel() for p in model.parameters()) if torch_model else 0,
        "steps": steps,
        "tokens": point.budget.tokens_at(steps),
        "tokens_per_step": point.budget.tokens_per_step,
        "metrics": bundle.metrics,
        "diagnose": None,
    }
    if plan.config.diagnose and point.first and torch_model:
        try:
            prepared = data(with_overrides(point.recipe, plan.config.diagnose_set))
            diagnosis = diagnose_bundle(
                bundle, plan.config.diagnose_batches, label=point.row, prepared=prepared
            )
            record["diagnose"] = diagnosis.to_dict()
        except UserError as error:
            record["diagnose"] = {"skipped": str(error)}
    if torch_model:
        batches = data(point.recipe).batches["train"]
        record["tokens_per_second"] = measure_throughput(model, batches, point.recipe.train)
    return record


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def claim_point(run_dir: Path) -> str | None:
    """Take ``run_dir``'s lock for this process: None if taken, else who holds it (a
    live process, or one on another host). A dead process's lock on this host is taken
    over."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = run_dir / LOCK_FILE
    me = f"{os.getpid()} {socket.gethostname()}"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = lock.read_text(encoding="utf-8").strip()
            pid, _, host = holder.partition(" ")
            if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
                lock.unlink(missing_ok=True)  # stale: its process died
                continue
            return holder or "another process"
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(me)
        return None
    return "another process"


def run_compare(
    plan: Plan,
    out: str | Path,
    console: Console | None = None,
    command: str | None = None,
) -> list[dict[str, Any]]:
    """Train every point not yet done (resuming a half-finished one) and not being
    trained by another process (module doc); return the records of the finished ones.

    A point whose training raises a UserError (e.g. a loss that became nan) is recorded
    as failed — deterministic, so it is not retried; delete its ``point.json`` to retry
    it (from its checkpoint, if it wrote one).
    """
    console = console or Console()
    out = Path(out)
    check_folder(out, plan.spec)
    out.mkdir(parents=True, exist_ok=True)
    budget = plan.points[0].budget
    console.print(
        f"[bold]{plan.name}[/]: {len(plan.points)} runs, {budget.tokens:,} training tokens each"
    )
    for row in plan.rows:
        size = f"{plan.config.solve} = {plan.solved[row]}, " if plan.solved else ""
        console.print(f"  {row}: {size}{plan.parameters[row]:,} parameters")
    if not (out / SPEC_FILE).is_file():
        atomic.write_json(out / SPEC_FILE, {"spec": plan.spec, "command": command})
    data = _Data()
    for number, point in enumerate(plan.points, 1):
        run_dir = out / "runs" / point.name
        record_path = run_dir / POINT_FILE
        title = f"[{number}/{len(plan.points)}] {point.name}"
        if record_path.is_file():
            record = json.loads(record_path.read_text(encoding="utf-8"))
            if record.get("status") == "failed":
                console.print(
                    f"{title}: [red]failed[/] earlier ({record['error']}) — delete "
                    f"{record_path} to retry it (its checkpoint, if any, resumes)"
                )
            else:
                console.print(f"{title}: done")
            continue
        holder = claim_point(run_dir)
        if holder is not None:
            console.print(f"{title}: being trained by process {holder} — skipped here")
            continue
        try:
            _train_point(plan, point, run_dir, data, console, title)
        finally:
            (run_dir / LOCK_FILE).unlink(missing_ok=True)
    # Read back every record: other processes may have finished points meanwhile.
    records = [
        json.loads(path.read_text(encoding="utf-8"))
        for point in plan.points
        if (path := out / "runs" / point.name / POINT_FILE).is_file()
    ]
    if len(records) < len(plan.points):
        console.print(
            f"{len(plan.points) - len(records)} run(s) are still being trained by other "
            f"processes: this report covers the {len(records)} finished; the last process "
            "to end writes the whole report"
        )
    return records


def _train_point(
    plan: Plan, point: Point, run_dir: Path, data: _Data, console: Console, title: str
) -> None:
    """Train (or resume) one point holding its lock; write its record (``point.json``)."""
    record_path = run_dir / POINT_FILE
    if record_path.is_file():  # finished by another process since the loop looked
        return
    if _bundle_recipe(run_dir) != point.resolved:
        resume = (run_dir / "checkpoint.pt").is_file()
        console.rule(f"{title}: {'resuming' if resume else 'training'}")
        try:
            train_recipe(point.recipe, run_dir, resume=resume, console=console)
        except UserError as error:
            console.print(f"[red]{point.name} failed[/]: {error}")
            record = {
                "status": "failed",
                "name": point.name,
                "row": point.row,
                "values": point.values,
                "error": str(error),
            }
            atomic.write_json(record_path, record)
            return
    atomic.write_json(record_path, finish_point(plan, point, run_dir, data))
