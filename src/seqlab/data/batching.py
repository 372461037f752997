"""One batch type for text and time series: padding, masks, length bucketing, BPTT streams.

Letters: B = batch size, T = time steps (longest sequence in the batch), F = features
per step (time series), N = steps per column of a language-model stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import torch
from torch.utils.data import Sampler

from seqlab.errors import UserError


class TensorBatch:
    """Base of every family's batch (a dataclass with named fields): ``.to(device)``."""

    def to(self, device: torch.device | str) -> TensorBatch:
        """A copy with every tensor field on ``device`` (tuples of tensors too)."""

        def move(value: object) -> object:
            if isinstance(value, torch.Tensor):
                return value.to(device, non_blocking=True)
            if isinstance(value, tuple):
                return tuple(move(v) for v in value)
            return value

        return replace(self, **{f.name: move(getattr(self, f.name)) for f in fields(self)})


@dataclass
class Batch(TensorBatch):
    """Padded inputs with their true lengths (classification and language modelling).

    ``inputs``: (B, T) long token ids or (B, T, F) float features;
    ``lengths``: (B,) long, valid steps of each row (padding comes after them);
    ``targets``: (B,) class ids, (B, T) tags / next tokens, or None (prediction);
    ``indices``: (B,) position of each row in the source data set, so predictions made
    on bucketed (reordered) batches can be put back in order.
    """

    inputs: torch.Tensor
    lengths: torch.Tensor
    targets: torch.Tensor | None = None
    indices: torch.Tensor | None = None

    @property
    def mask(self) -> torch.Tensor:
        """(B, T) bool, True on valid steps."""
        steps = torch.arange(self.inputs.shape[1], device=self.lengths.device)
        return steps[None, :] < self.lengths[:, None]

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]


