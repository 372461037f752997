"""The `seqlab` command line.

User mistakes (:class:`seqlab.errors.UserError`) print one line ``error: ...`` and
exit with code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from seqlab.errors import UserError


class _Group(TyperGroup):
    """Turns a UserError raised by any command into one line and exit code 2."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Group,
    help="seqlab: neural networks over sequences — train, evaluate, predict, generate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()


@app.callback()
def _root(
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            envvar="SEQLAB_THREADS",
            help="CPU threads for torch ops. 1 is often fastest when other jobs share the cores.",
        ),
    ] = None,
) -> None:
    """seqlab: neural networks over sequences — train, evaluate, predict, generate."""
    if threads is None:
        return
    if threads < 1:
        raise UserError(f"--threads {threads} must be at least 1", "e.g. --threads 1")
    import torch

    torch.set_num_threads(threads)


@app.command()
def train(
    recipe: Annotated[Path, typer.Argument(help="A TOML recipe, e.g. recipes/mr-bilstm.toml")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override: section.key=value")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder (default runs/NAME)")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the run folder's checkpoint")] = False,
) -> None:
    """Train the model a recipe describes; writes OUT/{metrics.jsonl,loss.png,bundle/}."""
    from seqlab.recipe import load_recipe
    from seqlab.run import train_recipe

    parsed = load_recipe(recipe, set_ or [])
    out = out or Path("runs") / parsed.name
    command = "seqlab train " + shlex.join([str(recipe), *[f"--set={s}" for s in set_ or []]])
    train_recipe(parsed, out, resume=resume, command=command, console=console)


@app.command()
def tasks() -> None:
    """The tasks seqlab trains (its families): model types and an example recipe each."""
    import typing

    from rich.table import Table

    from seqlab.families import FAMILIES

    table = Table(title="seqlab tasks")
    for column in ("task", "what", "model.type", "example"):
        table.add_column(column)
    for name, family in FAMILIES.items():
        members = typing.get_args(family.model_config) or (family.model_config,)
        types = " | ".join(t for member in members for t in member.TYPES)
        table.add_row(name, family.summary, types, f"seqlab train {family.example}")
    console.print(table)


Ensemble = Annotated[
    list[Path] | None,
    typer.Option(
        help="Another bundle of the same data: decode with the mean of the models' "
        "probabilities (repeat for more)"
    ),
]


def _with_ensemble(loaded: Any, ensemble: list[Path] | None) -> Any:
    """A loaded bundle, or with ``--ensemble`` it and those bundles combined by its family."""
    from seqlab.bundle import load_bundle

    if not ensemble:
        return loaded
    return loaded.family.ensemble([loaded, *(load_bundle(path) for path in ensemble)])


@app.command()
def evaluate(
    bundle: Annotated[Path, typer.Argument(help="A bundle folder")],
    split: Annotated[str, typer.Option(help="Split of the recipe's data set")] = "test",
    data: Annotated[Path | None, typer.Option(help="Evaluate on this file instead")] = None,
    dataset: Annotated[
        str | None,
        typer.Option(help="Evaluate on this registered data set's split instead (e.g. ucr/CBF)"),
    ] = None,
    table: Annotated[
        bool, typer.Option("--table", help="A table (per type, for taggers) instead of JSON")
    ] = False,
    ensemble: Ensemble = None,
) -> None:
    """Measure a saved model on a split of its data set, another data set or a file of yours."""
    from seqlab.bundle import load_bundle

    loaded = _with_ensemble(load_bundle(bundle), ensemble)
    if data is not None:
        metrics = loaded.family.evaluate_file(loaded, str(data))
    else:
        metrics = loaded.family.evaluate_dataset(loaded, dataset, split)
    if table:
        console.print(loaded.family.metrics_table(metrics))
    else:
        console.print_json(json.dumps(metrics))


def _read_inputs(texts: list[str] | None, file: Path | None) -> list[str]:
    from seqlab.data.readers import read_lines

    items = list(texts or [])
    if file is not None:
        items += read_lines(file)
    if not items:
        raise UserError("nothing to predict", "pass a TEXT argument or --file with one text a line")
    if any(not t.strip() for t in items):
        raise UserError("an input text is empty", "remove empty texts (one text a line)")
    return items


@app.command()
def predict(
    bundle: Annotated[Path, typer.Argument(help="A bundle folder")],
    texts: Annotated[
        list[str] | None, typer.Argument(help="Inputs (texts; series as numbers)")
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="A file with one input a line (a forecaster: a CSV series)")
    ] = None,
    top: Annotated[int, typer.Option(help="Show this many classes / next tokens")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line")] = False,
) -> None:
    """Answer the bundle's task for each input: a class, the next tokens, ..."""
    from seqlab.bundle import load_bundle

    loaded = load_bundle(bundle)
    inputs = _read_inputs(texts, None) if texts else []
    pairs = [(text, loaded.family.request_from_text(text, top_k=top)) for text in inputs]
    if file is not None:
        pairs += loaded.family.requests_from_file(loaded, file, top)
    if not pairs:
        raise UserError("nothing to predict", "pass a TEXT argument or --file with one text a line")
    inputs, requests = [text for text, _ in pairs], [request for _, request in pairs]
    for text, response in zip(inputs, loaded.predict(requests), strict=True):
        if as_json:
            typer.echo(json.dumps({"input": text, **response.model_dump()}, ensure_ascii=False))
        else:
            typer.echo(f"{loaded.family.show(response)}\t{text}")


