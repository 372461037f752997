"""BagOfWords: the lecture's bag-of-words table, parity with scikit-learn's
CountVectorizer, stop-word files, the estimator contract and user errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils import estimator_checks

from seqlab.errors import UserError
from seqlab.text.bow import BagOfWords, NotFittedError, load_stop_words
from seqlab.text.tfidf import TfidfVectorizer
from seqlab.text.tokenizers import BPETokenizer, WordTokenizer

# The example review of the lecture slide "The Bag of Words Representation".
LECTURE_REVIEW = (
    "I love this movie! It's sweet, but with satirical humor. The dialogue is great and the "
    "adventure scenes are fun... It manages to be whimsical and romantic while laughing at the "
    "conventions of the fairy tale genre. I would recommend it to just about anyone. I've seen "
    "it several times, and I'm always happy to see it again whenever I have a friend who "
    "hasn't seen it yet!"
)
LECTURE_TABLE = {"it": 6, "i": 5, "the": 4, "to": 3, "and": 3, "seen": 2, "yet": 1, "would": 1,
                 "whimsical": 1, "times": 1, "sweet": 1, "satirical": 1, "adventure": 1,
                 "genre": 1, "fairy": 1, "humor": 1, "have": 1, "great": 1}  # fmt: skip
DOCS = [
    "The cat sat on the mat. The cat!",
    "A dog sat on a log, the dog barked",
    "Cats and dogs: the cat, the dog and the log",
    "Кошка и собака — всё ещё друзья, и это хорошо",
]


def test_lecture_bag_of_words_table() -> None:
    bow = BagOfWords(tokenizer=re.compile(r"\w+").findall)
    row = bow.fit_transform([LECTURE_REVIEW]).toarray()[0]
    counts = dict(zip(bow.get_feature_names_out(), row, strict=True))
    assert {term: counts[term] for term in LECTURE_TABLE} == LECTURE_TABLE


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ngram_range": (1, 3)},
        {"ngram_range": (2, 2), "binary": True},
        {"min_df": 2},
        {"max_df": 0.5, "min_df": 1},
        {"max_df": 2},
        {"max_features": 3},
        {"stop_words": "english", "ngram_range": (1, 2)},
        {"analyzer": "char", "ngram_range": (1, 3)},
        {"analyzer": "char_wb", "ngram_range": (2, 5)},
        {"lowercase": False},
    ],
)
def test_counts_equal_sklearn_count_vectorizer(params: dict) -> None:
    tokenize = WordTokenizer(lowercase=False, keep_punctuation=False).tokenize
    ours = BagOfWords(**params)
    reference_params = dict(params)
    if params.get("stop_words") == "english":
        reference_params["stop_words"] = sorted(load_stop_words("english"))
    if params.get("analyzer", "word") == "word":
        reference_params.update(tokenizer=tokenize, token_pattern=None)
    reference = CountVectorizer(**reference_params)
    expected = reference.fit_transform(DOCS)
    actual = ours.fit_transform(DOCS)
    assert list(ours.get_feature_names_out()) == list(reference.get_feature_names_out())
    assert actual.format == "csr" and actual.dtype == np.int64
    assert np.array_equal(actual.toarray(), expected.toarray())
    new_docs = ["the cat and the unseen word", "собака"]
    assert np.array_equal(
        ours.transform(new_docs).toarray(), reference.transform(new_docs).toarray()
    )


def test_stop_word_files() -> None:
    english, russian = load_stop_words("english"), load_stop_words("russian")
    assert 150 <= len(english) <= 300 and 150 <= len(russian) <= 300
    assert {"the", "and", "of", "is"} <= english and {
        "и",
        "в",
        "не",
        "что",
        "всё",
        "все",
    } <= russian
    assert all(word == word.lower() and word.strip() == word for word in english | russian)
    bow = BagOfWords(stop_words="russian").fit(DOCS[3:])
    assert set(bow.get_feature_names_out()) == {"кошка", "собака", "друзья"}
    assert bow.stop_words_ == russian
    assert set(BagOfWords(stop_words=["cat", "the"]).fit(DOCS[:1]).vocabulary_) == {
        "mat",
        "on",
        "sat",
    }


def test_seqlab_tokenizer_object_is_used() -> None:
    bow = BagOfWords(tokenizer=WordTokenizer(normalize_yo=True), lowercase=False).fit(["Ёж, ёж"])
    assert list(bow.get_feature_names_out()) == [",", "еж"]
    assert bow.transform(["ёж"]).toarray().tolist() == [[0, 1]]


def test_estimator_contract_checks() -> None:
    for estimator in (BagOfWords(), TfidfVectorizer()):
        name = type(estimator).__name__
        for check in (
            estimator_checks.check_no_attributes_set_in_init,
            estimator_checks.check_parameters_default_constructible,
            estimator_checks.check_get_params_invariance,
            estimator_checks.check_set_params,
            estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
            estimator_checks.check_estimator_cloneable,
            estimator_checks.check_estimator_repr,
            estimator_checks.check_transformers_unfitted,
            estimator_checks.check_get_feature_names_out_error,
            estimator_checks.check_mixin_order,
            estimator_checks.check_valid_tag_types,
        ):
            check(name, estimator)
        assert estimator.fit(DOCS) is estimator


def test_transform_before_fit_names_the_cause() -> None:
    with pytest.raises(NotFittedError, match="BagOfWords is not fitted yet") as caught:
        BagOfWords().transform(DOCS)
    assert isinstance(caught.value, UserError) and isinstance(caught.value, SklearnNotFittedError)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: BagOfWords().fit([]), "empty corpus"),
        (lambda: BagOfWords().fit(["", "  ", "!!"]), "no terms"),
        (lambda: BagOfWords(stop_words="english").fit(["the and of"]), "no terms"),
        (lambda: BagOfWords().fit("one string"), "single string"),
        (lambda: BagOfWords().fit([b"bytes"]), "decode bytes"),
        (lambda: BagOfWords(min_df=4).fit(DOCS), "no terms remain"),
        (lambda: BagOfWords(min_df=3, max_df=2).fit(DOCS), "max_df"),
        (lambda: BagOfWords(min_df=1.5).fit(DOCS), "min_df"),
        (lambda: BagOfWords(stop_words="klingon").fit(DOCS), "klingon"),
        (lambda: BagOfWords(stop_words=42).fit(DOCS), "stop_words=42"),
        (lambda: BagOfWords(analyzer="syllable").fit(DOCS), "analyzer"),
        (lambda: BagOfWords(ngram_range=(2, 1)).fit(DOCS), "ngram_range"),
        (lambda: BagOfWords(tokenizer=42).fit(DOCS), "tokenizer"),
        (lambda: BagOfWords().fit(DOCS).transform("one string"), "single string"),
    ],
)
def test_user_errors(make, match) -> None:
    with pytest.raises(UserError, match=match):
        make()


def test_json_round_trip() -> None:
    bow = BagOfWords(stop_words="english", ngram_range=(1, 2), binary=True).fit(DOCS)
    loaded = BagOfWords.from_dict(bow.to_dict())
    assert loaded.get_params() == bow.get_params()
    assert np.array_equal(loaded.transform(DOCS).toarray(), bow.transform(DOCS).toarray())
    with pytest.raises(UserError, match="callable tokenizer"):
        BagOfWords(tokenizer=str.split).fit(DOCS).to_dict()


def test_clone_keeps_a_fitted_tokenizer() -> None:
    # sklearn clones every param; a tokenizer must be copied with its learned state
    # (GridSearchCV clones the whole pipeline), not rebuilt unfitted from its params.
    tokenizer = BPETokenizer(vocab_size=300).fit(DOCS)
    vectorizer = clone(TfidfVectorizer(tokenizer=tokenizer))
    assert vectorizer.tokenizer is not tokenizer
    fitted = vectorizer.fit(DOCS)
    assert set(fitted.vocabulary_) == {
        token for doc in DOCS for token in tokenizer.tokenize(doc.lower())
    }
    assert "tokenizer__vocab_size" not in TfidfVectorizer(tokenizer=tokenizer).get_params()
