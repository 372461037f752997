"""Anomaly scores of a series: a recurrent autoencoder, or one-step forecast residuals.

Legend: B batch, T time steps (the longest series of the batch), F features per step,
D encoder output size, L latent size, H decoder hidden size.

Two scorers (``mode``), both trained on normal series only, both scoring every step by
a squared error and a series by the mean over its valid steps:

* ``autoencoder`` (Malhotra et al. 2016, "LSTM-based encoder-decoder for multi-sensor
  anomaly detection"; Srivastava et al. 2015)::

      x (B, T, F) --encoder--> (B, T, D) --pool (last / mean)--> (B, D) --linear--> z (B, L)
      z --> the decoder's initial state, and [z ‖ time code of step t] its input at step t
      decoder (B, T, H) --linear--> x̂ (B, T, F);   error_t = mean_f (x̂_t - x_t)²

  The decoder sees nothing of the series but z, so the L numbers of z are the only
  path from the input to the output: that bottleneck is what makes a series unlike the
  normal ones reconstruct badly. Teacher forcing (feeding the true x_{t-1} as well) was
  measured and refused: a decoder that reads the previous value becomes a one-step
  predictor, which follows an abnormal beat almost as closely as a normal one. On
  ECG5000's validation slice, after 20 epochs of the same LSTM 64 / latent 16 model:
  ROC-AUC 0.98 latent-fed, 0.86 teacher-forced (and 0.89 for ``forecast`` below).

  The time code (``time_features = K``) is where step t lies in its series, u = t / (T_i
  - 1), with sin(kπu) and cos(kπu) for k = 1..K: the same for every series of a length,
  so it adds no path from the input. Without it a decoder fed a constant z must count
  the steps itself to place each wave of a beat; with it (K = 4, bidirectional LSTM 64
  encoder, 100 epochs) the normal validation beats of ECG5000 reconstruct 5x closer
  (mean squared error 0.046 vs 0.23) and validation ROC-AUC rises from 0.990 to
  0.998-1.0 (two seeds).

* ``forecast``: a causal encoder reads the series shifted right by one step (a 0 first —
  the mean of a z-normalised series) and a linear head predicts x_t from x_{<t} at every
  step; error_t is the squared residual (the "forecaster residuals" detector, Malhotra
  et al. 2015). The encoder must be causal (a bidirectional one would see x_t).

``forward(batch)`` returns :class:`ModelOutput` with ``logits`` = the per-step errors
(B, T) (zero on padded steps), ``extras["score"]`` the per-series scores (B,) and
``extras["reconstruction"]`` x̂ (B, T, F), and always a ``loss``: the mean error over
the valid steps of the normal rows (``batch.targets`` 0; every row when there are no
targets) — the series is its own target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from seqlab.config import DropoutRate, NonNegativeInt, PositiveInt
from seqlab.data.batching import Batch
from seqlab.models.output import ModelOutput, State
from seqlab.nn.cells import CELLS
from seqlab.nn.encoders import EncoderConfig, RecurrentConfig, build_encoder
from seqlab.nn.heads import Pooling, lengths_to_mask


@dataclass
class SeriesAutoencoderConfig:
    """Hyper-parameters of :class:`SeriesAutoencoder` (the recipe's ``[model]``; saved in
    ``config.json``). ``input_size`` comes from the data."""

    TYPES: ClassVar[tuple[str, ...]] = ("neural",)

    type: str = "neural"
    mode: Literal["autoencoder", "forecast"] = "autoencoder"
    encoder: EncoderConfig = field(
        default_factory=lambda: RecurrentConfig("lstm", hidden_size=64, num_layers=1)
    )
    latent_size: PositiveInt = 16  # L: autoencoder only
    latent_from: Literal["last", "mean"] = "last"  # pool the encoder's outputs into z
    decoder: RecurrentConfig = field(
        default_factory=lambda: RecurrentConfig("lstm", hidden_size=64, num_layers=1)
    )
    time_features: NonNegativeInt = 4  # K: the decoder's time code (module doc); 0 = none
    dropout: DropoutRate = 0.0  # on the encoder's outputs (and z)
    input_size: PositiveInt = 1  # F


class SeriesAutoencoder(nn.Module):
    """Per-step and per-series anomaly scores by reconstruction or one-step residuals.

    ``forward(batch: Batch)`` reads ``batch.inputs`` (B, T) or (B, T, F) float series,
    ``batch.lengths`` (B,) and optional ``batch.targets`` (B,) 0 = normal, 1 = anomalous
    (only normal rows enter the loss), and returns a :class:`ModelOutput`: ``logits``
    (B, T) squared errors per step (0 on padding), ``loss`` (scalar), ``extras["score"]``
    (B,) mean error per series, ``extras["reconstruction"]`` (B, T, F) the reconstruction
    (autoencoder) or the one-step forecasts (forecast). Padded rows give the numbers they
    give alone; the model keeps nothing between calls.
    """

    METRICS: ClassVar[dict[str, str]] = {
        "loss": "min",  # the mean per-step error of normal validation series
        "anomalous_error": "max",  # ... of anomalous ones (0 when there are none)
        "error_ratio": "max",  # anomalous_error / loss: how far apart the two are
    }

    def __init__(self, config: SeriesAutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        f = config.input_size
        self.encoder = build_encoder(config.encoder, f)
        d = self.encoder.output_size
        self.dropout = nn.Dropout(config.dropout)
        if config.mode == "forecast":
            if not self.encoder.causal:
                raise ValueError("a forecast scorer needs a causal encoder")
            self.head = nn.Linear(d, f)
            return
        decoder = config.decoder
        if decoder.bidirectional:
            raise ValueError("the autoencoder's decoder must be unidirectional")
        self.pool = Pooling(config.latent_from, d, self.encoder.directions)
        self.to_latent = nn.Linear(d, config.latent_size)
        # z -> the decoder's initial hidden states (cell states start at zero).
        self.to_state = nn.Linear(config.latent_size, decoder.num_layers * decoder.hidden_size)
        code = 2 * config.time_features + 1 if config.time_features else 0
        self.decoder = build_encoder(decoder, config.latent_size + code)
        self._state_parts = CELLS[decoder.type].state_size  # 2 for LSTMs: (h, c)
        self.head = nn.Linear(decoder.hidden_size, f)

    # ------------------------------------------------------------------ pieces
    def latent(self, x: Tensor, lengths: Tensor) -> Tensor:
        """(B, T, F), (B,) -> z (B, L)."""
        outputs, _ = self.encoder(x, lengths)  # (B, T, D)
        pooled, _ = self.pool(self.dropout(outputs), lengths)  # (B, D)
        return torch.tanh(self.to_latent(pooled))

    def time_code(self, lengths: Tensor, steps: int) -> Tensor:
        """(B,) lengths -> (B, T, 2K + 1): u = t / (T_i - 1), sin(kπu), cos(kπu), k = 1..K."""
        k = torch.arange(1, self.config.time_features + 1, device=lengths.device)
        t = torch.arange(steps, device=lengths.device).unsqueeze(0)  # (1, T)
        u = (t / (lengths.unsqueeze(1) - 1).clamp(min=1)).unsqueeze(-1)  # (B, T, 1)
        angles = torch.pi * u * k  # (B, T, K)
        return torch.cat([u, torch.sin(angles), torch.cos(angles)], dim=-1)

    def _decoder_state(self, z: Tensor) -> State:
        """z (B, L) -> the decoder's initial state: S tensors (layers, B, H)."""
        layers, hidden = self.config.decoder.num_layers, self.config.decoder.hidden_size
        h = torch.tanh(self.to_state(z)).view(z.shape[0], layers, hidden).transpose(0, 1)
        h = h.contiguous()
        return (h, *(torch.zeros_like(h) for _ in range(self._state_parts - 1)))

    def reconstruct(self, x: Tensor, lengths: Tensor) -> Tensor:
        """(B, T, F) -> x̂ (B, T, F): from z alone (autoencoder) or from x_{<t} (forecast)."""
        if self.config.mode == "forecast":
            shifted = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)  # (B, T, F)
            outputs, _ = self.encoder(shifted, lengths)  # (B, T, D), causal
            return self.head(self.dropout(outputs))
        z = self.dropout(self.latent(x, lengths))  # (B, L)
        steps = z.unsqueeze(1).expand(-1, x.shape[1], -1)  # (B, T, L)
        if self.config.time_features:
            code = self.time_code(lengths, x.shape[1]).to(z.dtype)
            steps = torch.cat([steps, code], dim=-1)  # (B, T, L + 2K + 1)
        outputs, _ = self.decoder(steps, lengths, self._decoder_state(z))  # (B, T, H)
        return self.head(outputs)

    # ------------------------------------------------------------------ contract
    def forward(self, batch: Batch, state: State | None = None) -> ModelOutput:
        x = batch.inputs.float()
        if x.dim() == 2:  # univariate (B, T) -> (B, T, 1)
            x = x.unsqueeze(-1)
        lengths = batch.lengths.to(x.device)
        mask = lengths_to_mask(lengths, x.shape[1])  # (B, T)
        recon = self.reconstruct(x, lengths)  # (B, T, F)
        errors = ((recon - x) ** 2).mean(-1) * mask  # (B, T)
        score = errors.sum(1) / lengths.clamp(min=1)  # (B,)
        normal = (
            torch.ones_like(score, dtype=torch.bool)
            if batch.targets is None
            else batch.targets.to(x.device) == 0
        )
        steps = (mask & normal.unsqueeze(1)).sum()
        loss = (errors * normal.unsqueeze(1)).sum() / steps.clamp(min=1)
        extras = {"score": score, "reconstruction": recon}
        return ModelOutput(errors, loss, extras=extras)

    def metric_sums(self, output: ModelOutput, batch: Batch) -> dict[str, tuple[float, float]]:
        """Summed per-step errors and step counts of the normal and the anomalous rows."""
        lengths = batch.lengths.to(output.logits.device).float()
        per_row = output.logits.sum(1)  # (B,)
        anomalous = (
            torch.zeros_like(per_row, dtype=torch.bool)
            if batch.targets is None
            else batch.targets.to(per_row.device) != 0
        )
        sums = {}
        for name, rows in (("loss", ~anomalous), ("anomalous_error", anomalous)):
            sums[name] = (per_row[rows].sum().item(), lengths[rows].sum().item())
        return sums

    @staticmethod
    def summarize(means: dict[str, float]) -> dict[str, float]:
        ratio = means["anomalous_error"] / means["loss"] if means["loss"] > 0 else 0.0
        return {**means, "error_ratio": ratio}


__all__ = ["SeriesAutoencoder", "SeriesAutoencoderConfig"]
