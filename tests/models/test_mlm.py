"""MaskedLanguageModel: shapes, loss = cross-entropy over the masked positions of the full
logits, tied decoder, metric sums, and learning a predictable pattern with any encoder."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from seqlab.data.batching import Batch
from seqlab.data.masking import IGNORE, MaskedLMBatch, mask_tokens, sentence_pairs
from seqlab.models.mlm import MaskedLanguageModel, MaskedLMConfig
from seqlab.nn.encoders import RecurrentConfig
from seqlab.nn.transformer import TransformerConfig

VOCAB = 12  # 5 specials + the 7 words 5..11
SPECIALS = [0, 1, 2, 3, 4]
MASK = 4

# The default encoder (BERT's layout) in a small size, and a bidirectional recurrent one.
ENCODERS = {
    "default": dataclasses.replace(MaskedLMConfig().encoder, hidden_size=16, num_heads=2),
    "bigru": RecurrentConfig("gru", hidden_size=12, bidirectional=True),
}


def _mlm(encoder=None, **kw) -> MaskedLanguageModel:
    encoder = encoder if encoder is not None else ENCODERS["default"]
    base = dict(vocab_size=VOCAB, embedding_dim=16, encoder=encoder, mask_id=MASK)
    return MaskedLanguageModel(MaskedLMConfig(**(base | kw)))


def _masked(ids: torch.Tensor, seed: int = 0) -> Batch:
    inputs, targets = mask_tokens(
        ids, MASK, SPECIALS, VOCAB, torch.Generator().manual_seed(seed), probability=0.3
    )
    return Batch(inputs, torch.full((ids.shape[0],), ids.shape[1]), targets)


def test_the_default_encoder_is_a_bidirectional_bert_layout() -> None:
    encoder = MaskedLMConfig().encoder
    assert isinstance(encoder, TransformerConfig) and not encoder.causal
    assert (encoder.norm, encoder.positions, encoder.embedding_norm) == ("post", "learned", True)
    model = _mlm().eval()  # a token at t changes the predictions before t (not causal)
    ids = torch.randint(5, VOCAB, (2, 8))
    changed = ids.clone()
    changed[:, -1] = torch.where(ids[:, -1] == 5, 6, 5)
    lengths = torch.full((2,), 8)
    with torch.no_grad():
        before, after = model(Batch(ids, lengths)).logits, model(Batch(changed, lengths)).logits
    assert not torch.allclose(before[:, 0], after[:, 0])


@pytest.mark.parametrize("name", ENCODERS)
def test_shapes_with_and_without_targets(name: str) -> None:
    model = _mlm(ENCODERS[name]).eval()
    ids = torch.randint(5, VOCAB, (3, 9))
    full = model(Batch(ids, torch.full((3,), 9)))
    assert full.logits.shape == (3, 9, VOCAB) and full.loss is None
    batch = _masked(ids)
    n = int((batch.targets != IGNORE).sum())
    assert n > 0
    scored = model(batch)
    assert scored.logits.shape == (n, VOCAB) and scored.loss.shape == ()


@pytest.mark.parametrize("name", ENCODERS)
def test_loss_is_cross_entropy_of_the_masked_positions_of_the_full_logits(name: str) -> None:
    model = _mlm(ENCODERS[name]).eval()
    ids = torch.randint(5, VOCAB, (4, 11))
    batch = _masked(ids, seed=3)
    full = model(Batch(batch.inputs, batch.lengths)).logits  # (B, T, V)
    chosen = batch.targets != IGNORE
    output = model(batch)
    # The same rows, in row-major order of the chosen positions.
    torch.testing.assert_close(output.logits, full[chosen], atol=1e-5, rtol=1e-5)
    by_hand = F.cross_entropy(full.reshape(-1, VOCAB), batch.targets.reshape(-1))  # IGNORE=-100
    torch.testing.assert_close(output.loss, by_hand, atol=1e-5, rtol=1e-5)
    rows = [
        -torch.log_softmax(full[b, t], -1)[batch.targets[b, t]]
        for b, t in chosen.nonzero().tolist()
    ]
    assert output.loss.item() == pytest.approx(torch.stack(rows).mean().item(), abs=1e-5)


def test_decoder_is_tied_to_the_embedding_and_stays_tied() -> None:
    model = _mlm()
    assert model.decoder.weight is model.embedding.weight
    assert model.decoder.weight.data_ptr() == model.embedding.weight.data_ptr()
    assert model.decoder.bias.shape == (VOCAB,) and torch.count_nonzero(model.decoder.bias) == 0
    assert abs(model.embedding.weight.std().item() - 0.02) < 0.006  # normal(0, init_std)
    names = [name for name, _ in model.named_parameters()]
    assert "embedding.weight" in names and "decoder.weight" not in names  # counted once
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    before = model.embedding.weight.detach().clone()
    model(_masked(torch.randint(5, VOCAB, (2, 8)))).loss.backward()
    optimizer.step()
    assert model.decoder.weight is model.embedding.weight
    assert not torch.equal(model.embedding.weight, before)


def test_metric_sums_count_the_masked_tokens() -> None:
    model = _mlm().eval()
    batch = _masked(torch.randint(5, VOCAB, (5, 13)), seed=1)
    output = model(batch)
    targets = batch.targets[batch.targets != IGNORE]
    sums = model.metric_sums(output, batch)
    assert sums["loss"][1] == sums["accuracy"][1] == targets.numel()
    assert sums["loss"][0] / sums["loss"][1] == pytest.approx(output.loss.item(), rel=1e-5)
    correct = sum(
        int(row.argmax()) == int(t) for row, t in zip(output.logits, targets, strict=True)
    )
    assert sums["accuracy"][0] == correct
    means = {"loss": sums["loss"][0] / sums["loss"][1], "accuracy": 0.0}
    assert model.summarize(means)["ppl"] == pytest.approx(math.exp(means["loss"]))
    assert model.summarize({"loss": 1e6})["ppl"] == pytest.approx(math.exp(50))  # capped
    assert model.METRICS == {"loss": "min", "ppl": "min", "accuracy": "max"}


def test_the_model_keeps_no_tensors_between_calls() -> None:
    model = _mlm().eval()
    batch = _masked(torch.randint(5, VOCAB, (2, 6)))
    first = model(batch).logits
    model(_masked(torch.randint(5, VOCAB, (3, 7)), seed=2))
    for module in model.modules():
        assert not any(isinstance(v, torch.Tensor) for v in vars(module).values())
    assert torch.equal(model(batch).logits, first)


def _fit_on_the_cycle(model, batch_of, length: int, steps: int, held_out: int):
    """Train on rows of the cycle 5 6 ... 11 5 6 ... (random starts; ``batch_of(rows,
    seed)`` makes a batch) with Adam; return a held-out batch, the model in eval mode."""
    cycle = torch.arange(5, VOCAB)

    def rows(count: int, generator: torch.Generator) -> torch.Tensor:
        starts = torch.randint(0, len(cycle), (count, 1), generator=generator)
        return cycle[(starts + torch.arange(length)) % len(cycle)]  # (count, length)

    data = torch.Generator().manual_seed(1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for step in range(steps):
        loss = model(batch_of(rows(16, data), seed=step)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    return batch_of(rows(held_out, torch.Generator().manual_seed(99)), seed=10_000)


@pytest.mark.parametrize("name", ENCODERS)
def test_learns_a_cycle_to_high_masked_accuracy(name: str) -> None:
    """In 5 6 7 ... 11 5 6 ... every masked word follows from its neighbours."""
    torch.manual_seed(0)
    model = _mlm(ENCODERS[name])  # embedding_dim 16 = hidden_size, as BERT
    held_out = _fit_on_the_cycle(model, _masked, length=20, steps=300, held_out=64)
    with torch.no_grad():
        output = model(held_out)
    sums = model.metric_sums(output, held_out)
    accuracy = sums["accuracy"][0] / sums["accuracy"][1]
    assert sums["accuracy"][1] > 300
    assert accuracy > 0.95, accuracy  # chance: 1/7; a unigram guess: ~0.14


# ---------------------------------------------------------------- sentence head (NSP / SOP)
def _pairs(rows: torch.Tensor, seed: int) -> MaskedLMBatch:
    generator = torch.Generator().manual_seed(seed)
    ids, segments, order = sentence_pairs(rows, rows, "sop", 2, 3, generator)
    batch = _masked(ids, seed)
    return MaskedLMBatch(batch.inputs, batch.lengths, batch.targets, segments=segments, order=order)


def test_the_sentence_head_is_optional_and_starts_neutral() -> None:
    plain, paired = _mlm(), _mlm(sentence_head=True)
    assert not hasattr(plain, "pooler") and not hasattr(plain, "second_segment")
    assert torch.equal(paired.second_segment, torch.zeros(16))  # segment A = the plain embedding
    rows = torch.arange(5, 12).repeat(4, 3)[:, :17]  # (4, 17) -> pairs of 20 tokens
    batch = _pairs(rows, 0)
    output = paired(batch)
    assert output.extras["sentence_logits"].shape == (4, 2)
    single = Batch(batch.inputs, batch.lengths)  # no segments: the fill-mask / fine-tuning input
    assert paired(single).logits.shape == (4, 20, VOCAB)
    sums = paired.metric_sums(output, batch)
    assert sums["sentence_accuracy"][1] == 4.0


def test_the_sentence_head_learns_sentence_order() -> None:
    """Rows of the cycle 5 6 ... 11 cut in two: in order, the cycle continues across the
    separator; swapped, it jumps. Only the pair classifier can say which."""
    torch.manual_seed(0)
    model = _mlm(sentence_head=True)
    held_out = _fit_on_the_cycle(model, _pairs, length=17, steps=600, held_out=128)
    with torch.no_grad():
        sums = model.metric_sums(model(held_out), held_out)
    right, count = sums["sentence_accuracy"]
    assert count == 128 and right / count > 0.85, right / count  # chance 0.5; 0.93 seen
