"""Baseline text classifier: TF-IDF word (+ optional char) n-grams + logistic regression.

The one-to-one baseline every neural classifier is measured against (Wang & Manning
2012 report 77-79% on MR for n-gram linear models; NB-SVM 79.4%). Non-neural, so it
trains in seconds on a CPU.

Shapes: ``predict_proba(texts)`` is ``(N, C)``; N documents, C classes (``classes_``).
It is the ``type = "tfidf"`` model of the ``text-classification`` family, so it trains
from a recipe and ``save`` writes a normal seqlab bundle (no pickle): the bundle's
``config.json``, plus ``features.json`` (the vectorizers' terms and parameters, the
classes) and ``model.safetensors`` (idf, coef, intercept).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from seqlab.config import PositiveFloat, PositiveInt, validate
from seqlab.errors import UserError
from seqlab.text.bow import check_documents
from seqlab.text.tfidf import TfidfVectorizer
from seqlab.text.vocab import read_json


@dataclass
class TfidfClassifierConfig:
    """Features and regularisation of :class:`TfidfClassifier`.

    ``char_ngram_range=(2, 5)`` adds character n-grams (``char_analyzer``, default
    ``"char_wb"``: inside word boundaries) to the word n-grams; ``C`` is the inverse L2
    strength of the logistic regression; ``solver="liblinear"`` handles two classes only.
    """

    TYPES: ClassVar[tuple[str, ...]] = ("tfidf",)

    type: str = "tfidf"  # the text-classification family's model type
    word_ngram_range: tuple[PositiveInt, PositiveInt] = (1, 2)
    char_ngram_range: tuple[PositiveInt, PositiveInt] | None = None
    char_analyzer: Literal["char", "char_wb"] = "char_wb"
    lowercase: bool = True
    stop_words: str | None = None
    min_df: PositiveInt | float = 1
    max_df: PositiveFloat = 1.0
    max_features: PositiveInt | None = None
    sublinear_tf: bool = True
    idf: Literal["smooth", "lecture"] = "smooth"
    C: PositiveFloat = 4.0
    max_iter: PositiveInt = 1000
    class_weight: Literal["balanced"] | None = None
    solver: Literal["lbfgs", "liblinear", "newton-cg", "saga"] = "lbfgs"
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TfidfClassifierConfig:
        """Validated (:func:`seqlab.config.validate`): unknown keys get a hint."""
        return validate(cls, data, "TfidfClassifierConfig")


class TfidfClassifier:
    """TF-IDF features -> logistic regression. Learned: ``classes_`` (labels, sorted),
    ``vectorizers_`` (word, then char), ``model_`` (``LogisticRegression``)."""

    def __init__(self, config: TfidfClassifierConfig | None = None) -> None:
        self.config = config or TfidfClassifierConfig()

    def _make_vectorizers(self) -> list[TfidfVectorizer]:
        config = self.config
        common = {
            "lowercase": config.lowercase,
            "min_df": config.min_df,
            "max_df": config.max_df,
            "max_features": config.max_features,
            "idf": config.idf,
            "tf": "raw",
            "sublinear_tf": config.sublinear_tf,
        }
        vectorizers = [
            TfidfVectorizer(
                ngram_range=config.word_ngram_range, stop_words=config.stop_words, **common
            )
        ]
        if config.char_ngram_range is not None:
            vectorizers.append(
                TfidfVectorizer(
                    analyzer=config.char_analyzer, ngram_range=config.char_ngram_range, **common
                )
            )
        return vectorizers

    def _make_model(self) -> LogisticRegression:
        config = self.config
        if config.class_weight not in (None, "balanced"):
            raise UserError(f"class_weight={config.class_weight!r}", "use None or 'balanced'")
        return LogisticRegression(
            C=config.C,
            max_iter=config.max_iter,
            class_weight=config.class_weight,
            solver=config.solver,
            random_state=config.seed,
        )

    def _features(self, texts: list[str]) -> sp.csr_matrix:
        """``(N, F)`` with F the total number of word and char terms."""
        return sp.hstack([vectorizer.transform(texts) for vectorizer in self.vectorizers_], "csr")

    def fit(self, texts: Sequence[str], labels: Sequence[Any]) -> TfidfClassifier:
        texts = check_documents(texts, "fit")
        labels = list(labels)
        if len(texts) != len(labels):
            raise UserError(
                f"{len(texts)} texts but {len(labels)} labels", "pass one label per text"
            )
        classes = sorted(set(labels), key=lambda label: (str(type(label)), label))
        if len(classes) < 2:
            raise UserError(f"need at least 2 classes, found {classes}", "check the label column")
        if self.config.solver == "liblinear" and len(classes) > 2:
            raise UserError("solver='liblinear' handles 2 classes only", "use solver='lbfgs'")
        index = {label: position for position, label in enumerate(classes)}
        self.vectorizers_ = self._make_vectorizers()
        features = sp.hstack(
            [vectorizer.fit_transform(texts) for vectorizer in self.vectorizers_], "csr"
        )
        self.model_ = self._make_model().fit(features, np.asarray([index[y] for y in labels]))
        self.classes_ = [label.item() if hasattr(label, "item") else label for label in classes]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise UserError(
                "this TfidfClassifier is not fitted yet", "call fit(texts, labels) first"
            )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, C)`` class probabilities, columns in ``classes_`` order."""
        self._check_fitted()
        return self.model_.predict_proba(self._features(check_documents(texts, "predict")))

    def predict(self, texts: Sequence[str]) -> list[Any]:
        """The most probable label of every text (the labels given to fit, e.g. ints)."""
        probabilities = self.predict_proba(texts)
        return [self.classes_[index] for index in probabilities.argmax(axis=1)]

    def score(self, texts: Sequence[str], labels: Sequence[Any]) -> float:
        """Accuracy."""
        predictions = self.predict(texts)
        labels = list(labels)
        if len(predictions) != len(labels) or not labels:
            raise UserError(
                f"{len(predictions)} texts but {len(labels)} labels", "pass one label per text"
            )
        return float(np.mean([p == y for p, y in zip(predictions, labels, strict=True)]))

    # ------------------------------------------------------------ persistence
    def save_weights(self, folder: Path) -> None:
        """``features.json`` and ``model.safetensors`` into ``folder`` (a bundle's)."""
        from safetensors.numpy import save_file

        self._check_fitted()
        features = []
        tensors = {
            "coef": np.ascontiguousarray(self.model_.coef_),
            "intercept": np.ascontiguousarray(self.model_.intercept_),
        }
        for position, vectorizer in enumerate(self.vectorizers_):
            state = vectorizer.to_dict()
            tensors[f"idf.{position}"] = np.asarray(state.pop("idf"))
            features.append(state)
        meta = {"classes": self.classes_, "vectorizers": features}
        (folder / "features.json").write_text(json.dumps(meta, ensure_ascii=False))
        save_file(tensors, str(folder / "model.safetensors"))

    def load_weights(self, folder: Path) -> TfidfClassifier:
        """Read what :meth:`save_weights` wrote (the config comes from the bundle)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        meta = read_json(folder / "features.json", "TF-IDF features")
        try:
            tensors = load_file(str(folder / "model.safetensors"))
            self.classes_ = list(meta["classes"])
            self.vectorizers_ = [
                TfidfVectorizer.from_dict({**state, "idf": tensors[f"idf.{position}"]})
                for position, state in enumerate(meta["vectorizers"])
            ]
            coef, intercept = tensors["coef"], tensors["intercept"]
        except (SafetensorError, OSError, KeyError, TypeError) as exc:
            raise UserError(f"{folder}: the TF-IDF weights are corrupted ({exc})") from None
        model = self._make_model()
        model.coef_, model.intercept_ = coef, intercept
        model.classes_ = np.arange(len(self.classes_))
        model.n_features_in_ = model.coef_.shape[1]
        self.model_ = model
        return self

    def save(self, folder: str | Path) -> Path:
        """Write a seqlab bundle (``load_bundle`` / ``seqlab predict`` read it); its labels
        are the classes as strings."""
        from seqlab.bundle import save_bundle
        from seqlab.families.classification import ClassificationPreprocessing, TextClassification

        self._check_fitted()
        labels = ClassificationPreprocessing([str(c) for c in self.classes_])
        return save_bundle(folder, self, task=TextClassification.task, preprocessing=labels)

    @classmethod
    def load(cls, folder: str | Path) -> TfidfClassifier:
        """The classifier of a bundle written by :meth:`save` or by ``seqlab train``."""
        from seqlab.bundle import load_bundle

        model = load_bundle(folder).model
        if not isinstance(model, cls):
            raise UserError(
                f"{folder} holds a {type(model).__name__}, not a TfidfClassifier",
                "load it with seqlab.bundle.load_bundle",
            )
        return model
