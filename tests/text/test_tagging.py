"""Tag schemes: detection, BIO <-> BIOES, spans and entity scores.

Oracle: seqeval 1.2.2 (``get_entities``, ``classification_report``, ``f1_score`` in the
default, conlleval-compatible mode) on hand cases and on random tag sequences, ill-formed
ones included; the hand cases also carry their expected values written out.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.errors import UserError
from seqlab.text.tagging import (
    SCHEMES,
    check_scheme,
    convert_tags,
    detect_scheme,
    entity_scores,
    entity_spans,
    spans_to_entities,
    to_bio,
    to_bioes,
    to_io,
)

TYPES = ("PER", "LOC", "creative-work")
any_tag = st.sampled_from(["O"] + [f"{p}-{t}" for p in "BIES" for t in TYPES])
sentences = st.lists(any_tag, max_size=12)


@st.composite
def iob2(draw: st.DrawFn) -> list[str]:
    """A valid IOB2 sentence: every entity opens with B-, I- continues the same type."""
    tags: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        choice = draw(st.sampled_from(["O", "B", "I"]))
        type_ = draw(st.sampled_from(TYPES))
        if choice == "I" and tags and tags[-1] != "O":
            tags.append("I-" + tags[-1][2:])
        elif choice == "O":
            tags.append("O")
        else:
            tags.append(f"B-{type_}")
    return tags


def seqeval_spans(tags: list[str]) -> list[tuple[str, int, int]]:
    from seqeval.metrics.sequence_labeling import get_entities

    return [(type_, start, end + 1) for type_, start, end in get_entities(list(tags))]


# ---------------------------------------------------------------- schemes


def test_check_scheme_is_case_insensitive_and_names_the_schemes() -> None:
    assert [check_scheme(name) for name in ("bio", "BIOES", "io", "None")] == list(SCHEMES)
    with pytest.raises(UserError) as error:
        check_scheme("XYZ")
    assert str(error.value) == "unknown tag scheme 'XYZ' — use one of BIO, BIOES, IO, none"
    with pytest.raises(UserError, match="unknown tag scheme 'BIOSE' — did you mean 'BIOES'"):
        check_scheme("BIOSE")


def test_detect_scheme() -> None:
    assert detect_scheme([["B-PER", "I-PER", "O"], ["O"]]) == "BIO"
    assert detect_scheme([["I-PER", "B-PER", "O"]]) == "BIO"  # IOB1
    assert detect_scheme([["B-PER", "E-PER", "S-LOC", "O"]]) == "BIOES"
    assert detect_scheme([["O", "S-LOC"]]) == "BIOES"
    assert detect_scheme([["I-PER", "I-PER", "O", "I-LOC"]]) == "IO"
    assert detect_scheme([["O", "O"], []]) == "BIO"
    assert detect_scheme([["DT", "NN"], ["B-PER"]]) == "none"
    assert detect_scheme([["NOUN", "O"]]) == "none"
    assert detect_scheme([["B-"]]) == "none"  # a prefix without a type is no entity tag
    assert detect_scheme(iter([("B-X",)])) == "BIO"  # any iterable of sequences


# ---------------------------------------------------------------- spans


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
        (["O", "I-PER", "I-PER"], [("PER", 1, 3)]),  # I- after O starts an entity
        (["B-PER", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 2)]),  # a type change: two
        (["I-PER", "B-PER"], [("PER", 0, 1), ("PER", 1, 2)]),  # IOB1
        (["B-PER", "B-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
        (["S-PER", "B-LOC", "E-LOC", "E-LOC"], [("PER", 0, 1), ("LOC", 1, 3), ("LOC", 3, 4)]),
        (["E-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
        (["B-creative-work", "I-creative-work"], [("creative-work", 0, 2)]),
        ([], []),
        (["O", "O"], []),
    ],
)
def test_entity_spans_hand_cases(tags: list[str], spans: list) -> None:
    assert entity_spans(tags) == spans
    pytest.importorskip("seqeval")
    assert seqeval_spans(tags) == spans


@settings(max_examples=300, deadline=None)
@given(sentences)
def test_entity_spans_equal_seqeval_on_random_tags(tags: list[str]) -> None:
    pytest.importorskip("seqeval")
    assert entity_spans(tags) == seqeval_spans(tags)


def test_entity_spans_refuse_a_tag_that_is_not_an_entity_tag() -> None:
    with pytest.raises(UserError, match=r"'NN' \(token 2\) is not an entity tag"):
        entity_spans(["O", "NN"])
    with pytest.raises(UserError, match="not an entity tag"):
        entity_spans(["B-"])


def test_spans_to_entities() -> None:
    tokens = ["Anna", "Karenina", "lives", "in", "New", "York"]
    tags = ["B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC"]
    assert spans_to_entities(tokens, tags) == [
        {"text": "Anna Karenina", "type": "PER", "start": 0, "end": 2},
        {"text": "New York", "type": "LOC", "start": 4, "end": 6},
    ]
    with pytest.raises(UserError, match="2 tokens but 1 tags"):
        spans_to_entities(["a", "b"], ["O"])


# ---------------------------------------------------------------- conversions


def test_conversions_hand_cases() -> None:
    bio = ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"]
    bioes = ["B-PER", "I-PER", "E-PER", "O", "S-LOC", "B-LOC", "E-LOC"]
    assert to_bioes(bio) == bioes
    assert to_bio(bioes) == bio
    assert to_io(bio) == ["I-PER", "I-PER", "I-PER", "O", "I-LOC", "I-LOC", "I-LOC"]
    # IOB1: I- opens an entity, B- only separates two adjacent ones of a type
    iob1 = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"]
    assert to_bio(iob1) == ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "B-ORG"]
    assert to_bioes(iob1) == ["B-PER", "E-PER", "O", "S-LOC", "S-LOC", "S-ORG"]
    assert convert_tags(iob1, "bio") == to_bio(iob1)
    assert convert_tags(["DT", "NN"], "none") == ["DT", "NN"]
    with pytest.raises(UserError, match="unknown tag scheme"):
        convert_tags(bio, "IOB3")


@settings(max_examples=300, deadline=None)
@given(iob2())
def test_bio_bioes_round_trip_on_valid_iob2(tags: list[str]) -> None:
    bioes = to_bioes(tags)
    assert to_bio(bioes) == tags
    assert to_bio(tags) == tags  # valid IOB2 is already normal
    assert entity_spans(bioes) == entity_spans(tags)
    assert detect_scheme([bioes]) in {"BIOES", "BIO"}  # BIO if there are no entities


@settings(max_examples=300, deadline=None)
@given(sentences)
def test_conversions_keep_the_spans_of_any_sequence(tags: list[str]) -> None:
    spans = entity_spans(tags)
    assert entity_spans(to_bio(tags)) == spans
    assert entity_spans(to_bioes(tags)) == spans
    assert to_bioes(to_bio(tags)) == to_bioes(tags)


# ---------------------------------------------------------------- scores


def seqeval_report(gold: list[list[str]], predicted: list[list[str]]) -> dict:
    from seqeval.metrics import classification_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return classification_report(gold, predicted, output_dict=True, zero_division=0)


def assert_equal_to_seqeval(gold: list[list[str]], predicted: list[list[str]]) -> dict:
    from seqeval.metrics import f1_score

    ours = entity_scores(gold, predicted)
    report = seqeval_report(gold, predicted)
    for type_, scores in ours["types"].items():
        for key, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert scores[key] == pytest.approx(report[type_][theirs], abs=1e-12)
        assert scores["support"] == report[type_]["support"]
    assert set(ours["types"]) == {k for k in report if not k.endswith(" avg")}
    for average in ("micro", "macro", "weighted"):
        for key, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert ours[average][key] == pytest.approx(report[f"{average} avg"][theirs], abs=1e-12)
        assert ours[average]["support"] == report[f"{average} avg"]["support"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours["micro"]["f1"] == pytest.approx(f1_score(gold, predicted, zero_division=0))
    return ours


def test_entity_scores_hand_case() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "O", "B-ORG"]]
    predicted = [["B-PER", "I-PER", "O", "B-PER"], ["B-LOC", "I-LOC", "B-ORG"]]
    scores = entity_scores(gold, predicted)
    # PER 1 correct of 2 predicted / 1 gold; LOC 0 of 1 / 2 (LOC 0-2 is not LOC 0-1); ORG 1/1
    assert scores["types"]["PER"] == {
        "precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1,
        "predicted": 2, "correct": 1,
    }  # fmt: skip
    assert scores["types"]["LOC"]["f1"] == 0.0 and scores["types"]["LOC"]["support"] == 2
    assert scores["micro"]["precision"] == 0.5 and scores["micro"]["recall"] == 0.5
    assert scores["macro"]["f1"] == pytest.approx((2 / 3 + 0 + 1) / 3)
    assert scores["weighted"]["recall"] == pytest.approx((1 * 1 + 2 * 0 + 1 * 1) / 4)
    pytest.importorskip("seqeval")
    assert_equal_to_seqeval(gold, predicted)


def test_entities_do_not_cross_sentences() -> None:
    # seqeval joins sentences with an "O": I-PER at the start of sentence 2 is new
    gold = [["B-PER"], ["I-PER", "O"]]
    scores = entity_scores(gold, gold)
    assert scores["micro"]["support"] == 2 and scores["micro"]["f1"] == 1.0
    pytest.importorskip("seqeval")
    assert_equal_to_seqeval(gold, gold)


def test_entity_scores_without_entities_are_zero() -> None:
    scores = entity_scores([["O", "O"]], [["O", "O"]])
    assert scores["types"] == {}
    assert all(scores[a]["f1"] == 0.0 and scores[a]["support"] == 0 for a in scores if a != "types")
    only_predicted = entity_scores([["O"]], [["B-PER"]])
    assert only_predicted["types"]["PER"]["precision"] == 0.0
    assert only_predicted["weighted"]["f1"] == 0.0  # no support at all


def test_entity_scores_refuse_mismatched_lengths() -> None:
    with pytest.raises(UserError, match="2 gold sentences but 1 predicted"):
        entity_scores([["O"], ["O"]], [["O"]])
    with pytest.raises(UserError, match="sentence 2 has 2 gold tags but 1 predicted"):
        entity_scores([["O"], ["O", "B-X"]], [["O"], ["O"]])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(sentences, sentences), min_size=1, max_size=6),
    st.booleans(),
)
def test_entity_scores_equal_seqeval_on_random_data(pairs, perturb_only: bool) -> None:
    pytest.importorskip("seqeval")
    gold = [list(g) for g, _ in pairs]
    # predictions either independent random tags or the gold with a few tags changed
    if perturb_only:
        predicted = [list(g) for g in gold]
        for (g, p), (_, noise) in zip(zip(gold, predicted, strict=True), pairs, strict=True):
            for i, tag in enumerate(noise[: len(g)]):
                if i % 3 == 0:
                    p[i] = tag
    else:
        predicted = [(list(p) + ["O"] * len(g))[: len(g)] for g, p in pairs]
    ours = entity_scores(gold, predicted)
    if ours["types"]:  # seqeval's macro / weighted averages are NaN without any type
        assert_equal_to_seqeval(gold, predicted)
