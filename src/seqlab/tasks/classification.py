"""Task `classify`: many-to-one classification of texts or time series.

Data: ``mr`` and the other labelled text sets of the registry, ``ucr`` (with
``data.options = {name = "ECG200"}``), or ``file`` (a CSV/TSV with text and label
columns, split 80/10/10 with a fixed seed). Baselines measured in the same run:
TF-IDF + logistic regression for text, 1-nearest-neighbour (Euclidean) for series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from seqlab.data.batching import ClassificationBatches, pad_sequences
from seqlab.data.datasets import load_dataset
from seqlab.data.readers import read_text_classification
from seqlab.errors import UserError
from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.recipe import Recipe, build_dataclass
from seqlab.tasks.common import copy_pretrained, new_tokenizer, pretrained_vectors
from seqlab.text.tokenizers import Tokenizer

SPLITS = ("train", "valid", "test")


@dataclass
class ClassificationData:
    tokenizer: Tokenizer | None  # None for time series
    labels: list[str]
    splits: dict[str, tuple[list[Any], list[int]]]  # split -> (texts or series, label ids)
    description: str
    batches: dict[str, Any] = field(default_factory=dict)

    @property
    def is_text(self) -> bool:
        return self.tokenizer is not None


def _seeded_split(n: int, seed: int, fractions=(0.8, 0.1, 0.1)) -> dict[str, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    a = round(n * fractions[0])
    b = a + round(n * fractions[1])
    return {"train": order[:a], "valid": order[a:b], "test": order[b:]}


def _file_splits(recipe: Recipe, labels: list[str] | None) -> tuple[dict, list[str], str]:
    data = recipe.data
    if not data.path:
        raise UserError("data.dataset = 'file' needs data.path", "set data.path = 'reviews.csv'")
    texts, raw_labels = read_text_classification(data.path, data.text_column, data.label_column)
    names = labels or sorted(set(raw_labels))
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted(set(raw_labels) - set(index))
    if unknown:
        raise UserError(
            f"labels {unknown[:5]} are not known to this model", f"the model knows {names}"
        )
    ids = [index[label] for label in raw_labels]
    parts = _seeded_split(len(texts), data.seed)
    splits = {k: ([texts[i] for i in v], [ids[i] for i in v]) for k, v in parts.items()}
    return (
        splits,
        names,
        f"`{data.path}` ({len(texts)} rows, seeded 80/10/10 split, seed {data.seed})",
    )


def _series_splits(recipe: Recipe) -> tuple[dict, list[str], str]:
    data = recipe.data
    ts = load_dataset("ucr", **data.options)
    parts = _seeded_split(len(ts.train_y), data.seed, (0.9, 0.1, 0.0))

    def rows(x: np.ndarray) -> list[np.ndarray]:
        # Variable-length UCR series end in NaN padding: keep the valid prefix.
        return [row[~np.isnan(row)].astype(np.float32) for row in x]

    train_x, train_y = rows(ts.train_x), ts.train_y.tolist()
    splits = {
        "train": ([train_x[i] for i in parts["train"]], [train_y[i] for i in parts["train"]]),
        "valid": ([train_x[i] for i in parts["valid"]], [train_y[i] for i in parts["valid"]]),
        "test": (rows(ts.test_x), ts.test_y.tolist()),
    }
    name = data.options.get("name", "?")
    return (
        splits,
        list(ts.label_names),
        f"UCR `{name}` (official train/test; 10% of train for validation)",
    )


def prepare(
    recipe: Recipe, tokenizer: Tokenizer | None = None, labels: list[str] | None = None
) -> ClassificationData:
    """Load the splits, fit the tokenizer on train (unless given) and cut batches."""
    data = recipe.data
    if data.dataset == "file":
        splits, names, description = _file_splits(recipe, labels)
    elif data.dataset == "ucr":
        splits, names, description = _series_splits(recipe)
    else:
        loaded = load_dataset(data.dataset, **data.options)
        if not hasattr(loaded, "splits") or not hasattr(loaded, "label_names"):
            raise UserError(
                f"dataset '{data.dataset}' is not a classification data set",
                "see `seqlab datasets` for the task of each",
            )
        splits, names = dict(loaded.splits), list(loaded.label_names)
        description = f"`{data.dataset}` (seeded splits, seed {data.seed})"
    if data.limit:  # a seeded random subset: files are often ordered by class
        x, y = splits["train"]
        keep = np.sort(np.random.default_rng(data.seed).permutation(len(y))[: data.limit])
        splits["train"] = ([x[i] for i in keep], [y[i] for i in keep])
    return from_splits(recipe, splits, names, description, tokenizer, is_text=data.dataset != "ucr")


def from_splits(
    recipe: Recipe,
    splits: dict[str, tuple[list[Any], list[int]]],
    labels: list[str],
    description: str,
    tokenizer: Tokenizer | None = None,
    is_text: bool = True,
) -> ClassificationData:
    """Fit the tokenizer on train (unless given) and cut the batches of every split."""
    data = recipe.data
    if is_text and tokenizer is None:
        tokenizer = new_tokenizer(data)
        tokenizer.fit(splits["train"][0])
    prepared = ClassificationData(tokenizer if is_text else None, labels, splits, description)
    for name, (inputs, targets) in splits.items():
        train = name == "train"
        prepared.batches[name] = ClassificationBatches(
            encode(prepared, inputs, data.max_length),
            targets,
            batch_size=data.batch_size if train else data.eval_batch_size,
            shuffle=train,
            seed=data.seed,
            bucket=True,
            pad_id=tokenizer.pad_id if is_text else 0,
        )
    return prepared


def encode(prepared: ClassificationData, inputs: list[Any], max_length: int | None) -> list[Any]:
    """Texts -> id lists (never empty: an empty text becomes one <unk>); series pass through."""
    if prepared.tokenizer is None:
        return [x[:max_length] if max_length else x for x in inputs]
    tok = prepared.tokenizer
    out = []
    for text in inputs:
        ids = tok.encode(text)[:max_length] if max_length else tok.encode(text)
        out.append(ids or [tok.unk_id])
    return out


def class_weights(labels: list[int], num_classes: int) -> list[float]:
    """'balanced' weights n / (C * n_c), as scikit-learn's compute_class_weight."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    return (len(labels) / (num_classes * np.maximum(counts, 1))).tolist()


