"""The compare report: tables with 95% CIs, the ranking against published numbers, the
claims checked, learning curves, gradient flow — ``report.md``, a self-contained
``report.html`` (PNGs embedded as base64) and ``report.json``.

Everything in it is computed from the runs' records (``OUT/runs/*/point.json``,
``metrics.jsonl``): the prose around a claim says what the numbers say, never more.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from seqlab import atomic
from seqlab.compare.diagnose import Diagnosis, plot_gate_saturation, plot_gradient_flow
from seqlab.compare.grid import Claim, Plan, metric_base
from seqlab.compare.stats import mean_ci, spearman, welch_ci

CONFIDENCE = 0.95
RATIO_DISTANCES = (5, 10, 20, 50)  # the gradient-flow table's columns (those measured)

Block = tuple  # ("h", level, text) | ("p", text) | ("table", header, rows) | ("img", file, alt)


# ---------------------------------------------------------------- numbers
def fmt(value: float | None, reference: float | None = None) -> str:
    """Four significant digits of ``reference`` (default: the value): 109.8, 4.699, 0.7750."""
    if value is None or not math.isfinite(value):
        return "–"
    scale = abs(reference if reference is not None and math.isfinite(reference) else value)
    decimals = 3 if scale == 0 else max(0, 3 - math.floor(math.log10(scale)))
    return f"{value:.{decimals}f}"


def fmt_ci(mean: float, half: float) -> str:
    return fmt(mean) if not math.isfinite(half) else f"{fmt(mean)} ± {fmt(half, mean)}"


@dataclass
class Row:
    """One row of the results: its done runs' numbers, means and CIs."""

    label: str
    runs: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    samples: dict[str, list[float]] = field(default_factory=dict)  # metric -> one per run

    def stat(self, metric: str) -> tuple[float, float]:
        return mean_ci(self.samples.get(metric, []), CONFIDENCE)

    def mean(self, key: str) -> float:
        values = [run[key] for run in self.runs if run.get(key) is not None]
        return sum(values) / len(values) if values else math.nan


def collect(plan: Plan, records: list[dict[str, Any]]) -> list[Row]:
    """Rows in ranking order (best first by ``plan.rank_by``); rows without runs last."""
    rows = {label: Row(label, [], []) for label in plan.rows}
    for record in records:
        row = rows[record["row"]]
        if record["status"] != "done":
            row.failed.append(record)
            continue
        row.runs.append(record)
        for metric in {*plan.metrics, plan.rank_by}:
            value = record["metrics"].get(metric)
            if isinstance(value, (int, float)):
                row.samples.setdefault(metric, []).append(float(value))
    sign = -1.0 if plan.higher_is_better else 1.0

    def key(row: Row) -> tuple[int, float]:
        mean = row.stat(plan.rank_by)[0]
        return (0, sign * mean) if math.isfinite(mean) else (1, 0.0)

    return sorted(rows.values(), key=key)


# ---------------------------------------------------------------- claims
ORDER = ["no", "no, within noise", "yes, within noise", "yes"]


def judge(claim: Claim, samples: dict[str, list[float]], higher: bool) -> tuple[str, str]:
    """The verdict on ``claim`` from ``samples`` (row -> values, one per run) and a detail.

    ``yes`` / ``no``; for ``better`` also ``yes, within noise`` / ``no, within noise``
    when the 95% Welch interval of the difference contains 0; ``n/a`` without numbers.
    """
    means = {row: sum(v) / len(v) for row, v in samples.items() if v}
    needed = [*claim.rows, *(claim.among or [])]
    missing = [row for row in needed if row not in means]
    if missing:
        return "n/a", f"no numbers for {', '.join(missing)}"
    best_first = sorted(claim.among or list(means), key=lambda r: -means[r] if higher else means[r])
    if claim.kind in ("best", "worst"):
        count = len(claim.rows)
        chosen = best_first[:count] if claim.kind == "best" else best_first[-count:]
        verdict = "yes" if set(chosen) == set(claim.rows) else "no"
        return verdict, f"{claim.kind} {count} of {len(best_first)}: {', '.join(chosen)}"
    first = claim.rows[0]
    if claim.kind == "similar":
        other = claim.rows[1]
        gap = abs(means[first] - means[other])
        tolerance = claim.tolerance or 0.0
        verdict = "yes" if gap <= tolerance else "no"
        return verdict, f"|{first} − {other}| = {fmt(gap, means[first])} (tolerance {tolerance})"
    verdicts, details = [], []
    for other in claim.rows[1:]:
        diff, half = welch_ci(samples[first], samples[other], CONFIDENCE)
        gain = diff if higher else -diff  # > 0: `first` is better
        noisy = math.isfinite(half) and abs(gain) <= half
        verdicts.append(("yes" if gain > 0 else "no") + (", within noise" if noisy else ""))
        shown = fmt(diff, means[first])  # the metric's own decimals
        if math.isfinite(half):
            shown += f" ± {fmt(half, means[first])}"
        details.append(f"{first} − {other} = {shown}")
    return min(verdicts, key=ORDER.index), "; ".join(details)


