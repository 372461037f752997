"""Words -> sub-tokens: each word's first piece equals HF's ``word_ids()`` alignment and
a brute force; long sentences are cut between words into windows that fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.errors import UserError
from seqlab.text.tokenizers import PretrainedTokenizer, make_tokenizer
from seqlab.text.words import pack_windows, special_ids, windows, word_pieces

SENTENCES = [
    ["The", "jury", "said", "it", "did", "find", "that", "many", "voters", "were", "unaffable"],
    ["Tokenization", "isn't", "trivial", ":", "3.14", "Ünïcode", "naïveté", "!"],
    ["Hello"],
]


@pytest.fixture(scope="module")
def minilm(minilm_folder: Path) -> tuple[None, PretrainedTokenizer, Path]:
    return None, PretrainedTokenizer.from_folder(minilm_folder), minilm_folder


def test_first_subtoken_alignment_equals_hf_word_ids_and_brute_force(minilm, hf_offline) -> None:
    transformers = pytest.importorskip("transformers")
    _, tokenizer, folder = minilm
    auto = transformers.AutoTokenizer.from_pretrained(str(folder))
    for words in SENTENCES:
        ((ids, first),) = windows(words, tokenizer, context=512)
        encoded = auto(words, is_split_into_words=True)
        assert ids == encoded["input_ids"]
        word_ids = encoded.word_ids()
        assert first == [word_ids.index(i) for i in range(len(words))]
        # Brute force: [CLS] + the pieces of the words before word i, from a plain encode
        # of the sentence prefix (its [SEP] dropped); the word's own pieces start there.
        for i, word in enumerate(words):
            before = tokenizer.encode(" ".join(words[:i]))[:-1]
            assert first[i] == len(before)
            assert ids[first[i]] == tokenizer.encode(word)[1]
    assert len(word_pieces(tokenizer, "unaffable")) == 3  # una ##ffa ##ble


def test_long_sentences_are_cut_into_windows(minilm) -> None:
    _, tokenizer, _ = minilm
    words = SENTENCES[0] * 3 + ["a" * 40]  # the last word alone is longer than a window
    parts = windows(words, tokenizer, context=10)
    assert len(parts) > 3
    assert sum(len(first) for _, first in parts) == len(words)  # every word read once
    seen = 0
    for ids, first in parts:
        assert len(ids) <= 10 and ids[0] == tokenizer.bos_id and ids[-1] == tokenizer.eos_id
        for position in first:
            assert ids[position] == word_pieces(tokenizer, words[seen])[0]
            seen += 1


def test_pack_windows_equals_a_greedy_brute_force() -> None:
    pieces = [[5, 6], [7], [8, 9, 10], [11], [12, 13, 14, 15, 16, 17], [18]]
    for context in (3, 4, 5, 6, 9, None):
        found = pack_windows(pieces, context, before=[1], after=[2])
        room = None if context is None else context - 2
        # Brute force: fill each window greedily with whole words, in order.
        expected, current = [], []
        for word in pieces:
            word = word[:room]
            if room is not None and current and sum(map(len, current)) + len(word) > room:
                expected.append(current)
                current = []
            current.append(word)
        expected.append(current)
        assert len(found) == len(expected), context
        for (ids, first), words in zip(found, expected, strict=True):
            assert ids == [1, *[i for w in words for i in w], 2]
            assert [ids[p] for p in first] == [w[0] for w in words]
            assert context is None or len(ids) <= context
    assert pack_windows([], 4) == [([], [])]
    with pytest.raises(UserError, match="leaves no room for words"):
        pack_windows(pieces, 2, before=[1], after=[2])


def test_seqlab_tokenizers_add_no_specials() -> None:
    bpe = make_tokenizer("bpe", vocab_size=40).fit(["lower lowest newer newest"] * 5)
    assert special_ids(bpe) == ([], [])
    ((ids, first),) = windows(["lowest", "newer"], bpe, None)
    assert ids == bpe.encode("lowest") + bpe.encode("newer")
    assert first == [0, len(bpe.encode("lowest"))]
