"""Scores of sequence-to-sequence output: translation, inflection, grapheme → phoneme.

- :func:`bleu`, :func:`chrf`: corpus-level BLEU (Papineni et al. 2002) and chrF
  (Popović 2015) computed by ``sacrebleu``, the reference implementation, with its
  defaults (BLEU: 13a tokenisation, exponential smoothing; chrF: character 6-grams,
  beta 2; ``word_order=2`` is chrF++). Both are 0-100.
- :func:`edit_distance`: Levenshtein distance between two sequences (strings or lists).
- :func:`word_error_rate`, :func:`phoneme_error_rate`: grapheme-to-phoneme scores as
  in Yao & Zweig 2015: WER is the share of words whose predicted pronunciation is not
  exactly a reference pronunciation; PER is the summed edit distance to the closest
  reference over the summed length of those references. Both are fractions (0-1).
- :func:`exact_match`: share of predictions equal to a reference (inflection accuracy).
- :func:`token_error_rate`: ASR-style word error rate over whitespace-separated words
  (edit distance / reference words), for translation or any text output.

References. Every item may have several correct answers. When the predictions are
strings (translations, word forms), a reference is a string or a sequence of
alternative strings. When they are token sequences (phoneme lists), a reference is
one token sequence (a list of strings) or a sequence of alternative token sequences
(a list of lists): ``["HH", "AH0", "L", "OW1"]`` is one pronunciation,
``[["HH", "AH0", "L", "OW1"], ["HH", "EH0", "L", "OW1"]]`` two.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from seqlab.errors import UserError

__all__ = [
    "bleu",
    "chrf",
    "edit_distance",
    "exact_match",
    "phoneme_error_rate",
    "token_error_rate",
    "word_error_rate",
]


def _check_lengths(predictions: Sequence[Any], references: Sequence[Any]) -> None:
    if len(predictions) != len(references):
        raise UserError(
            f"{len(predictions)} predictions but {len(references)} references",
            "give one reference (or one list of alternatives) per prediction",
        )
    if not predictions:
        raise UserError("nothing to score: no predictions", "pass at least one prediction")


def _alternatives(prediction: Any, reference: Any) -> list[Any]:
    """The correct answers of one item (see the module docstring for the rule)."""
    if isinstance(reference, str):
        return [reference]
    items = list(reference)
    if isinstance(prediction, str):  # strings: a sequence of strings is alternatives
        alternatives = items
    elif all(isinstance(item, str) for item in items):  # tokens: one token sequence
        alternatives = [items]
    else:
        alternatives = [list(item) for item in items]
    if not alternatives:
        raise UserError("a reference has no alternatives", "give at least one correct answer")
    return alternatives


def _reference_streams(hypotheses: Sequence[str], references: Sequence[Any]) -> list[list]:
    """sacrebleu's layout: one stream per reference number, ``None`` where an item has
    fewer alternatives than the most (sacrebleu skips those)."""
    _check_lengths(hypotheses, references)
    per_item = [
        _alternatives(hypothesis, ref)
        for hypothesis, ref in zip(hypotheses, references, strict=True)
    ]
    most = max(len(alternatives) for alternatives in per_item)
    return [
        [alternatives[k] if k < len(alternatives) else None for alternatives in per_item]
        for k in range(most)
    ]


def bleu(
    hypotheses: Sequence[str],
    references: Sequence[str | Sequence[str]],
    *,
    tokenize: str = "13a",
    lowercase: bool = False,
) -> float:
    """Corpus BLEU (0-100) of detokenised ``hypotheses`` against their references.

    n-gram counts are summed over the corpus before the precisions are taken (not a mean
    of sentence scores), with sacrebleu's defaults; ``tokenize`` is a sacrebleu
    tokeniser name (``"13a"``, ``"intl"``, ``"char"``, ``"none"``).
    """
    from sacrebleu.metrics import BLEU

    streams = _reference_streams(hypotheses, references)
    metric = BLEU(tokenize=tokenize, lowercase=lowercase)
    return float(metric.corpus_score(list(hypotheses), streams).score)


def chrf(
    hypotheses: Sequence[str],
    references: Sequence[str | Sequence[str]],
    *,
    word_order: int = 0,
) -> float:
    """Corpus chrF (0-100); ``word_order=2`` gives chrF++. With several references an
    item is scored against its best one (sacrebleu's rule)."""
    from sacrebleu.metrics import CHRF

    streams = _reference_streams(hypotheses, references)
    return float(CHRF(word_order=word_order).corpus_score(list(hypotheses), streams).score)


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance: fewest insertions, deletions and substitutions (each 1)
    turning ``a`` into ``b``; works on strings and on token lists alike."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, item in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (item != other))
            )
        previous = current
    return previous[-1]


def _as_sequence(value: Any) -> Any:
    return value if isinstance(value, str) else list(value)


def exact_match(predictions: Sequence[Any], references: Sequence[Any]) -> float:
    """Share (0-1) of predictions equal to one of their reference alternatives."""
    _check_lengths(predictions, references)
    correct = 0
    for prediction, reference in zip(predictions, references, strict=True):
        prediction = _as_sequence(prediction)
        correct += any(prediction == answer for answer in _alternatives(prediction, reference))
    return correct / len(predictions)


def word_error_rate(predictions: Sequence[Sequence[str]], references: Sequence[Any]) -> float:
    """G2P word error rate (Yao & Zweig 2015), 0-1: the share of words whose predicted
    phoneme sequence matches none of the word's reference pronunciations."""
    return 1.0 - exact_match(predictions, references)


def phoneme_error_rate(predictions: Sequence[Sequence[Any]], references: Sequence[Any]) -> float:
    """G2P phoneme error rate (Yao & Zweig 2015), 0-1 (above 1 if predictions are long).

    Each prediction is compared with its closest reference pronunciation (the first of
    the closest on a tie): the sum of those edit distances over the sum of those
    references' lengths. On strings this is the character error rate.
    """
    _check_lengths(predictions, references)
    errors = length = 0
    for prediction, reference in zip(predictions, references, strict=True):
        prediction = _as_sequence(prediction)
        scored = [
            (edit_distance(prediction, answer), answer)
            for answer in _alternatives(prediction, reference)
        ]
        distance, answer = min(scored, key=lambda pair: pair[0])
        errors += distance
        length += len(answer)
    if length == 0:
        raise UserError("the references are all empty", "PER needs reference phonemes")
    return errors / length


def token_error_rate(hypotheses: Sequence[str], references: Sequence[str | Sequence[str]]) -> float:
    """Word error rate over whitespace-separated words, 0-1 (can exceed 1): summed word
    edit distance to the closest reference over the summed reference word counts."""
    _check_lengths(hypotheses, references)
    return phoneme_error_rate(
        [hypothesis.split() for hypothesis in hypotheses],
        [
            [answer.split() for answer in _alternatives(hypothesis, reference)]
            for hypothesis, reference in zip(hypotheses, references, strict=True)
        ],
    )
