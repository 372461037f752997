"""What word2vec trains on (vocabulary, subsampling, windows, negatives, Huffman codes)
and the plumbing of its training loop (buffers, shared memory, progress bar).

The vectorised (numpy) half of :mod:`seqlab.text.word2vec`; each data function
reproduces a piece of word2vec.c (Mikolov et al. 2013a/b) and is tested against brute
force or gensim in tests/text/test_word2vec.py.

Letter legend: V vocabulary size, L longest Huffman code, P (centre, context) pairs.
"""

from __future__ import annotations

import os
import time
from array import array
from collections.abc import Iterable

import numpy as np
import torch

from seqlab.errors import UserError


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec.c subsampling: P(keep) = (sqrt(f / (s T)) + 1) * s T / f, capped at 1."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    threshold = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / threshold) + 1.0) * threshold / counts)


def alias_table(counts: np.ndarray, power: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias tables for P(i) ∝ count_i^power (``(V,)`` accept prob, ``(V,)`` alias).

    Same distribution as word2vec.c's unigram table / gensim's ``cum_table``, but a draw
    costs O(1) and needs no 10^8-entry table: pick a column uniformly, keep it with
    probability ``accept[i]``, else take ``alias[i]``.
    """
    weights = np.asarray(counts, dtype=np.float64) ** power
    size = len(weights)
    scaled = weights * size / weights.sum()
    accept, alias = np.ones(size), np.arange(size)
    small = [i for i in range(size) if scaled[i] < 1.0]
    large = [i for i in range(size) if scaled[i] >= 1.0]
    while small and large:
        low, high = small.pop(), large.pop()
        accept[low], alias[low] = scaled[low], high
        scaled[high] -= 1.0 - scaled[low]
        (small if scaled[high] < 1.0 else large).append(high)
    # leftovers keep accept = 1 (rounding only); compact dtypes make drawing faster
    return accept.astype(np.float32), alias.astype(np.int32)


def sample_negatives(
    accept: np.ndarray, alias: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """Draw ids from :func:`alias_table` tables, int64 array of ``shape``."""
    columns = rng.integers(0, len(accept), shape, dtype=np.int32)
    return np.where(rng.random(shape, dtype=np.float32) < accept[columns], columns, alias[columns])


def huffman_tree(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Huffman codes as word2vec.c's ``CreateBinaryTree`` builds them.

    Returns ``codes (V, L)`` uint8, ``points (V, L)`` int64 inner-node rows (0..V-2, the
    root is V-2) and ``lengths (V,)``; positions past ``lengths[w]`` are padding (0).
    """
    counts = np.asarray(counts, dtype=np.int64)
    vocab_size = len(counts)
    if vocab_size < 2:
        raise UserError("hierarchical softmax needs at least 2 words", "add text or use hs=0")
    order = np.argsort(-counts, kind="stable")  # the two-queue build needs counts sorted
    count = [int(c) for c in counts[order]] + [1 << 62] * (vocab_size - 1)
    parent = [0] * (2 * vocab_size - 1)
    binary = [0] * (2 * vocab_size - 1)
    leaf, inner = vocab_size - 1, vocab_size  # next smallest leaf / next smallest inner node
    for new in range(vocab_size, 2 * vocab_size - 1):
        chosen = []
        for _ in range(2):
            if leaf >= 0 and count[leaf] < count[inner]:
                chosen.append(leaf)
                leaf -= 1
            else:
                chosen.append(inner)
                inner += 1
        count[new] = count[chosen[0]] + count[chosen[1]]
        parent[chosen[0]] = parent[chosen[1]] = new
        binary[chosen[1]] = 1
    parent_a, binary_a = np.asarray(parent), np.asarray(binary, dtype=np.uint8)
    root = 2 * vocab_size - 2
    # Depth of every node top-down (parents have larger ids than children).
    depth = np.zeros(2 * vocab_size - 1, dtype=np.int64)
    for node in range(root - 1, -1, -1):
        depth[node] = depth[parent[node]] + 1
    lengths_sorted = depth[:vocab_size]
    max_length = int(lengths_sorted.max())
    codes = np.zeros((vocab_size, max_length), dtype=np.uint8)
    points = np.zeros((vocab_size, max_length), dtype=np.int64)
    node = np.arange(vocab_size)
    rows = np.arange(vocab_size)
    for step in range(max_length):  # walk every leaf up one level at a time
        active = lengths_sorted > step
        slot = lengths_sorted[active] - 1 - step  # code position counted from the root
        codes[rows[active], slot] = binary_a[node[active]]
        points[rows[active], slot] = parent_a[node[active]] - vocab_size
        node = np.where(active, parent_a[node], node)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(vocab_size)
    return codes[inverse], points[inverse], lengths_sorted[inverse]


def interleaved_order(count: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """Visiting order of ``count`` centre words in batches of at most ``batch``: batch
    ``b`` holds centres ``b, b + n, b + 2n, …`` (``n`` batches), spread over the chunk.

    Returns ``order (count,)`` (the centre visited at each step) and ``batch_of
    (count,)`` (the batch of each step, non-decreasing).

    Consecutive centres share most of their context words, so a batch of consecutive
    centres sums ~2 x window stale steps onto the same input rows toward correlated
    targets; interleaving decorrelates a batch (like shuffling in minibatch SGD).
    """
    batches = -(-count // batch)
    order = np.argsort(np.arange(count) % batches, kind="stable")
    return order, order % batches


def context_pairs(
    sentence_ids: np.ndarray, window: int, effective: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All (centre, context) *positions* with ``|offset| <= effective[centre]``.

    Contexts never cross a sentence. Ordered by centre, then left-to-right, like the
    loops of word2vec.c. Returns two int64 arrays ``(P,)``.
    """
    n = len(sentence_ids)
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    positions = np.arange(n)[:, None] + offsets[None, :]  # (n, 2W)
    valid = np.abs(offsets)[None, :] <= np.asarray(effective)[:, None]
    valid &= (positions >= 0) & (positions < n)
    clipped = positions.clip(0, max(n - 1, 0))
    valid &= sentence_ids[clipped] == sentence_ids[:, None]
    centres, columns = np.nonzero(valid)
    return centres, clipped[centres, columns]


def encode_corpus(sentences: Iterable[list[str]], min_count: int):
    """One pass: ``(words, counts, ids, sentence_of_token)``; words sorted by count desc."""
    if isinstance(sentences, str):
        raise UserError("sentences must be lists of tokens, got one string", "pass [text.split()]")
    index: dict[str, int] = {}
    flat, lengths = array("i"), array("q")
    for sentence in sentences:
        if isinstance(sentence, str):
            raise UserError(
                "each sentence must be a list of tokens, got a string",
                "tokenise first, e.g. [line.split() for line in lines]",
            )
        flat.extend([index.setdefault(word, len(index)) for word in sentence])
        lengths.append(len(sentence))
    if not flat:
        raise UserError("cannot train word2vec on an empty corpus", "pass non-empty sentences")
    raw_ids = np.frombuffer(flat, dtype=np.int32)
    raw_counts = np.bincount(raw_ids, minlength=len(index))
    kept = np.nonzero(raw_counts >= min_count)[0]
    if len(kept) == 0:
        raise UserError(
            f"no word occurs min_count={min_count} times (the most frequent occurs "
            f"{raw_counts.max()} times)",
            "lower min_count or train on a larger corpus",
        )
    kept = kept[np.argsort(-raw_counts[kept], kind="stable")]  # ties: first seen first
    remap = np.full(len(index), -1, dtype=np.int32)
    remap[kept] = np.arange(len(kept), dtype=np.int32)
    words = list(index)
    sentence_of_token = np.repeat(np.arange(len(lengths)), np.frombuffer(lengths, np.int64))
    ids = remap[raw_ids]
    mask = ids >= 0
    return [words[i] for i in kept], raw_counts[kept], ids[mask], sentence_of_token[mask]


class Scratch:
    """Reusable buffers: fresh multi-MB tensors per batch cost more in page faults than math."""

    def __init__(self) -> None:
        self._store: dict[str, torch.Tensor] = {}

    def __call__(self, name: str, *shape: int) -> torch.Tensor:
        numel = int(np.prod(shape))
        buffer = self._store.get(name)
        if buffer is None or buffer.numel() < numel:
            buffer = self._store[name] = torch.empty(int(numel * 1.25) + 1)
        return buffer[:numel].view(shape)


def shared_zeros(rows: int, columns: int) -> torch.Tensor:
    """A zero float32 matrix in anonymous shared memory: forked workers see each
    other's writes (no /dev/shm file needed, unlike ``Tensor.share_memory_``)."""
    import mmap

    buffer = mmap.mmap(-1, max(rows * columns * 4, 1))
    array = np.frombuffer(buffer, dtype=np.float32, count=rows * columns)
    return torch.from_numpy(array.reshape(rows, columns))


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cores or 1))


class ProgressBar:
    """A rich progress bar (words, words/s, loss) refreshed at most 5 times a second."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled and os.environ.get("SEQLAB_NO_PROGRESS") != "1"
        self._last = 0.0
        self._start = time.perf_counter()

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("word2vec"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TextColumn("{task.fields[speed]:,.0f} words/s"),
                TextColumn("loss {task.fields[loss]:.4f}"),
                TimeRemainingColumn(),
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("train", total=self.total, speed=0.0, loss=0.0)
        return self

    def update(self, done: int, loss: float) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self._last < 0.2 and done < self.total):
            return
        self._last = now
        speed = done / max(now - self._start, 1e-9)
        self._progress.update(self._task, completed=done, speed=speed, loss=loss)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._progress.__exit__(*exc)
