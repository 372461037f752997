"""Seq2seq scores against hand-computed values, brute force and sacrebleu itself.

Oracles: BLEU and chrF worked out by hand on one- and two-sentence corpora (n-gram
counts written out below), sacrebleu called directly for the multi-reference layout,
the recursive definition of the Levenshtein distance, textbook examples
(kitten → sitting = 3) and hand-counted G2P errors.
"""

from __future__ import annotations

import functools
import math
import random

import pytest
import sacrebleu

from seqlab.errors import UserError
from seqlab.evaluate.seq2seq import (
    bleu,
    chrf,
    edit_distance,
    exact_match,
    phoneme_error_rate,
    token_error_rate,
    word_error_rate,
)

# ---------------------------------------------------------------- BLEU / chrF


def test_bleu_by_hand_precisions_and_brevity_penalty() -> None:
    reference = "the cat sat on the mat"
    assert bleu([reference], [reference]) == pytest.approx(100.0)
    # 7 words against 6: 1- to 4-gram matches 6/7, 5/6, 4/5, 3/4; longer, so no penalty.
    longer = bleu(["the cat sat on the mat today"], [reference])
    assert longer == pytest.approx(100 * (6 / 7 * 5 / 6 * 4 / 5 * 3 / 4) ** 0.25, abs=1e-9)
    # 5 words against 6: every n-gram matches; brevity penalty exp(1 - 6/5).
    assert bleu(["the cat sat on the"], [reference]) == pytest.approx(100 * math.exp(-0.2))


def test_bleu_is_corpus_level_not_a_mean_of_sentences() -> None:
    hypotheses = ["the cat sat on the mat today", "a b c d"]
    references = ["the cat sat on the mat", "a b c d"]
    # counts summed over both sentences: 10/11, 8/9, 6/7, 4/5; 11 words vs 10: no penalty
    expected = 100 * (10 / 11 * 8 / 9 * 6 / 7 * 4 / 5) ** 0.25
    assert bleu(hypotheses, references) == pytest.approx(expected, abs=1e-9)
    assert expected != pytest.approx((100 + 100 * (3 / 7) ** 0.25) / 2)


def test_bleu_multiple_and_variable_references_match_sacrebleu() -> None:
    hypotheses = ["the cat sat on the mat", "there is a dog here"]
    one = [["a cat sat on a mat"], ["a dog is here"]]
    two = [["a cat sat on a mat", "the cat sat on the mat"], ["a dog is here"]]
    assert bleu(hypotheses, two) > bleu(hypotheses, one)
    direct = sacrebleu.corpus_bleu(
        hypotheses, [["a cat sat on a mat", "a dog is here"], ["the cat sat on the mat", None]]
    ).score
    assert bleu(hypotheses, two) == pytest.approx(direct)
    assert bleu(hypotheses[:1], [two[0]]) == pytest.approx(100.0)  # matches the second
    russian = "Кошка сидит на ковре."  # 13a splits off the full stop: 5 tokens
    assert bleu([russian], [russian]) == pytest.approx(100.0)
    assert bleu(["Кошка сидит."], ["Кошка сидит."]) == 0.0  # 3 tokens: no 4-gram at all
    assert bleu(["The Cat sat on it"], ["the cat sat on it"], lowercase=True) == pytest.approx(100)


def test_chrf_by_hand() -> None:
    # "ab" vs "abc": 1-grams P 2/2, R 2/3; 2-grams P 1/1, R 1/2; higher orders absent.
    # Mean P = 1, mean R = 7/12; F_beta=2 = 5 P R / (4 P + R) = 7/11.
    assert chrf(["ab"], ["abc"]) == pytest.approx(100 * 7 / 11)
    assert chrf(["ab"], [["xyz", "abc"]]) == pytest.approx(100 * 7 / 11)  # best reference
    assert chrf(["same text"], ["same text"]) == pytest.approx(100.0)
    assert chrf(["xyz"], ["abc"]) == pytest.approx(0.0)
    hypotheses, references = ["the cat sat", "on a mat"], ["the cat sat down", "on the mat"]
    plus = sacrebleu.corpus_chrf(hypotheses, [references], word_order=2).score
    assert chrf(hypotheses, references, word_order=2) == pytest.approx(plus)


# ---------------------------------------------------------------- edit distance


