"""``seqlab ts``: a trained time-series bundle on a CSV or a registered data set.

    seqlab ts forecast runs/co2-lstm/bundle --data co2 --plot co2.png  # the next H weeks
    seqlab ts forecast runs/sf-temps-lstm/bundle --csv temps.csv --out forecast.csv
    seqlab ts backtest runs/co2-lstm/bundle --csv co2.csv               # vs the baselines
    seqlab ts classify runs/ucr-cbf-fcn/bundle --data ucr/CBF --out labels.csv
    seqlab ts anomaly runs/ecg5000-anomaly/bundle --csv beats.tsv

Each command asks the bundle's family (``Family.ts_verbs`` lists what it answers) for
requests from the source (``requests_from_file`` / ``requests_from_dataset``), answers
them with ``predict`` and prints or writes ``Family.rows``; ``backtest`` is the family's
report (``evaluate_file`` / ``evaluate_dataset``). No command knows a task.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from seqlab.errors import UserError

ts_app = typer.Typer(
    help="Time series through a trained bundle: forecast, backtest, classify, anomaly.",
    no_args_is_help=True,
)
console = Console()

Bundle = Annotated[Path, typer.Argument(help="A bundle folder (runs/NAME/bundle)")]
Csv = Annotated[
    Path | None, typer.Option("--csv", help="A CSV / TSV file (the columns the model read)")
]
Data = Annotated[
    str | None, typer.Option("--data", help="A registered data set instead (e.g. co2, ucr/CBF)")
]
Out = Annotated[
    Path | None, typer.Option("--out", help="Write the rows to this CSV instead of a table")
]
Json = Annotated[bool, typer.Option("--json", help="One JSON object a line")]


def _load(bundle: Path, verb: str) -> Any:
    """The bundle, refused with one line when its family does not answer ``verb``."""
    from seqlab.bundle import load_bundle

    loaded = load_bundle(bundle)
    verbs = loaded.family.ts_verbs
    if verb not in verbs:
        answers = f"it answers `seqlab ts {' | '.join(verbs)}`" if verbs else "not a time series"
        raise UserError(
            f"bundle {bundle} is a {loaded.family.task} model: {answers}",
            f"`seqlab ts {verb}` needs a bundle that answers it (see `seqlab tasks`)",
        )
    return loaded


def _one_source(csv_path: Path | None, data: str | None) -> None:
    if (csv_path is None) == (data is None):
        raise UserError("give exactly one source", "--csv FILE or --data NAME")
    if csv_path is not None and not csv_path.is_file():
        raise UserError(f"no such file: {csv_path}", "check the path")


def _answer(
    verb: str, bundle: Path, csv_path: Path | None, data: str | None
) -> tuple[Any, list[str], list[Any], list[Any]]:
    """Load the bundle, read the requests of the source and answer them."""
    loaded = _load(bundle, verb)
    _one_source(csv_path, data)
    family = loaded.family
    if csv_path is not None:
        pairs = family.requests_from_file(loaded, csv_path)
    else:
        pairs = family.requests_from_dataset(loaded, data)
    if not pairs:
        raise UserError(f"{csv_path or data} has no series", "one series a row (or a column)")
    shown, requests = [s for s, _ in pairs], [r for _, r in pairs]
    return loaded, shown, requests, loaded.predict(requests)


def _emit(
    family: Any, shown: list[str], responses: list[Any], out: Path | None, as_json: bool
) -> None:
    """Rows of every response: a CSV file (written whole or not at all), JSON lines or a table."""
    rows = [row for s, r in zip(shown, responses, strict=True) for row in family.rows(s, r)]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    if out is not None:
        from seqlab.atomic import write_text

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text(out, buffer.getvalue())
        console.print(f"{len(rows):,} rows -> {out}")
    elif as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in columns))
        console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _series(command: Callable[..., None], *args: Any) -> None:
    """Answer every series of the source and emit the rows (the verb is the command's name)."""
    bundle, csv_path, data, out, as_json = args
    loaded, shown, _, responses = _answer(command.__name__, bundle, csv_path, data)
    _emit(loaded.family, shown, responses, out, as_json)


@ts_app.command()
def forecast(
    bundle: Bundle,
    csv: Csv = None,
    data: Data = None,
    out: Out = None,
    as_json: Json = False,
    plot: Annotated[
        Path | None, typer.Option(help="A PNG of the forecast after the series' last steps")
    ] = None,
) -> None:
    """The next H steps after the end of a series (and the quantiles, for a quantile model)."""
    loaded, shown, requests, responses = _answer(forecast.__name__, bundle, csv, data)
    _emit(loaded.family, shown, responses, out, as_json)
    if plot is not None:
        loaded.family.plot(responses[0], str(plot), request=requests[0])
        console.print(f"plot -> {plot}")


@ts_app.command()
def backtest(
    bundle: Bundle,
    csv: Csv = None,
    data: Data = None,
    split: Annotated[str, typer.Option(help="With --data: the span to backtest")] = "test",
    as_json: Json = False,
) -> None:
    """A rolling-origin backtest of the model beside the baselines (MASE, sMAPE, ...)."""
    loaded = _load(bundle, backtest.__name__)
    _one_source(csv, data)
    family = loaded.family
    if csv is not None:
        metrics = family.evaluate_file(loaded, str(csv))
    else:
        metrics = family.evaluate_dataset(loaded, data, split)
    if as_json:
        typer.echo(json.dumps(metrics))
    else:
        console.print(family.metrics_table(metrics))


@ts_app.command()
def classify(
    bundle: Bundle, csv: Csv = None, data: Data = None, out: Out = None, as_json: Json = False
) -> None:
    """The class of every series (one a row of --csv; --data: its test split)."""
    _series(classify, bundle, csv, data, out, as_json)


@ts_app.command()
def anomaly(
    bundle: Bundle, csv: Csv = None, data: Data = None, out: Out = None, as_json: Json = False
) -> None:
    """An anomaly score of every series and of its steps, and whether it is flagged."""
    _series(anomaly, bundle, csv, data, out, as_json)


def register(app: typer.Typer) -> None:
    """Add the ``ts`` command group to the main seqlab app."""
    app.add_typer(ts_app, name="ts")
