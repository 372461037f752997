"""The `seqlab` command line.

User mistakes (:class:`seqlab.errors.UserError`) print one line ``error: ...`` and
exit with code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import shlex
import sys
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


def _bundle_and_recipe(path: Path) -> tuple[Any, Any]:
    from seqlab.bundle import load_bundle
    from seqlab.recipe import recipe_from_dict

    bundle = load_bundle(path)
    recipe_file = path / "recipe.toml"
    if not recipe_file.is_file():
        raise UserError(f"bundle {path} has no recipe.toml", "re-create it with `seqlab train`")
    from seqlab.recipe import load_recipe_dict

    return bundle, recipe_from_dict(load_recipe_dict(recipe_file))


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
    from seqlab.tasks.run import train_recipe

    parsed = load_recipe(recipe, set_ or [])
    out = out or Path("runs") / parsed.name
    command = "seqlab train " + shlex.join([str(recipe), *[f"--set={s}" for s in set_ or []]])
    train_recipe(parsed, out, resume=resume, command=command, console=console)


@app.command()
def evaluate(
    bundle: Annotated[Path, typer.Argument(help="A bundle folder")],
    split: Annotated[str, typer.Option(help="Split of the recipe's data set")] = "test",
    data: Annotated[Path | None, typer.Option(help="Evaluate on this file instead")] = None,
) -> None:
    """Measure a saved model on a split of its data set or on a file of yours."""
    from seqlab.tasks import get_task

    loaded, recipe = _bundle_and_recipe(bundle)
    task = get_task(loaded.task)
    if data is not None:
        metrics = task.evaluate_file(loaded, recipe, str(data))
    else:
        if split not in ("train", "valid", "test"):
            raise UserError(f"unknown split '{split}'", "use train, valid or test")
        recipe.eval.split, recipe.eval.samples = split, 0
        labels = getattr(loaded, "labels", None) or None
        kwargs = {"labels": labels} if loaded.task == "classify" else {}
        prepared = task.prepare(recipe, tokenizer=loaded.tokenizer, **kwargs)
        metrics, _ = task.report(loaded.model, prepared, recipe)
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
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to classify")] = None,
    file: Annotated[Path | None, typer.Option(help="A file with one text a line")] = None,
    top: Annotated[int, typer.Option(help="Show this many classes / next tokens")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line")] = False,
) -> None:
    """Classify texts (classifier bundle) or show the likeliest next tokens (LM bundle)."""
    from seqlab.inference import predict_texts

    loaded, recipe = _bundle_and_recipe(bundle)
    results = predict_texts(loaded, recipe, _read_inputs(texts, file), top=top)
    for result in results:
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False))
        else:
            shown = ", ".join(f"{c['label']} {c['probability']:.3f}" for c in result["top"])
            typer.echo(f"{shown}\t{result['text']}")


@app.command()
def generate(
    bundle: Annotated[Path, typer.Argument(help="A language-model bundle folder")],
    prompt: Annotated[str, typer.Option(help="Text to continue")] = "",
    max_tokens: Annotated[int, typer.Option(help="Tokens to generate")] = 40,
    temperature: Annotated[float, typer.Option(help="0 = greedy; higher = more random")] = 0.8,
    top_k: Annotated[int | None, typer.Option(help="Sample among the k likeliest")] = 40,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling mass")] = None,
    num: Annotated[int, typer.Option(help="Number of samples")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
) -> None:
    """Continue a prompt with a language-model bundle."""
    from seqlab.inference import generate_texts

    loaded, recipe = _bundle_and_recipe(bundle)
    for text in generate_texts(
        loaded, recipe, prompt, max_tokens, temperature, top_k, top_p, num, seed
    ):
        typer.echo(text)


@app.command()
def demo(
    quick: Annotated[bool, typer.Option(help="Tiny budgets (a smoke run, ~1 minute)")] = False,
    out: Annotated[Path, typer.Option(help="Where runs and bundles go")] = Path("runs/demo"),
) -> None:
    """Train a PTB word LM and an MR sentiment BiLSTM, compare with baselines, use the bundles."""
    from seqlab.demo import run_demo

    run_demo(out, quick=quick, console=console)


def _register_plugins() -> None:
    """Command groups that live beside their subject (data, text, word2vec)."""
    import importlib

    for module in ("seqlab.cli.data", "seqlab.cli.text", "seqlab.cli.w2v"):
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
    try:
        app()
    except UserError as exc:  # raised outside a command (e.g. while parsing)
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