@app.command()
def generate(
    bundle: Annotated[Path, typer.Argument(help="A text-generation bundle folder")],
    prompt: Annotated[str, typer.Option(help="Text to continue")] = "",
    max_tokens: Annotated[int, typer.Option(help="Tokens to generate")] = 40,
    temperature: Annotated[float, typer.Option(help="0 = greedy; higher = more random")] = 0.8,
    top_k: Annotated[int | None, typer.Option(help="Sample among the k likeliest")] = 40,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling mass")] = None,
    num: Annotated[int, typer.Option(help="Number of samples")] = 1,
    beams: Annotated[int, typer.Option(help="Beam search with this many beams (1 = sample)")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    truncate: Annotated[
        bool, typer.Option(help="Keep the last tokens of a prompt longer than the context")
    ] = False,
) -> None:
    """Continue a prompt with a text-generation bundle."""
    from seqlab.bundle import load_bundle
    from seqlab.families import GenerateRequest
    from seqlab.families.base import validated

    loaded = load_bundle(bundle)
    request = validated(
        GenerateRequest,
        prompt=prompt,
        max_new_tokens=max_tokens,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        num_return_sequences=num,
        num_beams=beams,
        seed=seed,
        truncate=truncate,
    )
    response = loaded.family.generate(loaded, request)
    if response.truncated:
        typer.echo("note: the prompt was truncated to the model's context", err=True)
    for text in response.texts:
        typer.echo(text)


@app.command()
def translate(
    bundle: Annotated[Path, typer.Argument(help="A translation bundle folder")],
    texts: Annotated[list[str] | None, typer.Argument(help="Sources to translate")] = None,
    file: Annotated[Path | None, typer.Option(help="A file with one source a line")] = None,
    beam: Annotated[int | None, typer.Option(help="Beam width (1 = greedy)")] = None,
    num: Annotated[int, typer.Option(help="Hypotheses to show")] = 1,
    max_length: Annotated[int | None, typer.Option(help="Longest output, in tokens")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Attention heatmap PNG (of the first source)")
    ] = None,
    truncate: Annotated[
        bool, typer.Option(help="Cut a source longer than the model's maximum")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line")] = False,
    ensemble: Ensemble = None,
) -> None:
    """Translate with a seq2seq bundle (beam search); --plot draws the attention."""
    from seqlab.bundle import load_bundle

    loaded = load_bundle(bundle)
    family = loaded.family
    if "beam_size" not in family.Request.model_fields:
        raise UserError(
            f"bundle {bundle} is a {family.task} model, not a translation model",
            "use `seqlab predict` for it",
        )
    loaded = _with_ensemble(loaded, ensemble)
    inputs = _read_inputs(texts, file)
    options = dict(beam_size=beam, max_length=max_length, truncate=truncate)
    requests = [
        family.request_from_text(text, top_k=num, attention=plot is not None and i == 0, **options)
        for i, text in enumerate(inputs)
    ]
    responses = loaded.predict(requests)
    if plot is not None:
        family.plot(responses[0], str(plot))
    for text, response in zip(inputs, responses, strict=True):
        if response.truncated:
            typer.echo(f"note: {text[:40]!r} was truncated to the model's maximum", err=True)
        if as_json:
            typer.echo(json.dumps({"input": text, **response.model_dump()}, ensure_ascii=False))
        else:
            typer.echo(f"{family.show(response)}\t{text}")


@app.command()
def demo(
    quick: Annotated[bool, typer.Option(help="Tiny budgets (a smoke run, ~1 minute)")] = False,
    out: Annotated[Path, typer.Option(help="Where runs and bundles go")] = Path("runs/demo"),
) -> None:
    """Train a PTB word LM and an MR sentiment BiLSTM, compare with baselines, use the bundles."""
    from seqlab.demo import run_demo

    run_demo(out, quick=quick, console=console)


def _register_plugins() -> None:
    """Command groups that live beside their subject (data, text, word2vec, compare, ts)."""
    import importlib

    for module in (
        "seqlab.cli.data",
        "seqlab.cli.text",
        "seqlab.cli.w2v",
        "seqlab.cli.compare",
        "seqlab.cli.ts",
        "seqlab.cli.embed",
        "seqlab.cli.probe",
    ):
        try:
            plugin = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        plugin.register(app)


_register_plugins()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
