"""Batching: padding/mask oracles, bucket sampler coverage and determinism, BPTT streams.

Oracles: torch.nn.utils.rnn.pad_sequence, brute-force masks, the PyTorch
word_language_model example's batchify/get_batch written out literally.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pad_sequence

from seqlab.data.batching import (
    Batch,
    BucketSampler,
    ClassificationBatches,
    LMStreamBatches,
    pad_sequences,
)
from seqlab.errors import UserError


def random_lengths(count: int, seed: int = 0) -> np.ndarray:
    # Sentence lengths are roughly log-normal (MR: median ~20 tokens, long tail).
    rng = np.random.default_rng(seed)
    return np.clip(rng.lognormal(3.0, 0.6, count).astype(int), 1, 200)


# ---------------------------------------------------------------- padding and masks


def test_pad_sequences_matches_torch_pad_sequence() -> None:
    seqs = [[3, 1, 4], [1], [5, 9, 2, 6, 5], []]
    padded, lengths = pad_sequences(seqs, pad_value=-1)
    oracle = pad_sequence([torch.tensor(s, dtype=torch.long) for s in seqs], True, -1)
    assert torch.equal(padded, oracle) and padded.dtype == torch.long
    assert lengths.tolist() == [3, 1, 5, 0] and lengths.dtype == torch.long


@pytest.mark.parametrize(
    ("seqs", "dtype"),
    [
        ([[3, 1, 4], [], [2]], None),
        ([[0.5, 1.5], [2.5]], None),
        ([[3, 1], [4]], torch.float64),
        ([[], []], torch.long),
    ],
)
def test_pad_sequences_of_lists_equals_the_tensor_path(seqs: list, dtype) -> None:
    """Flat lists take a pure-Python fast path: same values, dtype and lengths."""
    fast, fast_lengths = pad_sequences(seqs, pad_value=-1, dtype=dtype)
    slow, slow_lengths = pad_sequences([torch.tensor(s) for s in seqs], pad_value=-1, dtype=dtype)
    if dtype is None:  # an empty tensor defaults to float32: compare with the first row's dtype
        slow = slow.to(torch.as_tensor(seqs[0]).dtype)
    assert fast.dtype == slow.dtype and torch.equal(fast, slow)
    assert torch.equal(fast_lengths, slow_lengths)


def test_pad_sequences_features_numpy_and_dtype() -> None:
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(length, 3)) for length in (4, 2, 7)]
    padded, _ = pad_sequences(seqs, dtype=torch.float32)
    assert padded.shape == (3, 7, 3) and padded.dtype == torch.float32
    for row, seq in enumerate(seqs):
        torch.testing.assert_close(padded[row, : len(seq)], torch.tensor(seq, dtype=torch.float32))
        assert (padded[row, len(seq) :] == 0).all()
    with pytest.raises(ValueError, match="expected"):
        pad_sequences([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError):
        pad_sequences([])


def test_mask_matches_brute_force_and_to_moves_every_tensor() -> None:
    lengths = torch.tensor([3, 0, 5, 1])
    inputs = torch.zeros(4, 5, dtype=torch.long)
    batch = Batch(inputs, lengths, torch.tensor([1, 0, 1, 0]), torch.arange(4))
    brute = [[step < int(length) for step in range(5)] for length in lengths]
    assert batch.mask.dtype == torch.bool and batch.mask.tolist() == brute
    moved = batch.to("meta")
    for tensor in (moved.inputs, moved.lengths, moved.targets, moved.indices):
        assert tensor.device.type == "meta"
    assert batch.inputs.device.type == "cpu" and Batch(inputs, lengths).to("meta").targets is None


# ---------------------------------------------------------------- bucket sampler


@pytest.mark.parametrize(
    ("count", "batch_size", "bucket_size", "drop_last"),
    [(1000, 32, None, False), (997, 10, 35, False), (997, 10, 35, True), (5, 8, None, False)],
)
def test_sampler_covers_every_index_once_per_epoch(
    count: int, batch_size: int, bucket_size: int | None, drop_last: bool
) -> None:
    sampler = BucketSampler(random_lengths(count), batch_size, True, 0, bucket_size, drop_last)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert len(batches) == len(sampler)
        flat = [i for batch in batches for i in batch]
        if drop_last:
            assert all(len(b) == batch_size for b in batches)
            assert len(set(flat)) == len(flat) == count // batch_size * batch_size
        else:
            assert sorted(flat) == list(range(count))
            assert sum(len(b) < batch_size for b in batches) <= 1  # only one short batch


def test_sampler_is_deterministic_by_seed_and_epoch() -> None:
    lengths = random_lengths(500)

    def run(seed: int, epoch: int) -> list[list[int]]:
        sampler = BucketSampler(lengths, 16, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert run(0, 0) == run(0, 0) and run(3, 2) == run(3, 2)
    assert run(0, 0) != run(0, 1) and run(0, 0) != run(1, 0)


def test_unshuffled_sampler_sorts_each_bucket() -> None:
    lengths = random_lengths(100)
    batches = list(BucketSampler(lengths, 10, shuffle=False, bucket_size=50))
    assert [i for b in batches[:5] for i in b] == sorted(range(50), key=lambda i: lengths[i])
    assert sorted(i for b in batches[5:] for i in b) == list(range(50, 100))


def padding_cells(batches: list[list[int]], lengths: np.ndarray) -> int:
    return sum(len(b) * int(lengths[b].max()) - int(lengths[b].sum()) for b in batches)


def test_bucketing_cuts_padding_compared_with_random_batches() -> None:
    lengths = random_lengths(5000)
    bucketed = padding_cells(list(BucketSampler(lengths, 32)), lengths)
    random = padding_cells(list(BucketSampler(lengths, 32, bucket_size=32)), lengths)
    # measured: 8,620 vs 235,796 padded cells (3.7 %) for 117,196 real tokens
    assert bucketed < 0.1 * random


# ---------------------------------------------------------------- classification batches


def test_classification_batches_rebuild_the_data() -> None:
    rng = np.random.default_rng(0)
    ids = [rng.integers(1, 50, size=int(n)).tolist() for n in random_lengths(300)]
    labels = rng.integers(0, 3, size=300).tolist()
    batches = ClassificationBatches(ids, labels, batch_size=16, seed=0, max_length=40)
    assert len(batches) == len(list(batches)) == 19
    seen = []
    for batch in batches:
        assert batch.inputs.dtype == torch.long and batch.inputs.shape[1] == batch.lengths.max()
        for row, index in enumerate(batch.indices.tolist()):
            expected = ids[index][:40]
            length = int(batch.lengths[row])
            assert length == len(expected) and batch.inputs[row, :length].tolist() == expected
            assert (batch.inputs[row, length:] == 0).all()
            assert int(batch.targets[row]) == labels[index]
            seen.append(index)
    assert sorted(seen) == list(range(300))
    first = [b.indices.tolist() for b in batches]
    assert first == [b.indices.tolist() for b in batches]  # re-iterable, same epoch
    batches.set_epoch(1)
    assert first != [b.indices.tolist() for b in batches]


def test_classification_batches_without_labels_or_buckets() -> None:
    ids = [[1] * n for n in random_lengths(200)]
    plain = ClassificationBatches(ids, None, 8, shuffle=False, bucket=False, pad_id=7)
    batch = next(iter(plain))
    assert batch.targets is None and sorted(batch.indices.tolist()) == list(range(8))
    assert (batch.inputs[~batch.mask] == 7).all()
    with pytest.raises(ValueError, match="labels"):
        ClassificationBatches(ids, [0, 1], 8)


# ---------------------------------------------------------------- language-model stream


def reference_batches(stream: torch.Tensor, batch_size: int, bptt: int) -> list:
    """PyTorch examples/word_language_model/main.py, batchify + get_batch, time-major."""
    nbatch = stream.size(0) // batch_size
    data = stream.narrow(0, 0, nbatch * batch_size).view(batch_size, -1).t().contiguous()
    out = []
    for i in range(0, data.size(0) - 1, bptt):
        seq_len = min(bptt, len(data) - 1 - i)
        out.append((data[i : i + seq_len], data[i + 1 : i + 1 + seq_len]))
    return out


@pytest.mark.parametrize(
    ("length", "batch_size", "bptt"), [(1000, 4, 35), (103, 5, 7), (64, 2, 31)]
)
def test_lm_stream_matches_pytorch_example(length: int, batch_size: int, bptt: int) -> None:
    stream = torch.randint(0, 100, (length,))
    batches = LMStreamBatches(stream, batch_size, bptt)
    expected = reference_batches(stream, batch_size, bptt)
    got = list(batches)
    assert len(got) == len(batches) == len(expected)
    for batch, (inputs, targets) in zip(got, expected, strict=True):
        assert torch.equal(batch.inputs, inputs.t()) and torch.equal(batch.targets, targets.t())
        assert batch.lengths.tolist() == [inputs.shape[0]] * batch_size
    # the rows continue across batches and cover each column of the stream
    columns = length // batch_size
    inputs = torch.cat([b.inputs for b in got], dim=1)
    targets = torch.cat([b.targets for b in got], dim=1)
    for row in range(batch_size):
        column = stream[row * columns : (row + 1) * columns]
        assert torch.equal(inputs[row], column[:-1]) and torch.equal(targets[row], column[1:])


def test_lm_stream_too_short() -> None:
    with pytest.raises(UserError, match="too short"):
        LMStreamBatches(torch.arange(5), batch_size=4, bptt=3)
