"""``seqlab w2v``: train word2vec on a text file and query/evaluate/plot the vectors.

    seqlab w2v train corpus.txt --out vectors/ --epochs 5         # one sentence per line
    seqlab w2v similar vectors/ king --topn 10
    seqlab w2v analogy vectors/ man king woman                   # man : king :: woman : ?
    seqlab w2v eval vectors/                                     # analogies, WordSim, SimLex
    seqlab w2v plot vectors/ king queen man woman --out words.png [--tsne]

``DIR`` may also be a word2vec ``.bin``/``.txt``/``.vec`` file or a navec ``.tar``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from seqlab.data.readers import read_text
from seqlab.errors import UserError

console = Console()
PARAMS_FILE = "word2vec.json"


def read_corpus(path: Path, lowercase: bool = True) -> list[list[str]]:
    """One sentence per line, tokenised with :class:`WordTokenizer` (punctuation dropped)."""
    from seqlab.text.tokenizers import WordTokenizer

    text = read_text(path, "corpus file", allow_empty=True)
    tokenizer = WordTokenizer(lowercase=lowercase, keep_punctuation=False)
    return [tokens for line in text.splitlines() if (tokens := tokenizer.tokenize(line))]


VECTORS_HELP = "Folder from `w2v train`, a word2vec .bin/.txt, a navec .tar, or 'navec'"


def load_vectors(path: Path):
    """Imported lazily so ``seqlab --help`` stays fast; see keyed_vectors.load_vectors."""
    from seqlab.text.keyed_vectors import load_vectors as load

    return load(path)


def train_command(
    corpus: Annotated[Path, typer.Argument(help="UTF-8 text, one sentence per line")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the vectors")],
    vector_size: Annotated[int, typer.Option(help="Dimensions D")] = 100,
    window: Annotated[int, typer.Option(help="Maximum context distance")] = 5,
    min_count: Annotated[int, typer.Option(help="Drop rarer words")] = 5,
    sg: Annotated[bool, typer.Option("--sg/--cbow", help="Skip-gram or CBOW")] = True,
    hs: Annotated[bool, typer.Option("--hs", help="Hierarchical softmax")] = False,
    negative: Annotated[int, typer.Option(help="Negative samples (0 = off)")] = 5,
    epochs: Annotated[int, typer.Option(help="Passes over the corpus")] = 5,
    sample: Annotated[float, typer.Option(help="Subsampling threshold (0 = off)")] = 1e-3,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    workers: Annotated[int | None, typer.Option(help="Training threads")] = None,
    lowercase: Annotated[bool, typer.Option(help="Lowercase tokens")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Train word2vec; writes OUT/{vectors.safetensors,vocab.json,word2vec.json}."""
    from seqlab.text.word2vec import Word2Vec

    if out.suffix or (out.exists() and not out.is_dir()):
        raise UserError(f"--out {out} must be a folder", "pass a folder name such as vectors/")
    sentences = read_corpus(corpus, lowercase)
    started = time.perf_counter()
    model = Word2Vec(
        vector_size=vector_size,
        window=window,
        min_count=min_count,
        sg=int(sg),
        hs=int(hs),
        negative=negative,
        epochs=epochs,
        sample=sample,
        seed=seed,
        workers=workers,
        progress=progress,
    ).fit(sentences)
    model.wv.save(out)
    summary = {
        "params": model.get_params(),
        "corpus": str(corpus),
        "sentences": len(sentences),
        "tokens": sum(len(s) for s in sentences),
        "vocabulary": len(model.wv),
        "loss_per_epoch": model.loss_history_,
        "words_per_second": model.words_per_second_,
        "seconds": time.perf_counter() - started,
    }
    (out / PARAMS_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    console.print(
        f"{len(model.wv)} words x {vector_size} dims from {summary['tokens']:,} tokens; "
        f"loss {model.loss_history_[0]:.3f} -> {model.loss_history_[-1]:.3f}; "
        f"{model.words_per_second_:,.0f} words/s; saved to {out}"
    )


def _print_neighbours(title: str, pairs: list[tuple[str, float]]) -> None:
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("word")
    table.add_column("cosine", justify="right")
    for rank, (word, score) in enumerate(pairs, start=1):
        table.add_row(str(rank), word, f"{score:.4f}")
    console.print(table)


def similar_command(
    vectors: Annotated[Path, typer.Argument(help=VECTORS_HELP)],
    word: Annotated[str, typer.Argument(help="Query word")],
    topn: Annotated[int, typer.Option(help="How many neighbours")] = 10,
) -> None:
    """Nearest neighbours of a word by cosine similarity."""
    kv = load_vectors(vectors)
    _print_neighbours(f"nearest to {word!r}", kv.most_similar(word, topn=topn))


def analogy_command(
    vectors: Annotated[Path, typer.Argument(help=VECTORS_HELP)],
    a: Annotated[str, typer.Argument(help="a in a : b :: c : ?")],
    b: Annotated[str, typer.Argument(help="b")],
    c: Annotated[str, typer.Argument(help="c")],
    topn: Annotated[int, typer.Option(help="How many answers")] = 5,
) -> None:
    """Solve a : b :: c : ? with 3CosAdd (b - a + c)."""
    kv = load_vectors(vectors)
    _print_neighbours(f"{a} : {b} :: {c} : ?", kv.analogy(a, b, c, topn=topn))


def eval_command(
    vectors: Annotated[Path, typer.Argument(help=VECTORS_HELP)],
    restrict_vocab: Annotated[int, typer.Option(help="Search the N most frequent words")] = 30000,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write JSON here")] = None,
) -> None:
    """Analogy accuracy (questions-words) and Spearman on WordSim-353 / SimLex-999."""
    from seqlab.evaluate.word_vectors import evaluate_word_vectors

    result = evaluate_word_vectors(load_vectors(vectors), restrict_vocab)
    analogy = result["analogy"]
    table = Table(title=f"word vectors: {vectors}")
    table.add_column("test")
    table.add_column("score", justify="right")
    table.add_column("covered", justify="right")
    accuracy = analogy["accuracy"]
    table.add_row(
        "analogy accuracy (3CosAdd)",
        "n/a" if accuracy is None else f"{accuracy:.4f}",
        f"{analogy['total']}/{analogy['questions']} ({analogy['coverage']:.1%})",
    )
    for name in ("wordsim353", "simlex999"):
        item = result[name]
        if item.get("spearman") is None:
            table.add_row(f"{name} Spearman", "n/a", item.get("error", ""))
        else:
            table.add_row(
                f"{name} Spearman",
                f"{item['spearman']:.4f}",
                f"{item['pairs']} pairs ({item['coverage']:.1%})",
            )
    console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2), encoding="utf-8")


def plot_command(
    vectors: Annotated[Path, typer.Argument(help=VECTORS_HELP)],
    words: Annotated[list[str], typer.Argument(help="Words to place on the map")],
    out: Annotated[Path, typer.Option("--out", help="PNG file")] = Path("words.png"),
    tsne: Annotated[bool, typer.Option("--tsne", help="t-SNE instead of PCA")] = False,
) -> None:
    """A 2-D PCA (or t-SNE) map of the given words, saved as PNG."""
    from seqlab.evaluate.plots_words import plot_words

    path = plot_words(load_vectors(vectors), words, out, method="tsne" if tsne else "pca")
    console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add the ``w2v`` command group (train, similar, analogy, eval, plot) to ``app``."""
    group = typer.Typer(
        help="word2vec: train, query, evaluate and plot word vectors.", no_args_is_help=True
    )
    group.command("train")(train_command)
    group.command("similar")(similar_command)
    group.command("analogy")(analogy_command)
    group.command("eval")(eval_command)
    group.command("plot")(plot_command)
    app.add_typer(group, name="w2v")
