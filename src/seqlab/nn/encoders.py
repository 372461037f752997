"""Sequence encoders every model family can use: recurrent, 1-D CNN, Transformer.

Legend: B batch, T time steps, E input (embedding) size, H hidden size, D output size.

Each encoder has its own small config (the ``[model.encoder]`` table of a recipe,
chosen by ``type``) and maps inputs (B, T, E) and lengths (B,) to outputs (B, T, D)
with zeros on padded steps. Every encoder exposes:

* ``output_size`` (= D) and ``directions`` (2 for a bidirectional recurrent stack);
* ``causal``: True when output t depends on inputs <= t only — what a family that
  predicts the next step needs (a recurrent stack that is not bidirectional, a CNN
  with left padding, a Transformer with a causal mask);
* ``stateful``: True when a final state can be carried into the next call
  (truncated BPTT, step-by-step generation);
* ``reset_parameters()``: its documented initialisation, the only one it gets.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Annotated, ClassVar

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from seqlab.config import DropoutRate, PositiveFloat, PositiveInt
from seqlab.errors import UserError
from seqlab.nn.cells import CELLS
from seqlab.nn.heads import lengths_to_mask
from seqlab.nn.recurrent import Recurrent

State = tuple[Tensor, ...]


@dataclass
class RecurrentConfig:
    """A stack of recurrent layers; ``type`` is a cell name (``seqlab.nn.cells.CELLS``)."""

    TYPES: ClassVar[tuple[str, ...]] = tuple(CELLS)

    type: str = "lstm"
    hidden_size: PositiveInt = 128
    num_layers: PositiveInt = 1
    bidirectional: bool = False
    dropout: DropoutRate = 0.0  # between layers
    fused: bool = True  # use torch's fused kernels where the cell allows
    init_range: PositiveFloat | None = None  # uniform(±r) before the cell's own fix-ups;
    # None: the cells' default ±1/sqrt(H). Zaremba 2014 uses 0.1.

    @property
    def causal(self) -> bool:
        return not self.bidirectional


@dataclass
class CNNConfig:
    """Stacked 1-D convolutions; ``causal`` pads on the left only (a WaveNet-style LM)."""

    TYPES: ClassVar[tuple[str, ...]] = ("cnn",)

    type: str = "cnn"
    hidden_size: PositiveInt = 128
    num_layers: PositiveInt = 1
    kernel_size: PositiveInt = 3
    dropout: DropoutRate = 0.0
    causal: bool = False


@dataclass
class TransformerConfig:
    """Vaswani 2017 encoder layers (pre-norm); ``causal`` adds the subsequent-position mask."""

    TYPES: ClassVar[tuple[str, ...]] = ("transformer",)

    type: str = "transformer"
    hidden_size: PositiveInt = 128
    num_layers: PositiveInt = 1
    num_heads: PositiveInt = 4
    feedforward_size: PositiveInt | None = None  # None: 4 * hidden_size
    dropout: DropoutRate = 0.0
    max_positions: Annotated[int, Field(ge=1)] = 2048
    causal: bool = False


EncoderConfig = RecurrentConfig | CNNConfig | TransformerConfig


class RecurrentEncoder(nn.Module):
    """A :class:`~seqlab.nn.recurrent.Recurrent` stack; also returns its final state."""

    stateful = True

    def __init__(self, config: RecurrentConfig, input_size: int) -> None:
        super().__init__()
        self.config = config
        self.rnn = Recurrent(
            config.type,
            input_size,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout,
            fused=config.fused,
        )
        self.directions = 2 if config.bidirectional else 1
        self.output_size = self.rnn.output_size
        self.causal = config.causal
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Each cell's own initialisation (uniform ±init_range or ±1/sqrt(H), then e.g.
        LSTM-b's forget-gate bias of 1)."""
        for cell in self.rnn.cells:
            cell.reset_parameters(self.config.init_range)

    def forward(
        self, x: Tensor, lengths: Tensor, state: State | None = None
    ) -> tuple[Tensor, State | None]:
        return self.rnn(x, lengths=lengths, state=state)


