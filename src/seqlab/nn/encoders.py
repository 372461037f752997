"""Sequence encoders every model family can use: recurrent, 1-D CNN, Transformer.

Legend: B batch, T time steps, E input (embedding) size, H hidden size, D output size.
An encoder maps inputs (B, T, E) and lengths (B,) to outputs (B, T, D) with zeros on
padded steps, and exposes ``output_size`` (= D) and ``directions``.
"""

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqlab.errors import UserError
from seqlab.nn.cells import CELLS
from seqlab.nn.heads import lengths_to_mask
from seqlab.nn.recurrent import Recurrent

State = tuple[Tensor, ...]


@dataclass
class EncoderConfig:
    """Encoder hyper-parameters (a sub-part of every model config)."""

    encoder: str = "lstm"  # any name in seqlab.nn.cells.CELLS, "cnn" or "transformer"
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0  # between layers
    fused: bool = True  # recurrent: use torch's fused kernels where the cell allows
    kernel_size: int = 3  # cnn
    num_heads: int = 4  # transformer
    max_positions: int = 2048  # transformer


class RecurrentEncoder(nn.Module):
    """A :class:`~seqlab.nn.recurrent.Recurrent` stack; also returns its final state."""

    def __init__(self, config: EncoderConfig, input_size: int) -> None:
        super().__init__()
        self.rnn = Recurrent(
            config.encoder,
            input_size,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout,
            fused=config.fused,
        )
        self.directions = 2 if config.bidirectional else 1
        self.output_size = self.rnn.output_size

    def forward(
        self, x: Tensor, lengths: Tensor, state: State | None = None
    ) -> tuple[Tensor, State | None]:
        return self.rnn(x, lengths=lengths, state=state)


class CNNEncoder(nn.Module):
    """Stacked 1-D convolutions ("same" padding, ReLU), padded steps zeroed each layer."""

    def __init__(self, config: EncoderConfig, input_size: int) -> None:
        super().__init__()
        sizes = [input_size] + [config.hidden_size] * config.num_layers
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, config.kernel_size, padding=config.kernel_size // 2)
            for a, b in itertools.pairwise(sizes)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.directions, self.output_size = 1, config.hidden_size

    def forward(
        self, x: Tensor, lengths: Tensor, state: State | None = None
    ) -> tuple[Tensor, None]:
        mask = lengths_to_mask(lengths.to(x.device), x.shape[1]).unsqueeze(-1)  # (B, T, 1)
        h = x * mask
        for conv in self.convs:
            h = torch.relu(conv(h.transpose(1, 2)).transpose(1, 2)) * mask  # (B, T, H)
            h = self.dropout(h)
        return h, None


class TransformerEncoder(nn.Module):
    """Vaswani 2017 encoder: input projection + sinusoidal positions + pre-norm layers."""

    def __init__(self, config: EncoderConfig, input_size: int) -> None:
        super().__init__()
        size = config.hidden_size
        if size % config.num_heads:
            raise UserError(
                f"hidden_size {size} is not divisible by num_heads {config.num_heads}",
                "pick hidden_size a multiple of num_heads",
            )
        self.project = nn.Linear(input_size, size) if input_size != size else nn.Identity()
        position = torch.arange(config.max_positions).unsqueeze(1)
        div = torch.exp(torch.arange(0, size, 2) * (-math.log(10000.0) / size))
        table = torch.zeros(config.max_positions, size)
        table[:, 0::2], table[:, 1::2] = torch.sin(position * div), torch.cos(position * div)
        self.register_buffer("positions", table, persistent=False)
        layer = nn.TransformerEncoderLayer(
            size, config.num_heads, 4 * size, config.dropout, batch_first=True, norm_first=True
        )
        self.layers = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        self.directions, self.output_size = 1, size

    def forward(
        self, x: Tensor, lengths: Tensor, state: State | None = None
    ) -> tuple[Tensor, None]:
        steps = x.shape[1]
        mask = lengths_to_mask(lengths.to(x.device), steps)  # (B, T)
        h = self.project(x) + self.positions[:steps]
        h = self.layers(h, src_key_padding_mask=~mask)
        return h * mask.unsqueeze(-1), None


def build_encoder(config: EncoderConfig, input_size: int) -> nn.Module:
    """Encoder named by ``config.encoder``: a cell name, ``cnn`` or ``transformer``."""
    if config.encoder == "cnn":
        return CNNEncoder(config, input_size)
    if config.encoder == "transformer":
        return TransformerEncoder(config, input_size)
    if config.encoder in CELLS:
        return RecurrentEncoder(config, input_size)
    names = [*CELLS, "cnn", "transformer"]
    close = difflib.get_close_matches(config.encoder, names, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(names)}"
    raise UserError(f"unknown encoder '{config.encoder}'", hint)
