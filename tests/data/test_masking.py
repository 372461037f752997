"""Masked-LM corruption (BERT's 15% / 80-10-10) and MaskedLMBatches: rates within binomial
tolerance, specials untouched, targets = originals, per-(seed, epoch) masks, exact resume.

Oracles: the binomial distribution of each rate (5 standard deviations), brute-force
comparisons with the uncorrupted ids, and optionally HF transformers'
DataCollatorForLanguageModeling on the same ids.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from seqlab.data.masking import (
    IGNORE,
    MaskedLMBatch,
    MaskedLMBatches,
    mask_tokens,
    sentence_pairs,
)
from seqlab.errors import UserError

VOCAB = 50
SPECIALS = [0, 1, 2, 3, 4]  # <pad> <unk> <bos> <eos> <mask>
MASK = 4
POOL = VOCAB - len(SPECIALS)  # ids a random replacement is drawn from


def _near(observed: float, p: float, n: int, sigmas: float = 5.0) -> bool:
    """``observed`` is a Binomial(n, p) / n draw, within ``sigmas`` standard deviations."""
    return abs(observed - p) <= sigmas * math.sqrt(p * (1 - p) / n)


def _ids(shape=(200, 400), seed: int = 0) -> torch.Tensor:
    """Random ids with every special (including [MASK] itself) present in the input."""
    return torch.randint(0, VOCAB, shape, generator=torch.Generator().manual_seed(seed))


def _mask(ids: torch.Tensor, seed: int = 1, **rates) -> tuple[torch.Tensor, torch.Tensor]:
    return mask_tokens(ids, MASK, SPECIALS, VOCAB, torch.Generator().manual_seed(seed), **rates)


# ---------------------------------------------------------------- mask_tokens
def test_rates_are_bert_15_percent_and_80_10_10() -> None:
    ids = _ids()
    inputs, targets = _mask(ids)
    special = torch.isin(ids, torch.tensor(SPECIALS))
    chosen = targets != IGNORE
    n_free, n_chosen = int((~special).sum()), int(chosen.sum())
    assert n_free > 60_000 and int(special.sum()) > 5_000
    assert _near(n_chosen / n_free, 0.15, n_free)
    got, orig = inputs[chosen], ids[chosen]
    masked = float((got == MASK).double().mean())
    kept = float((got == orig).double().mean())
    randomised = float(((got != MASK) & (got != orig)).double().mean())
    # A random draw equals the original with probability 1 / POOL (as in BERT).
    assert _near(masked, 0.8, n_chosen)
    assert _near(kept, 0.1 + 0.1 / POOL, n_chosen)
    assert _near(randomised, 0.1 * (1 - 1 / POOL), n_chosen)
    assert masked + kept + randomised == pytest.approx(1.0)


def test_specials_are_never_chosen_and_noise_is_never_special() -> None:
    ids = _ids()
    inputs, targets = _mask(ids)
    special = torch.isin(ids, torch.tensor(SPECIALS))
    chosen = targets != IGNORE
    assert not (chosen & special).any()
    assert torch.equal(inputs[special], ids[special])  # specials (even a literal [MASK]) stay
    noise = chosen & (inputs != ids) & (inputs != MASK)
    assert noise.sum() > 1_000
    assert not torch.isin(inputs[noise], torch.tensor(SPECIALS)).any()
    # Every non-special id appears as noise: drawn from the whole non-special vocabulary.
    assert set(inputs[noise].tolist()) == set(range(len(SPECIALS), VOCAB))


def test_targets_are_the_originals_at_chosen_positions_only() -> None:
    ids = _ids()
    inputs, targets = _mask(ids)
    chosen = targets != IGNORE
    assert torch.equal(targets[chosen], ids[chosen])
    assert (targets[~chosen] == IGNORE).all()
    assert torch.equal(inputs[~chosen], ids[~chosen])  # nothing else is corrupted
    assert inputs.shape == targets.shape == ids.shape
    assert inputs.dtype == targets.dtype == torch.long


def test_custom_rates_are_honoured() -> None:
    ids = _ids()
    inputs, targets = _mask(ids, probability=0.4, replace_mask=0.5, replace_random=0.5)
    special = torch.isin(ids, torch.tensor(SPECIALS))
    chosen = targets != IGNORE
    n_free, n_chosen = int((~special).sum()), int(chosen.sum())
    assert _near(n_chosen / n_free, 0.4, n_free)
    got, orig = inputs[chosen], ids[chosen]
    assert _near(float((got == MASK).double().mean()), 0.5, n_chosen)
    assert _near(float((got == orig).double().mean()), 0.5 / POOL, n_chosen)  # none kept
    everything, _ = _mask(ids, probability=1.0, replace_mask=1.0, replace_random=0.0)
    assert (everything[~special] == MASK).all()


def test_every_call_has_a_target_even_for_tiny_inputs() -> None:
    for seed in range(200):
        ids = torch.tensor([[0, 7, 2, 9]])  # two maskable tokens: P(none chosen) = 0.72
        _, targets = _mask(ids, seed=seed)
        chosen = targets != IGNORE
        assert chosen.sum() >= 1, seed
        assert not chosen[0, [0, 2]].any()  # never a special
    one = torch.tensor([[3, 3, 11, 3]])
    _, targets = _mask(one, seed=5, probability=1e-9)
    assert targets.tolist() == [[IGNORE, IGNORE, 11, IGNORE]]
    with pytest.raises(UserError, match="only special tokens"):
        _mask(torch.tensor([[0, 1, 2, 3]]))


def test_same_generator_state_gives_the_same_masks() -> None:
    ids = _ids((20, 30))
    a, b = _mask(ids, seed=3), _mask(ids, seed=3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    c = _mask(ids, seed=4)
    assert not torch.equal(a[1], c[1])


def test_rates_agree_with_hf_data_collator() -> None:
    """HF's collator on the same ids chooses the same share and corrupts 80/10/10."""
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models

    names = ["<pad>", "<unk>", "<bos>", "<eos>", "<mask>"] + [f"w{i}" for i in range(5, VOCAB)]
    vocab = dict(zip(names, range(VOCAB), strict=True))
    hf_tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel(vocab, "<unk>")),
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<bos>",
        eos_token="<eos>",
        mask_token="<mask>",
    )
    assert sorted(hf_tokenizer.all_special_ids) == SPECIALS and hf_tokenizer.mask_token_id == MASK
    collator = transformers.DataCollatorForLanguageModeling(hf_tokenizer, mlm_probability=0.15)
    ids = _ids()
    torch.manual_seed(0)
    hf_inputs, hf_labels = collator.torch_mask_tokens(ids.clone())
    ours_inputs, ours_targets = _mask(ids)
    n = ids.numel()
    for inputs, targets in ((hf_inputs, hf_labels), (ours_inputs, ours_targets)):
        chosen = targets != IGNORE
        count = int(chosen.sum())
        assert not (chosen & torch.isin(ids, torch.tensor(SPECIALS))).any()
        assert torch.equal(targets[chosen], ids[chosen])
        assert torch.equal(inputs[~chosen], ids[~chosen])
        assert _near(count / n, 0.15 * (1 - len(SPECIALS) / VOCAB), n)
        assert _near(float((inputs[chosen] == MASK).double().mean()), 0.8, count)
        kept = float((inputs[chosen] == ids[chosen]).double().mean())
        assert _near(kept, 0.1 + 0.1 / VOCAB, count, sigmas=6)  # HF draws from all V ids


