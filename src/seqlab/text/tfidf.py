"""TF-IDF, scikit-learn estimator contract, with the lecture's formula as the default.

Lecture notes (001, "TF-IDF"):

    TF(t, d)  = n_t / sum_k n_k          n_t: occurrences of term t in document d,
                                         sum_k n_k: number of terms in d
    IDF(t, D) = log(|D| / |{d in D : t in d}|)
    tfidf     = TF * IDF                 (then an optional row normalisation)

``idf="lecture"`` gives a term found in every document weight 0. ``idf="smooth"`` is
scikit-learn's ``log((1 + |D|) / (1 + df)) + 1``; with ``tf="raw"`` (counts) and
``norm="l2"`` the output equals ``sklearn.feature_extraction.text.TfidfVectorizer``.

Shapes: ``transform(texts)`` returns CSR ``(N, V)`` float64; ``idf_`` is ``(V,)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from seqlab.errors import UserError
from seqlab.text.bow import BagOfWords
from seqlab.text.tokenizers import Tokenizer


class TfidfVectorizer(BagOfWords):
    """TF-IDF features; all :class:`BagOfWords` arguments plus:

    Args:
        idf: ``"lecture"`` (``log(N / df)``) or ``"smooth"`` (scikit-learn's default).
        tf: ``"lecture"`` (count / number of terms in the document) or ``"raw"`` (count).
        norm: ``"l2"``, ``"l1"`` or ``None`` (row normalisation after weighting).
        sublinear_tf: replace a raw count ``n`` by ``1 + log(n)`` (needs ``tf="raw"``).

    Learned: ``vocabulary_``, ``idf_`` ``(V,)``, ``stop_words_``.
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
        idf: str = "lecture",
        tf: str = "lecture",
        norm: str | None = "l2",
        sublinear_tf: bool = False,
    ) -> None:
        super().__init__(
            lowercase=lowercase,
            tokenizer=tokenizer,
            stop_words=stop_words,
            ngram_range=ngram_range,
            analyzer=analyzer,
            min_df=min_df,
            max_df=max_df,
            max_features=max_features,
            binary=binary,
        )
        self.idf = idf
        self.tf = tf
        self.norm = norm
        self.sublinear_tf = sublinear_tf

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.idf not in ("lecture", "smooth"):
            raise UserError(f"unknown idf={self.idf!r}", "use idf='lecture' or 'smooth'")
        if self.tf not in ("lecture", "raw"):
            raise UserError(f"unknown tf={self.tf!r}", "use tf='lecture' or 'raw'")
        if self.norm not in ("l2", "l1", None):
            raise UserError(f"unknown norm={self.norm!r}", "use norm='l2', 'l1' or None")
        if self.sublinear_tf and self.tf != "raw":
            raise UserError("sublinear_tf=True needs raw counts", "pass tf='raw' with it")

    def _fit_idf(self, counts: sp.csr_matrix) -> None:
        documents = counts.shape[0]
        frequency = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
        if self.idf == "lecture":
            self.idf_ = np.log(documents / frequency)
        else:  # the same float operations as scikit-learn's TfidfTransformer(smooth_idf=True)
            self.idf_ = np.log((documents + 1) / (frequency + 1)) + 1

    def _weight(self, counts: sp.csr_matrix, lengths: np.ndarray) -> sp.csr_matrix:
        """Counts ``(N, V)`` and terms per document ``(N,)`` -> TF-IDF ``(N, V)``."""
        matrix = counts.astype(np.float64)
        if self.binary:
            matrix.data[:] = 1.0
        if self.sublinear_tf:
            np.log(matrix.data, matrix.data)
            matrix.data += 1.0
        if self.tf == "lecture":
            # n_t / sum_k n_k; every row with an entry has at least one term, so no 0/0.
            row_lengths = np.repeat(lengths, np.diff(matrix.indptr)).astype(np.float64)
            matrix.data /= row_lengths
        matrix.data *= self.idf_[matrix.indices]
        if self.norm is not None:
            matrix = normalize(matrix, norm=self.norm, copy=False)
        return matrix

    def fit(self, texts: Iterable[str], y: Any = None) -> TfidfVectorizer:
        counts, _ = self._fit_counts(texts)
        self._fit_idf(counts)
        return self

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> sp.csr_matrix:
        counts, lengths = self._fit_counts(texts)
        self._fit_idf(counts)
        return self._weight(counts, lengths)

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Documents -> ``(N, V)`` CSR TF-IDF weights."""
        counts, lengths = self._transform_counts(texts)
        return self._weight(counts, lengths)

    def _extra_state(self) -> dict[str, Any]:
        return {"idf": self.idf_.tolist()}

    def _load_extra_state(self, data: dict[str, Any]) -> None:
        self.idf_ = np.asarray(data["idf"], dtype=np.float64)
        if self.idf_.shape != (len(self.vocabulary_),):
            raise UserError("saved idf and vocabulary sizes differ", "re-save the vectorizer")

    def top_terms(self, matrix: sp.csr_matrix, top: int = 10) -> list[list[tuple[str, float]]]:
        """The ``top`` highest-weighted ``(term, weight)`` pairs of every row of ``matrix``
        (terms of weight 0, e.g. in every document under the lecture IDF, are left out)."""
        names = self.get_feature_names_out()
        rows = []
        for row in range(matrix.shape[0]):
            start, stop = matrix.indptr[row], matrix.indptr[row + 1]
            columns, weights = matrix.indices[start:stop], matrix.data[start:stop]
            nonzero = weights != 0
            columns, weights = columns[nonzero], weights[nonzero]
            # Highest weight first; ties alphabetically so the output is deterministic.
            order = sorted(range(len(columns)), key=lambda i: (-weights[i], names[columns[i]]))
            rows.append([(str(names[columns[i]]), float(weights[i])) for i in order[:top]])
        return rows
