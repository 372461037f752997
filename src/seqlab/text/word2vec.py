"""word2vec: skip-gram and CBOW, negative sampling or hierarchical softmax.

Mikolov et al. 2013a ("Efficient Estimation of Word Representations in Vector Space":
CBOW, skip-gram, hierarchical softmax over a Huffman tree) and 2013b ("Distributed
Representations of Words and Phrases": negative sampling with unigram^0.75, frequent-word
subsampling). Every algorithmic choice follows word2vec.c / gensim:

- vocabulary: words with ``count >= min_count``, most frequent first;
- subsampling (word2vec.c formula): keep a word of count ``f`` with probability
  ``(sqrt(f / (s T)) + 1) * s T / f`` (``s = sample``, ``T`` = in-vocabulary words);
  dropped words are removed *before* windowing, so windows reach further;
- dynamic window: each centre word draws ``b ~ U{0..window-1}`` and uses ``window - b``;
- skip-gram pair (centre ``w_i``, context ``w_j``): the input vector of ``w_j`` predicts
  ``w_i`` (word2vec.c orientation); CBOW: the *mean* of the context input vectors predicts
  the centre and the error is added, undivided, to every context vector;
- negatives ~ count^0.75; a negative equal to the target is skipped; hierarchical softmax
  walks the Huffman path with label ``1 - code``;
- learning rate decays linearly from ``alpha`` to ``min_alpha`` over ``epochs * words``.

**One deliberate difference.** word2vec.c updates the vectors after every pair (with
several threads racing, "Hogwild"). Python cannot loop per pair, so here the pairs of
``batch_words`` consecutive centre words form one batch: all scores are computed with the
same (slightly stale) vectors and the per-pair SGD steps are *summed* into the two
matrices with ``index_add_`` — the same hand-written update as word2vec.c, applied in
bulk (no autograd, no optimizer). A word seen ``n`` times in a batch gets ``n`` summed
steps instead of ``n`` successive ones; with batches of ~1-2k words this changes the
learned vectors little (benchmarks/word2vec.py compares quality against gensim).

Letter legend: V vocabulary size, D vector size, B pairs (or CBOW centres) in a batch,
T targets per example (1 + negatives, or the Huffman path length), C context words.
"""

from __future__ import annotations

import os
import threading
import time
from array import array
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from seqlab.errors import UserError
from seqlab.text.keyed_vectors import KeyedVectors


# ---------------------------------------------------------------- pure functions
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
    return accept, alias  # leftovers keep accept = 1 (rounding only)


def sample_negatives(
    accept: np.ndarray, alias: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """Draw ids from :func:`alias_table` tables, int64 array of ``shape``."""
    columns = rng.integers(0, len(accept), shape)
    return np.where(rng.random(shape) < accept[columns], columns, alias[columns])


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


class _Scratch:
    """Reusable buffers: fresh multi-MB tensors per batch cost more in page faults than math."""

    def __init__(self) -> None:
        self._store: dict[str, torch.Tensor] = {}

    def __call__(self, name: str, *shape: int) -> torch.Tensor:
        numel = int(np.prod(shape))
        buffer = self._store.get(name)
        if buffer is None or buffer.numel() < numel:
            buffer = self._store[name] = torch.empty(int(numel * 1.25) + 1)
        return buffer[:numel].view(shape)


def _default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cores or 1))


