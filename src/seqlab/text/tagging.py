"""Tag schemes of token classification: BIO / BIOES / IO entity tags, spans and scores.

An entity tag is ``O`` (outside) or ``PREFIX-TYPE`` with the prefix ``B`` (begin),
``I`` (inside), ``E`` (end) or ``S`` (single-token entity) and a non-empty type
(``B-PER``; the type may hold hyphens: ``B-creative-work``). ``BIO`` here is IOB2 (every
entity starts with ``B-``); readers of IOB1 (``I-`` starts an entity, ``B-`` only
between two adjacent entities of one type) and of ill-formed sequences get the same
spans as seqeval's default mode, the convention of conlleval.pl: an ``I-X`` after ``O``
or after another type starts an entity, and a change of type ends one. So
:func:`to_bio` and :func:`to_bioes` normalise any of these inputs, and
:func:`entity_scores` equals ``seqeval.metrics.classification_report`` (exact span and
type match, CoNLL evaluation).

Tags that are not entity tags (part-of-speech tags) are scheme ``"none"``: they are
scored token by token by the caller, never through spans.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from seqlab.errors import UserError, did_you_mean

SCHEMES = ("BIO", "BIOES", "IO", "none")
Span = tuple[str, int, int]  # (type, start, end exclusive)

_ENTITY_TAG = re.compile(r"([BIES])-(.+)", re.S)


def check_scheme(name: str) -> str:
    """The canonical name of tag scheme ``name`` (case-insensitive: ``"bioes"`` -> ``"BIOES"``).

    An unknown name raises :class:`UserError` listing the schemes (or the close one).
    """
    for scheme in SCHEMES:
        if str(name).lower() == scheme.lower():
            return scheme
    raise UserError(f"unknown tag scheme {name!r}", did_you_mean(name, SCHEMES))


def _is_entity_tag(tag: str) -> bool:
    return tag == "O" or _ENTITY_TAG.fullmatch(tag) is not None


def detect_scheme(tags_sequences: Iterable[Sequence[str]]) -> str:
    """The scheme of a data set's tags: ``"BIOES"``, ``"BIO"``, ``"IO"`` or ``"none"``.

    ``"none"`` when any tag is neither ``O`` nor ``PREFIX-TYPE`` (part-of-speech tags);
    otherwise ``"BIOES"`` if an ``E-`` or ``S-`` tag occurs, ``"BIO"`` if a ``B-`` does
    (IOB1 data is ``"BIO"`` too: :func:`to_bio` turns it into IOB2), ``"IO"`` if only
    ``I-`` tags do. Tags that are all ``O`` say nothing and give ``"BIO"``, the default.
    """
    prefixes: set[str] = set()
    for tags in tags_sequences:
        for tag in tags:
            if not _is_entity_tag(tag):
                return "none"
            prefixes.add(tag[0])
    if prefixes & {"E", "S"}:
        return "BIOES"
    if "B" in prefixes or not prefixes - {"O"}:
        return "BIO"
    return "IO"


def _split_tag(tag: str, position: int) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    match = _ENTITY_TAG.fullmatch(tag)
    if match is None:
        raise UserError(
            f"{tag!r} (token {position + 1}) is not an entity tag",
            "entity tags are O or B-TYPE, I-TYPE (E-TYPE, S-TYPE in BIOES); "
            "part-of-speech tags have no entities",
        )
    return match.group(1), match.group(2)


def entity_spans(tags: Sequence[str]) -> list[Span]:
    """The entities of one sentence as ``(type, start, end)``, ``end`` exclusive.

    Reads BIO (IOB2 and IOB1), BIOES and IO alike with seqeval's default (non-strict)
    rules: an entity ends after ``E-``/``S-``, before ``B-``/``S-``/``O`` and where the
    type changes; it starts at ``B-``/``S-``, at ``I-``/``E-`` after ``O``, ``E-`` or
    ``S-``, and where the type changes. So ``O I-PER I-PER`` is one PER entity and
    ``B-PER I-LOC`` two. A tag that is not an entity tag raises :class:`UserError`.
    """
    spans: list[Span] = []
    start = 0
    previous, previous_type = "O", ""
    # A trailing "O" closes the last entity; after any non-O tag an entity is open.
    for position, tag in enumerate([*tags, "O"]):
        prefix, type_ = _split_tag(tag, position)
        # No boundary only for B-/I- followed by I-/E- of the same type.
        if previous in "OES" or prefix in "BSO" or type_ != previous_type:
            if previous != "O":
                spans.append((previous_type, start, position))
            start = position
        previous, previous_type = prefix, type_
    return spans


def _from_spans(length: int, spans: Iterable[Span], scheme: str) -> list[str]:
    tags = ["O"] * length
    for type_, start, end in spans:
        if scheme == "IO":
            tags[start:end] = [f"I-{type_}"] * (end - start)
        elif scheme == "BIOES" and end - start == 1:
            tags[start] = f"S-{type_}"
        else:
            tags[start:end] = [f"B-{type_}"] + [f"I-{type_}"] * (end - start - 1)
            if scheme == "BIOES":
                tags[end - 1] = f"E-{type_}"
    return tags


def to_bio(tags: Sequence[str]) -> list[str]:
    """One sentence's tags in IOB2 (every entity starts with ``B-``).

    Input may be IOB2, IOB1, BIOES or IO; entities are read by :func:`entity_spans`,
    so IOB1's ``O I-PER`` becomes ``O B-PER`` and an IO run is one entity.
    """
    return _from_spans(len(tags), entity_spans(tags), "BIO")


def to_bioes(tags: Sequence[str]) -> list[str]:
    """One sentence's tags in BIOES (``S-`` single-token entities, ``E-`` the last token).

    Input as for :func:`to_bio`; ``to_bio(to_bioes(tags)) == tags`` for valid IOB2.
    """
    return _from_spans(len(tags), entity_spans(tags), "BIOES")


def to_io(tags: Sequence[str]) -> list[str]:
    """One sentence's tags in IO (``I-`` only: two adjacent entities of a type merge)."""
    return _from_spans(len(tags), entity_spans(tags), "IO")