class CNNEncoder(nn.Module):
    """Stacked 1-D convolutions with ReLU, padded steps zeroed after each layer.

    Non-causal: "same" padding of k // 2 on both sides. Causal: k - 1 steps of left
    padding, so output t sees inputs t-k+1 .. t of the layer below.
    """

    stateful = False

    def __init__(self, config: CNNConfig, input_size: int) -> None:
        super().__init__()
        self.config = config
        sizes = [input_size] + [config.hidden_size] * config.num_layers
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, config.kernel_size) for a, b in itertools.pairwise(sizes)
        )
        k = config.kernel_size
        self.padding = (k - 1, 0) if config.causal else (k // 2, (k - 1) // 2)
        self.dropout = nn.Dropout(config.dropout)
        self.directions, self.output_size = 1, config.hidden_size
        self.causal = config.causal
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's Conv1d default (Kaiming-uniform weights, fan-in-scaled biases)."""
        for conv in self.convs:
            conv.reset_parameters()

    def forward(
        self, x: Tensor, lengths: Tensor, state: State | None = None
    ) -> tuple[Tensor, None]:
        mask = lengths_to_mask(lengths.to(x.device), x.shape[1]).unsqueeze(-1)  # (B, T, 1)
        h = x * mask
        for conv in self.convs:
            padded = F.pad(h.transpose(1, 2), self.padding)  # (B, C, T + k - 1)
            h = torch.relu(conv(padded).transpose(1, 2)) * mask  # (B, T, H)
            h = self.dropout(h)
        return h, None


def sinusoidal_positions(steps: int, size: int) -> Tensor:
    """(steps, size) table: sin on even, cos on odd features (Vaswani 2017, §3.5)."""
    position = torch.arange(steps).unsqueeze(1)
    div = torch.exp(torch.arange(0, size, 2) * (-math.log(10000.0) / size))
    table = torch.zeros(steps, size)
    table[:, 0::2] = torch.sin(position * div)
    table[:, 1::2] = torch.cos(position * div)[:, : size // 2]
    return table


class TransformerEncoder(nn.Module):
    """Input projection + sinusoidal positions + pre-norm Transformer layers."""

    stateful = False

    def __init__(self, config: TransformerConfig, input_size: int) -> None:
        super().__init__()
        self.config = config
        size = config.hidden_size
        if size % config.num_heads:
            raise UserError(
                f"model.encoder.hidden_size {size} is not divisible by num_heads "
                f"{config.num_heads}",
                "pick hidden_size a multiple of num_heads",
            )
        self.project = nn.Linear(input_size, size) if input_size != size else nn.Identity()
        self.register_buffer(
            "positions", sinusoidal_positions(config.max_positions, size), persistent=False
        )
        layer = nn.TransformerEncoderLayer(
            size,
            config.num_heads,
            config.feedforward_size or 4 * size,
            config.dropout,
            batch_first=True,
            norm_first=True,
        )
        self.layers = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        self.directions, self.output_size = 1, size
        self.causal = config.causal
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's defaults: Xavier-uniform attention projections, Kaiming-uniform linears,
        LayerNorm weight 1 and bias 0."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()
        for layer in self.layers.layers:
            layer.self_attn._reset_parameters()

    def forward(
        self, x: Tensor, lengths: Tensor, state: State | None = None
    ) -> tuple[Tensor, None]:
        steps = x.shape[1]
        if steps > self.config.max_positions:
            raise UserError(
                f"a sequence of {steps} steps is longer than model.encoder.max_positions "
                f"{self.config.max_positions}",
                "truncate the input (data.max_length) or train with a larger max_positions",
            )
        mask = lengths_to_mask(lengths.to(x.device), steps)  # (B, T)
        h = self.project(x) + self.positions[:steps]
        causal = None
        if self.causal:  # True above the diagonal: position t may not attend to t' > t
            causal = torch.ones(steps, steps, dtype=torch.bool, device=x.device).triu(1)
        h = self.layers(h, mask=causal, src_key_padding_mask=~mask, is_causal=self.causal)
        return h * mask.unsqueeze(-1), None


Encoder = RecurrentEncoder | CNNEncoder | TransformerEncoder


def build_encoder(config: EncoderConfig, input_size: int) -> Encoder:
    """The encoder module of ``config`` (its class follows the config's class)."""
    if isinstance(config, CNNConfig):
        return CNNEncoder(config, input_size)
    if isinstance(config, TransformerConfig):
        return TransformerEncoder(config, input_size)
    return RecurrentEncoder(config, input_size)
