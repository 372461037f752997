"""The ``[data]`` section of a recipe: the fields every family shares.

Each family extends :class:`DataConfig` with its own fields (text columns, a tokenizer,
``bptt``...), so a key that means nothing to a family is refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from seqlab.config import PositiveInt


@dataclass
class DataConfig:
    """Where the examples come from and how big the batches are."""

    dataset: str = "file"  # a name from `seqlab datasets`, or "file"
    path: str | None = None  # the user file when dataset = "file"
    batch_size: PositiveInt = 32
    eval_batch_size: PositiveInt = 64
    seed: int = 0  # splits and shuffling
    limit: PositiveInt | None = None  # keep only the first N training examples (quick runs)
    eval_limit: PositiveInt | None = None  # ... and the first N valid / test examples
    options: dict[str, Any] = field(default_factory=dict)  # extra loader arguments


@dataclass
class TextDataConfig(DataConfig):
    """Text data: which tokenizer to fit on the training split."""

    tokenizer: Literal["word", "whitespace", "char", "bpe", "wordpiece"] = "word"
    lowercase: bool = True
    min_freq: PositiveInt = 1
    max_vocab: PositiveInt | None = None
    vocab_size: PositiveInt = 8000  # for bpe / wordpiece


Split = TypeVar("Split")


def limit_splits(splits: dict[str, Split], data: DataConfig) -> dict[str, Split]:
    """The first ``data.limit`` training and ``data.eval_limit`` valid / test examples
    (lines, or characters of a character stream) of each split (quick runs)."""
    limits = {"train": data.limit, "valid": data.eval_limit, "test": data.eval_limit}
    return {
        name: split[: limits[name]] if limits.get(name) else split  # type: ignore[index]
        for name, split in splits.items()
    }