def convert_tags(tags: Sequence[str], scheme: str) -> list[str]:
    """One sentence's entity tags in ``scheme`` (``"none"``: returned unchanged)."""
    scheme = check_scheme(scheme)
    if scheme == "none":
        return list(tags)
    return _from_spans(len(tags), entity_spans(tags), scheme)


def spans_to_entities(tokens: Sequence[str], tags: Sequence[str]) -> list[dict[str, object]]:
    """The entities of a tagged sentence for printing: ``{text, type, start, end}``.

    ``text`` is the entity's tokens joined by single spaces; ``end`` is exclusive.
    """
    if len(tokens) != len(tags):
        raise UserError(
            f"{len(tokens)} tokens but {len(tags)} tags", "give one tag for every token"
        )
    return [
        {"text": " ".join(tokens[start:end]), "type": type_, "start": start, "end": end}
        for type_, start, end in entity_spans(tags)
    ]


def _ratio(numerator: float, denominator: float) -> float:
    # seqeval's zero_division=0: an empty denominator scores 0, not NaN.
    return numerator / denominator if denominator else 0.0


def _scores(correct: int, predicted: int, support: int) -> dict[str, float]:
    precision, recall = _ratio(correct, predicted), _ratio(correct, support)
    return {
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "support": support,
        "predicted": predicted,
        "correct": correct,
    }


def entity_scores(
    gold_sequences: Sequence[Sequence[str]], predicted_sequences: Sequence[Sequence[str]]
) -> dict[str, dict]:
    """Entity precision / recall / F1 of predicted tags against gold (CoNLL evaluation).

    An entity counts as correct when its type, start and end all equal a gold entity's
    in the same sentence; entities are read by :func:`entity_spans` on both sides.
    Returns ``{"types": {TYPE: scores}, "micro": scores, "macro": scores, "weighted":
    scores}`` where ``scores`` holds ``precision``, ``recall``, ``f1``, ``support`` (gold
    entities), ``predicted`` and ``correct``. Types are those seen in gold or predictions,
    sorted. Micro pools the counts; macro is the plain mean of the per-type scores and
    weighted their mean weighted by support (both 0 without any type). A ratio with a
    zero denominator is 0. These equal seqeval 1.2.2's ``classification_report`` and
    ``f1_score`` in the default mode with ``zero_division=0``.
    """
    if len(gold_sequences) != len(predicted_sequences):
        raise UserError(
            f"{len(gold_sequences)} gold sentences but {len(predicted_sequences)} predicted",
            "predict one tag sequence for every gold sentence",
        )
    gold: dict[str, set[tuple[int, int, int]]] = {}
    predicted: dict[str, set[tuple[int, int, int]]] = {}
    for number, (gold_tags, predicted_tags) in enumerate(
        zip(gold_sequences, predicted_sequences, strict=True), start=1
    ):
        if len(gold_tags) != len(predicted_tags):
            raise UserError(
                f"sentence {number} has {len(gold_tags)} gold tags but "
                f"{len(predicted_tags)} predicted",
                "predict one tag for every token",
            )
        for found, tags in ((gold, gold_tags), (predicted, predicted_tags)):
            for type_, start, end in entity_spans(tags):
                found.setdefault(type_, set()).add((number, start, end))
    types = sorted(set(gold) | set(predicted))
    per_type = {
        type_: _scores(
            len(gold.get(type_, set()) & predicted.get(type_, set())),
            len(predicted.get(type_, ())),
            len(gold.get(type_, ())),
        )
        for type_ in types
    }
    totals = {
        key: sum(int(scores[key]) for scores in per_type.values())
        for key in ("correct", "predicted", "support")
    }
    result: dict[str, dict] = {
        "types": per_type,
        "micro": _scores(totals["correct"], totals["predicted"], totals["support"]),
    }
    for average in ("macro", "weighted"):
        weights = {
            type_: 1.0 if average == "macro" else float(scores["support"])
            for type_, scores in per_type.items()
        }
        total = sum(weights.values())
        mean = {
            key: _ratio(sum(weights[t] * per_type[t][key] for t in types), total)
            for key in ("precision", "recall", "f1")
        }
        result[average] = {**mean, **{key: totals[key] for key in totals}}
    return result