# ---------------------------------------------------------------- MaskedLMBatches
def _batches(shuffle: bool, stream: int = 2_000, **kw) -> MaskedLMBatches:
    ids = torch.randint(5, VOCAB, (stream,), generator=torch.Generator().manual_seed(7))
    base = dict(batch_size=4, block_size=16, mask_id=MASK, special_ids=SPECIALS, vocab_size=VOCAB)
    return MaskedLMBatches(ids, shuffle=shuffle, **(base | kw))


def _epoch(batches: MaskedLMBatches) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(b.inputs.clone(), b.targets.clone()) for b in batches]


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in zip(a, b, strict=True)
    )


def test_blocks_cover_the_stream_and_every_batch_has_targets() -> None:
    batches = _batches(shuffle=True, stream=2_010)
    assert batches.data.shape == (125, 16)  # 2,010 // 16 full blocks; the tail dropped
    assert len(batches) == 32 and len(list(batches)) == 32  # 31 of 4 + one of 1
    rows = []
    for batch in batches:
        assert batch.inputs.shape[1] == 16 and (batch.lengths == 16).all()
        chosen = batch.targets != IGNORE
        assert chosen.any()
        originals = torch.where(chosen, batch.targets, batch.inputs)  # undo the corruption
        rows.extend(originals.tolist())
    assert sorted(rows) == sorted(batches.data.tolist())  # each block once per epoch
    short = _batches(shuffle=False, stream=10)  # shorter than a block: one shorter block
    assert short.data.shape == (1, 10) and len(short) == 1
    with pytest.raises(UserError, match="too short"):
        _batches(shuffle=False, stream=1)


def test_same_seed_and_epoch_same_batches_new_epoch_new_masks() -> None:
    a, b = _batches(shuffle=True), _batches(shuffle=True)
    a.set_epoch(3)
    b.set_epoch(3)
    first = _epoch(a)
    assert _same(first, _epoch(b)) and _same(first, _epoch(a))  # also a second pass
    a.set_epoch(4)
    later = _epoch(a)
    assert not any(torch.equal(x[1], y[1]) for x, y in zip(first, later, strict=True))
    other_seed = _batches(shuffle=True, seed=1)
    other_seed.set_epoch(3)
    assert not _same(first, _epoch(other_seed))
    fixed = _batches(shuffle=False)  # same blocks in the same order: only the masks change
    fixed.set_epoch(1)
    one = _epoch(fixed)
    fixed.set_epoch(2)
    two = _epoch(fixed)
    for (x1, t1), (x2, t2) in zip(one, two, strict=True):
        assert torch.equal(torch.where(t1 != IGNORE, t1, x1), torch.where(t2 != IGNORE, t2, x2))
    chosen_one = torch.cat([t for _, t in one]) != IGNORE
    chosen_two = torch.cat([t for _, t in two]) != IGNORE
    overlap = float((chosen_one & chosen_two).sum() / chosen_one.sum())
    assert overlap < 0.3  # independent draws overlap ~15%, not ~100%


