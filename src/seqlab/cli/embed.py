"""``seqlab embed``: a pretrained encoder as a feature extractor, from the shell.

    seqlab embed index --model minilm --data bbc-news --out runs/bbc-index
    seqlab embed index --model minilm notes/ --out runs/notes-index     # a folder of .txt
    seqlab embed index --model minilm reviews.csv --column review --label-column stars --out IDX
    seqlab embed search runs/bbc-index "oil prices rise" --top 10
    seqlab embed similar runs/bbc-index 42 --top 5
    seqlab embed cluster runs/bbc-index --k 5            # or --method hdbscan
    seqlab embed outliers runs/bbc-index --top 10
    seqlab embed summarize --model minilm article.txt --sentences 3 --method textrank

A collection is a text file (one text a line), a CSV / TSV with a text column
(``--column``), a folder of .txt files (one text a file, the id is its path) or a
registered data set of labelled texts (``--data``). Output is a table, or with ``--json``
one JSON object a line. The work lives in :mod:`seqlab.embed` and
:mod:`seqlab.transfer.embedder`; these commands only read arguments and print.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from seqlab.errors import UserError

embed_app = typer.Typer(
    help="Texts as vectors: index, search, similar, cluster, outliers, summarize.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)  # progress and notes: stdout stays clean for --json

IndexDir = Annotated[Path, typer.Argument(help="An index folder (seqlab embed index --out)")]
Model = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="A BERT checkpoint folder, a seqlab bundle or a registered checkpoint (minilm)",
    ),
]
Top = Annotated[int, typer.Option("--top", min=1, help="How many to show")]
Json = Annotated[bool, typer.Option("--json", help="One JSON object a line")]
_SHOWN = 100  # characters of a text shown in a table cell


# -------------------------------------------------------------------- reading a collection
@dataclass
class Collection:
    texts: list[str]
    ids: list[str]
    labels: list[str] | None = None
    metadata: list[dict[str, Any]] = field(default_factory=list)


def _from_table(
    path: Path, column: str, id_column: str | None, label_column: str | None
) -> Collection:
    from seqlab.data.readers import _column, _rows, _sniff_delimiter, read_text

    text = read_text(path)
    rows = _rows(path, text, _sniff_delimiter(path, text))
    header, body = rows[0], rows[1:]

    def values(name: str | None, option: str) -> list[str] | None:
        if name is None:
            return None
        what = {"column": "text", "id_column": "id", "label_column": "label"}[option]
        index = _column(header, name, path, what, option)
        return [row[index] if index < len(row) else "" for row in body]

    texts = values(column, "column")
    assert texts is not None
    ids = values(id_column, "id_column") or [str(n) for n in range(2, len(body) + 2)]  # line no.
    return Collection(texts, ids, values(label_column, "label_column"))


def _from_folder(folder: Path) -> Collection:
    from seqlab.data.readers import read_text

    paths = sorted(folder.rglob("*.txt"))
    ids = [path.relative_to(folder).with_suffix("").as_posix() for path in paths]
    return Collection([read_text(p, allow_empty=True) for p in paths], ids)


def _from_dataset(name: str) -> Collection:
    from seqlab.data.datasets import TextClassification, load_dataset

    data = load_dataset(name)
    if not isinstance(data, TextClassification):
        raise UserError(
            f"data set {name!r} is not a collection of labelled texts",
            "use one such as bbc-news, mr, trec (see `seqlab datasets`)",
        )
    labels = [data.label_names[label] for label in data.labels]
    return Collection(list(data.texts), [str(i) for i in range(len(data.texts))], labels)


def read_collection(
    source: Path | None,
    data: str | None,
    column: str = "text",
    id_column: str | None = None,
    label_column: str | None = None,
    limit: int | None = None,
) -> Collection:
    """The texts of ``source`` (file, CSV / TSV, folder) or of the data set ``data``;
    ``limit``: a seeded sample of that many, in collection order."""
    if (source is None) == (data is None):
        raise UserError("give exactly one collection", "a FILE / FOLDER argument or --data NAME")
    if data is not None:
        found = _from_dataset(data)
    elif source is not None and source.is_dir():
        found = _from_folder(source)
    elif source is not None and source.suffix.lower() in (".csv", ".tsv"):
        found = _from_table(source, column, id_column, label_column)
    else:
        from seqlab.data.readers import read_text

        assert source is not None
        lines = read_text(source, allow_empty=True).splitlines()
        numbered = [(str(n), line) for n, line in enumerate(lines, 1) if line.strip()]
        found = Collection([line for _, line in numbered], [n for n, _ in numbered])
    keep = [row for row, text in enumerate(found.texts) if text.strip()]
    if not keep:
        raise UserError(f"{source or data} has no texts", "one text a line, file or row")
    if limit is not None and limit < len(keep):
        import numpy as np

        keep = sorted(np.random.default_rng(0).choice(keep, limit, replace=False).tolist())
    labels = None if found.labels is None else [found.labels[row] for row in keep]
    return Collection([found.texts[r] for r in keep], [found.ids[r] for r in keep], labels)


# -------------------------------------------------------------------- output helpers
@contextmanager
def _progress(what: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields the (done, total) callback embedders call."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        what, BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=errors,
        transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SHOWN else flat[: _SHOWN - 1] + "…"


def _emit(rows: list[dict[str, Any]], as_json: bool, title: str | None = None) -> None:
    """Rows as JSON lines, or a table whose columns are the rows' keys."""
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    # Columns no row fills (labels of an unlabelled collection) are left out.
    columns = [
        key
        for key in dict.fromkeys(key for row in rows for key in row if key != "metadata")
        if any(row.get(key) is not None for row in rows)
    ]
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else _short(str(value))