def _recursive_levenshtein(a: str, b: str) -> int:
    @functools.cache
    def distance(i: int, j: int) -> int:  # the definition, on prefixes a[:i], b[:j]
        if i == 0 or j == 0:
            return i + j
        return min(
            distance(i - 1, j) + 1,
            distance(i, j - 1) + 1,
            distance(i - 1, j - 1) + (a[i - 1] != b[j - 1]),
        )

    return distance(len(a), len(b))


def test_edit_distance_known_examples() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("flaw", "lawn") == 2
    assert edit_distance("", "abc") == edit_distance("abc", "") == 3
    assert edit_distance("same", "same") == 0
    assert edit_distance("кошка", "кошек") == 2
    assert edit_distance(["HH", "AH0", "L", "OW1"], ["HH", "EH0", "L", "OW1"]) == 1
    assert edit_distance(("K", "AE1", "T"), ["K", "AE1", "T", "S"]) == 1


def test_edit_distance_against_the_recursive_definition() -> None:
    rng = random.Random(0)
    for _ in range(300):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 7)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 7)))
        assert edit_distance(a, b) == edit_distance(b, a) == _recursive_levenshtein(a, b)


# ---------------------------------------------------------------- G2P and exact match


HELLO = [["HH", "AH0", "L", "OW1"], ["HH", "EH0", "L", "OW1"]]  # cmudict: hello, hello(2)
CAT = ["K", "AE1", "T"]


def test_word_and_phoneme_error_rates_with_several_pronunciations() -> None:
    predictions = [
        ["HH", "EH0", "L", "OW1"],  # the second pronunciation: correct
        ["K", "AA1", "T"],  # one substitution against 3 phonemes
        ["D", "AO1", "G", "Z"],  # one insertion against DOG's 3
    ]
    references = [HELLO, CAT, ["D", "AO1", "G"]]
    assert word_error_rate(predictions, references) == pytest.approx(2 / 3)
    assert exact_match(predictions, references) == pytest.approx(1 / 3)
    # closest references: hello(2) (0 of 4), CAT (1 of 3), DOG (1 of 3)
    assert phoneme_error_rate(predictions, references) == pytest.approx(2 / 10)
    # only the first pronunciation given: the prediction is now one substitution away
    first_only = [HELLO[0], CAT, ["D", "AO1", "G"]]
    assert word_error_rate(predictions, first_only) == pytest.approx(1.0)
    assert phoneme_error_rate(predictions, first_only) == pytest.approx(3 / 10)


def test_phoneme_error_rate_uses_the_closest_reference_length() -> None:
    # "AH" is 1 from ["AH", "B"] (length 2) and 2 from ["X", "Y", "Z", "AH"] ... (length 4)
    references = [[["X", "Y", "Z", "AH"], ["AH", "B"]]]
    assert phoneme_error_rate([["AH"]], references) == pytest.approx(1 / 2)


def test_string_predictions_and_alternatives() -> None:
    forms = ["кошек", "кошкою", "собак"]
    assert exact_match(forms, ["кошек", ["кошкой", "кошкою"], "собаки"]) == pytest.approx(2 / 3)
    assert phoneme_error_rate(["кошки"], ["кошек"]) == pytest.approx(2 / 5)  # character rate
    assert exact_match([("a", "b")], [["a", "b"]]) == 1.0  # a token sequence, not alternatives


def test_token_error_rate() -> None:
    # "the cat sat" vs "the cat sat down": 1 deletion; "a mat" vs "on the mat": 2 edits
    hypotheses = ["the cat sat", "a mat"]
    references = ["the cat sat down", "on the mat"]
    assert token_error_rate(hypotheses, references) == pytest.approx(3 / 7)
    assert token_error_rate(["a mat"], [["on the mat", "a mat"]]) == 0.0


def test_mismatched_or_empty_inputs_are_user_errors() -> None:
    with pytest.raises(UserError, match="2 predictions but 1 references"):
        exact_match(["a", "b"], ["a"])
    with pytest.raises(UserError, match="no predictions"):
        bleu([], [])
    with pytest.raises(UserError, match="no alternatives"):
        exact_match(["a"], [[]])
    with pytest.raises(UserError, match="empty"):
        phoneme_error_rate([[]], [[]])