# ---------------------------------------------------------------- curves
def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _mean_curve(curves: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Pointwise mean of curves (x from the first), cut to the shortest."""
    curves = [c for c in curves if c]
    if not curves:
        return []
    size = min(len(c) for c in curves)
    return [(curves[0][i][0], sum(c[i][1] for c in curves) / len(curves)) for i in range(size)]


def plot_curves(plan: Plan, rows: list[Row], runs_dir: Path, path: Path) -> str:
    """Train loss and a validation metric against training tokens, mean over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    valid = next((m for m in plan.metrics if m.startswith("valid_")), "valid_loss")
    name = metric_base(valid, ("valid",)) or "loss"
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    for row in rows:
        train_curves, valid_curves = [], []
        for run in row.runs:
            lines = _read_jsonl(runs_dir / run["name"] / "metrics.jsonl")
            per_step = run["tokens_per_step"]
            train_curves.append(
                [(r["step"] * per_step, r["loss"]) for r in lines if r.get("kind") == "train"]
            )
            valid_curves.append(
                [(r["step"] * per_step, r[name]) for r in lines if r.get("kind") == "valid"]
            )
        for ax, curve in ((left, _mean_curve(train_curves)), (right, _mean_curve(valid_curves))):
            if curve:
                xs, ys = zip(*curve, strict=True)
                ax.plot(xs, ys, "o-" if len(xs) < 12 else "-", label=row.label, markersize=3)
    for ax in (left, right):
        values = [y for line in ax.get_lines() for y in line.get_ydata()]
        if values and min(values) > 0 and max(values) > 10 * min(values):
            ax.set_yscale("log")  # e.g. perplexities of runs that diverged beside good ones
    left.set_title("train loss (running mean over the epoch)")
    right.set_title(f"{valid} after each epoch")
    for ax in (left, right):
        ax.set_xlabel("training tokens")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle(f"learning curves (mean over {', '.join(plan.replicates) or 'runs'})")
    fig.tight_layout()
    from seqlab.evaluate.plots import save_figure

    save_figure(fig, path)
    return path.name


# ---------------------------------------------------------------- rendering
def _inline_html(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def to_markdown(blocks: Sequence[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
            lines.append("")
        elif kind == "img":
            lines += [f"![{block[2]}]({block[1]})", ""]
    return "\n".join(lines).rstrip() + "\n"


def to_html(blocks: Sequence[Block], folder: Path, title: str) -> str:
    """One self-contained page: images are embedded as base64 data URLs."""
    body: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            body.append(f"<h{block[1]}>{_inline_html(block[2])}</h{block[1]}>")
        elif kind == "p":
            body.append(f"<p>{_inline_html(block[1])}</p>")
        elif kind == "table":
            head = "".join(f"<th>{_inline_html(str(c))}</th>" for c in block[1])
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline_html(str(c))}</td>" for c in row) + "</tr>"
                for row in block[2]
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "img":
            data = base64.b64encode((folder / block[1]).read_bytes()).decode("ascii")
            alt = html.escape(block[2])
            body.append(f'<p><img alt="{alt}" src="data:image/png;base64,{data}"></p>')
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
        "line-height:1.45}table{border-collapse:collapse;margin:1em 0;font-size:14px}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}"
        "img{max-width:100%}code{background:#f3f3f3;padding:0 3px}"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{style}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


# ---------------------------------------------------------------- the report
@dataclass
class Report:
    """What :func:`write_report` made: the blocks and the numbers (``report.json``)."""

    blocks: list[Block]
    data: dict[str, Any]
    paths: dict[str, Path]


def _budget_text(plan: Plan) -> str:
    budgets = {(p.budget.tokens, p.budget.epochs, p.budget.max_steps) for p in plan.points}
    b = plan.points[0].budget
    steps = f", stopping at step {b.max_steps:,}" if b.max_steps else ""
    same = "every run" if len(budgets) == 1 else "the first run (budgets differ by data)"
    return (
        f"Budget: equal training tokens — {b.tokens:,} for {same} "
        f"({b.epochs} epoch(s) of {b.tokens_per_epoch:,} tokens{steps}; {b.steps:,} steps of "
        f"{b.tokens_per_step:,.0f} tokens). Not equal wall time, which would favour fast "
        "kernels: tokens/s is measured separately (the whole training step — forward, "
        "backward, clipping, optimiser — timed over 20 batches after each run)."
    )


def _grid_text(plan: Plan) -> str:
    grid = " × ".join(
        f"`{key}` ∈ {{{', '.join(str(v) for v in values)}}}"
        for key, values in plan.config.grid.items()
    )
    text = f"Grid: {grid} — {len(plan.points)} runs."
    if plan.replicates:
        text += (
            f" Each row is the mean ± {CONFIDENCE:.0%} confidence interval over "
            f"{', '.join(f'`{k}`' for k in plan.replicates)} (Student t, n − 1 degrees of freedom)."
        )
    return text


def _diagnoses(rows: list[Row]) -> tuple[list[Diagnosis], list[str]]:
    found, skipped = [], []
    for row in rows:
        for run in row.runs:
            raw = run.get("diagnose")
            if raw and "skipped" in raw:
                skipped.append(f"{row.label}: {raw['skipped']}")
            elif raw:
                found.append(Diagnosis.from_dict(raw))
    return found, skipped


def build_report(plan: Plan, records: list[dict[str, Any]], out: str | Path) -> Report:
    """Compute every table and verdict and draw the plots into ``out``."""
    out = Path(out)
    rows = collect(plan, records)
    higher = plan.higher_is_better
    published = plan.config.published
    config = plan.config
    blocks: list[Block] = [("h", 1, f"{plan.name}: comparing {len(plan.rows)} configurations")]
    blocks.append(("p", f"Task `{plan.points[0].recipe.task}`; data: {plan.description}."))
    blocks.append(("p", _grid_text(plan)))
    blocks.append(("p", _budget_text(plan)))
    if config.parameters:
        blocks.append(
            (
                "p",
                f"Parameters: every row matched to {config.parameters:,} "
                f"(±{config.tolerance:.0%}) by solving `{config.solve}`.",
            )
        )
    for row, values in config.overrides.items():
        shown = ", ".join(f"`{k}` = {v}" for k, v in values.items())
        blocks.append(("p", f"Row {row} differs from the base recipe in: {shown}."))

    # ---- results
    direction = "higher" if higher else "lower"
    blocks.append(("h", 2, "Results"))
    blocks.append(("p", f"Ranked by `{plan.rank_by}` ({direction} is better)."))
    solved = [config.solve.rsplit(".", 1)[-1]] if plan.solved else []
    header = ["rank", "row", *solved, "parameters", "tokens/s", "trained tokens", *plan.metrics]
    header += [f"published {m}" for m in published] + ["runs"]
    table = []
    results = []
    for rank, row in enumerate(rows, 1):
        cells = [str(rank) if row.runs else "–", row.label]
        cells += [str(plan.solved[row.label])] if plan.solved else []
        cells += [f"{plan.parameters[row.label]:,}", fmt(row.mean("tokens_per_second"))]
        cells.append(f"{row.mean('tokens'):,.0f}" if row.runs else "–")
        cells += [fmt_ci(*row.stat(m)) for m in plan.metrics]
        cells += [fmt(published[m].get(row.label)) for m in published]
        runs = f"{len(row.runs)}" + (f" ({len(row.failed)} failed)" if row.failed else "")
        table.append([*cells, runs])
        results.append(
            {
                "row": row.label,
                "rank": rank if row.runs else None,
                "parameters": plan.parameters[row.label],
                "solved": plan.solved.get(row.label),
                "tokens_per_second": row.mean("tokens_per_second"),
                "runs": len(row.runs),
                "failed": [r["error"] for r in row.failed],
                "metrics": {
                    m: dict(zip(("mean", "ci95"), row.stat(m), strict=True)) for m in plan.metrics
                },
                "samples": row.samples,
            }
        )
    blocks.append(("table", header, table))

    # ---- ranking against the published column
    ours = {row.label: row.stat(plan.rank_by)[0] for row in rows if row.runs}
    reference = published.get(plan.rank_by, {})
    common = [label for label in ours if label in reference]
    rho = spearman([ours[r] for r in common], [reference[r] for r in common])
    if reference:
        source = f" ({config.published_source})" if config.published_source else ""
        if math.isfinite(rho):
            text = (
                f"Spearman ρ between this ranking and the published `{plan.rank_by}` "
                f"column{source}: ρ = {rho:.2f} over {len(common)} rows."
            )
        else:
            text = f"Spearman ρ: not computed ({len(common)} rows with published numbers)."
        published_order = sorted(common, key=lambda r: -reference[r] if higher else reference[r])
        blocks += [("h", 2, "Ranking against the published numbers"), ("p", text)]
        blocks.append(("p", f"Published order: {', '.join(published_order)}."))
        blocks.append(("p", f"Order here: {', '.join(r for r in ours if r in reference)}."))

    # ---- claims
    claims = []
    if config.claims:
        samples = {row.label: row.samples.get(plan.rank_by, []) for row in rows}
        paper = {label: [value] for label, value in reference.items()}
        claim_rows = []
        for claim in config.claims:
            here, detail = judge(claim, samples, higher)
            there, there_detail = judge(claim, paper, higher) if reference else ("n/a", "")
            claim_rows.append([claim.text, there, here, detail])
            claims.append(
                {
                    "claim": claim.text,
                    "published": there,
                    "here": here,
                    "detail": detail,
                    "published_detail": there_detail,
                }
            )
        blocks.append(("h", 2, "Claims"))
        blocks.append(
            (
                "p",
                f"Judged on `{plan.rank_by}` means, here and on the published column; for a "
                f"pairwise claim the {CONFIDENCE:.0%} Welch interval of the difference says "
                "whether it is beyond seed noise.",
            )
        )
        blocks.append(("table", ["claim", "published numbers", "this run", "detail"], claim_rows))
        groups = {
            "Reproduced here": [c["claim"] for c in claims if c["here"] == "yes"],
            "In direction only (within seed noise)": [
                c["claim"] for c in claims if c["here"] == "yes, within noise"
            ],
            "Not reproduced": [c["claim"] for c in claims if c["here"].startswith("no")],
        }
        blocks.append(("p", " ".join(f"{k}: {'; '.join(v) or 'none'}." for k, v in groups.items())))

    # ---- scale
    tokens = plan.points[0].budget.tokens
    params = sorted(set(plan.parameters.values()))
    shown = f"{params[0]:,}" if len(params) == 1 else f"{params[0]:,}–{params[-1]:,}"
    seeds = max((len(row.runs) for row in rows), default=0)
    scale = f"Here: {shown} parameters per model, {tokens:,} training tokens per run"
    scale += f", {seeds} run(s) per row."
    if config.published_source or config.scale_note:
        blocks.append(("h", 2, "Scale: what differs from the published set-up"))
        if config.published_source:
            blocks.append(("p", f"Published: {config.published_source}."))
        if config.scale_note:
            blocks.append(("p", config.scale_note))
        blocks.append(("p", scale))

    # ---- plots
    paths: dict[str, Path] = {}
    if any(row.runs for row in rows):
        blocks.append(("h", 2, "Learning curves"))
        paths["curves"] = out / plot_curves(plan, rows, out / "runs", out / "learning_curves.png")
        blocks.append(("img", paths["curves"].name, "learning curves"))
    diagnoses, skipped = _diagnoses(rows)
    diagnosis_data = [d.to_dict() for d in diagnoses]
    if diagnoses or skipped:
        blocks.append(("h", 2, "Gradient flow through time"))
        blocks.append(
            (
                "p",
                "‖∂L_T/∂h_t‖ for the top layer's hidden states, loss at the last step only, "
                "over the first run of each row (trained), on validation batches; ratios to "
                "the gradient at the last step (T − t = 0).",
            )
        )
    if diagnoses:
        paths["gradient_flow"] = out / "gradient_flow.png"
        paths["gate_saturation"] = out / "gate_saturation.png"
        plot_gradient_flow(diagnoses, paths["gradient_flow"])
        plot_gate_saturation(diagnoses, paths["gate_saturation"])
        longest = max(len(d.norms) for d in diagnoses)
        distances = [d for d in RATIO_DISTANCES if d < longest]
        header = ["row", *(f"ratio at T − t = {d}" for d in distances), "decay / step"]
        header.append("saturated gates (< 0.1 or > 0.9)")
        table = []
        for d in sorted(diagnoses, key=lambda d: -d.decay_per_step()):
            gates = ", ".join(f"{g} {share:.0%}" for g, share in d.saturation.items()) or "no gates"
            table.append(
                [d.label, *(f"{d.ratio(k):.2e}" for k in distances), fmt(d.decay_per_step()), gates]
            )
        blocks.append(("img", paths["gradient_flow"].name, "gradient flow"))
        blocks.append(("table", header, table))
        blocks.append(("img", paths["gate_saturation"].name, "gate saturation"))
    for line in skipped:
        blocks.append(("p", f"Not diagnosed: {line}."))

    # ---- runs
    blocks.append(("h", 2, "Runs"))
    run_rows = []
    for record in sorted(records, key=lambda r: r["name"]):
        if record["status"] == "done":
            m = record["metrics"]
            note = m.get("stopped", "")
            run_rows.append(
                [
                    record["name"],
                    record["row"],
                    "done",
                    m.get("epochs", "–"),
                    f"{record['steps']:,}",
                    f"{m.get('train_seconds', 0):,.0f}",
                    note,
                ]
            )
        else:
            run_rows.append(
                [record["name"], record["row"], "failed", "–", "–", "–", record["error"]]
            )
    blocks.append(
        ("table", ["run (runs/…)", "row", "status", "epochs", "steps", "train s", "note"], run_rows)
    )
    data = {
        "name": plan.name,
        "rank_by": plan.rank_by,
        "higher_is_better": higher,
        "budget_tokens": tokens,
        "rows": results,
        "spearman": rho if math.isfinite(rho) else None,
        "spearman_rows": common,
        "published": reference,
        "claims": claims,
        "diagnose": diagnosis_data,
    }
    return Report(blocks, data, paths)


def write_report(
    plan: Plan, records: list[dict[str, Any]], out: str | Path, console: Console | None = None
) -> Report:
    """``report.md``, ``report.html``, ``report.json`` and the PNGs in ``out``; prints the
    ranking, Spearman's ρ and the claims."""
    out = Path(out)
    report = build_report(plan, records, out)
    atomic.write_text(out / "report.md", to_markdown(report.blocks))
    atomic.write_text(out / "report.html", to_html(report.blocks, out, plan.name))
    atomic.write_json(out / "report.json", report.data)
    report.paths |= {k: out / f"report.{k}" for k in ("md", "html", "json")}
    if console is not None:
        _print(report, console)
    return report


def _print(report: Report, console: Console) -> None:
    data = report.data
    rank_by = data["rank_by"]
    table = Table(title=f"{data['name']} (full table: report.md)")
    for column in ("rank", "row", "parameters", "tokens/s", f"{rank_by} ± 95% CI", "published"):
        table.add_column(column, justify="left" if column == "row" else "right")
    for row in data["rows"]:
        stat = row["metrics"].get(rank_by) or dict(
            zip(("mean", "ci95"), mean_ci(row["samples"].get(rank_by, [])), strict=True)
        )
        table.add_row(
            str(row["rank"] or "–"),
            row["row"],
            f"{row['parameters']:,}",
            fmt(row["tokens_per_second"]),
            fmt_ci(stat["mean"], stat["ci95"])
            if row["runs"]
            else ("failed" if row["failed"] else "not run yet"),
            fmt(data["published"].get(row["row"])),
        )
    console.print(table)
    if data["spearman"] is not None:
        console.print(
            f"Spearman ρ vs published {rank_by}: {data['spearman']:.2f} "
            f"over {len(data['spearman_rows'])} rows"
        )
    for claim in data["claims"]:
        console.print(
            f"claim: {claim['claim']} — published: {claim['published']}; here: {claim['here']} "
            f"({claim['detail']})"
        )
    console.print(f"report: {report.paths['md']}  {report.paths['html']}")