def _load_index(folder: Path, model: Path | None = None) -> Any:
    from seqlab.embed.index import EmbeddingIndex

    index = EmbeddingIndex.load(folder)
    if model is not None:
        index.use_model(model)
    return index


# -------------------------------------------------------------------- commands
@embed_app.command()
def index(
    source: Annotated[
        Path | None, typer.Argument(help="A text file (a text a line), CSV / TSV or folder")
    ] = None,
    model: Model = None,
    out: Annotated[Path | None, typer.Option("--out", help="The index folder to write")] = None,
    data: Annotated[str | None, typer.Option("--data", help="A registered data set")] = None,
    column: Annotated[str, typer.Option(help="CSV / TSV: the text column")] = "text",
    id_column: Annotated[str | None, typer.Option(help="CSV / TSV: an id column")] = None,
    label_column: Annotated[str | None, typer.Option(help="CSV / TSV: a label column")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="A seeded sample of N texts")] = None,
    pooling: Annotated[str | None, typer.Option(help="mean | max | cls | last")] = None,
    normalize: Annotated[bool, typer.Option(help="L2-normalise the vectors")] = True,
    batch_size: Annotated[int, typer.Option(min=1, help="Chunks per forward pass")] = 32,
    max_length: Annotated[int | None, typer.Option(min=2, help="Tokens per chunk")] = None,
    stride: Annotated[int | None, typer.Option(min=1, help="Tokens between chunk starts")] = None,
    chunk: Annotated[bool, typer.Option(help="Chunk long texts (else truncate)")] = True,
    as_json: Json = False,
) -> None:
    """Embed a collection (long texts chunked) and save an index folder."""
    from seqlab.embed.index import EmbeddingIndex
    from seqlab.transfer.embedder import load_embedder

    if model is None or out is None:
        raise UserError("index needs --model and --out", "e.g. --model minilm --out runs/idx")
    found = read_collection(source, data, column, id_column, label_column, limit)
    embedder = load_embedder(model, pooling, normalize, batch_size, max_length, stride, chunk)
    with _progress(f"embedding {len(found.texts):,} texts") as progress:
        built = EmbeddingIndex.build(embedder, found.texts, found.ids, found.labels, None, progress)
    built.save(out)
    summary = {"out": str(out), **{k: v for k, v in built.info.items() if k != "embedder"}}
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        long = summary.get("chunked", summary.get("truncated", 0))
        how = "chunked" if embedder.options.chunk else "truncated"
        console.print(
            f"{built.info['count']:,} texts ({long:,} {how}) x {built.info['dim']} "
            f"({built.info['model']}) -> {out}"
        )


