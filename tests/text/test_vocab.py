"""Vocabulary: id layout, min_freq/max_size, specials, JSON round-trip, user errors."""

from __future__ import annotations

from collections import Counter

import pytest

from seqlab.errors import UserError
from seqlab.text.vocab import SPECIALS, Vocabulary

CORPUS = [["b", "a", "c", "a"], ["a", "b", "d"], ["<unk>", "e"]]


def test_layout_matches_brute_force_sort() -> None:
    vocab = Vocabulary().fit(CORPUS)
    counts = Counter(token for tokens in CORPUS for token in tokens if token not in SPECIALS)
    expected = sorted(counts, key=lambda token: (-counts[token], token))
    assert vocab.itos_ == [*SPECIALS, *expected]
    assert vocab.itos_[5:] == ["a", "b", "c", "d", "e"]
    assert [vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id, vocab.mask_id] == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert vocab.counts_ == {"a": 3, "b": 2, "c": 1, "d": 1, "e": 1}
    assert len(vocab) == 10 and "a" in vocab and "zzz" not in vocab


def test_unk_in_data_maps_to_unk_id_and_unknown_tokens_too() -> None:
    vocab = Vocabulary().fit(CORPUS)
    assert vocab.encode(["<unk>", "a", "never-seen"]) == [1, 5, 1]
    assert vocab.decode([2, 5, 6, 3, 0], skip_specials=True) == ["a", "b"]
    assert vocab.decode([2, 5]) == ["<bos>", "a"]


def test_min_freq_and_max_size() -> None:
    assert Vocabulary(min_freq=2).fit(CORPUS).itos_[5:] == ["a", "b"]
    # max_size counts the specials: 5 specials + 2 most frequent tokens.
    assert Vocabulary(max_size=7).fit(CORPUS).itos_[5:] == ["a", "b"]


def test_encode_decode_round_trip() -> None:
    vocab = Vocabulary().fit(CORPUS)
    for tokens in CORPUS[:2]:
        assert vocab.decode(vocab.encode(tokens)) == tokens


def test_save_load_identity(tmp_path) -> None:
    vocab = Vocabulary(min_freq=1, max_size=9).fit(CORPUS)
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocabulary.load(tmp_path / "vocab.json")
    assert loaded.to_dict() == vocab.to_dict()
    assert loaded.stoi_ == vocab.stoi_ and loaded.max_size == 9


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Vocabulary().fit([]), "empty corpus"),
        (lambda: Vocabulary().fit([[], []]), "empty corpus"),
        (lambda: Vocabulary(min_freq=5).fit(CORPUS), "min_freq=5"),
        (lambda: Vocabulary().encode(["a"]), "not fitted"),
        (lambda: Vocabulary().fit(["abc"]), "string"),
        (lambda: Vocabulary(max_size=3), "max_size"),
        (lambda: Vocabulary(min_freq=0), "min_freq"),
        (lambda: Vocabulary(specials=["<pad>"]), "<unk>"),
        (lambda: Vocabulary().fit(CORPUS).decode([99]), "outside"),
    ],
)
def test_user_errors(make, match) -> None:
    with pytest.raises(UserError, match=match):
        make()


def test_load_errors(tmp_path) -> None:
    with pytest.raises(UserError, match="not found"):
        Vocabulary.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe not json")
    with pytest.raises(UserError, match="not valid"):
        Vocabulary.load(tmp_path / "bad.json")
