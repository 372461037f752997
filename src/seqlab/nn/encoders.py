"""Sequence encoders every model family can use: recurrent, 1-D CNN, FCN / ResNet, Transformer.

Legend: B batch, T time steps, E input (embedding) size, H hidden size, D output size.

Each encoder has its own small config (the ``[model.encoder]`` table of a recipe,
chosen by ``type``) and maps inputs (B, T, E) and lengths (B,) to outputs (B, T, D)
with zeros on padded steps. Every encoder exposes:

* ``output_size`` (= D) and ``directions`` (2 for a bidirectional recurrent stack);
* ``causal``: True when output t depends on inputs <= t only — what a family that
  predicts the next step needs (a recurrent stack that is not bidirectional, a CNN
  with left padding, a Transformer with a causal mask);
* ``stateful``: True when the final state is carried into the next training chunk
  (truncated BPTT over a token stream);
* ``incremental``: True when a call given ``state`` continues the sequence, so
  generation reads each new token once; ``new_state()`` is the state to start from
  (None for a recurrent stack: zeros; a :class:`~seqlab.nn.attention.KVCache` for a
  causal Transformer); ``max_positions``: the longest sequence it reads (None: any);
* ``reset_parameters()``: its documented initialisation, the only one it gets.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.config import DropoutRate, PositiveFloat, PositiveInt
from seqlab.nn.cells import CELLS
from seqlab.nn.heads import lengths_to_mask
from seqlab.nn.recurrent import Recurrent
from seqlab.nn.transformer import TransformerConfig, TransformerEncoder

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
class FCNConfig:
    """The fully convolutional network of Wang, Yan & Oates 2017 for time series: Conv1d
    -> BatchNorm -> ReLU blocks ("same" padding; 128-256-128 filters, kernels 8-5-3),
    then the classifier's mean pooling is their global average pooling. Not causal."""

    TYPES: ClassVar[tuple[str, ...]] = ("fcn",)

    type: str = "fcn"
    channels: list[PositiveInt] = field(default_factory=lambda: [128, 256, 128])
    kernel_sizes: list[PositiveInt] = field(default_factory=lambda: [8, 5, 3])

    @property
    def causal(self) -> bool:
        return False


@dataclass
class ResNetConfig:
    """The residual network of Wang, Yan & Oates 2017 for time series, as Fawaz et al. 2019
    build it: residual blocks (64-128-128 filters), each three "same"-padded Conv1d ->
    BatchNorm layers with kernels 8-5-3 and ReLU after the first two; the shortcut is a
    1x1 Conv1d -> BatchNorm when the channels change, BatchNorm alone when they do not;
    ReLU after the addition. The classifier's mean pooling is their global average
    pooling. Not causal."""

    TYPES: ClassVar[tuple[str, ...]] = ("resnet",)

    type: str = "resnet"
    channels: list[PositiveInt] = field(default_factory=lambda: [64, 128, 128])  # per block
    kernel_sizes: list[PositiveInt] = field(default_factory=lambda: [8, 5, 3])  # per layer

    @property
    def causal(self) -> bool:
        return False


EncoderConfig = RecurrentConfig | CNNConfig | FCNConfig | ResNetConfig | TransformerConfig


class RecurrentEncoder(nn.Module):
    """A :class:`~seqlab.nn.recurrent.Recurrent` stack; also returns its final state."""

    stateful = True
    incremental = True
    max_positions = None

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

    def new_state(self) -> None:
        """Start from zeros."""
        return None

    def forward(
        self, x: Tensor, lengths: Tensor, state: State | None = None
    ) -> tuple[Tensor, State | None]:
        return self.rnn(x, lengths=lengths, state=state)


class _Convolutional(nn.Module):
    """What the convolutional encoders share: no state to carry, any length; a subclass
    lists its sub-modules with their own torch initialisation in ``_initialised``."""

    stateful = False
    incremental = False
    max_positions = None
    causal = False
    directions = 1

    def _initialised(self) -> tuple[nn.Module, ...]:
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """torch's defaults (Kaiming-uniform convolutions, batch norm's unit scale)."""
        for module in self._initialised():
            module.reset_parameters()

    def new_state(self) -> None:
        """Nothing to carry (not incremental)."""
        return None


class CNNEncoder(_Convolutional):
    """Stacked 1-D convolutions with ReLU, padded steps zeroed after each layer.

    Non-causal: "same" padding of k // 2 on both sides. Causal: k - 1 steps of left
    padding, so output t sees inputs t-k+1 .. t of the layer below.
    """

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

    def _initialised(self) -> tuple[nn.Module, ...]:
        return tuple(self.convs)

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