@embed_app.command()
def search(
    folder: IndexDir,
    query: Annotated[str, typer.Argument(help="The query text")],
    top: Top = 10,
    model: Model = None,
    as_json: Json = False,
) -> None:
    """The items most similar to a query (exact cosine search)."""
    loaded = _load_index(folder, model)
    hits = loaded.search(query, top)
    _emit([hit.to_dict() for hit in hits], as_json, f"nearest to {_short(query)!r}")


@embed_app.command()
def similar(
    folder: IndexDir,
    item_id: Annotated[str, typer.Argument(help="An item id of the index")],
    top: Top = 5,
    as_json: Json = False,
) -> None:
    """More like this: the items nearest one of the index's items (itself excluded)."""
    loaded = _load_index(folder)
    hits = loaded.similar(item_id, top)
    _emit([hit.to_dict() for hit in hits], as_json, f"more like {item_id!r}")


@embed_app.command()
def outliers(
    folder: IndexDir,
    top: Top = 10,
    neighbours: Annotated[int, typer.Option(min=1, help="k nearest neighbours scored")] = 10,
    as_json: Json = False,
) -> None:
    """The items least similar to their nearest neighbours (score: mean cosine to them)."""
    loaded = _load_index(folder)
    hits = loaded.outliers(top, neighbours)
    _emit([hit.to_dict() for hit in hits], as_json, f"mean cosine to {neighbours} neighbours")


@embed_app.command()
def cluster(
    folder: IndexDir,
    k: Annotated[int, typer.Option("--k", min=1, help="KMeans: the number of clusters")] = 5,
    method: Annotated[str, typer.Option(help="kmeans | hdbscan")] = "kmeans",
    min_cluster_size: Annotated[int, typer.Option(min=2, help="HDBSCAN's smallest")] = 5,
    seed: Annotated[int, typer.Option(help="KMeans seed")] = 0,
    terms: Annotated[int, typer.Option(min=1, help="Top c-TF-IDF terms a cluster")] = 8,
    out: Annotated[Path | None, typer.Option(help="Write id,cluster rows to this CSV")] = None,
    as_json: Json = False,
) -> None:
    """Cluster the index's vectors; top terms per cluster, NMI / purity if labelled."""
    from seqlab.embed.cluster import cluster_index

    loaded = _load_index(folder)
    found = cluster_index(loaded, method, k, seed, min_cluster_size, terms)  # type: ignore[arg-type]
    rows = [c.to_dict() for c in found.clusters]
    if out is not None:
        from seqlab.atomic import write_text

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["id", "cluster"])
        writer.writerows(
            (item["id"], int(c)) for item, c in zip(loaded.items, found.labels, strict=True)
        )
        write_text(out, buffer.getvalue())
        errors.print(f"{len(loaded):,} assignments -> {out}")
    if as_json:
        _emit([*rows, {"metrics": found.metrics}] if found.metrics else rows, True)
        return
    _emit(rows, False, f"{method}: {len(rows)} clusters of {len(loaded):,} items")
    if found.metrics:
        console.print(
            f"against the items' labels: NMI {found.metrics['nmi']:.3f}, "
            f"purity {found.metrics['purity']:.3f}"
        )


@embed_app.command()
def summarize(
    file: Annotated[Path, typer.Argument(help="A text file: the document to summarise")],
    model: Model = None,
    sentences: Annotated[int, typer.Option(min=1, help="Sentences to keep")] = 3,
    method: Annotated[str, typer.Option(help="textrank | centroid | lead")] = "textrank",
    redundancy: Annotated[
        float | None, typer.Option(help="Skip a sentence this similar (cosine) to a chosen one")
    ] = None,
    as_json: Json = False,
) -> None:
    """An extractive summary: the most central sentences, in document order."""
    from seqlab.data.readers import read_text
    from seqlab.embed.summarize import summarize_text
    from seqlab.transfer.embedder import load_embedder

    text = read_text(file, "document")
    if model is None and method != "lead":
        raise UserError(f"--method {method} needs --model", "pass a model, or --method lead")
    embedder = None if model is None else load_embedder(model)
    found = summarize_text(text, embedder, sentences, method, redundancy=redundancy)
    if as_json:
        typer.echo(json.dumps(found.to_dict(), ensure_ascii=False))
        return
    for index, sentence in zip(found.indices, found.sentences, strict=True):
        console.print(f"[{index + 1}] {sentence}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``embed`` command group to the main seqlab app."""
    app.add_typer(embed_app, name="embed")
