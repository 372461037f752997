"""``seqlab tokenize`` and ``seqlab tfidf``: the text-representation layer from the shell.

seqlab tokenize "Привет, мир!"                     # word tokens, one line per input line
seqlab tokenize --file book.txt --kind bpe --vocab-size 2000
seqlab tfidf reviews.txt --top 5                    # top terms of every line
seqlab tfidf reviews.csv --label-column label       # top terms of every class
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path
from typing import Annotated

import typer

from seqlab.data.readers import read_text
from seqlab.errors import UserError, did_you_mean

_VISIBLE_SPACE = "▁"  # shows a space inside a char/subword token (SentencePiece's convention)


def _input_lines(text: str | None, file: Path | None) -> list[str]:
    if (text is None) == (file is None):
        raise UserError("give either TEXT or --file FILE", "e.g. seqlab tokenize 'Привет, мир!'")
    content = read_text(file, allow_empty=True) if file is not None else text
    lines = content.splitlines()
    if not any(line.strip() for line in lines):
        raise UserError("the input is empty", "pass some text")
    return lines


def _build_tokenizer(kind: str, lowercase: bool | None, normalize_yo: bool, vocab_size: int):
    """The unfitted tokenizer of ``--kind``; word splitters lowercase unless told not to."""
    from seqlab.text.tokenizers import KINDS, make_tokenizer

    if kind not in KINDS:
        raise UserError(f"unknown --kind {kind!r}", did_you_mean(kind, KINDS))
    if lowercase is None:
        lowercase = kind in ("word", "whitespace")
    return make_tokenizer(
        kind, lowercase=lowercase, normalize_yo=normalize_yo, vocab_size=vocab_size
    )


def _pieces(tokenizer, line: str) -> list[str]:
    """Readable tokens: a subword token is shown as the input text it covers; a byte-level
    token holding only part of a character (overlapping offsets) is decoded alone (``�``)."""
    if not hasattr(tokenizer, "hf_"):
        return tokenizer.tokenize(line)
    encoding = tokenizer.hf_.encode(line, add_special_tokens=False)
    offsets, pieces = encoding.offsets, []
    for index, (start, stop) in enumerate(offsets):
        overlaps = (index > 0 and offsets[index - 1][1] > start) or (
            index + 1 < len(offsets) and offsets[index + 1][0] < stop
        )
        pieces.append(tokenizer.hf_.decode([encoding.ids[index]]) if overlaps else line[start:stop])
    return pieces


def tokenize_command(
    text: Annotated[str | None, typer.Argument(help="Text to tokenize (or use --file)")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="UTF-8 text file")] = None,
    kind: Annotated[str, typer.Option(help="word | whitespace | char | bpe | wordpiece")] = "word",
    lowercase: Annotated[
        bool | None,
        typer.Option("--lowercase/--no-lowercase", help="Default: on for word/whitespace"),
    ] = None,
    normalize_yo: Annotated[bool, typer.Option("--yo-to-e", help="Map ё to е")] = False,
    tokenizer_path: Annotated[
        Path | None, typer.Option("--tokenizer", help="A saved tokenizer.json to use instead")
    ] = None,
    vocab_size: Annotated[int, typer.Option(help="bpe/wordpiece: trained on the input")] = 1000,
    ids: Annotated[bool, typer.Option("--ids", help="Print token ids, not tokens")] = False,
) -> None:
    """Print the tokens of every input line (one output line per input line)."""
    from seqlab.text.tokenizers import load_tokenizer

    lines = _input_lines(text, file)
    if tokenizer_path is not None:
        tokenizer = load_tokenizer(tokenizer_path)
    else:
        tokenizer = _build_tokenizer(kind, lowercase, normalize_yo, vocab_size)
        if ids or kind in ("bpe", "wordpiece"):
            tokenizer.fit([line for line in lines if line.strip()])
    for line in lines:
        if ids:
            typer.echo(" ".join(str(index) for index in tokenizer.encode(line)))
        else:
            pieces = _pieces(tokenizer, line)
            typer.echo(" ".join(piece.replace(" ", _VISIBLE_SPACE) for piece in pieces))


def _read_table(
    content: str, delimiter: str, text_column: str, label_column: str
) -> dict[str, list[str]]:
    reader = csv.DictReader(io.StringIO(content), delimiter=delimiter)
    columns = reader.fieldnames or []
    for column, option in ((text_column, "--text-column"), (label_column, "--label-column")):
        if column not in columns:
            raise UserError(
                f"column {column!r} not in the file (columns: {', '.join(columns) or 'none'})",
                f"pass {option} NAME",
            )
    groups: dict[str, list[str]] = defaultdict(list)
    for row in reader:
        if (row.get(text_column) or "").strip():
            groups[str(row[label_column])].append(row[text_column])
    return dict(sorted(groups.items()))


def tfidf_command(
    file: Annotated[Path, typer.Argument(help="Text (one document a line) or CSV/TSV file")],
    top: Annotated[int, typer.Option(help="Terms to show per document/class")] = 10,
    label_column: Annotated[str, typer.Option(help="CSV/TSV: class column")] = "label",
    text_column: Annotated[str, typer.Option(help="CSV/TSV: text column")] = "text",
    idf: Annotated[
        str, typer.Option(help="lecture: log(N/df) | smooth: scikit-learn's")
    ] = "lecture",
    file_format: Annotated[str, typer.Option("--format", help="auto | lines | csv | tsv")] = "auto",
    stop_words: Annotated[str | None, typer.Option(help="english | russian")] = None,
    ngram_max: Annotated[int, typer.Option(help="Longest word n-gram")] = 1,
    min_df: Annotated[int, typer.Option(help="Ignore terms in fewer documents")] = 1,
) -> None:
    """Top TF-IDF terms of every line, or of every class of a CSV/TSV file."""
    from seqlab.text.tfidf import TfidfVectorizer

    if top < 1:
        raise UserError(f"--top {top}", "pass --top 1 or more")
    if file_format == "auto":
        file_format = {".csv": "csv", ".tsv": "tsv"}.get(file.suffix.lower(), "lines")
    if file_format not in ("lines", "csv", "tsv"):
        raise UserError(f"unknown --format {file_format!r}", "use auto, lines, csv or tsv")
    content = read_text(file, allow_empty=True)
    if file_format == "lines":
        numbered = [
            (str(n), line) for n, line in enumerate(content.splitlines(), 1) if line.strip()
        ]
    else:
        delimiter = "," if file_format == "csv" else "\t"
        groups = _read_table(content, delimiter, text_column, label_column)
        numbered = [(label, "\n".join(texts)) for label, texts in groups.items()]
    if not numbered:
        raise UserError(f"{file} has no documents", "pass a file with text")
    vectorizer = TfidfVectorizer(
        idf=idf, stop_words=stop_words, ngram_range=(1, ngram_max), min_df=min_df
    )
    names = [name for name, _ in numbered]
    matrix = vectorizer.fit_transform([document for _, document in numbered])
    for name, terms in zip(names, vectorizer.top_terms(matrix, top=top), strict=True):
        shown = ", ".join(f"{term} {weight:.3f}" for term, weight in terms)
        typer.echo(f"[{name}] {shown or '(no term with a non-zero weight)'}")


def register(app: typer.Typer) -> None:
    """Add ``tokenize`` and ``tfidf`` to a typer app."""
    app.command("tokenize")(tokenize_command)
    app.command("tfidf")(tfidf_command)