# ---------------------------------------------------------------------- model
class Word2Vec:
    """word2vec trained with batched hand-written SGD (see the module docstring).

    Args:
        vector_size: D. window: maximum context distance. min_count: rarer words are dropped.
        sg: 1 skip-gram, 0 CBOW (mean of context). negative: negatives per example (0 = off).
        hs: 1 = hierarchical softmax (Huffman tree). sample: subsampling threshold (0 = off).
        alpha, min_alpha: linear learning-rate schedule. epochs: passes over the corpus.
        seed: fixes initialisation, subsampling, windows and negatives (bit-exact with
            ``workers=1``; with more workers the lock-free updates race, as in word2vec.c).
        workers: threads training different chunks of the corpus at once on the shared
            matrices ("Hogwild", like word2vec.c's threads; each torch op runs on one core).
        batch_words: centre words per SGD batch (default 256 for skip-gram, i.e. ~1-1.5k
            pairs that stay in cache, and 1024 for CBOW).
        shrink_windows: word2vec.c's dynamic window. progress: rich progress bar.

    After :meth:`fit`: ``wv`` (:class:`KeyedVectors`, ``(V, D)``), ``output_vectors_``
    (negative-sampling ``(V, D)`` or None), ``loss_history_`` (mean loss per example per
    epoch), ``words_per_second_`` (in-vocabulary words x epochs / training seconds).
    """

    def __init__(
        self,
        vector_size: int = 100,
        window: int = 5,
        min_count: int = 5,
        sg: int = 1,
        negative: int = 5,
        hs: int = 0,
        sample: float = 1e-3,
        alpha: float = 0.025,
        min_alpha: float = 1e-4,
        epochs: int = 5,
        seed: int = 0,
        workers: int | None = None,
        batch_words: int | None = None,
        shrink_windows: bool = True,
        progress: bool = True,
    ) -> None:
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.sg = sg
        self.negative = negative
        self.hs = hs
        self.sample = sample
        self.alpha = alpha
        self.min_alpha = min_alpha
        self.epochs = epochs
        self.seed = seed
        self.workers = workers
        self.batch_words = batch_words
        self.shrink_windows = shrink_windows
        self.progress = progress

    _PARAMS = (
        "vector_size", "window", "min_count", "sg", "negative", "hs", "sample", "alpha",
        "min_alpha", "epochs", "seed", "workers", "batch_words", "shrink_windows",
    )  # fmt: skip

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments (JSON-able)."""
        return {key: getattr(self, key) for key in self._PARAMS}

    @property
    def wv(self) -> KeyedVectors:
        if not hasattr(self, "wv_"):
            raise UserError("this Word2Vec is not trained yet", "call fit(sentences) first")
        return self.wv_

    def _check_params(self) -> None:
        checks = [
            (self.vector_size >= 1, "vector_size must be >= 1"),
            (self.window >= 1, "window must be >= 1"),
            (self.min_count >= 1, "min_count must be >= 1"),
            (self.sg in (0, 1), "sg must be 0 (CBOW) or 1 (skip-gram)"),
            (self.negative >= 0 and self.hs in (0, 1), "negative must be >= 0 and hs 0 or 1"),
            (self.negative > 0 or self.hs == 1, "need negative > 0 or hs=1 (no objective)"),
            (self.epochs >= 1, "epochs must be >= 1"),
            ((self.batch_words or 1) >= 1 and (self.workers or 1) >= 1, "need batches/workers >= 1"),
            (self.alpha > 0 and 0 <= self.min_alpha <= self.alpha, "need 0 <= min_alpha <= alpha"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(message, "fix the Word2Vec arguments")

    def fit(self, sentences: Iterable[list[str]]) -> Word2Vec:
        """Build the vocabulary and train; ``sentences`` are lists of tokens (read once)."""
        self._check_params()
        words, counts, ids, sentence_of_token = encode_corpus(sentences, self.min_count)
        vocab_size, size = len(words), self.vector_size
        if self.hs and vocab_size < 2:
            raise UserError("hierarchical softmax needs at least 2 words", "add text or use hs=0")
        self.counts_ = counts
        self.keep_probability_ = keep_probabilities(counts, self.sample)
        self._accept, self._alias = alias_table(counts)
        generator = torch.Generator().manual_seed(self.seed)
        # word2vec.c init: input vectors U(-0.5, 0.5) / D, output vectors zero.
        self._input = (torch.rand(vocab_size, size, generator=generator) * 2 - 1) / size
        self._output = torch.zeros(vocab_size, size) if self.negative else None
        if self.hs:
            codes, points, lengths = huffman_tree(counts)
            self._output_hs = torch.zeros(vocab_size - 1, size)
            self._points = torch.from_numpy(points)
            self._hs_labels = torch.from_numpy(1.0 - codes.astype(np.float32))  # (V, L)
            steps = torch.arange(points.shape[1])
            self._hs_mask = (steps[None, :] < torch.from_numpy(lengths)[:, None]).float()
            self._code_lengths = torch.from_numpy(lengths)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # parallelism comes from the Hogwild workers
        try:
            self._train(ids, sentence_of_token)
        finally:
            torch.set_num_threads(threads)
        self.wv_ = KeyedVectors(words, self._input.numpy(), counts)
        self.output_vectors_ = None if self._output is None else self._output.numpy()
        return self

    # ---------------------------------------------------------------- training
    def _train(self, ids: np.ndarray, sentence_of_token: np.ndarray) -> None:
        total = len(ids) * self.epochs
        chunk = 1 << 16
        jobs = iter(
            [(epoch, start) for epoch in range(self.epochs) for start in range(0, len(ids), chunk)]
        )
        lock = threading.Lock()
        loss = np.zeros(self.epochs)
        examples = np.zeros(self.epochs)
        state = {"done": 0, "error": None}

        def work(worker: int) -> None:
            rng, scratch = np.random.default_rng([self.seed, worker]), _Scratch()
            try:
                while True:
                    with lock:
                        job = next(jobs, None)
                    if job is None or state["error"] is not None:
                        return
                    epoch, start = job
                    stop = min(start + chunk, len(ids))
                    chunk_loss, count = self._train_chunk(
                        ids[start:stop], sentence_of_token[start:stop], rng, scratch,
                        epoch * len(ids) + start, total,
                    )
                    with lock:
                        loss[epoch] += chunk_loss
                        examples[epoch] += count
                        state["done"] += stop - start
            except BaseException as error:  # re-raised in the calling thread
                state["error"] = error

        start_time = time.perf_counter()
        workers = [
            threading.Thread(target=work, args=(w,), daemon=True)
            for w in range(self.workers or _default_workers())
        ]
        with _ProgressBar(total, enabled=self.progress) as bar:
            for thread in workers:
                thread.start()
            for thread in workers:
                while thread.is_alive():
                    thread.join(0.2)
                    with lock:  # show the loss of the latest epoch under way
                        current = int(np.nonzero(examples)[0].max(initial=0))
                        bar.update(state["done"], loss[current] / max(examples[current], 1))
        if state["error"] is not None:
            raise state["error"]
        self.train_seconds_ = time.perf_counter() - start_time
        self.words_per_second_ = total / max(self.train_seconds_, 1e-9)
        self.loss_history_ = (loss / np.maximum(examples, 1)).tolist()

    def _train_chunk(self, ids, sentence_of_token, rng, scratch: _Scratch, offset, total):
        """Subsample, window and train one chunk; returns (loss sum, examples)."""
        keep = rng.random(len(ids)) < self.keep_probability_[ids]
        kept, positions = ids[keep], np.nonzero(keep)[0]
        if len(kept) == 0:
            return 0.0, 0
        effective = (
            self.window - rng.integers(0, self.window, len(kept))
            if self.shrink_windows
            else np.full(len(kept), self.window)
        )
        centres, contexts = context_pairs(sentence_of_token[keep], self.window, effective)
        per_centre = np.bincount(centres, minlength=len(kept))
        inputs = torch.from_numpy(kept[contexts].astype(np.int64))  # (P,)
        if self.sg:  # one example per pair; batches end at centre-word boundaries
            predicted = kept[centres]
            bounds = np.concatenate([[0], np.cumsum(per_centre)])
            example_position = positions
            batch_words = self.batch_words or 256
        else:  # one example per centre that has a context (word2vec.c: `if (cw)`)
            has_context = np.nonzero(per_centre)[0]
            predicted = kept[has_context]
            bags = np.concatenate([[0], np.cumsum(per_centre[has_context])])
            bag_offsets = torch.from_numpy(bags)
            members = np.repeat(np.arange(len(has_context)), per_centre[has_context])
            segment = torch.from_numpy(members)  # (P,) example of each context word
            bounds = np.arange(len(has_context) + 1)
            example_position = positions[has_context]
            batch_words = self.batch_words or 512
        predicted_t = torch.from_numpy(predicted.astype(np.int64))
        if self.negative:  # targets (E, 1 + K): the true word, then the negatives
            targets = np.empty((len(predicted), self.negative + 1), dtype=np.int64)
            targets[:, 0] = predicted
            targets[:, 1:] = sample_negatives(
                self._accept, self._alias, (len(predicted), self.negative), rng
            )
            # word2vec.c: `if (target == word) continue;` for a negative equal to the word.
            weights = (targets != predicted[:, None]).astype(np.float32)
            weights[:, 0] = 1.0
            labels = np.zeros_like(weights)
            labels[:, 0] = 1.0
            ns = [torch.from_numpy(a) for a in (targets, labels, weights, labels * 2 - 1)]
        loss = torch.zeros(())
        centre_count = len(bounds) - 1
        for first in range(0, centre_count, batch_words):
            last = min(first + batch_words, centre_count)
            low, high = int(bounds[first]), int(bounds[last])
            if high == low:
                continue
            progress = (offset + example_position[last - 1]) / total
            alpha = max(self.min_alpha, self.alpha - (self.alpha - self.min_alpha) * progress)
            if self.sg:
                hidden = scratch("hidden", high - low, self.vector_size)
                torch.index_select(self._input, 0, inputs[low:high], out=hidden)
            else:
                bag_low, bag_high = int(bags[low]), int(bags[high])
                hidden = F.embedding_bag(
                    inputs[bag_low:bag_high], self._input, bag_offsets[low:high] - bag_low,
                    mode="mean",
                )  # (B, D) mean of the context input vectors
            grad = None
            if self.hs:
                words = predicted_t[low:high]
                depth = int(self._code_lengths[words].max())
                path = [t[words, :depth] for t in (self._points, self._hs_labels, self._hs_mask)]
                signs = path[1] * 2 - 1
                grad = self._sgd(hidden, self._output_hs, *path, signs, alpha, scratch, loss)
            if self.negative:
                batch = [t[low:high] for t in ns]
                step = self._sgd(hidden, self._output, *batch, alpha, scratch, loss)
                grad = step if grad is None else grad.add_(step)
            if self.sg:
                rows = inputs[low:high]
            else:  # word2vec.c adds the whole error (not divided by C) to each context vector
                rows = inputs[bag_low:bag_high]
                grad = grad.index_select(0, segment[bag_low:bag_high] - low)
            grad.mul_(self._cap_scale(rows, len(self._input)).unsqueeze(1))
            self._input.index_add_(0, rows, grad)
        return float(loss), len(predicted)

    max_summed_updates = 32.0
    cap_fraction = 0.0625

    def _cap_scale(self, rows: torch.Tensor, num_rows: int) -> torch.Tensor:
        """Per-entry factor ``min(1, cap / hits(row))`` for a batch of row indices.

        A row hit ``n`` times in one batch would get ``n`` steps computed at the same
        stale point; word2vec.c's sequential steps saturate (sigmoid) instead of piling
        up, so beyond ``cap`` summed steps the row's update is scaled down (without this
        the Huffman root, hit by every example, diverges).
        """
        hits = torch.bincount(rows, minlength=num_rows)[rows].float()
        cap = max(self.max_summed_updates, self.cap_fraction * len(rows))
        return (cap / hits).clamp_(max=1.0)

    def _sgd(self, hidden, output, targets, labels, weights, signs, alpha, scratch, loss):
        """One bulk logistic SGD step on ``output[targets]``; returns the grad of ``hidden``.

        hidden (B, D); targets, labels, weights, signs (B, T). Scores s = <output[t], h>;
        g = alpha * (label - sigmoid(s)) * weight (word2vec.c); ``output[t] += g h`` here,
        and ``sum_t g output[t]`` (B, D) is returned for the input vectors.
        """
        batch, width = targets.shape
        size = self.vector_size
        flat = targets.reshape(-1)
        rows = scratch("rows", batch * width, size)
        torch.index_select(output, 0, flat, out=rows)
        rows = rows.view(batch, width, size)  # (B, T, D)
        scores = torch.linalg.vecdot(rows, hidden.unsqueeze(1))  # (B, T)
        loss.sub_((F.logsigmoid(scores * signs) * weights).sum())
        gradient = (labels - torch.sigmoid(scores)).mul_(weights).mul_(alpha)  # g (B, T)
        grad_hidden = torch.bmm(gradient.unsqueeze(1), rows).squeeze(1)  # (B, D)
        gradient.mul_(self._cap_scale(flat, len(output)).view(batch, width))
        update = scratch("update", batch, width, size)
        torch.mul(gradient.unsqueeze(2), hidden.unsqueeze(1), out=update)  # (B, T, D)
        output.index_add_(0, flat, update.view(-1, size))
        return grad_hidden


class _ProgressBar:
    """A rich progress bar (words, words/s, loss) refreshed at most 5 times a second."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled and os.environ.get("SEQLAB_NO_PROGRESS") != "1"
        self._last = 0.0
        self._start = time.perf_counter()

    def __enter__(self) -> _ProgressBar:
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
