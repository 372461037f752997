"""Tokenizer evaluation: gold parsing, span F1 against a brute-force count, seqlab F1."""

from __future__ import annotations

import re

import pytest

from seqlab.errors import UserError
from seqlab.text.tokenizer_eval import (
    CORPORA,
    evaluate,
    load_gold,
    parse_partition,
    razdel_spans,
    score_spans,
    seqlab_spans,
)


def brute_force_f1(gold: list[list[tuple[int, int]]], predicted: list[list[tuple[int, int]]]):
    """Count matches pair by pair, independently of the set arithmetic under test."""
    matched = sum(
        sum(1 for span in guess if any(span == truth for truth in truths))
        for truths, guess in zip(gold, predicted, strict=True)
    )
    total_predicted = sum(len(guess) for guess in predicted)
    total_gold = sum(len(truths) for truths in gold)
    precision, recall = matched / total_predicted, matched / total_gold
    return precision, recall, 2 * precision * recall / (precision + recall)


def test_parse_partition_with_escaped_pipe() -> None:
    text, spans = parse_partition("«||Школа||»| |a\\|s||.")
    assert text == "«Школа» a|s."
    assert [text[a:b] for a, b in spans] == ["«", "Школа", "»", "a|s", "."]


def test_scores_on_a_hand_example() -> None:
    scores = score_spans([[(0, 3), (4, 5)]], [[(0, 3), (4, 6), (6, 7)]])
    assert (scores.true_positives, scores.false_positives, scores.false_negatives) == (1, 2, 1)
    assert scores.precision == pytest.approx(1 / 3) and scores.recall == pytest.approx(1 / 2)
    assert scores.f1 == pytest.approx(0.4)


@pytest.fixture(scope="module")
def sample() -> list[tuple[str, list[tuple[int, int]]]]:
    return load_gold("syntag", limit=300)


def test_perfect_tokenizer_scores_one_and_matches_brute_force(sample) -> None:
    assert len(sample) == 300
    gold = {text: spans for text, spans in sample}
    perfect = evaluate(lambda text: gold[text], sample)
    assert perfect.f1 == perfect.precision == perfect.recall == 1.0
    predicted = [seqlab_spans(text) for text, _ in sample]
    scores = score_spans([spans for _, spans in sample], predicted)
    expected = brute_force_f1([spans for _, spans in sample], predicted)
    assert (scores.precision, scores.recall, scores.f1) == pytest.approx(expected)
    whitespace = evaluate(lambda text: [m.span() for m in re.finditer(r"\S+", text)], sample)
    assert whitespace.f1 < scores.f1  # splitting on spaces alone misses punctuation


@pytest.mark.parametrize("corpus", CORPORA)
def test_seqlab_f1_at_least_090_and_close_to_razdel(corpus: str) -> None:
    sentences = load_gold(corpus, limit=300)
    ours, reference = evaluate(seqlab_spans, sentences), evaluate(razdel_spans, sentences)
    assert ours.f1 >= 0.9
    assert ours.f1 >= reference.f1 - 0.02


def test_unknown_corpus() -> None:
    with pytest.raises(UserError, match="unknown gold corpus"):
        load_gold("wikipedia")
