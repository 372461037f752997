"""Bag of words (lecture: "мешок слов") following scikit-learn's estimator contract.

A document becomes a row of term counts: columns are the distinct terms (word n-grams,
or character n-grams), cells count occurrences, stop words are dropped. Word order is
lost — two sentences with the same words get the same row.

Shapes: ``transform(texts)`` returns a sparse CSR matrix ``(N, V)``; N documents,
V terms (``len(vocabulary_)``), columns in alphabetical term order like scikit-learn.
"""

from __future__ import annotations

import numbers
import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from seqlab.errors import UserError
from seqlab.text.tokenizers import Tokenizer, WordTokenizer, tokenizer_from_dict

STOP_WORD_LANGUAGES = {"english": "en", "russian": "ru"}
_WHITE_SPACES = re.compile(r"\s\s+")  # the same whitespace folding scikit-learn applies
_FORMAT = "seqlab.vectorizer/1"


class NotFittedError(UserError, SklearnNotFittedError):
    """``transform`` before ``fit``: a seqlab UserError that sklearn pipelines also catch."""


@cache
def load_stop_words(language: str) -> frozenset[str]:
    """The stop words shipped in ``seqlab/text/stopwords/{en,ru}.txt`` (``"english"``,
    ``"russian"`` or the file code ``"en"``/``"ru"``)."""
    code = STOP_WORD_LANGUAGES.get(language, language)
    if code not in STOP_WORD_LANGUAGES.values():
        raise UserError(
            f"no stop-word list for {language!r}",
            "use 'english', 'russian', a list of words, or None",
        )
    text = (resources.files("seqlab.text") / "stopwords" / f"{code}.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_documents(texts: Any, what: str = "fit") -> list[str]:
    """An iterable of strings -> list; a single string or non-strings are user errors."""
    if isinstance(texts, (str, bytes)):
        raise UserError(
            f"{what} got a single string, not a collection of documents",
            "pass a list of texts, e.g. [text]",
        )
    try:
        documents = list(texts)
    except TypeError as error:
        raise UserError(f"{what} expects a list of texts, got {type(texts).__name__}") from error
    for document in documents:
        if not isinstance(document, str):
            raise UserError(
                f"{what} expects text documents, got {type(document).__name__}",
                "pass strings (decode bytes first)",
            )
    return documents


class BagOfWords(TransformerMixin, BaseEstimator):
    """Term-count matrix, scikit-learn style (``CountVectorizer``).

    Args:
        lowercase: lowercase documents before tokenizing.
        tokenizer: ``None`` (regex :class:`WordTokenizer` without punctuation tokens), a
            seqlab :class:`Tokenizer` (its ``tokenize`` is used) or any ``str -> list[str]``.
        stop_words: ``None``, ``"english"``, ``"russian"`` or a list of words (word analyzer).
        ngram_range: ``(min_n, max_n)`` of word or character n-grams.
        analyzer: ``"word"``, ``"char"`` or ``"char_wb"`` (char n-grams inside word
            boundaries, padded with spaces; the same as scikit-learn).
        min_df, max_df: keep terms whose document frequency is in ``[min_df, max_df]``;
            an int is a count, a float a proportion of documents.
        max_features: keep only the most frequent terms (corpus count).
        binary: 1 instead of counts.

    Learned: ``vocabulary_`` (term -> column), ``stop_words_`` (stop words used).
    """

    def __init__(
        self,
        lowercase: bool = True,
        tokenizer: Tokenizer | Callable[[str], list[str]] | None = None,
        stop_words: str | list[str] | None = None,
        ngram_range: tuple[int, int] = (1, 1),
        analyzer: str = "word",
        min_df: float = 1,
        max_df: float = 1.0,
        max_features: int | None = None,
        binary: bool = False,
    ) -> None:
        self.lowercase = lowercase
        self.tokenizer = tokenizer
        self.stop_words = stop_words
        self.ngram_range = ngram_range
        self.analyzer = analyzer
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.binary = binary

    # ---------------------------------------------------------------- analysis
    def _resolve_stop_words(self) -> frozenset[str]:
        if self.stop_words is None:
            return frozenset()
        if isinstance(self.stop_words, str):
            return load_stop_words(self.stop_words)
        try:
            return frozenset(str(word) for word in self.stop_words)
        except TypeError as error:
            raise UserError(
                f"stop_words={self.stop_words!r}", "use 'english', 'russian', a list or None"
            ) from error

    def _validate_params(self) -> None:
        if self.analyzer not in ("word", "char", "char_wb"):
            raise UserError(f"unknown analyzer {self.analyzer!r}", "use 'word', 'char', 'char_wb'")
        min_n, max_n = self.ngram_range
        if not 1 <= min_n <= max_n:
            raise UserError(
                f"bad ngram_range {self.ngram_range}", "use (min_n, max_n), 1 <= min_n <= max_n"
            )
        for name in ("min_df", "max_df"):
            value = getattr(self, name)
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                if value < 0:
                    raise UserError(f"{name}={value} is negative", "pass a count >= 0")
            elif not (isinstance(value, numbers.Real) and 0.0 <= value <= 1.0):
                raise UserError(f"{name}={value!r}", "pass an int count or a float in [0, 1]")
        if self.max_features is not None and self.max_features < 1:
            raise UserError(f"max_features={self.max_features}", "pass a positive int or None")

    def _tokenize_function(self) -> Callable[[str], list[str]]:
        if self.tokenizer is None:
            return WordTokenizer(lowercase=False, keep_punctuation=False).tokenize
        if isinstance(self.tokenizer, Tokenizer):
            return self.tokenizer.tokenize
        if callable(self.tokenizer):
            return self.tokenizer
        raise UserError(
            f"tokenizer must be a Tokenizer or a callable, not {type(self.tokenizer).__name__}",
            "pass e.g. WordTokenizer() or str.split",
        )

    def build_analyzer(self) -> Callable[[str], list[str]]:
        """``document -> list of terms`` (tokens, stop words removed, n-grams)."""
        self._validate_params()
        min_n, max_n = self.ngram_range
        lowercase = self.lowercase
        if self.analyzer == "char":
            return lambda text: _char_ngrams(text.lower() if lowercase else text, min_n, max_n)
        if self.analyzer == "char_wb":
            return lambda text: _char_wb_ngrams(text.lower() if lowercase else text, min_n, max_n)
        tokenize = self._tokenize_function()
        stop_words = self._resolve_stop_words()

        def analyze(text: str) -> list[str]:
            tokens = tokenize(text.lower() if lowercase else text)
            if stop_words:
                tokens = [token for token in tokens if token not in stop_words]
            return _word_ngrams(tokens, min_n, max_n)

        return analyze

    # ----------------------------------------------------------------- counting
    def _count(
        self, documents: list[str], vocabulary: dict[str, int] | None
    ) -> tuple[sp.csr_matrix, np.ndarray, dict[str, int]]:
        """Counts ``(N, V)``, the number of terms in each document ``(N,)`` (including
        terms outside the vocabulary: the lecture's sum_k n_k) and the vocabulary (grown
        when ``None`` is given)."""
        analyze = self.build_analyzer()
        growing = vocabulary is None
        vocabulary = {} if vocabulary is None else vocabulary
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        lengths = np.zeros(len(documents), dtype=np.int64)
        for row, document in enumerate(documents):
            terms = analyze(document)
            # With binary counts a document's length is its number of distinct terms.
            lengths[row] = len(set(terms)) if self.binary else len(terms)
            counter: Counter[int] = Counter()
            for term in terms:
                column = vocabulary.get(term)
                if column is None and growing:
                    column = vocabulary[term] = len(vocabulary)
                if column is not None:
                    counter[column] += 1
            indices.extend(counter.keys())
            values.extend(counter.values())
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (np.asarray(values, dtype=np.int64), np.asarray(indices, dtype=np.int64), indptr),
            shape=(len(documents), len(vocabulary)),
        )
        matrix.sort_indices()
        return matrix, lengths, vocabulary

    def _fit_counts(self, texts: Iterable[str]) -> tuple[sp.csr_matrix, np.ndarray]:
        documents = check_documents(texts, "fit")
        if not documents:
            raise UserError("cannot fit on an empty corpus (no documents)", "pass some texts")
        self.stop_words_ = self._resolve_stop_words() if self.analyzer == "word" else frozenset()
        counts, lengths, vocabulary = self._count(documents, None)
        if not vocabulary:
            raise UserError(
                "the corpus has no terms (empty documents, or only stop words/punctuation)",
                "pass texts with words, or change stop_words/tokenizer",
            )
        # Columns in alphabetical order (as scikit-learn), then prune.
        terms = sorted(vocabulary)
        counts = counts[:, [vocabulary[term] for term in terms]]
        counts, terms = self._prune(counts, terms)
        counts.sort_indices()
        self.vocabulary_ = {term: index for index, term in enumerate(terms)}
        return counts, lengths

    def _prune(self, counts: sp.csr_matrix, terms: list[str]) -> tuple[sp.csr_matrix, list[str]]:
        """Apply min_df, max_df and max_features (scikit-learn's semantics)."""
        documents = counts.shape[0]

        def as_count(value: float) -> float:  # an int is a count, a float a proportion
            return value if isinstance(value, numbers.Integral) else value * documents

        low, high = as_count(self.min_df), as_count(self.max_df)
        if high < low:
            raise UserError(
                f"max_df={self.max_df} allows fewer documents than min_df={self.min_df} "
                f"requires (the corpus has {documents} documents)",
                "raise max_df or lower min_df",
            )
        frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        keep = (frequency >= low) & (frequency <= high)
        if self.max_features is not None and keep.sum() > self.max_features:
            totals = np.asarray(counts.sum(axis=0)).ravel()
            candidates = np.flatnonzero(keep)
            # The same (default-kind) argsort as scikit-learn, so ties break identically.
            ranked = candidates[np.argsort(-totals[candidates])]
            keep = np.zeros_like(keep)
            keep[ranked[: self.max_features]] = True
        if not keep.any():
            raise UserError(
                f"after pruning (min_df={self.min_df}, max_df={self.max_df}) no terms remain",
                "lower min_df or raise max_df",
            )
        kept = np.flatnonzero(keep)
        return counts[:, kept], [terms[index] for index in kept]

    def _check_fitted(self) -> None:
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet", "call fit(texts) before transform"
            )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "vocabulary_")

    def _transform_counts(self, texts: Iterable[str]) -> tuple[sp.csr_matrix, np.ndarray]:
        self._check_fitted()
        counts, lengths, _ = self._count(check_documents(texts, "transform"), self.vocabulary_)
        return counts, lengths

    # -------------------------------------------------------------- public API
    def fit(self, texts: Iterable[str], y: Any = None) -> BagOfWords:
        self._fit_counts(texts)
        return self

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> sp.csr_matrix:
        counts, _ = self._fit_counts(texts)
        return self._finish(counts)

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Documents -> ``(N, V)`` CSR counts (int64; 0/1 when ``binary``)."""
        counts, _ = self._transform_counts(texts)
        return self._finish(counts)

    def _finish(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        if self.binary:
            counts.data[:] = 1
        return counts

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_fitted()
        names = sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-able parameters and learned state (no pickle)."""
        self._check_fitted()
        params = self.get_params(deep=False)
        if isinstance(self.tokenizer, Tokenizer):
            params["tokenizer"] = self.tokenizer.to_dict()
        elif self.tokenizer is not None:
            raise UserError(
                "a vectorizer with a custom callable tokenizer cannot be saved as JSON",
                "use tokenizer=None or a seqlab Tokenizer",
            )
        if params["stop_words"] is not None and not isinstance(params["stop_words"], str):
            params["stop_words"] = sorted(params["stop_words"])
        params["ngram_range"] = list(params["ngram_range"])
        return {
            "format": _FORMAT,
            "type": type(self).__name__,
            "params": params,
            "terms": self.get_feature_names_out().tolist(),
            **self._extra_state(),
        }

    def _extra_state(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BagOfWords:
        if not isinstance(data, dict) or data.get("type") != cls.__name__:
            raise UserError(f"not a saved {cls.__name__}", "load a file written by to_dict()")
        params = dict(data["params"])
        if isinstance(params.get("tokenizer"), dict):
            params["tokenizer"] = tokenizer_from_dict(params["tokenizer"])
        params["ngram_range"] = tuple(params["ngram_range"])
        vectorizer = cls(**params)
        vectorizer.stop_words_ = (
            vectorizer._resolve_stop_words() if vectorizer.analyzer == "word" else frozenset()
        )
        vectorizer.vocabulary_ = {term: index for index, term in enumerate(data["terms"])}
        vectorizer._load_extra_state(data)
        return vectorizer

    def _load_extra_state(self, data: dict[str, Any]) -> None:
        pass


def _word_ngrams(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    if max_n == 1:
        return tokens
    terms = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n, len(tokens)) + 1):
        terms.extend(" ".join(tokens[start : start + n]) for start in range(len(tokens) - n + 1))
    return terms


def _char_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    text = _WHITE_SPACES.sub(" ", text)
    terms: list[str] = []
    for n in range(min_n, min(max_n, len(text)) + 1):
        terms.extend(text[start : start + n] for start in range(len(text) - n + 1))
    return terms


def _char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    terms: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        for n in range(min_n, max_n + 1):
            if len(padded) <= n:  # a short word is counted once, whole (as scikit-learn)
                terms.append(padded)
                break
            terms.extend(padded[start : start + n] for start in range(len(padded) - n + 1))
    return terms