def build_model(recipe: Recipe, prepared: ClassificationData) -> SequenceClassifier:
    config = build_dataclass(SequenceClassifierConfig, recipe.model, "model")
    config.num_classes = len(prepared.labels)
    if prepared.tokenizer is not None:
        config.vocab_size = prepared.tokenizer.vocab_size
        config.pad_id = prepared.tokenizer.pad_id
    else:
        config.vocab_size, config.input_size = 0, 1
    if recipe.train.class_weights == "balanced":
        config.class_weights = class_weights(prepared.splits["train"][1], config.num_classes)
    elif recipe.train.class_weights is not None:
        raise UserError(
            f"train.class_weights = '{recipe.train.class_weights}' is not supported",
            'use "balanced" or leave it out',
        )
    vectors = pretrained_vectors(config) if prepared.tokenizer is not None else None
    model = SequenceClassifier(config)
    if vectors is not None:
        summary = copy_pretrained(model.embedding, vectors, prepared.tokenizer, config.pad_id)
        prepared.description += f"; {summary}"
    return model


@torch.no_grad()
def predict_proba(
    model: SequenceClassifier,
    prepared: ClassificationData,
    inputs: list[Any],
    max_length: int | None = None,
    batch_size: int = 128,
) -> np.ndarray:
    """(N, C) probabilities for raw texts or series, in input order."""
    model.eval()
    encoded = encode(prepared, inputs, max_length)
    pad = prepared.tokenizer.pad_id if prepared.tokenizer is not None else 0
    chunks = []
    for start in range(0, len(encoded), batch_size):
        padded, lengths = pad_sequences(encoded[start : start + batch_size], pad_value=pad)
        chunks.append(model.predict_proba(padded, lengths).numpy())
    return np.concatenate(chunks) if chunks else np.zeros((0, len(prepared.labels)))


def baseline(prepared: ClassificationData, split: str = "test") -> dict[str, float]:
    """TF-IDF + logistic regression (text) or 1-NN Euclidean (series), same splits."""
    train_x, train_y = prepared.splits["train"]
    test_x, test_y = prepared.splits[split]
    if prepared.is_text:
        from seqlab.models.tfidf_classifier import TfidfClassifier, TfidfClassifierConfig

        clf = TfidfClassifier(TfidfClassifierConfig()).fit(train_x, train_y)
        return {"tfidf_logreg_accuracy": float(clf.score(test_x, test_y))}
    length = max(len(x) for x in [*train_x, *test_x])
    a = np.stack([np.pad(x, (0, length - len(x))) for x in train_x])  # (N, T)
    b = np.stack([np.pad(x, (0, length - len(x))) for x in test_x])  # (M, T)
    distances = (b**2).sum(1, keepdims=True) - 2 * b @ a.T + (a**2).sum(1)
    nearest = np.asarray(train_y)[distances.argmin(1)]
    return {"nn1_euclidean_accuracy": float((nearest == np.asarray(test_y)).mean())}


def report(
    model: SequenceClassifier, prepared: ClassificationData, recipe: Recipe
) -> tuple[dict[str, Any], list[str]]:
    """Test accuracy and macro-F1 beside the baseline, and a few predictions."""
    from sklearn.metrics import f1_score

    split = recipe.eval.split
    inputs, targets = prepared.splits[split]
    probs = predict_proba(model, prepared, inputs, recipe.data.max_length)
    predicted = probs.argmax(1)
    metrics: dict[str, Any] = {
        f"{split}_accuracy": float((predicted == np.asarray(targets)).mean()),
        f"{split}_macro_f1": float(f1_score(targets, predicted, average="macro")),
        f"{split}_examples": len(targets),
    }
    if recipe.eval.baseline:
        metrics |= {f"{split}_{k}": v for k, v in baseline(prepared, split).items()}
    lines = []
    if prepared.is_text:
        for text, p in list(zip(inputs, probs, strict=True))[: recipe.eval.samples]:
            lines.append(f"{prepared.labels[int(p.argmax())]} ({p.max():.2f}): {text[:80]!r}")
    return metrics, lines


def evaluate_file(bundle: Any, recipe: Recipe, path: str) -> dict[str, Any]:
    """Accuracy / macro-F1 of a classifier bundle on every row of a user CSV/TSV."""
    from sklearn.metrics import f1_score

    if bundle.tokenizer is None:
        raise UserError(
            "evaluating a time-series classifier on a file is not supported yet", "use --split test"
        )
    texts, raw = read_text_classification(path, recipe.data.text_column, recipe.data.label_column)
    index = {name: i for i, name in enumerate(bundle.labels)}
    unknown = sorted(set(raw) - set(index))
    if unknown:
        raise UserError(
            f"{path}: labels {unknown[:5]} are not known to this model",
            f"the model knows {bundle.labels}",
        )
    prepared = ClassificationData(bundle.tokenizer, bundle.labels, {}, path)
    predicted = predict_proba(bundle.model, prepared, texts, recipe.data.max_length).argmax(1)
    truth = np.asarray([index[label] for label in raw])
    return {
        "accuracy": float((predicted == truth).mean()),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "examples": len(truth),
    }