def test_eval_split_is_unshuffled_and_identical_on_every_pass() -> None:
    batches = _batches(shuffle=False)
    first, second = _epoch(batches), _epoch(batches)
    assert _same(first, second)
    originals = torch.cat([torch.where(t != IGNORE, t, x) for x, t in first])
    assert torch.equal(originals, batches.data)  # blocks in stream order
    share = float(torch.cat([t for _, t in first]).ne(IGNORE).double().mean())
    assert _near(share, 0.15, batches.data.numel())


def test_islice_after_set_epoch_is_the_tail_of_the_same_epoch() -> None:
    """What the loop does on resume (train.loop: islice(train_batches, in_epoch, None))."""
    batches = _batches(shuffle=True)
    batches.set_epoch(2)
    whole = _epoch(batches)
    for k in (0, 1, 7, len(whole) - 1, len(whole)):
        resumed = _batches(shuffle=True)  # a fresh object, as after a restart
        resumed.set_epoch(2)
        tail = [(b.inputs, b.targets) for b in itertools.islice(resumed, k, None)]
        assert _same(tail, whole[k:]), k


# ---------------------------------------------------------------- sentence pairs (NSP / SOP)
BOS, SEP = 2, 3


def _pairs(task: str, rows: torch.Tensor, seed: int = 0):
    return sentence_pairs(rows, rows, task, BOS, SEP, torch.Generator().manual_seed(seed))


def _halves(ids: torch.Tensor, segments: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """<bos> A <eos> B <eos> -> (A, B), checking the frame and the segment ids."""
    head = int((segments == 0).sum())
    assert ids[0] == BOS and ids[head - 1] == SEP and ids[-1] == SEP
    assert torch.equal(segments, (torch.arange(ids.numel()) >= head).long())  # 0s, then 1s
    return ids[1 : head - 1], ids[head:-1]


@pytest.mark.parametrize("task", ["sop", "nsp"])
def test_pairs_are_halves_of_the_run_and_half_are_corrupted(task: str) -> None:
    rows = torch.arange(5, 5 + 300 * 24).view(300, 24)  # every token unique: provenance is clear
    ids, segments, labels = _pairs(task, rows)
    assert ids.shape == segments.shape == (300, 27) and labels.shape == (300,)
    assert _near(float(labels.double().mean()), 0.5, 300)
    for row, x, s, label in zip(rows, ids, segments, labels.tolist(), strict=True):
        first, second = _halves(x, s)
        cut = first.numel() if label or task == "nsp" else second.numel()
        assert 24 // 4 <= cut < 24 - 24 // 4  # cut in the middle half
        if label:  # the real continuation, in order
            assert torch.equal(torch.cat([first, second]), row)
        elif task == "sop":  # the same two halves, swapped
            assert torch.equal(torch.cat([second, first]), row)
        else:  # A in place, B the same number of tokens from the start of another row
            assert torch.equal(first, row[:cut]) and second.numel() == 24 - cut
            other = int(second[0] - 5) // 24
            assert torch.equal(second, rows[other, : 24 - cut])


def test_batches_with_sentence_pairs_keep_the_frame_unmasked() -> None:
    stream = _ids((1, 4000)).flatten()
    batches = MaskedLMBatches(
        stream, 8, 32, MASK, SPECIALS, VOCAB, seed=3, sentence_task="sop", bos_id=BOS, sep_id=SEP
    )
    assert batches.data.shape[1] == 29  # 3 of the 32 positions are the frame
    for batch in batches:
        assert isinstance(batch, MaskedLMBatch) and batch.inputs.shape[1] == 32
        originals = torch.where(batch.targets != IGNORE, batch.targets, batch.inputs)
        frame = (torch.arange(32) == 0) | (originals == SEP)
        assert (batch.inputs[:, 0] == BOS).all() and (batch.targets[frame] == IGNORE).all()
        assert batch.segments.shape == (batch.batch_size, 32) and batch.order.shape == (
            batch.batch_size,
        )
    assert _same(_epoch(batches), _epoch(batches))  # fixed for evaluation


def test_plain_batches_carry_no_pairs() -> None:
    batch = next(iter(_batches(shuffle=False)))
    assert batch.segments is None and batch.order is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sentence_task": "nxp"}, "unknown sentence task"),
        ({"sentence_task": "sop", "block_size": 4}, "block_size >= 5"),
    ],
)
def test_bad_sentence_settings_are_user_errors(kwargs, message: str) -> None:
    arguments = {"block_size": 32, "bos_id": BOS, "sep_id": SEP} | kwargs
    with pytest.raises(UserError, match=message):
        MaskedLMBatches(
            _ids((1, 100)).flatten(),
            4,
            mask_id=MASK,
            special_ids=SPECIALS,
            vocab_size=VOCAB,
            **arguments,
        )
