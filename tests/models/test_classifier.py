"""SequenceClassifier: shapes, padding invariance, class weights, learning."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from seqlab.data.batching import Batch
from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.nn.encoders import RecurrentConfig


def _model(**kw) -> SequenceClassifier:
    encoder = RecurrentConfig(hidden_size=8, bidirectional=kw.pop("bidirectional", False))
    base = dict(vocab_size=20, embedding_dim=8, encoder=encoder, num_classes=3)
    return SequenceClassifier(SequenceClassifierConfig(**(base | kw))).eval()


def test_logits_do_not_depend_on_padding() -> None:
    model = _model(bidirectional=True, pooling="attention")
    ids = torch.tensor([[5, 6, 7, 8], [3, 4, 0, 0]])
    logits = model(Batch(ids, torch.tensor([4, 2]))).logits
    alone = model(Batch(ids[1:, :2], torch.tensor([2]))).logits
    assert logits.shape == (2, 3)
    assert torch.allclose(logits[1], alone[0], atol=1e-5)


def test_class_weighted_loss_equals_torch() -> None:
    model = _model(class_weights=[1.0, 2.0, 0.5])
    ids, targets = torch.randint(1, 20, (4, 5)), torch.tensor([0, 1, 2, 1])
    batch = Batch(ids, torch.full((4,), 5), targets)
    output = model(batch)
    expected = F.cross_entropy(output.logits, targets, weight=torch.tensor([1.0, 2.0, 0.5]))
    assert torch.allclose(output.loss, expected)
    sums = model.metric_sums(output, batch)
    assert sums["accuracy"][1] == 4


def test_time_series_input_and_learning() -> None:
    # Class = sign of the series mean: a GRU must learn it in a few steps.
    torch.manual_seed(0)
    model = SequenceClassifier(
        SequenceClassifierConfig(
            encoder=RecurrentConfig(type="gru", hidden_size=16), num_classes=2, pooling="mean"
        )
    )
    x = torch.randn(64, 12) + torch.where(torch.rand(64, 1) < 0.5, -1.0, 1.0)
    y = (x.mean(1) > 0).long()
    lengths = torch.full((64,), 12)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        loss = model(Batch(x, lengths, y)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    accuracy = (model(Batch(x, lengths)).logits.argmax(-1) == y).float().mean()
    assert accuracy > 0.95