class FCNEncoder(_Convolutional):
    """:class:`FCNConfig`'s blocks; padded steps are zeroed after each block, so a padded
    row gives the outputs it gives alone (in eval mode: batch norm's running stats)."""

    def __init__(self, config: FCNConfig, input_size: int) -> None:
        super().__init__()
        if len(config.channels) != len(config.kernel_sizes):
            raise ValueError("an FCN needs one kernel size for each block's channels")
        self.config = config
        sizes = [input_size, *config.channels]
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, k)
            for (a, b), k in zip(itertools.pairwise(sizes), config.kernel_sizes, strict=True)
        )
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) for b in config.channels)
        self.directions, self.output_size = 1, config.channels[-1]
        self.reset_parameters()

    def _initialised(self) -> tuple[nn.Module, ...]:
        return (*self.convs, *self.norms)

    def forward(
        self, x: Tensor, lengths: Tensor, state: State | None = None
    ) -> tuple[Tensor, None]:
        mask = lengths_to_mask(lengths.to(x.device), x.shape[1]).unsqueeze(1)  # (B, 1, T)
        h = x.transpose(1, 2) * mask  # (B, E, T)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            k = conv.kernel_size[0]
            h = F.pad(h, ((k - 1) // 2, k // 2))  # "same": the extra step on the right
            h = torch.relu(norm(conv(h))) * mask  # (B, C, T)
        return h.transpose(1, 2), None  # (B, T, C)


def _same(conv: nn.Conv1d, h: Tensor) -> Tensor:
    """``conv`` over ``h`` (B, C, T) with "same" padding, the extra step of an even kernel
    on the right (as Keras and torch's ``padding="same"``)."""
    k = conv.kernel_size[0]
    return conv(F.pad(h, ((k - 1) // 2, k // 2)))


class ResidualBlock(nn.Module):
    """One block of :class:`ResNetConfig`: (B, C_in, T) -> (B, C_out, T); padded steps are
    zeroed after every layer, so they never reach a real step through the next kernel."""

    def __init__(self, in_channels: int, out_channels: int, kernel_sizes: list[int]) -> None:
        super().__init__()
        sizes = [in_channels] + [out_channels] * len(kernel_sizes)
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, k)
            for (a, b), k in zip(itertools.pairwise(sizes), kernel_sizes, strict=True)
        )
        self.norms = nn.ModuleList(nn.BatchNorm1d(out_channels) for _ in kernel_sizes)
        # Fawaz et al.'s shortcut: 1x1 conv + BN to change the channels, else BN alone.
        self.expand = (
            nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else None
        )
        self.shortcut_norm = nn.BatchNorm1d(out_channels)

    def reset_parameters(self) -> None:
        """torch's defaults (Kaiming-uniform convolutions; batch norm's unit scale)."""
        for module in (*self.convs, *self.norms, self.shortcut_norm):
            module.reset_parameters()
        if self.expand is not None:
            self.expand.reset_parameters()

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """``x`` (B, C_in, T) zero on padded steps, ``mask`` (B, 1, T) -> (B, C_out, T)."""
        h = x
        last = len(self.convs) - 1
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            h = norm(_same(conv, h))
            if i < last:  # the last layer's ReLU comes after the addition
                h = torch.relu(h) * mask
        shortcut = x if self.expand is None else self.expand(x)
        return torch.relu(h + self.shortcut_norm(shortcut)) * mask


class ResNetEncoder(_Convolutional):
    """:class:`ResNetConfig`'s residual blocks; padded steps are zeroed after each layer,
    so a padded row gives the outputs it gives alone (in eval mode: batch norm's running
    stats)."""

    def __init__(self, config: ResNetConfig, input_size: int) -> None:
        super().__init__()
        if not config.channels or not config.kernel_sizes:
            raise ValueError("a ResNet needs at least one block and one layer a block")
        self.config = config
        sizes = [input_size, *config.channels]
        self.blocks = nn.ModuleList(
            ResidualBlock(a, b, list(config.kernel_sizes)) for a, b in itertools.pairwise(sizes)
        )
        self.directions, self.output_size = 1, config.channels[-1]
        self.reset_parameters()

    def _initialised(self) -> tuple[nn.Module, ...]:
        return tuple(self.blocks)

    def forward(
        self, x: Tensor, lengths: Tensor, state: State | None = None
    ) -> tuple[Tensor, None]:
        mask = lengths_to_mask(lengths.to(x.device), x.shape[1]).unsqueeze(1)  # (B, 1, T)
        h = x.transpose(1, 2) * mask  # (B, E, T)
        for block in self.blocks:
            h = block(h, mask)  # (B, C, T)
        return h.transpose(1, 2), None  # (B, T, C)


Encoder = RecurrentEncoder | CNNEncoder | FCNEncoder | ResNetEncoder | TransformerEncoder


def build_encoder(config: EncoderConfig, input_size: int) -> Encoder:
    """The encoder module of ``config`` (its class follows the config's class)."""
    if isinstance(config, CNNConfig):
        return CNNEncoder(config, input_size)
    if isinstance(config, FCNConfig):
        return FCNEncoder(config, input_size)
    if isinstance(config, ResNetConfig):
        return ResNetEncoder(config, input_size)
    if isinstance(config, TransformerConfig):
        return TransformerEncoder(config, input_size)
    return RecurrentEncoder(config, input_size)
