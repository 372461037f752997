"""Masked-LM batches (BERT, Devlin et al. 2019, §3.1 "Task #1: Masked LM").

Legend: B batch, T block size (tokens per row).

Of the tokens that are not special, each is chosen with probability ``probability``
(15%); a chosen token is replaced by ``[MASK]`` 80% of the time, by a random token 10%
of the time, and kept 10% of the time; the model must predict the original of every
chosen token (targets elsewhere are :data:`IGNORE`). Masks are drawn afresh each epoch
(RoBERTa's dynamic masking) from a generator seeded by (seed, epoch), so a resumed run
sees the same masks, and the evaluation splits always get the same ones.

Sentence pairs (optional, ``sentence_task``): each block becomes
``<bos> A <eos> B <eos>`` where A and B are the two halves of a run of text cut at a
random point (segment ids 0 up to the first ``<eos>``, 1 after it), and the model also
predicts one label per block from ``<bos>`` (BERT's [CLS]):

* ``"nsp"`` (next-sentence prediction, BERT §3.1 "Task #2"): half of the time B is
  replaced by text of the same length from another block; label 1 = B follows A;
* ``"sop"`` (sentence-order prediction, ALBERT, Lan et al. 2020 §3.2): half of the time
  A and B swap places; label 1 = in order. Both segments always come from the same text,
  so topic alone cannot tell the classes apart (NSP's shortcut).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from seqlab.data.batching import Batch
from seqlab.errors import UserError

IGNORE = -100  # target of a position that is not predicted (torch's cross_entropy default)
SENTENCE_TASKS = ("none", "nsp", "sop")


@dataclass
class MaskedLMBatch(Batch):
    """A :class:`Batch` with sentence pairs: ``segments`` (B, T) long, 0 for ``<bos>`` A
    ``<eos>`` and 1 for B ``<eos>``; ``order`` (B,) long, the pair label (module doc)."""

    segments: Tensor | None = None
    order: Tensor | None = None


def sentence_pairs(
    rows: Tensor,
    pool: Tensor,
    task: str,
    bos_id: int,
    sep_id: int,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor, Tensor]:
    """(B, L) runs of text -> (ids (B, L + 3), segments (B, L + 3), labels (B,)).

    Each row is cut at a random point in its middle half into A and B; with probability
    1/2 the pair is corrupted (``nsp``: B replaced by the same number of tokens from a
    random row of ``pool`` (N, L); ``sop``: A and B swapped) and labelled 0.
    """
    if task not in SENTENCE_TASKS[1:]:
        raise ValueError(f"unknown sentence task {task!r}")
    count, length = rows.shape
    if length < 2:
        raise UserError("sentence pairs need blocks of at least 5 tokens", "raise data.block_size")
    low, high = max(1, length // 4), max(2, length - length // 4)
    cuts = torch.randint(low, high, (count,), generator=generator).tolist()
    labels = (torch.rand(count, generator=generator) >= 0.5).long()
    others = torch.randint(pool.shape[0], (count,), generator=generator).tolist()
    ids, segments = [], []
    bos, sep = torch.tensor([bos_id]), torch.tensor([sep_id])
    for row, cut, label, other in zip(rows, cuts, labels.tolist(), others, strict=True):
        first, second = row[:cut], row[cut:]
        if not label and task == "nsp":
            second = pool[other, : length - cut]
        elif not label:  # sop
            first, second = second, first
        ids.append(torch.cat([bos, first, sep, second, sep]))
        head = first.numel() + 2
        segments.append(torch.cat([torch.zeros(head), torch.ones(length + 3 - head)]))
    return torch.stack(ids), torch.stack(segments).long(), labels


def mask_tokens(
    ids: Tensor,
    mask_id: int,
    special_ids: list[int],
    vocab_size: int,
    generator: torch.Generator,
    probability: float = 0.15,
    replace_mask: float = 0.8,
    replace_random: float = 0.1,
) -> tuple[Tensor, Tensor]:
    """(B, T) token ids -> (inputs, targets), BERT's 80/10/10 corruption (module doc).

    Random replacements are drawn from the non-special ids. At least one token per call
    is chosen, so no batch is without a target.
    """
    special = torch.isin(ids, torch.tensor(special_ids, dtype=ids.dtype))
    draw = torch.rand(ids.shape, generator=generator)
    chosen = (draw < probability) & ~special
    if not chosen.any():
        candidates = (~special).flatten().nonzero().flatten()
        if candidates.numel() == 0:
            raise UserError("a masked-LM batch has only special tokens", "use more text")
        pick = candidates[torch.randint(candidates.numel(), (1,), generator=generator)]
        chosen.view(-1)[pick] = True
    action = torch.rand(ids.shape, generator=generator)
    to_mask = chosen & (action < replace_mask)
    to_random = chosen & (action >= replace_mask) & (action < replace_mask + replace_random)
    allowed = torch.ones(vocab_size, dtype=torch.bool)
    allowed[torch.tensor(special_ids)] = False
    pool = allowed.nonzero().flatten()
    noise = pool[torch.randint(pool.numel(), ids.shape, generator=generator)]
    inputs = torch.where(to_mask, torch.full_like(ids, mask_id), ids)
    inputs = torch.where(to_random, noise, inputs)
    targets = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    return inputs, targets


class MaskedLMBatches:
    """Blocks of ``block_size`` tokens cut from one id stream, shuffled (train), masked.

    ``data`` (N, T): the stream cut into N full blocks (the tail is dropped; a stream
    shorter than one block is one shorter block). Batches hold B blocks:
    ``inputs`` (B, T) corrupted ids, ``targets`` (B, T) originals at chosen positions
    and :data:`IGNORE` elsewhere, ``lengths`` (B,) = T. With a ``sentence_task`` the
    blocks hold T - 3 text tokens and become :class:`MaskedLMBatch` pairs (module doc);
    ``bos_id`` / ``sep_id`` are then required.
    """

    carries_state = False

    def __init__(
        self,
        ids: Tensor,
        batch_size: int,
        block_size: int,
        mask_id: int,
        special_ids: list[int],
        vocab_size: int,
        shuffle: bool = False,
        seed: int = 0,
        probability: float = 0.15,
        replace_mask: float = 0.8,
        replace_random: float = 0.1,
        sentence_task: str = "none",
        bos_id: int | None = None,
        sep_id: int | None = None,
    ) -> None:
        if sentence_task not in SENTENCE_TASKS:
            raise UserError(
                f"unknown sentence task {sentence_task!r}", f"use one of {SENTENCE_TASKS}"
            )
        pairs = sentence_task != "none"
        if pairs and block_size < 5:
            raise UserError(
                f"sentence pairs need data.block_size >= 5, not {block_size}",
                "raise data.block_size",
            )
        if pairs:
            block_size -= 3  # <bos> A <eos> B <eos>
        ids = torch.as_tensor(ids, dtype=torch.long).flatten()
        if ids.numel() < 2:
            raise UserError(
                f"a stream of {ids.numel()} tokens is too short for masked-LM blocks",
                "use more text",
            )
        block = min(block_size, ids.numel())
        rows = ids.numel() // block
        self.data = ids[: rows * block].view(rows, block)  # (N, T)
        self.batch_size, self.shuffle, self.seed, self.epoch = batch_size, shuffle, seed, 0
        self.mask_id, self.special_ids, self.vocab_size = mask_id, list(special_ids), vocab_size
        self.rates = (probability, replace_mask, replace_random)
        self.sentence_task, self.bos_id, self.sep_id = sentence_task, bos_id, sep_id

    def set_epoch(self, epoch: int) -> None:
        """New masks (and order, when shuffling) for each epoch."""
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-self.data.shape[0] // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        rows = self.data.shape[0]
        order = torch.randperm(rows, generator=generator) if self.shuffle else torch.arange(rows)
        for start in range(0, rows, self.batch_size):
            ids = self.data[order[start : start + self.batch_size]]
            segments = labels = None
            if self.sentence_task != "none":
                ids, segments, labels = sentence_pairs(
                    ids, self.data, self.sentence_task, self.bos_id, self.sep_id, generator
                )
            inputs, targets = mask_tokens(
                ids, self.mask_id, self.special_ids, self.vocab_size, generator, *self.rates
            )
            lengths = torch.full((ids.shape[0],), ids.shape[1], dtype=torch.long)
            yield MaskedLMBatch(inputs, lengths, targets, segments=segments, order=labels)
