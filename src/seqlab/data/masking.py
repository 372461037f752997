"""Masked-LM batches (BERT, Devlin et al. 2019, §3.1 "Task #1: Masked LM").

Legend: B batch, T block size (tokens per row).

Of the tokens that are not special, each is chosen with probability ``probability``
(15%); a chosen token is replaced by ``[MASK]`` 80% of the time, by a random token 10%
of the time, and kept 10% of the time; the model must predict the original of every
chosen token (targets elsewhere are :data:`IGNORE`). Masks are drawn afresh each epoch
(RoBERTa's dynamic masking) from a generator seeded by (seed, epoch), so a resumed run
sees the same masks, and the evaluation splits always get the same ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from seqlab.data.batching import Batch
from seqlab.errors import UserError

IGNORE = -100  # target of a position that is not predicted (torch's cross_entropy default)


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
    and :data:`IGNORE` elsewhere, ``lengths`` (B,) = T.
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
    ) -> None:
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
            inputs, targets = mask_tokens(
                ids, self.mask_id, self.special_ids, self.vocab_size, generator, *self.rates
            )
            lengths = torch.full((ids.shape[0],), ids.shape[1], dtype=torch.long)
            yield Batch(inputs, lengths, targets)
