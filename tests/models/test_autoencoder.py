"""SeriesAutoencoder: shapes, padding invariance, causality of the forecast scorer, a loss
of normal rows only, learning a toy problem, and a config that round-trips a bundle."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from seqlab.config import to_dict, validate
from seqlab.data.batching import Batch, pad_sequences
from seqlab.models.autoencoder import SeriesAutoencoder, SeriesAutoencoderConfig
from seqlab.nn.encoders import CNNConfig, FCNConfig, RecurrentConfig, TransformerConfig

SMALL = {
    "lstm": RecurrentConfig("lstm", hidden_size=6),
    "bigru-2x": RecurrentConfig("gru", hidden_size=5, num_layers=2, bidirectional=True),
    "cnn": CNNConfig(hidden_size=6, kernel_size=3),
    "fcn": FCNConfig(channels=[4, 6], kernel_sizes=[5, 3]),
    "transformer": TransformerConfig(hidden_size=8, num_heads=2),
}
CAUSAL = {
    "lstm": RecurrentConfig("lstm", hidden_size=6),
    "mut1-2x": RecurrentConfig("mut1", hidden_size=5, num_layers=2),
    "cnn": CNNConfig(hidden_size=6, kernel_size=3, causal=True),
    "transformer": TransformerConfig(hidden_size=8, num_heads=2, causal=True),
}


def _model(mode: str = "autoencoder", encoder=None, **kw) -> SeriesAutoencoder:
    config = SeriesAutoencoderConfig(
        mode=mode,
        encoder=encoder or RecurrentConfig("lstm", hidden_size=6),
        latent_size=kw.pop("latent_size", 3),
        decoder=kw.pop("decoder", RecurrentConfig("lstm", hidden_size=5)),
        **kw,
    )
    return SeriesAutoencoder(config).eval()


@pytest.mark.parametrize("mode", ["autoencoder", "forecast"])
@pytest.mark.parametrize("features", [None, 3])
def test_shapes(mode: str, features: int | None) -> None:
    shape = (4, 9) if features is None else (4, 9, features)
    model = _model(mode, input_size=features or 1)
    lengths = torch.tensor([9, 7, 9, 2])
    output = model(Batch(torch.randn(shape), lengths))
    assert output.logits.shape == (4, 9)
    assert output.extras["score"].shape == (4,)
    assert output.extras["reconstruction"].shape == (4, 9, features or 1)
    assert output.loss is not None and output.loss.dim() == 0
    assert (output.logits[3, 2:] == 0).all() and (output.logits >= 0).all()
    expected = output.logits.sum(1) / lengths
    torch.testing.assert_close(output.extras["score"], expected)


CASES = [("autoencoder", name) for name in SMALL] + [("forecast", name) for name in CAUSAL]


@pytest.mark.parametrize(("mode", "name"), CASES)
def test_padded_rows_score_as_they_do_alone(mode: str, name: str) -> None:
    encoder = (SMALL if mode == "autoencoder" else CAUSAL)[name]
    decoder = RecurrentConfig("gru", hidden_size=4, num_layers=2)
    model = _model(mode, encoder, decoder=decoder, latent_from="mean")
    series = [torch.randn(n) for n in (11, 4, 8)]
    padded, lengths = pad_sequences(series)
    with torch.no_grad():
        together = model(Batch(padded, lengths))
        for row, x in enumerate(series):
            alone = model(Batch(x[None], torch.tensor([len(x)])))
            n = len(x)
            torch.testing.assert_close(
                together.logits[row, :n], alone.logits[0], atol=1e-5, rtol=1e-4
            )
            torch.testing.assert_close(
                together.extras["score"][row], alone.extras["score"][0], atol=1e-6, rtol=1e-4
            )


@pytest.mark.parametrize("name", CAUSAL)
def test_the_forecast_scorer_never_sees_the_step_it_scores(name: str) -> None:
    model = _model("forecast", CAUSAL[name])
    x = torch.randn(2, 10)
    lengths = torch.full((2,), 10)
    with torch.no_grad():
        base = model(Batch(x, lengths))
        for t in range(1, 10):
            changed = x.clone()
            changed[:, t:] = torch.randn(2, 10 - t)
            output = model(Batch(changed, lengths))
            # Predictions up to t use x_{<t} only; errors before t are unchanged.
            recon, before = output.extras["reconstruction"], base.extras["reconstruction"]
            torch.testing.assert_close(recon[:, : t + 1], before[:, : t + 1], atol=1e-6, rtol=0)
            torch.testing.assert_close(output.logits[:, :t], base.logits[:, :t], atol=1e-6, rtol=0)


def test_the_loss_reads_normal_rows_only_and_metric_sums_split_them() -> None:
    model = _model()
    x, lengths = torch.randn(4, 6), torch.tensor([6, 5, 6, 3])
    labels = torch.tensor([0, 1, 0, 1])
    with torch.no_grad():
        output = model(Batch(x, lengths, labels))
        normal = model(Batch(x[[0, 2]], lengths[[0, 2]]))
    torch.testing.assert_close(output.loss, normal.loss)
    per_step = output.logits.sum(1)
    expected = (per_step[[0, 2]].sum() / 12, per_step[[1, 3]].sum() / 8)
    sums = model.metric_sums(output, Batch(x, lengths, labels))
    assert sums["loss"][1] == 12 and sums["anomalous_error"][1] == 8
    means = {k: total / count for k, (total, count) in sums.items()}
    assert means["loss"] == pytest.approx(expected[0].item(), rel=1e-5)
    summary = model.summarize(means)
    assert summary["error_ratio"] == pytest.approx(expected[1].item() / expected[0].item(), 1e-4)


@pytest.mark.parametrize("mode", ["autoencoder", "forecast"])
def test_loss_decreases_on_noisy_sines_and_anomalies_score_higher(mode: str) -> None:
    generator = torch.Generator().manual_seed(0)
    steps = torch.arange(24, dtype=torch.float32)

    def sines(n: int) -> torch.Tensor:
        phase = torch.rand(n, 1, generator=generator) * 6.28
        return torch.sin(steps / 3 + phase) + 0.05 * torch.randn(n, 24, generator=generator)

    model = _model(mode, RecurrentConfig("gru", hidden_size=16), latent_size=4).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    lengths = torch.full((32,), 24)
    losses = []
    for _ in range(80):
        loss = model(Batch(sines(32), lengths)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) < 0.5 * sum(losses[:5])
    model.eval()
    with torch.no_grad():
        normal = model(Batch(sines(50), torch.full((50,), 24))).extras["score"]
        noise = torch.randn(50, 24, generator=generator)
        odd = model(Batch(noise, torch.full((50,), 24))).extras["score"]
    assert normal.median() < odd.median()


def test_a_config_round_trips_through_a_bundle_dict() -> None:
    config = SeriesAutoencoderConfig(
        encoder=RecurrentConfig("lstm_b", hidden_size=7, bidirectional=True),
        decoder=RecurrentConfig("gru", hidden_size=5, num_layers=2),
        latent_size=4,
        latent_from="mean",
    )
    raw = to_dict(config)
    again = validate(SeriesAutoencoderConfig, raw, "model")
    assert again == config
    first, second = SeriesAutoencoder(config).eval(), SeriesAutoencoder(again).eval()
    second.load_state_dict(first.state_dict())
    batch = Batch(torch.randn(2, 8), torch.tensor([8, 6]))
    with torch.no_grad():
        torch.testing.assert_close(first(batch).logits, second(batch).logits)
    forecast = validate(SeriesAutoencoderConfig, {**raw, "mode": "forecast"}, "model")
    with pytest.raises(ValueError, match="needs a causal encoder"):
        SeriesAutoencoder(forecast)
    uni = dataclasses.replace(forecast, encoder=RecurrentConfig("lstm", hidden_size=4))
    assert not hasattr(SeriesAutoencoder(uni), "decoder")  # a forecaster has no decoder


def test_the_decoder_s_time_code_depends_on_the_length_only() -> None:
    model = _model(time_features=3)
    code = model.time_code(torch.tensor([5, 3]), 5)  # (B, T, 2K + 1)
    assert code.shape == (2, 5, 7)
    u = torch.linspace(0, 1, 5)
    torch.testing.assert_close(code[0, :, 0], u)
    torch.testing.assert_close(code[1, :3, 0], torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(code[0, :, 1], torch.sin(torch.pi * u))  # k = 1
    torch.testing.assert_close(code[0, :, 6], torch.cos(3 * torch.pi * u))  # k = 3
    plain = _model(time_features=0)
    assert plain.decoder.rnn.input_size == plain.config.latent_size
    output = plain(Batch(torch.randn(2, 6), torch.tensor([6, 4])))
    assert output.logits.shape == (2, 6)
