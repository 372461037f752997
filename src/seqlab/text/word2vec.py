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
``batch_words`` centre words form one batch: all scores are computed with the same
(slightly stale) vectors and the per-pair SGD steps are *summed* into the two
matrices with ``index_add_`` — the same hand-written update as word2vec.c, applied in
bulk (no autograd, no optimizer). A row hit ``n`` times in a batch gets ``n`` summed
steps instead of ``n`` successive ones. Sequential steps saturate (the sigmoid stops
pushing once the score is right); summed stale steps do not, so a row hit more than 32
times in a batch — the Huffman root (on every path), the most frequent words, every row
of a tiny vocabulary — has its step scaled down to 32 steps' worth, and vocabularies
under 1024 words get smaller batches. The centres of a batch are not consecutive but
interleaved over the 64k-word chunk (batch ``b`` takes centres ``b, b + n, b + 2n …``):
consecutive centres share most of their context words, and summing their stale steps
cost a quarter of the analogy accuracy on a small corpus (text8 excerpt: 0.027 with
consecutive centres, 0.039-0.042 interleaved, gensim 0.036). With the default batches (256
centre words, ~1-1.5k pairs whose buffers stay in the CPU cache) benchmarks/word2vec.py
measures the quality against gensim side by side.

Parallelism is word2vec.c's: ``workers`` forked processes train different chunks of the
corpus at once on matrices in shared memory, without locks ("Hogwild"); each torch op
runs on one core. Python threads would serialise on the GIL.

Letter legend: V vocabulary size, D vector size, B pairs (or CBOW centres) in a batch,
T targets per example (1 + negatives, or the Huffman path length), C context words.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from seqlab.errors import UserError
from seqlab.text.keyed_vectors import KeyedVectors
from seqlab.text.word2vec_data import (
    ProgressBar,
    Scratch,
    alias_table,
    context_pairs,
    default_workers,
    encode_corpus,
    huffman_tree,
    interleaved_order,
    keep_probabilities,
    sample_negatives,
    shared_zeros,
)

