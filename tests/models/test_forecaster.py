"""Forecaster: every strategy over several encoders, honest about what it may see (no
target leaks into its own forecast), fed-back decoding equal to recomputation, the
pinball loss equal to its definition, and learning a real pattern."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from sklearn.metrics import mean_pinball_loss

from seqlab.models.forecaster import ForecastBatch, Forecaster, ForecasterConfig, pinball_loss
from seqlab.nn.encoders import CNNConfig, RecurrentConfig
from seqlab.nn.transformer import TransformerConfig

L, H, C, F = 12, 5, 2, 3

ENCODERS = {
    "lstm": RecurrentConfig("lstm", hidden_size=16),
    "gru2": RecurrentConfig("gru", hidden_size=16, num_layers=2),
    "bilstm": RecurrentConfig("lstm", hidden_size=8, bidirectional=True),
    "causal-cnn": CNNConfig(hidden_size=16, num_layers=2, causal=True),
    "transformer": TransformerConfig(
        hidden_size=16, num_layers=1, num_heads=2, feedforward_size=32, causal=True,
        max_positions=64,
    ),
}  # fmt: skip
VALID = [
    ("direct", "lstm"), ("direct", "bilstm"), ("direct", "causal-cnn"), ("direct", "transformer"),
    ("recursive", "lstm"), ("recursive", "gru2"), ("recursive", "causal-cnn"),
    ("recursive", "transformer"), ("seq2seq", "lstm"), ("seq2seq", "gru2"),
]  # fmt: skip


def _model(strategy: str, encoder: str, quantiles: list[float] | None = None) -> Forecaster:
    torch.manual_seed(0)
    config = ForecasterConfig(
        encoder=ENCODERS[encoder],
        strategy=strategy,
        quantiles=quantiles or [],
        head_hidden=16,
        input_length=L,
        horizon=H,
        num_targets=C,
        num_covariates=F,
    )
    return Forecaster(config)


def _batch(batch_size: int = 4, seed: int = 1) -> ForecastBatch:
    g = torch.Generator().manual_seed(seed)
    return ForecastBatch(
        torch.randn(batch_size, L, C, generator=g),
        torch.randn(batch_size, L, F, generator=g),
        torch.randn(batch_size, H, F, generator=g),
        torch.randn(batch_size, H, C, generator=g),
    )


@pytest.mark.parametrize(("strategy", "encoder"), VALID)
def test_shapes_and_a_loss_for_every_strategy(strategy: str, encoder: str) -> None:
    model = _model(strategy, encoder, [0.1, 0.5, 0.9])
    for train in (True, False):
        model.train(train)
        output = model(_batch())
        assert output.logits.shape == (4, H, C, 3) and output.loss.ndim == 0
        assert model.point(output).shape == (4, H, C)
    assert model.point_index == 1


def test_strategies_refuse_encoders_that_cannot_serve_them() -> None:
    with pytest.raises(ValueError, match="causal encoder"):
        _model("recursive", "bilstm")
    with pytest.raises(ValueError, match="unidirectional recurrent encoder"):
        _model("seq2seq", "transformer")


@pytest.mark.parametrize(("strategy", "encoder"), VALID)
def test_a_forecast_never_sees_its_own_targets(strategy: str, encoder: str) -> None:
    """Eval mode: changing the targets changes nothing. Train mode (teacher forcing): the
    prediction of horizon step h does not depend on targets h, h+1, ..."""
    model = _model(strategy, encoder)
    batch, other = _batch(), _batch()
    other.targets = torch.randn_like(batch.targets) * 10
    model.eval()
    torch.testing.assert_close(model(batch).logits, model(other).logits)
    model.train()
    for h in range(H):
        changed = ForecastBatch(batch.inputs, batch.past, batch.future, batch.targets.clone())
        changed.targets[:, h:] += 5.0
        if strategy == "direct":
            h = H - 1  # reads no target at all: every step must be equal
        torch.testing.assert_close(
            model(batch).logits[:, : h + 1], model(changed).logits[:, : h + 1]
        )


@pytest.mark.parametrize(("strategy", "encoder"), [s for s in VALID if s[0] != "direct"])
def test_fed_back_forecast_equals_teacher_forcing_on_its_own_forecasts(
    strategy: str, encoder: str
) -> None:
    """The eval-mode loop (incremental state, KV cache or recomputation) equals the
    teacher-forced pass given the loop's own point forecasts as targets."""
    model = _model(strategy, encoder).eval()
    batch = _batch()
    forecast = model(batch).logits
    own = ForecastBatch(batch.inputs, batch.past, batch.future, forecast[..., 0].detach())
    model.train()  # teacher forcing; dropout is 0
    torch.testing.assert_close(model(own).logits, forecast, atol=1e-5, rtol=1e-5)


