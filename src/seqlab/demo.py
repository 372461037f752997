"""`make demo` / `seqlab demo`: two real models in a few minutes on a laptop CPU.

1. A 2x200 word-level LSTM language model on Penn Treebank (Zaremba 2014 "small"
   set-up, time-boxed), beside unigram and add-k bigram count models.
2. A BiLSTM sentiment classifier on the MR movie-review sentences, beside TF-IDF +
   logistic regression fitted on the same split.
Both are saved as bundles, loaded back from disk and used: predictions and text.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from seqlab.bundle import load_bundle
from seqlab.errors import UserError
from seqlab.families import GenerateRequest
from seqlab.recipe import load_recipe
from seqlab.run import train_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
QUICK = ["train.max_minutes=0.3", "train.epochs=1", "data.limit=3000"]


def _recipe_path(name: str) -> Path:
    path = RECIPES / name
    if not path.is_file():
        raise UserError(
            f"recipe {path} not found", "run the demo from a clone of the seqlab repository"
        )
    return path


def run_demo(out: Path, quick: bool = False, console: Console | None = None) -> dict[str, dict]:
    console = console or Console()
    started = time.monotonic()
    results = {}
    for name, recipe_file, extra in [
        ("ptb", "ptb-lstm-demo.toml", []),
        ("mr", "mr-bilstm.toml", ["train.max_minutes=1.5"]),
    ]:
        overrides = extra + (QUICK if quick else [])
        recipe = load_recipe(_recipe_path(recipe_file), overrides)
        command = f"seqlab train recipes/{recipe_file}" + "".join(f" --set {o}" for o in overrides)
        results[name] = train_recipe(recipe, out / recipe.name, command=command, console=console)

    lm, clf = results["ptb"].metrics, results["mr"].metrics
    table = Table(title="seqlab demo — measured in this run")
    for column in ("task", "model", "metric", "value", "baseline (same run)", "published"):
        table.add_column(column)
    table.add_row(
        "PTB word LM",
        "LSTM 2x200",
        "test perplexity",
        f"{lm['test_ppl']:.1f}",
        f"unigram {lm['test_unigram_ppl']:.0f} / bigram {lm['test_bigram_ppl']:.0f}",
        "Zaremba 2014 small: 114.5 (13 epochs)",
    )
    table.add_row(
        "MR sentiment",
        "BiLSTM 128",
        "test accuracy",
        f"{clf['test_accuracy']:.3f}",
        f"TF-IDF+LR {clf['test_tfidf_logreg_accuracy']:.3f}",
        "Kim 2014 CNN-rand 0.761, +word2vec 0.815",
    )
    console.print(table)

    console.rule("using the saved bundles (loaded from disk)")
    lm_bundle = load_bundle(results["ptb"].bundle)
    request = GenerateRequest(prompt="the stock market", max_new_tokens=20, num_return_sequences=2)
    for text in lm_bundle.family.generate(lm_bundle, request).texts:
        console.print(f"[green]generate[/] {text}")
    clf_bundle = load_bundle(results["mr"].bundle)
    reviews = [
        "a gorgeous , witty and deeply moving film",
        "a dull , lifeless mess that drags on forever",
        "the acting is fine but the story never comes alive",
    ]
    answers = clf_bundle.predict([clf_bundle.family.request_from_text(t) for t in reviews])
    for text, answer in zip(reviews, answers, strict=True):
        console.print(f"[green]predict[/] {answer.label} ({answer.score:.2f})  {text}")
    console.print(f"demo finished in {time.monotonic() - started:.0f} s; bundles under {out}/")
    return {k: v.metrics for k, v in results.items()}