__all__ = [
    "Word2Vec",
    "alias_table",
    "context_pairs",
    "encode_corpus",
    "huffman_tree",
    "keep_probabilities",
    "sample_negatives",
]


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
        workers: processes training different chunks of the corpus at once on shared
            matrices ("Hogwild", like word2vec.c's threads); 1 = in this process.
        batch_words: centre words per SGD batch (default 256, i.e. ~1-1.5k skip-gram
            pairs whose buffers stay in the CPU cache; fewer for vocabularies < 1024).
        shrink_windows: word2vec.c's dynamic window. progress: rich progress bar.

    After :meth:`fit`: ``wv`` (:class:`KeyedVectors`, ``(V, D)``), ``output_vectors_``
    (negative-sampling ``(V, D)`` or None), ``loss_history_`` (mean loss per example per
    epoch), ``words_per_second_`` (in-vocabulary words x epochs / training seconds).
    """

    # A row may take this many summed steps per batch before its update is scaled down
    # (see the module docstring).
    max_summed_updates = 32.0

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
            ((self.batch_words or 1) >= 1, "batch_words must be >= 1"),
            ((self.workers or 1) >= 1, "workers must be >= 1"),
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
        # gensim's init: input vectors U(-1, 1) / D (word2vec.c: U(-0.5, 0.5) / D), outputs 0.
        self._input = shared_zeros(vocab_size, size)
        self._input.copy_((torch.rand(vocab_size, size, generator=generator) * 2 - 1) / size)
        self._output = shared_zeros(vocab_size, size) if self.negative else None
        if self.hs:
            codes, points, lengths = huffman_tree(counts)
            self._output_hs = shared_zeros(vocab_size - 1, size)
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
        # Copy out of the shared mapping so the result is ordinary memory.
        self.wv_ = KeyedVectors(words, self._input.numpy().copy(), counts)
        self.output_vectors_ = None if self._output is None else self._output.numpy().copy()
        self._input = self._output = self._output_hs = None
        return self

    # ---------------------------------------------------------------- training
    def _train(self, ids: np.ndarray, sentence_of_token: np.ndarray) -> None:
        """Train every (epoch, chunk) job: in this process, or in forked worker processes."""
        total, chunk = len(ids) * self.epochs, 1 << 16
        jobs = [
            (epoch, start) for epoch in range(self.epochs) for start in range(0, len(ids), chunk)
        ]
        workers = min(self.workers or default_workers(), len(jobs))
        loss, examples = np.zeros(self.epochs), np.zeros(self.epochs)
        start_time, done = time.perf_counter(), 0
        with ProgressBar(total, enabled=self.progress) as bar:
            for epoch, chunk_loss, count, words in self._run_jobs(
                jobs, workers, ids, sentence_of_token, chunk, total
            ):
                loss[epoch] += chunk_loss
                examples[epoch] += count
                done += words
                bar.update(done, loss[epoch] / max(examples[epoch], 1))
        self.train_seconds_ = time.perf_counter() - start_time
        self.words_per_second_ = total / max(self.train_seconds_, 1e-9)
        self.loss_history_ = (loss / np.maximum(examples, 1)).tolist()

    def _run_job(self, job, ids, sentence_of_token, chunk, total, rng, scratch):
        epoch, start = job
        stop = min(start + chunk, len(ids))
        offset = epoch * len(ids) + start
        loss, count = self._train_chunk(
            ids[start:stop], sentence_of_token[start:stop], rng, scratch, offset, total
        )
        return epoch, loss, count, stop - start

    def _run_jobs(self, jobs, workers, ids, sentence_of_token, chunk, total):
        """Yield (epoch, loss, examples, words) per finished job.

        Several workers are forked processes sharing the matrices (anonymous shared
        memory, see :func:`shared_zeros`) and updating them without locks, as
        word2vec.c's threads do; Python threads would serialise on the GIL.
        """
        if workers == 1 or not hasattr(os, "fork"):
            rng, scratch = np.random.default_rng([self.seed, 0]), Scratch()
            for job in jobs:
                yield self._run_job(job, ids, sentence_of_token, chunk, total, rng, scratch)
            return
        import multiprocessing
        import queue

        context = multiprocessing.get_context("fork")
        todo, results = context.Queue(), context.Queue()
        for job in jobs:
            todo.put(job)
        for _ in range(workers):
            todo.put(None)

        def work(worker: int) -> None:
            torch.set_num_threads(1)
            rng, scratch = np.random.default_rng([self.seed, worker]), Scratch()
            try:
                while (job := todo.get()) is not None:
                    results.put(
                        self._run_job(job, ids, sentence_of_token, chunk, total, rng, scratch)
                    )
            except BaseException:  # report, the parent raises
                import traceback

                results.put(("error", traceback.format_exc()))

        processes = [context.Process(target=work, args=(w,), daemon=True) for w in range(workers)]
        for process in processes:
            process.start()
        finished = False
        try:
            for _ in jobs:
                while True:
                    try:
                        result = results.get(timeout=1.0)
                        break
                    except queue.Empty:
                        if not any(process.is_alive() for process in processes):
                            raise RuntimeError("word2vec workers died") from None
                if result[0] == "error":
                    raise RuntimeError(f"a word2vec worker failed:\n{result[1]}")
                yield result
            finished = True
        finally:
            for process in processes:
                process.join(10 if finished else 0)
                if process.is_alive():
                    process.terminate()
                    process.join()

    def _train_chunk(self, ids, sentence_of_token, rng, scratch: Scratch, offset, total):
        """Subsample, window and train one chunk; returns (loss sum, examples)."""
        keep = rng.random(len(ids)) < self.keep_probability_[ids]
        kept = ids[keep]
        if len(kept) == 0:
            return 0.0, 0
        effective = (
            self.window - rng.integers(0, self.window, len(kept))
            if self.shrink_windows
            else np.full(len(kept), self.window)
        )
        centres, contexts = context_pairs(sentence_of_token[keep], self.window, effective)
        # Small batches for small vocabularies: there every word is "frequent", so a
        # batch would pile many aligned stale steps onto each row (see the docstring).
        batch_words = self.batch_words or max(4, min(256, len(self._input) // 4))
        # Visit the centres interleaved, so a batch is spread over the whole chunk (see
        # the docstring): relabel positions by visiting order and regroup pairs by centre.
        order, batch_of = interleaved_order(len(kept), batch_words)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        by_centre = np.argsort(rank[centres], kind="stable")
        centres, contexts, kept = rank[centres[by_centre]], rank[contexts[by_centre]], kept[order]
        per_centre = np.bincount(centres, minlength=len(kept))
        inputs = torch.from_numpy(kept[contexts].astype(np.int64))  # (P,)
        if self.sg:  # one example per pair; batches end at centre-word boundaries
            predicted = kept[centres]
            bounds = np.concatenate([[0], np.cumsum(per_centre)])
        else:  # one example per centre that has a context (word2vec.c: `if (cw)`)
            has_context = np.nonzero(per_centre)[0]
            predicted = kept[has_context]
            bags = np.concatenate([[0], np.cumsum(per_centre[has_context])])
            bag_offsets = torch.from_numpy(bags)
            members = np.repeat(np.arange(len(has_context)), per_centre[has_context])
            segment = torch.from_numpy(members)  # (P,) example of each context word
            bounds = np.arange(len(has_context) + 1)
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
        # Batch edges: where the batch id changes along the visited centres.
        batch_ids = batch_of if self.sg else batch_of[has_context]
        edges = np.concatenate([[0], np.flatnonzero(np.diff(batch_ids)) + 1, [centre_count]])
        for first, last in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
            low, high = int(bounds[first]), int(bounds[last])
            if high == low:
                continue
            progress = (offset + len(ids) * last / centre_count) / total  # linear decay
            alpha = max(self.min_alpha, self.alpha - (self.alpha - self.min_alpha) * progress)
            if self.sg:
                hidden = scratch("hidden", high - low, self.vector_size)
                torch.index_select(self._input, 0, inputs[low:high], out=hidden)
            else:
                bag_low, bag_high = int(bags[low]), int(bags[high])
                hidden = F.embedding_bag(
                    inputs[bag_low:bag_high],
                    self._input,
                    bag_offsets[low:high] - bag_low,
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

    def _cap_scale(self, rows: torch.Tensor, num_rows: int) -> torch.Tensor:
        """Per-entry factor ``min(1, cap / hits(row))`` for a batch of row indices.

        A row hit ``n`` times in one batch would get ``n`` steps computed at the same
        stale point; word2vec.c's sequential steps saturate (sigmoid) instead of piling
        up, so beyond ``cap`` summed steps the row's update is scaled down (without this
        the Huffman root, hit by every example, diverges).
        """
        hits = torch.bincount(rows, minlength=num_rows)[rows].float()
        return (self.max_summed_updates / hits).clamp_(max=1.0)

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
