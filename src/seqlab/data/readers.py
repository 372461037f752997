"""Readers for data a user brings: CSV/TSV labelled text, plain text, tagging, series CSV.

Tagged sentences come from CoNLL (token TAB tag), CoNLL-U or one-sentence-a-line files.

Every mistake in the file (missing, not UTF-8, empty, missing column, bad row) raises
:class:`seqlab.errors.UserError` naming the file, the line and what to do.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from seqlab.errors import UserError, did_you_mean

_DELIMITERS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
_MISSING = {"", "na", "nan", "null", "none", "n/a", "?"}


def read_text(path: str | Path, what: str = "file", *, allow_empty: bool = False) -> str:
    """The whole file decoded as UTF-8 (a BOM is allowed and dropped).

    The one reader of user text files: a missing path, a folder, bytes that are not
    UTF-8 (with the byte value, offset and line) and, unless ``allow_empty``, a file with
    only whitespace raise :class:`UserError`. ``what`` names the file in the messages
    ("corpus file", "evaluation file").
    """
    path = Path(path)
    if not path.exists():
        raise UserError(
            f"{what} not found: {path}",
            "check the path (relative paths start at the current folder)",
        )
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a {what}", "point to a file inside it")
    if not path.is_file():
        raise UserError(f"{path} is not a regular file", f"pass a {what} saved on disk")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UserError(
            f"{path} is not UTF-8: byte 0x{raw[error.start]:02x} "
            f"at offset {error.start} (line {line})",
            f"re-save it as UTF-8: `iconv -f cp1251 -t utf-8 {path.name} > fixed{path.suffix}`",
        ) from None
    if not allow_empty and not text.strip():
        raise UserError(f"{path} is empty", "give a file with data in it")
    return text


def _sniff_delimiter(path: Path, text: str) -> str:
    if path.suffix.lower() in _DELIMITERS:
        return _DELIMITERS[path.suffix.lower()]
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters=",\t;|").delimiter
    except csv.Error:
        raise UserError(
            f"cannot tell the column delimiter of {path}",
            "name the file .csv or .tsv, or pass delimiter= (--delimiter)",
        ) from None


def _rows(path: Path, text: str, delimiter: str) -> list[list[str]]:
    csv.field_size_limit(2**31 - 1)  # whole documents in one cell are fine
    try:
        return [row for row in csv.reader(text.splitlines(), delimiter=delimiter) if row]
    except csv.Error as error:
        raise UserError(
            f"{path} is not valid CSV: {error}", "check the quoting of that line"
        ) from None


def _column(header: list[str], name: str, path: Path, what: str, option: str) -> int:
    stripped = [column.strip() for column in header]
    if name in stripped:
        return stripped.index(name)
    lowered = [column.lower() for column in stripped]
    if name.lower() in lowered:
        return lowered.index(name.lower())
    raise UserError(
        f"{path} has no {what} column {name!r}; columns found: {', '.join(map(repr, stripped))}",
        f"pass the right name with {option}= (--{option.replace('_', '-')})",
    )


def read_text_classification(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    delimiter: str | None = None,
) -> tuple[list[str], list[str]]:
    """Read a CSV/TSV with a header row: returns ``(texts, labels)``, labels as strings.

    The delimiter comes from the extension (``.csv`` comma, ``.tsv`` tab), otherwise it
    is sniffed (``.txt``) among comma, tab, semicolon and bar.
    """
    path = Path(path)
    text = read_text(path)
    rows = _rows(path, text, delimiter or _sniff_delimiter(path, text))
    header, body = rows[0], rows[1:]
    text_index = _column(header, text_column, path, "text", "text_column")
    label_index = _column(header, label_column, path, "label", "label_column")
    if not body:
        raise UserError(
            f"{path} has a header but no rows", "add one row per example below the header"
        )
    texts: list[str] = []
    labels: list[str] = []
    for row_number, row in enumerate(body, start=2):
        if len(row) <= max(text_index, label_index):
            raise UserError(
                f"{path} row {row_number} has {len(row)} fields, the header has {len(header)}",
                "quote fields that contain the delimiter, or fix that row",
            )
        texts.append(row[text_index].strip())
        labels.append(row[label_index].strip())
    empty = [number for number, value in enumerate(texts, start=2) if not value]
    if empty:
        raise UserError(
            f"{path} has {len(empty)} empty text(s) in column {text_column!r}, "
            f"first at row {empty[0]}",
            "remove those rows or fill them in",
        )
    missing = [number for number, value in enumerate(labels, start=2) if not value]
    if missing:
        raise UserError(
            f"{path} has {len(missing)} empty label(s) in column {label_column!r}, "
            f"first at row {missing[0]}",
            "remove those rows or give each a label",
        )
    return texts, labels


def read_lines(path: str | Path, keep_empty: bool = False) -> list[str]:
    """A plain-text corpus: one item (sentence, document) per line, trailing spaces stripped."""
    lines = [line.rstrip() for line in read_text(path).splitlines()]
    return lines if keep_empty else [line for line in lines if line.strip()]


def read_conll(path: str | Path) -> list[tuple[list[str], list[str]]]:
    """CoNLL-style tagging data: ``token<TAB>tag`` a line, blank lines between sentences.

    The token is the first column and the tag the last (so CoNLL-2003's 4 columns work);
    if a line has no tab, whitespace separates columns. ``-DOCSTART-`` lines are skipped.
    """
    path = Path(path)
    sentences: list[tuple[list[str], list[str]]] = []
    for block in _blocks(path):
        tokens, tags = [], []
        for number, line in block:
            fields = [f for f in line.split("\t") if f.strip()] if "\t" in line else line.split()
            if fields[0].strip() == "-DOCSTART-":
                continue
            if len(fields) < 2:
                raise UserError(
                    f"{path} line {number} has no tag: {line[:60]!r}",
                    "write `token<TAB>tag` on every line, with a blank line between sentences",
                )
            tokens.append(fields[0].strip())
            tags.append(fields[-1].strip())
        if tokens:
            sentences.append((tokens, tags))
    if not sentences:
        raise UserError(f"{path} has no tagged tokens", "write `token<TAB>tag` lines")
    return sentences


def _blocks(path: Path) -> Iterator[list[tuple[int, str]]]:
    """The (line number, line) groups of a file between blank lines (CoNLL sentences)."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


CONLLU_COLUMNS = {"upos": 3, "xpos": 4}  # ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC
TAGGING_FORMATS = ("auto", "conll", "conllu", "lines")


def read_conllu(path: str | Path, column: str = "upos") -> list[tuple[list[str], list[str]]]:
    """Universal Dependencies CoNLL-U: (FORM tokens, ``column`` tags) per sentence.

    Every word line has 10 tab-separated columns; ``#`` comment lines, multiword token
    lines (ID ``1-2``: their words follow on their own lines) and empty nodes (ID
    ``1.1``) are skipped, so tokens are the syntactic words. ``column`` is ``"upos"``
    (the 17 universal tags) or ``"xpos"`` (the treebank's own); a ``_`` tag (the column
    not annotated) raises :class:`UserError` with its line number.
    """
    column = column.lower()  # "UPOS" as UD's documentation spells it
    if column not in CONLLU_COLUMNS:
        raise UserError(
            f"unknown CoNLL-U tag column {column!r}",
            f"use one of {', '.join(CONLLU_COLUMNS)}",
        )
    path = Path(path)
    index = CONLLU_COLUMNS[column]
    sentences: list[tuple[list[str], list[str]]] = []
    for block in _blocks(path):
        tokens, tags = [], []
        for number, line in block:
            if line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 10:
                raise UserError(
                    f"{path} line {number} has {len(fields)} tab-separated columns, CoNLL-U has 10",
                    "separate ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC by tabs",
                )
            if "-" in fields[0] or "." in fields[0]:  # multiword token or empty node
                continue
            tag = fields[index].strip()
            if tag in ("", "_"):
                other = "xpos" if column == "upos" else "upos"
                raise UserError(
                    f"{path} line {number} has no {column.upper()} tag ('_')",
                    f"tag every word, or read the {other.upper()} column (column={other!r})",
                )
            tokens.append(fields[1])
            tags.append(tag)
        if tokens:
            sentences.append((tokens, tags))
    if not sentences:
        raise UserError(f"{path} has no CoNLL-U word lines", "write 10-column word lines")
    return sentences


def read_tagged_lines(path: str | Path) -> list[tuple[list[str], list[str]]]:
    """One sentence a line: ``tok1 tok2 tok3<TAB>tag1 tag2 tag3``.

    Tokens and tags are separated by spaces, the two halves by one tab. Blank lines and
    ``#`` comment lines without a tab are skipped (a tagged line may start with a
    ``#hashtag`` token). A line without
    exactly one tab, or with different numbers of tokens and tags, raises
    :class:`UserError` naming the file, the line and the counts.
    """
    path = Path(path)
    sentences: list[tuple[list[str], list[str]]] = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        tabs = line.count("\t")
        if not line.strip() or (line.startswith("#") and not tabs):
            continue
        if tabs != 1:
            raise UserError(
                f"{path} line {number} has {f'{tabs} tabs' if tabs else 'no tab'}, "
                f"expected one between tokens and tags: {line[:60]!r}",
                "write `tok1 tok2 ...<TAB>tag1 tag2 ...`, one sentence a line",
            )
        left, right = line.split("\t")
        tokens, tags = left.split(), right.split()
        if len(tokens) != len(tags):
            raise UserError(
                f"{path} line {number} has {len(tokens)} tokens but {len(tags)} tags",
                "give one space-separated tag for every token (tokens cannot hold spaces)",
            )
        sentences.append((tokens, tags))
    if not sentences:
        raise UserError(f"{path} has no tagged sentences", "write `tokens<TAB>tags` lines")
    return sentences


def _looks_like_lines(text: str) -> bool:
    for line in text.splitlines():
        if not line.strip() or (line.startswith("#") and "\t" not in line):
            continue
        if line.count("\t") != 1:
            return False
        left, right = line.split("\t")
        return len(left.split()) == len(right.split()) > 1
    return False


def read_tagging(
    path: str | Path, format: str = "auto", column: str = "upos"
) -> list[tuple[list[str], list[str]]]:
    """Tagged sentences from a CoNLL, CoNLL-U or one-sentence-a-line file.

    ``format="auto"`` picks ``"conllu"`` for a ``.conllu`` file; otherwise ``"lines"``
    if the first line that is neither blank nor a ``#`` comment (without a tab) has one
    tab with the same number (more than one) of space-separated items on both sides;
    otherwise ``"conll"`` (:func:`read_conll`). A file whose first sentence is one token
    long therefore needs ``format="lines"``. ``column`` is the CoNLL-U tag column.
    """
    if format not in TAGGING_FORMATS:
        raise UserError(
            f"unknown tagging file format {format!r}", did_you_mean(format, TAGGING_FORMATS)
        )
    path = Path(path)
    if format == "auto":
        if path.suffix.lower() == ".conllu":
            format = "conllu"
        else:
            format = "lines" if _looks_like_lines(read_text(path)) else "conll"
    if format == "conllu":
        return read_conllu(path, column=column)
    if format == "lines":
        return read_tagged_lines(path)
    return read_conll(path)


def _to_float(value: str) -> float | None:
    if value.strip().lower() in _MISSING:
        return math.nan
    try:
        return float(value)
    except ValueError:
        return None


def read_series_csv(path: str | Path, column: str | None = None) -> np.ndarray:
    """One numeric column of a CSV/TSV as a float64 array (T,); blanks/NA become NaN.

    With a header and ``column=None`` the file must have exactly one numeric column
    (a date column next to it is fine). A file of bare numbers, one a line, also works.
    """
    path = Path(path)
    text = read_text(path)
    delimiter = _DELIMITERS.get(path.suffix.lower())
    if delimiter is None:
        delimiter = "," if "," in text.splitlines()[0] or "\t" not in text else "\t"
    rows = _rows(path, text, delimiter)
    has_header = any(_to_float(value) is None for value in rows[0])
    header = (
        [value.strip() for value in rows[0]]
        if has_header
        else [str(i) for i in range(len(rows[0]))]
    )
    body = rows[1:] if has_header else rows
    if not body:
        raise UserError(f"{path} has a header but no values", "add one value per row")
    if column is not None:
        index = _column(header, column, path, "value", "column")
    else:
        numeric = [
            i
            for i in range(len(header))
            if all(_to_float(r[i]) is not None for r in body[:100] if i < len(r))
        ]
        if len(numeric) != 1:
            raise UserError(
                f"{path} has {len(numeric)} numeric columns "
                f"({', '.join(header[i] for i in numeric) or 'none'})",
                f"choose one with column= (--column); columns found: {', '.join(header)}",
            )
        index = numeric[0]
    values = []
    for number, row in enumerate(body, start=2 if has_header else 1):
        value = _to_float(row[index]) if index < len(row) else math.nan
        if value is None:
            raise UserError(
                f"{path} line {number}: {row[index]!r} in column {header[index]!r} is not a number",
                "fix or blank out that value (blanks and NA read as missing)",
            )
        values.append(value)
    return np.asarray(values, dtype=np.float64)