def test_pinball_loss_is_its_definition_and_sklearn_s() -> None:
    rng = np.random.default_rng(0)
    actual = rng.normal(size=(6, 4))
    predicted = rng.normal(size=(6, 4, 3))
    levels = [0.1, 0.5, 0.9]
    ours = pinball_loss(torch.tensor(predicted), torch.tensor(actual), torch.tensor(levels))
    by_hand = np.mean(
        [
            max(q * (y - p), (q - 1) * (y - p))
            for (i, j), y in np.ndenumerate(actual)
            for k, q in enumerate(levels)
            for p in [predicted[i, j, k]]
        ]
    )
    assert float(ours) == pytest.approx(by_hand)
    for k, q in enumerate(levels):
        one = pinball_loss(
            torch.tensor(predicted[..., k : k + 1]), torch.tensor(actual), torch.tensor([q])
        )
        sklearn = mean_pinball_loss(actual.ravel(), predicted[..., k].ravel(), alpha=q)
        assert float(one) == pytest.approx(sklearn)


def _sine_windows(n: int, noise: float, seed: int) -> ForecastBatch:
    """Windows of a period-12 sine (one target, no covariates) with Gaussian noise."""
    rng = np.random.default_rng(seed)
    starts = rng.uniform(0, 12, size=n)
    steps = starts[:, None] + np.arange(L + H)[None, :]
    values = np.sin(2 * np.pi * steps / 12) + noise * rng.normal(size=steps.shape)
    values = torch.tensor(values, dtype=torch.float32)[..., None]
    empty = torch.zeros(n, L + H, 0)
    return ForecastBatch(values[:, :L], empty[:, :L], empty[:, L:], values[:, L:])


@pytest.mark.parametrize("strategy", ["direct", "recursive", "seq2seq"])
def test_every_strategy_learns_a_sine_and_quantiles_cover_the_noise(strategy: str) -> None:
    torch.manual_seed(0)
    config = ForecasterConfig(
        encoder=RecurrentConfig("gru", hidden_size=24),
        strategy=strategy,
        quantiles=[0.1, 0.5, 0.9],
        head_hidden=32,
        input_length=L,
        horizon=H,
        num_targets=1,
        num_covariates=0,
    )
    model = Forecaster(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train, test = _sine_windows(256, 0.2, 1), _sine_windows(256, 0.2, 2)
    for _ in range(150):
        optimizer.zero_grad()
        model(train).loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        output = model(test)
    truth = test.targets[..., 0]
    mae = (model.point(output)[..., 0] - truth).abs().mean()
    naive = (test.inputs[:, -1:, 0] - truth).abs().mean()  # last value repeated
    assert mae < 0.5 * naive, (float(mae), float(naive))
    low, high = output.logits[..., 0, 0], output.logits[..., 0, 2]
    coverage = ((truth >= low) & (truth <= high)).float().mean()
    assert 0.65 < float(coverage) < 0.95  # nominal 80 %


@pytest.mark.parametrize("base", ["last", "seasonal", "linear"])
def test_a_zeroed_head_on_a_base_is_the_naive_forecast(base: str) -> None:
    """The direct head corrects a simple forecast: with its last layer zeroed the model
    forecasts exactly evaluate.forecast's naive / seasonal-naive (the linear base starts
    at the seasonal-naive map, then learns)."""
    from seqlab.evaluate.forecast import naive, seasonal_naive

    season = 4
    config = ForecasterConfig(
        base=base, season=season, input_length=L, horizon=H, num_targets=C, num_covariates=F
    )
    model = Forecaster(config).eval()
    torch.nn.init.zeros_(model.head[-1].weight)
    torch.nn.init.zeros_(model.head[-1].bias)
    batch = _batch()
    got = model.point(model(batch)).detach().double().numpy()
    oracle = naive if base == "last" else seasonal_naive
    for row in range(4):
        for c in range(C):
            history = batch.inputs[row, :, c].double().numpy()
            np.testing.assert_allclose(got[row, :, c], oracle(history, H, season), atol=1e-6)
    with pytest.raises(ValueError, match="needs the direct strategy"):
        Forecaster(dataclasses.replace(config, strategy="seq2seq"))
    with pytest.raises(ValueError, match="input_length >= season"):
        Forecaster(dataclasses.replace(config, base="seasonal", season=L + 1))
    if base == "linear":  # a trainable map: it gets gradients, unlike the fixed bases
        model.train()(batch).loss.backward()
        assert model.base_map is not None and model.base_map.weight.grad.abs().sum() > 0
