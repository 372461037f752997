"""Many-to-one and many-to-many forecasting: a history window -> the next H steps.

Legend: B batch, L history (input) length, H horizon, C target columns, F covariates
(known in advance: calendar features, planned inputs), D encoder output size,
Q outputs per value (1 for a point forecast, else one per quantile).

Three ways to produce H steps (``strategy``), all over any encoder:

* ``direct`` — the encoder reads the history [values ‖ covariates] (B, L, C + F); its
  summary and the horizon's covariates (B, H·F) go through an MLP to all H·C·Q outputs
  at once (one model, no error feedback; the "MIMO" strategy);
* ``recursive`` — a one-step model: a causal encoder reads [y_t ‖ covariates_{t+1}] and
  predicts y_{t+1} at every step (trained like a language model, teacher-forced); at
  inference its own forecast is fed back H times (the DeepAR-style loop);
* ``seq2seq`` — a recurrent encoder reads the history; a decoder of the same cell,
  started from its final state, reads [y_{t-1} ‖ covariates_t] over the horizon
  (teacher-forced in training, its own forecasts at inference).

Outputs are (B, H, C, Q) in the family's scaled units. With ``quantiles`` the loss is
the mean pinball loss over them (the point forecast is the median, or the middle
quantile); without, the mean squared (or absolute) error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.config import DropoutRate, PositiveInt
from seqlab.data.batching import TensorBatch
from seqlab.models.output import ModelOutput, State
from seqlab.nn.encoders import EncoderConfig, RecurrentConfig, build_encoder
from seqlab.nn.recurrent import Recurrent


@dataclass
class ForecastBatch(TensorBatch):
    """``inputs`` (B, L, C) scaled history, ``past`` (B, L, F) and ``future`` (B, H, F)
    covariates, ``targets`` (B, H, C) or None; ``indices`` (B,) window numbers."""

    inputs: Tensor
    past: Tensor
    future: Tensor
    targets: Tensor | None = None
    indices: Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]


@dataclass
class ForecasterConfig:
    """Hyper-parameters of :class:`Forecaster` (the recipe's ``[model]``; ``config.json``).
    ``input_length``, ``horizon``, ``num_targets`` and ``num_covariates`` come from the
    data."""

    TYPES: ClassVar[tuple[str, ...]] = ("neural",)

    type: str = "neural"
    encoder: EncoderConfig = field(
        default_factory=lambda: RecurrentConfig("lstm", hidden_size=64, num_layers=1)
    )
    strategy: Literal["direct", "recursive", "seq2seq"] = "direct"
    quantiles: list[float] = field(default_factory=list)  # e.g. [0.1, 0.5, 0.9]; [] = point
    loss: Literal["mse", "mae"] = "mse"  # point forecasts only
    head_hidden: PositiveInt = 128  # direct: the MLP's hidden width
    # direct: the head predicts the change from a simple forecast read off the inputs —
    # "last" (the last value repeated) or "seasonal" (the last season repeated) — a skip
    # connection that lets a small network start at the seasonal-naive forecast — or
    # "linear": a learned linear map from the window's L values to the H steps, per
    # target (DLinear's linear part, Zeng et al. 2023), started at the seasonal-naive map.
    base: Literal["none", "last", "seasonal", "linear"] = "none"
    season: PositiveInt = 1  # steps per season (from the data)
    dropout: DropoutRate = 0.0
    input_length: PositiveInt = 1
    horizon: PositiveInt = 1
    num_targets: PositiveInt = 1
    num_covariates: int = 0


def _full_lengths(x: Tensor) -> Tensor:
    """(B,) every row of ``x`` (B, S, ·) is S steps long (windows are never padded)."""
    return torch.full((x.shape[0],), x.shape[1], dtype=torch.long, device=x.device)


def pinball_loss(predicted: Tensor, actual: Tensor, quantiles: Tensor) -> Tensor:
    """Mean of max(q·(y − ŷ_q), (q − 1)·(y − ŷ_q)) over every value and quantile;
    ``predicted`` (..., Q), ``actual`` (...), ``quantiles`` (Q,)."""
    error = actual.unsqueeze(-1) - predicted
    return torch.maximum(quantiles * error, (quantiles - 1) * error).mean()


class Forecaster(nn.Module):
    """History window -> H-step forecast by one of three strategies (module doc).

    ``forward(batch: ForecastBatch)`` -> :class:`ModelOutput` with ``logits`` (B, H, C, Q)
    and the loss when the batch has targets. In training the recursive and seq2seq
    strategies are teacher-forced; in eval mode they feed their own point forecasts
    back, so ``model.eval()(batch)`` is the forecast a user gets.
    """

    METRICS: ClassVar[dict[str, str]] = {"loss": "min", "mae": "min"}

    def __init__(self, config: ForecasterConfig) -> None:
        super().__init__()
        self.config = config
        c, f = config.num_targets, config.num_covariates
        self.num_outputs = max(1, len(config.quantiles))
        self.register_buffer(
            "quantile_levels", torch.tensor(config.quantiles, dtype=torch.float32), persistent=False
        )
        self.encoder = build_encoder(config.encoder, c + f)
        d = self.encoder.output_size
        self.dropout = nn.Dropout(config.dropout)
        self.decoder: Recurrent | None = None
        if config.base != "none" and config.strategy != "direct":
            raise ValueError(f"base = {config.base!r} needs the direct strategy")
        if config.base in ("seasonal", "linear") and config.season > config.input_length:
            raise ValueError(
                f"base = {config.base!r} needs input_length >= season ({config.season})"
            )
        self.base_map: nn.Linear | None = None
        if config.base == "linear":
            self.base_map = nn.Linear(config.input_length, config.horizon)
            with torch.no_grad():  # start at the seasonal-naive forecast
                self.base_map.weight.zero_()
                self.base_map.bias.zero_()
                steps = self._seasonal_steps(config.input_length)
                self.base_map.weight[torch.arange(config.horizon), steps] = 1.0
        if config.strategy == "direct":
            self.head = nn.Sequential(
                nn.Linear(d + config.horizon * f, config.head_hidden),
                nn.ReLU(),
                nn.Dropout(config.dropout),
                nn.Linear(config.head_hidden, config.horizon * c * self.num_outputs),
            )
        else:
            if config.strategy == "seq2seq":
                encoder = config.encoder
                if not isinstance(encoder, RecurrentConfig) or encoder.bidirectional:
                    raise ValueError(
                        "a seq2seq forecaster needs a unidirectional recurrent encoder"
                    )
                self.decoder = Recurrent(
                    encoder.type, c + f, encoder.hidden_size, num_layers=encoder.num_layers
                )
                for cell in self.decoder.cells:
                    cell.reset_parameters(encoder.init_range)
            elif not self.encoder.causal:
                raise ValueError("a recursive forecaster needs a causal encoder")
            self.head = nn.Linear(d, c * self.num_outputs)

    # ------------------------------------------------------------------ pieces
    @property
    def point_index(self) -> int:
        """Which of the Q outputs is the point forecast: the median, or the middle one."""
        levels = self.config.quantiles
        if not levels:
            return 0
        return min(range(len(levels)), key=lambda i: abs(levels[i] - 0.5))

    def _outputs(self, hidden: Tensor) -> Tensor:
        """(B, S, D) -> (B, S, C, Q)."""
        out = self.head(self.dropout(hidden))
        return out.view(*hidden.shape[:2], self.config.num_targets, self.num_outputs)

    def _encode(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State | None]:
        return self.encoder(x, _full_lengths(x), state)

    def _summary(self, outputs: Tensor) -> Tensor:
        """(B, L, D) -> (B, D): the last step; a bidirectional stack's backward half is
        read at the first step, where it has seen the whole window."""
        directions = getattr(self.encoder, "directions", 1)
        if directions == 2:
            half = outputs.shape[-1] // 2
            return torch.cat([outputs[:, -1, :half], outputs[:, 0, half:]], dim=-1)
        return outputs[:, -1]

    # ------------------------------------------------------------------ strategies
    def _direct(self, batch: ForecastBatch) -> Tensor:
        outputs, _ = self._encode(torch.cat([batch.inputs, batch.past], dim=-1))
        summary = torch.cat([self._summary(outputs), batch.future.flatten(1)], dim=-1)
        out = self.head(self.dropout(summary))  # (B, H·C·Q)
        out = out.view(batch.batch_size, self.config.horizon, self.config.num_targets, -1)
        return out + self._base(batch.inputs).unsqueeze(-1)

    def _base(self, inputs: Tensor) -> Tensor:
        """(B, L, C) -> (B, H, C): the simple forecast the direct head corrects."""
        horizon = self.config.horizon
        if self.config.base == "last":
            return inputs[:, -1:].expand(-1, horizon, -1)
        if self.config.base == "seasonal":
            return inputs[:, self._seasonal_steps(inputs.shape[1], inputs.device)]
        if self.base_map is not None:  # (B, L, C) -> (B, C, L) -> (B, C, H) -> (B, H, C)
            return self.base_map(inputs.transpose(1, 2)).transpose(1, 2)
        return inputs.new_zeros(inputs.shape[0], horizon, inputs.shape[2])

    def _seasonal_steps(self, length: int, device: torch.device | None = None) -> Tensor:
        """(H,) the window step each horizon step repeats in the seasonal-naive forecast."""
        season = self.config.season
        return length - season + torch.arange(self.config.horizon, device=device) % season

    def _recursive(self, batch: ForecastBatch) -> tuple[Tensor, Tensor | None]:
        """Teacher-forced: the one-step predictions over the whole window and the loss on
        all of them; in eval mode: the fed-back horizon forecast (B, H, C, Q)."""
        # Step t reads y_t and the covariates of the step it predicts (t + 1).
        covariates = torch.cat([batch.past, batch.future], dim=1)[:, 1:]  # (B, L+H-1, F)
        if self.training and batch.targets is not None:
            values = torch.cat([batch.inputs, batch.targets], dim=1)[:, :-1]  # (B, L+H-1, C)
            outputs, _ = self._encode(torch.cat([values, covariates], dim=-1))
            predicted = self._outputs(outputs)  # predicts values[:, 1:] and the last target
            truth = torch.cat([batch.inputs[:, 1:], batch.targets], dim=1)
            return predicted[:, -self.config.horizon :], self._loss(predicted, truth)
        history = torch.cat([batch.inputs, covariates[:, : batch.inputs.shape[1]]], dim=-1)
        return self._feed_back(history, covariates[:, batch.inputs.shape[1] :], self.encoder)

    def _seq2seq(self, batch: ForecastBatch) -> tuple[Tensor, Tensor | None]:
        _, state = self._encode(torch.cat([batch.inputs, batch.past], dim=-1))
        last = batch.inputs[:, -1:]  # (B, 1, C): the value before the first forecast step
        if self.training and batch.targets is not None:
            previous = torch.cat([last, batch.targets[:, :-1]], dim=1)  # (B, H, C)
            assert self.decoder is not None
            x = torch.cat([previous, batch.future], dim=-1)
            outputs, _ = self.decoder(x, _full_lengths(x), state)
            predicted = self._outputs(outputs)
            return predicted, self._loss(predicted, batch.targets)
        first = torch.cat([last, batch.future[:, :1]], dim=-1)
        return self._feed_back(first, batch.future[:, 1:], self.decoder, state)

    def _feed_back(
        self,
        history: Tensor,
        covariates: Tensor,
        network: nn.Module,
        state: State | None = None,
    ) -> tuple[Tensor, None]:
        """Read ``history`` (B, S, C + F), then H times: forecast the next step, feed its
        point forecast back with that step's ``covariates`` (B, H - 1, F) row."""
        incremental = getattr(network, "incremental", True)
        if incremental and hasattr(network, "new_state") and state is None:
            state = network.new_state()
        seen, steps = history, []
        x = history
        for h in range(self.config.horizon):
            if incremental:
                outputs, state = network(x, _full_lengths(x), state)
            else:  # recompute over everything read so far (a causal CNN)
                outputs, _ = network(seen, _full_lengths(seen))
            step = self._outputs(outputs[:, -1:])  # (B, 1, C, Q)
            steps.append(step)
            if h + 1 < self.config.horizon:
                point = step[..., self.point_index]  # (B, 1, C)
                x = torch.cat([point, covariates[:, h : h + 1]], dim=-1)
                seen = torch.cat([seen, x], dim=1)
        return torch.cat(steps, dim=1), None

    def _loss(self, predicted: Tensor, actual: Tensor) -> Tensor:
        """``predicted`` (B, S, C, Q) against ``actual`` (B, S, C)."""
        if self.config.quantiles:
            return pinball_loss(predicted, actual, self.quantile_levels.to(predicted.dtype))
        point = predicted[..., 0]
        if self.config.loss == "mae":
            return F.l1_loss(point, actual)
        return F.mse_loss(point, actual)

    # ------------------------------------------------------------------ contract
    def forward(self, batch: ForecastBatch, state: State | None = None) -> ModelOutput:
        if self.config.strategy == "direct":
            predicted, loss = self._direct(batch), None
        elif self.config.strategy == "recursive":
            predicted, loss = self._recursive(batch)
        else:
            predicted, loss = self._seq2seq(batch)
        if loss is None and batch.targets is not None:
            loss = self._loss(predicted, batch.targets)
        return ModelOutput(predicted, loss)

    def point(self, output: ModelOutput) -> Tensor:
        """(B, H, C) point forecasts of an output."""
        return output.logits[..., self.point_index]

    def metric_sums(
        self, output: ModelOutput, batch: ForecastBatch
    ) -> dict[str, tuple[float, float]]:
        """Loss and MAE (scaled units) summed over windows, per value."""
        assert batch.targets is not None and output.loss is not None
        count = float(batch.targets.numel())
        mae = (self.point(output) - batch.targets).abs().sum().item()
        return {"loss": (output.loss.item() * count, count), "mae": (mae, count)}

    @staticmethod
    def summarize(means: dict[str, float]) -> dict[str, float]:
        return means
