"""``seqlab compare`` and ``seqlab diagnose``: architectures side by side.

    seqlab compare recipes/compare-ci.toml --out runs/compare-ci     # train the grid, report
    seqlab diagnose runs/compare-ci/runs/type-lstm__seed-1/bundle    # a trained model
    seqlab diagnose recipes/compare-ptb-5m.toml --set data.bptt=100  # every row, at init

See seqlab.compare and docs/architecture.md, "Comparing architectures".
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def compare_command(
    recipe: Annotated[Path, typer.Argument(help="A recipe with a \\[compare] table")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override: section.key=value")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Report folder (default runs/NAME); run again to resume into it"),
    ] = None,
) -> None:
    """Train a grid (cells x sizes x seeds, any recipe key) under one budget; write a report.

    OUT gets runs/POINT/ (run folders with bundles), report.md, report.html, report.json
    and PNGs. Finished runs are never retrained; an interrupted one resumes exactly.
    Start it again on the same OUT (another terminal, another core) and the second
    process trains the runs the first is not training.
    """
    from seqlab.compare.grid import plan_compare, run_compare
    from seqlab.compare.report import write_report

    started = time.monotonic()
    plan = plan_compare(recipe, set_ or [])
    out = out or Path("runs") / plan.name
    command = "seqlab compare " + shlex.join([str(recipe), *[f"--set={s}" for s in set_ or []]])
    records = run_compare(plan, out, console=console, command=command)
    write_report(plan, records, out, console=console)
    console.print(f"{len(records)} runs in {time.monotonic() - started:,.0f} s")


def diagnose_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Bundle folders (trained) or recipes (at init; a compare recipe: each row)"
        ),
    ],
    out: Annotated[Path, typer.Option(help="Folder for the PNGs and diagnose.json")] = Path(
        "runs/diagnose"
    ),
    batches: Annotated[int, typer.Option(help="Validation batches to average over")] = 4,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override for the data, e.g. data.bptt=100 (longer T)"),
    ] = None,
) -> None:
    """Gradient flow through time (‖∂L_T/∂h_t‖ against T − t) and gate saturation."""
    from seqlab.compare.diagnose import diagnose_path, write_diagnoses
    from seqlab.errors import UserError

    if batches < 1:
        raise UserError(f"--batches {batches} must be at least 1", "e.g. --batches 4")
    diagnoses = [d for path in paths for d in diagnose_path(path, batches, set_ or [])]
    written = write_diagnoses(diagnoses, out)
    table = Table(title="gradient flow (top layer) and gate saturation")
    for column in ("model", "T", "‖∂L_T/∂h_T‖", "ratio at T−t=10", "at T−1", "decay/step"):
        table.add_column(column, justify="left" if column == "model" else "right")
    table.add_column("saturated gates")
    for d in diagnoses:
        steps = len(d.norms)
        gates = ", ".join(f"{g} {s:.0%}" for g, s in d.saturation.items()) or "no gates"
        table.add_row(
            d.label,
            str(steps),
            f"{d.norms[0]:.3g}",
            f"{d.ratio(10):.2e}",
            f"{d.ratio(steps - 1):.2e}",
            f"{d.decay_per_step():.3f}",
            gates,
        )
    console.print(table)
    console.print(
        f"wrote {written['gradient_flow']}, {written['gate_saturation']}, {written['json']}"
    )


def register(app: typer.Typer) -> None:
    """Add ``compare`` and ``diagnose`` to ``app``."""
    app.command("compare")(compare_command)
    app.command("diagnose")(diagnose_command)