def pad_sequences(
    seqs: Sequence[Sequence[int] | Sequence[float] | torch.Tensor | np.ndarray],
    pad_value: float = 0,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad variable-length sequences: returns ``(padded (B, T, ...), lengths (B,))``.

    Each sequence is (T_i,) or (T_i, F...); trailing dimensions must agree. ``dtype``
    defaults to the first sequence's (lists of ints give long, of floats float32).
    """
    if len(seqs) == 0:
        raise ValueError("pad_sequences needs at least one sequence")
    if all(isinstance(seq, list) and not (seq and isinstance(seq[0], Sequence)) for seq in seqs):
        # flat lists of numbers (the common case): pad in Python, one tensor call
        longest = max(map(len, seqs))
        rows = [[*seq, *[pad_value] * (longest - len(seq))] for seq in seqs]
        lengths = torch.tensor([len(seq) for seq in seqs], dtype=torch.long)
        return torch.tensor(rows, dtype=dtype or torch.as_tensor(seqs[0]).dtype), lengths
    tensors = [torch.as_tensor(seq) for seq in seqs]
    tensors = [t.to(dtype) if dtype is not None else t for t in tensors]
    trailing = tensors[0].shape[1:]
    for index, t in enumerate(tensors):
        if t.dim() == 0 or t.shape[1:] != trailing:
            raise ValueError(
                f"sequence {index} has shape {tuple(t.shape)}, expected (T, *{tuple(trailing)})"
            )
    lengths = torch.tensor([t.shape[0] for t in tensors], dtype=torch.long)
    longest = int(lengths.max())
    padded = torch.full(
        (len(tensors), longest, *trailing), pad_value, dtype=dtype or tensors[0].dtype
    )
    for row, t in enumerate(tensors):
        padded[row, : t.shape[0]] = t
    return padded, lengths


class BucketSampler(Sampler[list[int]]):
    """Batches of indices of similar length, to cut padding (the "bucketing" trick).

    Each epoch: shuffle all indices, cut them into chunks of ``bucket_size``, sort each
    chunk by length, cut the chunks into batches and shuffle the batch order. Batches are
    nearly length-homogeneous yet still random from epoch to epoch. Everything is drawn
    from ``(seed, epoch)``, so a run is reproducible and ``set_epoch`` reshuffles
    deterministically (as ``DistributedSampler.set_epoch`` does).
    """

    def __init__(
        self,
        lengths: Sequence[int] | np.ndarray | torch.Tensor,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        bucket_size: int | None = None,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        # A multiple of batch_size, so only the very last batch can be short.
        size = bucket_size or 50 * batch_size
        self.bucket_size = max(1, math.ceil(size / batch_size)) * batch_size
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        count = len(self.lengths)
        return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng((self.seed, self.epoch))
        count = len(self.lengths)
        order = rng.permutation(count) if self.shuffle else np.arange(count)
        batches: list[np.ndarray] = []
        for start in range(0, count, self.bucket_size):
            chunk = order[start : start + self.bucket_size]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(
                chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)
            )
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        for batch in batches:
            yield batch.tolist()


class ClassificationBatches:
    """Re-iterable batches of sequences (+ labels): one pass per ``iter()``.

    Sequences are token-id lists (``inputs`` (B, T) long) or float arrays/tensors of
    a series (``inputs`` (B, T) or (B, T, F) float32). ``targets`` (B,) long or None.
    ``bucket=True`` groups similar lengths (:class:`BucketSampler`); ``max_length``
    keeps the first ``max_length`` tokens of each sequence.
    """

    carries_state = False  # each batch stands alone

    def __init__(
        self,
        ids: Sequence[Sequence[int]],
        labels: Sequence[int] | None,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        bucket: bool = True,
        max_length: int | None = None,
        pad_id: int = 0,
    ) -> None:
        if labels is not None and len(labels) != len(ids):
            raise ValueError(f"{len(ids)} sequences but {len(labels)} labels")
        self.ids = [seq[:max_length] if max_length else seq for seq in ids]
        first = self.ids[0] if self.ids else []
        floating = isinstance(first, (np.ndarray, torch.Tensor)) and (
            np.issubdtype(first.dtype, np.floating) if isinstance(first, np.ndarray)
            else first.is_floating_point()
        )  # fmt: skip
        self.dtype = torch.float32 if floating else torch.long
        self.labels = None if labels is None else torch.as_tensor(list(labels), dtype=torch.long)
        self.pad_id = pad_id
        lengths = [len(seq) for seq in self.ids]
        # Without bucketing every index is its own "bucket": one plain shuffle.
        self.sampler = BucketSampler(
            lengths, batch_size, shuffle, seed, None if bucket else batch_size
        )
        self.bucket = bucket

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[Batch]:
        for index in self.sampler:
            inputs, lengths = pad_sequences([self.ids[i] for i in index], self.pad_id, self.dtype)
            rows = torch.tensor(index, dtype=torch.long)
            targets = None if self.labels is None else self.labels[rows]
            yield Batch(inputs, lengths, targets, rows)


class LMStreamBatches:
    """Truncated-BPTT batches over one token stream (Zaremba 2014; PyTorch word_language_model).

    The stream is cut into B contiguous columns, ``data`` (B, N) (the tail that does not
    fill a column is dropped); batch k holds ``inputs = data[:, i:i+L]`` and
    ``targets = data[:, i+1:i+1+L]`` with ``i = k * bptt`` and ``L <= bptt``, batch-first.
    Consecutive batches continue each row, so the loop carries the model's final state
    (detached) into the next batch (``carries_state``).
    """

    carries_state = True

    def __init__(self, ids: torch.Tensor, batch_size: int, bptt: int) -> None:
        ids = torch.as_tensor(ids, dtype=torch.long).flatten()
        columns = ids.numel() // batch_size
        if columns < 2:
            raise UserError(
                f"a stream of {ids.numel()} tokens is too short for batch_size={batch_size}",
                "use more text, or lower data.batch_size / data.eval_batch_size",
            )
        self.data = ids[: columns * batch_size].view(batch_size, columns)  # (B, N)
        self.bptt = bptt

    def __len__(self) -> int:
        return math.ceil((self.data.shape[1] - 1) / self.bptt)

    def __iter__(self) -> Iterator[Batch]:
        steps = self.data.shape[1]
        for start in range(0, steps - 1, self.bptt):
            length = min(self.bptt, steps - 1 - start)
            inputs = self.data[:, start : start + length]  # (B, L)
            targets = self.data[:, start + 1 : start + 1 + length]  # (B, L)
            lengths = torch.full((self.data.shape[0],), length, dtype=torch.long)
            yield Batch(inputs, lengths, targets)
