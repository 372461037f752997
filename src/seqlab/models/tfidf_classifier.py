"""Baseline text classifier: TF-IDF word (+ optional char) n-grams + logistic regression.

The one-to-one baseline every neural classifier is measured against (Wang & Manning
2012 report 77-79% on MR for n-gram linear models; NB-SVM 79.4%). Non-neural, so it
trains in seconds on a CPU.

Shapes: ``predict_proba(texts)`` is ``(N, C)``; N documents, C classes (``classes_``).
Saved folder (no pickle): ``config.json`` (config, classes), ``features.json`` (the
vectorizers' terms and parameters) and ``model.safetensors`` (idf, coef, intercept).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

import seqlab
from seqlab import atomic
from seqlab.errors import UserError
from seqlab.text.bow import check_documents
from seqlab.text.tfidf import TfidfVectorizer
from seqlab.text.vocab import read_json

FAMILY = "tfidf"


@dataclass
class TfidfClassifierConfig:
    """Features and regularisation of :class:`TfidfClassifier`.

    ``char_ngram_range=(2, 5)`` adds character n-grams (``char_analyzer``, default
    ``"char_wb"``: inside word boundaries) to the word n-grams; ``C`` is the inverse L2
    strength of the logistic regression; ``solver="liblinear"`` handles two classes only.
    """

    word_ngram_range: tuple[int, int] = (1, 2)
    char_ngram_range: tuple[int, int] | None = None
    char_analyzer: str = "char_wb"
    lowercase: bool = True
    stop_words: str | None = None
    min_df: int | float = 1
    max_df: float = 1.0
    max_features: int | None = None
    sublinear_tf: bool = True
    idf: str = "smooth"
    C: float = 4.0
    max_iter: int = 1000
    class_weight: str | None = None
    solver: str = "lbfgs"
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TfidfClassifierConfig:
        names = [field.name for field in dataclasses.fields(cls)]
        for key in data:
            if key not in names:
                lowered = {name.lower(): name for name in names}
                hint = get_close_matches(str(key).lower(), list(lowered), n=1)
                fix = (
                    f"did you mean {lowered[hint[0]]!r}?"
                    if hint
                    else f"known keys: {', '.join(names)}"
                )
                raise UserError(f"unknown TfidfClassifierConfig key {key!r}", fix)
        values = dict(data)
        for key in ("word_ngram_range", "char_ngram_range"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)


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
    def save(self, folder: str | Path) -> Path:
        """Write the folder atomically (temp folder + rename); returns its path."""
        from safetensors.numpy import save_file

        self._check_fitted()
        folder = Path(folder)
        with atomic.folder(folder) as temp:
            meta = {
                "seqlab_version": seqlab.__version__,
                "family": FAMILY,
                "task": "classify",
                "model": self.config.to_dict(),
                "labels": self.classes_,
            }
            (temp / "config.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
            features = []
            tensors = {
                "coef": np.ascontiguousarray(self.model_.coef_),
                "intercept": np.ascontiguousarray(self.model_.intercept_),
            }
            for position, vectorizer in enumerate(self.vectorizers_):
                state = vectorizer.to_dict()
                tensors[f"idf.{position}"] = np.asarray(state.pop("idf"))
                features.append(state)
            (temp / "features.json").write_text(json.dumps(features, ensure_ascii=False))
            save_file(tensors, str(temp / "model.safetensors"))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> TfidfClassifier:
        from safetensors.numpy import load_file

        folder = Path(folder)
        meta = read_json(folder / "config.json", "TfidfClassifier config")
        if meta.get("family") != FAMILY:
            raise UserError(
                f"{folder} holds a {meta.get('family')!r} model, not {FAMILY!r}",
                "load it with seqlab.bundle.load_bundle",
            )
        if not (folder / "model.safetensors").is_file():
            raise UserError(f"{folder} has no model.safetensors", "save the classifier again")
        tensors = load_file(str(folder / "model.safetensors"))
        classifier = cls(TfidfClassifierConfig.from_dict(meta["model"]))
        classifier.classes_ = list(meta["labels"])
        classifier.vectorizers_ = [
            TfidfVectorizer.from_dict({**state, "idf": tensors[f"idf.{position}"]})
            for position, state in enumerate(read_json(folder / "features.json", "Features"))
        ]
        model = classifier._make_model()
        model.coef_, model.intercept_ = tensors["coef"], tensors["intercept"]
        model.classes_ = np.arange(len(classifier.classes_))
        model.n_features_in_ = model.coef_.shape[1]
        classifier.model_ = model
        return classifier
