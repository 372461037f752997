"""DualEncoder: CLIP's symmetric InfoNCE against brute force, the learned and clamped
temperature, unit embeddings, padding invariance, every encoder, shared towers."""

from __future__ import annotations

import math

import pytest
import torch

from seqlab.errors import UserError
from seqlab.models.dual_encoder import DualEncoder, DualEncoderConfig, PairBatch, info_nce
from seqlab.nn.encoders import CNNConfig, RecurrentConfig, TransformerConfig

ENCODERS = {
    "bigru": RecurrentConfig("gru", hidden_size=6, bidirectional=True),
    "lstm-2x": RecurrentConfig("lstm", hidden_size=5, num_layers=2),
    "cnn": CNNConfig(hidden_size=6, num_layers=2),
    "transformer": TransformerConfig(hidden_size=8, num_heads=2, max_positions=32),
}


def _model(encoder=None, **kw) -> DualEncoder:
    torch.manual_seed(0)
    options = dict(
        source_encoder=encoder or ENCODERS["bigru"],
        embedding_dim=6,
        projection_size=4,
        source_vocab_size=13,
        target_vocab_size=17,
    )
    return DualEncoder(DualEncoderConfig(**(options | kw)))


def _batch(rows: int = 5, source_steps: int = 7, target_steps: int = 6) -> PairBatch:
    generator = torch.Generator().manual_seed(1)
    source_lengths = torch.randint(1, source_steps + 1, (rows,), generator=generator)
    target_lengths = torch.randint(1, target_steps + 1, (rows,), generator=generator)
    source_lengths[0], target_lengths[0] = source_steps, target_steps
    source = torch.randint(1, 13, (rows, source_steps), generator=generator)
    target = torch.randint(1, 17, (rows, target_steps), generator=generator)
    for ids, lengths in ((source, source_lengths), (target, target_lengths)):
        for row, length in enumerate(lengths.tolist()):
            ids[row, length:] = 0
    return PairBatch(source, source_lengths, target, target_lengths)


def test_info_nce_equals_brute_force() -> None:
    logits = torch.randn(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    n = logits.shape[0]
    rows = [-(logits[i, i] - torch.logsumexp(logits[i, :], 0)) for i in range(n)]
    columns = [-(logits[j, j] - torch.logsumexp(logits[:, j], 0)) for j in range(n)]
    expected = (sum(rows) / n + sum(columns) / n) / 2
    assert info_nce(logits).item() == pytest.approx(expected.item(), rel=1e-6)


def test_forward_is_scaled_cosines_and_the_symmetric_loss() -> None:
    model = _model().eval()
    batch = _batch()
    output = model(batch)
    u, v = output.extras["source"], output.extras["target"]
    cosines = torch.tensor(
        [[torch.nn.functional.cosine_similarity(a, b, dim=0).item() for b in v] for a in u]
    )
    scale = 1 / 0.07
    assert output.extras["scale"].item() == pytest.approx(scale, rel=1e-5)
    assert torch.allclose(output.logits, scale * cosines, atol=1e-4)
    assert output.loss.item() == pytest.approx(info_nce(output.logits).item())
    assert output.logits.shape == (5, 5)


def test_temperature_is_learned_from_log_one_over_0_07_and_clamped_at_100() -> None:
    model = _model()
    assert model.logit_scale.item() == pytest.approx(math.log(1 / 0.07))
    model(_batch()).loss.backward()
    assert model.logit_scale.grad is not None and model.logit_scale.grad.item() != 0.0
    with torch.no_grad():
        model.logit_scale.fill_(10.0)  # exp(10) ≈ 22,026
    output = model(_batch())
    assert output.extras["scale"].item() == pytest.approx(100.0)
    model.zero_grad()
    output.loss.backward()
    assert model.logit_scale.grad.item() == 0.0  # beyond the clamp nothing moves it
    fixed = _model(learn_temperature=False)
    assert not fixed.logit_scale.requires_grad
    assert _model(init_temperature=0.5).scale().item() == pytest.approx(2.0)


@pytest.mark.parametrize("name", ENCODERS)
def test_embeddings_are_unit_vectors_and_padding_changes_nothing(name: str) -> None:
    model = _model(ENCODERS[name]).eval()
    batch = _batch()
    with torch.no_grad():
        u = model.embed_source(batch.source, batch.source_lengths)
        v = model.embed_target(batch.target, batch.target_lengths)
        assert u.shape == v.shape == (5, 4)
        for vectors in (u, v):
            assert torch.allclose(vectors.norm(dim=1), torch.ones(5), atol=1e-6)
        for row in range(5):  # each row alone, unpadded, then with extra padding
            length = int(batch.source_lengths[row])
            alone = model.embed_source(batch.source[row : row + 1, :length], torch.tensor([length]))
            padded = torch.nn.functional.pad(batch.source[row : row + 1, :length], (0, 9))
            extra = model.embed_source(padded, torch.tensor([length]))
            assert torch.allclose(alone[0], u[row], atol=1e-5), row
            assert torch.allclose(extra[0], u[row], atol=1e-5), row


def test_metric_sums_count_in_batch_recall_both_ways() -> None:
    model = _model().eval()
    batch = _batch()
    output = model(batch)
    logits = output.logits
    expected = sum(int(logits[i].argmax() == i) + int(logits[:, i].argmax() == i) for i in range(5))
    sums = model.metric_sums(output, batch)
    assert sums["batch_recall_at_1"] == (expected, 10.0)
    assert sums["loss"][0] == pytest.approx(output.loss.item() * 5)
    assert set(sums) == set(DualEncoder.METRICS)


def test_shared_towers_and_separate_ones() -> None:
    separate = _model()
    assert separate.target is not None and separate.target is not separate.source
    shared = _model(shared=True, target_vocab_size=13)
    assert shared.target is None
    names = [name for name, _ in shared.named_parameters()]
    assert all(name.startswith("source.") or name == "logit_scale" for name in names)
    batch = _batch()
    ids, lengths = batch.source, batch.source_lengths
    assert torch.equal(shared.embed_source(ids, lengths), shared.embed_target(ids, lengths))
    with pytest.raises(UserError, match="one vocabulary"):
        _model(shared=True)
    with pytest.raises(UserError, match="one encoder"):
        _model(shared=True, target_vocab_size=13, target_encoder=ENCODERS["cnn"])
    mixed = _model(target_encoder=ENCODERS["transformer"])
    assert type(mixed.source.encoder) is not type(mixed.target.encoder)


def test_initialisation_and_a_model_from_its_config_alone() -> None:
    model = _model()
    embedding = model.source.embedding.weight
    assert torch.count_nonzero(embedding[0]) == 0  # the padding row
    bound = 1 / 6**0.5  # the GRU keeps its cells' ±1/sqrt(H)
    assert max(p.abs().max() for p in model.source.encoder.parameters()) <= bound
    again = DualEncoder(model.config)
    again.load_state_dict(model.state_dict())
    batch = _batch()
    assert torch.equal(again.eval()(batch).logits, model.eval()(batch).logits)
    with pytest.raises(UserError, match="vocabulary sizes"):
        DualEncoder(DualEncoderConfig())


def test_a_few_steps_separate_the_pairs() -> None:
    """Trained on 8 fixed pairs, the in-batch loss falls well below log(8)."""
    model = _model()
    batch = _batch(rows=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        loss = model(batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.2 * math.log(8)
    assert model.logit_scale.item() > math.log(1 / 0.07)  # the temperature was learned
