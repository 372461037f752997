"""The Transformer block and stack (lecture ``001_*.txt``: self-attention, FFN, LayerNorm).

Legend: B batch, T steps, S memory steps, I input size, E model size (``hidden_size``),
F feed-forward size, L layers.

One block (Vaswani et al. 2017, §3.1-3.3; the lecture's FFN with GELU)::

    FFN(x) = GELU(x W_1 + b_1) W_2 + b_2

    Post-LN (Vaswani, BERT):  x = LN(x + Dropout(Attention(x)))
                              x = LN(x + Dropout(FFN(x)))
    Pre-LN (GPT-2, Xiong et al. 2020):  x = x + Dropout(Attention(LN(x)))
                                        x = x + Dropout(FFN(LN(x)))   ... then a final LN

A decoder block of an encoder-decoder model adds cross-attention to the encoder's
outputs between the two (``cross_attention=True``).

Positions (``positions``): ``sinusoidal`` (Vaswani §3.5, added to the inputs),
``learned`` (a table of ``max_positions`` vectors, BERT / GPT-2), ``rotary`` (queries
and keys rotated in every layer, :class:`~seqlab.nn.attention.RotaryEmbedding`) or
``none``. The stack scales nothing: inputs come from the model's embedding (projected
to E when its size differs).

Two published layouts, as recipes write them::

    GPT-2:  norm = "pre",  positions = "learned", activation = "gelu_tanh", causal = true
    BERT:   norm = "post", positions = "learned", activation = "gelu",
            embedding_norm = true, layer_norm_eps = 1e-12

Both compute the same numbers as HF transformers' ``GPT2LMHeadModel`` / ``BertModel``
with copied weights (tests/nn/test_transformer.py, tests/models/test_bert.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from seqlab.config import DropoutRate, PositiveFloat, PositiveInt
from seqlab.errors import UserError
from seqlab.nn.attention import KVCache, MultiHeadAttention, RotaryEmbedding
from seqlab.nn.heads import lengths_to_mask

Branch = Callable[[Tensor], Tensor]

ACTIVATIONS: dict[str, Branch] = {
    "gelu": F.gelu,  # exact, erf-based (BERT)
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),  # GPT-2's "gelu_new"
    "relu": F.relu,  # Vaswani 2017
}


@dataclass
class TransformerConfig:
    """A Transformer stack (the ``[model.encoder]`` table with ``type = "transformer"``).

    ``causal`` adds the subsequent-position mask (a GPT decoder; what a next-token model
    needs). ``final_norm`` None means "a final LayerNorm iff pre-norm". ``init_std``:
    normal(0, σ) weights, zero biases (GPT-2 / BERT); the pre-norm residual output
    projections get σ / √(2L) (GPT-2). None keeps torch's defaults.
    """

    TYPES: ClassVar[tuple[str, ...]] = ("transformer",)

    type: str = "transformer"
    hidden_size: PositiveInt = 128
    num_layers: PositiveInt = 1
    num_heads: PositiveInt = 4
    feedforward_size: PositiveInt | None = None  # None: 4 * hidden_size
    dropout: DropoutRate = 0.0  # on the embedded inputs and on each residual branch
    attention_dropout: DropoutRate | None = None  # on attention weights; None: = dropout
    max_positions: Annotated[int, Field(ge=1)] = 2048
    causal: bool = False
    norm: Literal["pre", "post"] = "pre"
    positions: Literal["sinusoidal", "learned", "rotary", "none"] = "sinusoidal"
    activation: Literal["gelu", "gelu_tanh", "relu"] = "gelu"
    layer_norm_eps: PositiveFloat = 1e-5
    embedding_norm: bool = False  # LayerNorm on inputs + positions (BERT's embeddings.LayerNorm)
    final_norm: bool | None = None
    bias: bool = True
    init_std: PositiveFloat | None = 0.02


class FeedForward(nn.Module):
    """Position-wise FFN(x) = act(x W_1 + b_1) W_2 + b_2: (B, T, E) -> (B, T, E)."""

    def __init__(self, size: int, hidden: int, activation: str = "gelu", bias: bool = True):
        super().__init__()
        self.up = nn.Linear(size, hidden, bias=bias)
        self.down = nn.Linear(hidden, size, bias=bias)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        return self.down(ACTIVATIONS[self.activation](self.up(x)))


class TransformerBlock(nn.Module):
    """Self-attention [+ cross-attention] + FFN, each a residual branch with dropout and
    LayerNorm placed by ``norm`` (module doc). ``forward(x (B, T, E), mask (B, T) | None,
    cache=None, layer=0, memory (B, S, E_m) | None, memory_mask (B, S) | None,
    cross_weights=None)`` -> (B, T, E); a list passed as ``cross_weights`` receives the
    cross-attention weights (B, h, T, S).
    """

    def __init__(
        self,
        config: TransformerConfig,
        cross_attention: bool = False,
        memory_size: int | None = None,
        rotary: RotaryEmbedding | None = None,
    ) -> None:
        super().__init__()
        size, eps = config.hidden_size, config.layer_norm_eps
        attention_dropout = (
            config.dropout if config.attention_dropout is None else config.attention_dropout
        )
        self.pre_norm = config.norm == "pre"
        self.causal = config.causal
        self.rotary = rotary  # shared by every block of a stack (a buffer-only module)
        self.attention = MultiHeadAttention(size, config.num_heads, attention_dropout, config.bias)
        self.attention_norm = nn.LayerNorm(size, eps=eps)
        self.cross_attention: MultiHeadAttention | None = None
        self.cross_norm: nn.LayerNorm | None = None
        if cross_attention:
            self.cross_attention = MultiHeadAttention(
                size, config.num_heads, attention_dropout, config.bias, memory_size or size
            )
            self.cross_norm = nn.LayerNorm(size, eps=eps)
        ffn = config.feedforward_size or 4 * size
        self.feedforward = FeedForward(size, ffn, config.activation, config.bias)
        self.feedforward_norm = nn.LayerNorm(size, eps=eps)
        self.dropout = config.dropout

    def _drop(self, x: Tensor) -> Tensor:
        # A plain call rather than an nn.Dropout: generation makes ~10 of these per token.
        return F.dropout(x, self.dropout, training=True) if self.training and self.dropout else x

    def _residual(self, x: Tensor, norm: nn.LayerNorm, branch: Branch) -> Tensor:
        if self.pre_norm:
            return x + self._drop(branch(norm(x)))
        return norm(x + self._drop(branch(x)))

    def forward(
        self,
        x: Tensor,
        mask: Tensor | None = None,
        cache: KVCache | None = None,
        layer: int = 0,
        memory: Tensor | tuple[Tensor, Tensor] | None = None,
        memory_mask: Tensor | None = None,
        cross_weights: list[Tensor] | None = None,
    ) -> Tensor:
        def attend(h: Tensor) -> Tensor:
            return self.attention(
                h, mask, self.causal, cache=cache, layer=layer, rotary=self.rotary
            )[0]

        x = self._residual(x, self.attention_norm, attend)
        if self.cross_attention is not None and self.cross_norm is not None:
            cross = self.cross_attention

            def attend_memory(h: Tensor) -> Tensor:
                wanted = cross_weights is not None
                out, weights = cross(h, memory=memory, memory_mask=memory_mask, need_weights=wanted)
                if cross_weights is not None and weights is not None:
                    cross_weights.append(weights)
                return out

            x = self._residual(x, self.cross_norm, attend_memory)
        return self._residual(x, self.feedforward_norm, self.feedforward)


def sinusoidal_positions(steps: int, size: int) -> Tensor:
    """(steps, size) table: sin on even, cos on odd features (Vaswani 2017, §3.5)."""
    position = torch.arange(steps).unsqueeze(1)
    div = torch.exp(torch.arange(0, size, 2) * (-math.log(10000.0) / size))
    table = torch.zeros(steps, size)
    table[:, 0::2] = torch.sin(position * div)
    table[:, 1::2] = torch.cos(position * div)[:, : size // 2]
    return table


class TransformerEncoder(nn.Module):
    """Input projection + positions + L :class:`TransformerBlock` s + final LayerNorm.

    The encoder contract of :mod:`seqlab.nn.encoders`: ``forward(x (B, T, I), lengths
    (B,), state=None) -> (outputs (B, T, E), state)``, zeros on padded steps. A causal
    stack is ``incremental``: pass ``state = new_state()`` (a :class:`KVCache`) and
    every call appends its steps to the cache and attends to all cached steps, so
    generation reads each new token once; without a state nothing is kept (training).

    ``cross_attention=True`` builds decoder blocks of an encoder-decoder model:
    ``forward(..., memory=(B, S, E_m), memory_mask=(B, S))``; ``memory`` may also be
    :meth:`project_memory`'s per-block keys and values, computed once per source for
    incremental decoding. A list passed as ``cross_weights`` receives every block's
    cross-attention weights (B, h, T, S), first block first (the explicit softmax
    formula then replaces the fused kernel, so only when asked).
    """

    stateful = False  # nothing is carried between training chunks

    def __init__(
        self,
        config: TransformerConfig,
        input_size: int,
        cross_attention: bool = False,
        memory_size: int | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        size = config.hidden_size
        if size % config.num_heads:
            raise UserError(
                f"model.encoder.hidden_size {size} is not divisible by num_heads "
                f"{config.num_heads}",
                "pick hidden_size a multiple of num_heads",
            )
        if config.positions == "rotary" and (size // config.num_heads) % 2:
            raise UserError(
                f"rotary positions need an even head size, got {size // config.num_heads}",
                "pick hidden_size / num_heads even, or another model.encoder.positions",
            )
        self.project = nn.Linear(input_size, size) if input_size != size else nn.Identity()
        self.learned_positions: nn.Embedding | None = None
        rotary = None
        if config.positions == "sinusoidal":
            table = sinusoidal_positions(config.max_positions, size)
            self.register_buffer("sinusoids", table, persistent=False)
        elif config.positions == "learned":
            self.learned_positions = nn.Embedding(config.max_positions, size)
        elif config.positions == "rotary":
            rotary = RotaryEmbedding(size // config.num_heads, config.max_positions)
        self.embedding_norm = (
            nn.LayerNorm(size, eps=config.layer_norm_eps) if config.embedding_norm else None
        )
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(config, cross_attention, memory_size, rotary)
            for _ in range(config.num_layers)
        )
        final = config.norm == "pre" if config.final_norm is None else config.final_norm
        self.final_norm = nn.LayerNorm(size, eps=config.layer_norm_eps) if final else None
        self.directions, self.output_size = 1, size
        self.causal = config.causal
        self.incremental = config.causal
        self.max_positions = config.max_positions
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """normal(0, init_std) weights (residual output projections of a pre-norm stack:
        init_std / √(2L)), zero biases, LayerNorm 1 / 0; torch's defaults if init_std is None."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()
        std = self.config.init_std
        if std is None:
            return
        residual_std = std / math.sqrt(2 * self.config.num_layers)
        with torch.no_grad():
            for name, module in self.named_modules():
                if isinstance(module, nn.Linear | nn.Embedding):
                    last = name.rsplit(".", 1)[-1]
                    is_residual = self.config.norm == "pre" and (
                        last == "down" or name.endswith("attention.output")
                    )
                    module.weight.normal_(0.0, residual_std if is_residual else std)
                    if getattr(module, "bias", None) is not None:
                        module.bias.zero_()

    def project_memory(self, memory: Tensor) -> tuple[tuple[Tensor, Tensor], ...]:
        """Each block's cross-attention keys and values (B, h, S, d) of ``memory``."""
        projected = []
        for block in self.blocks:
            if block.cross_attention is None:
                raise ValueError("project_memory needs cross_attention=True")
            projected.append(block.cross_attention.project_memory(memory))
        return tuple(projected)

    def new_state(self) -> KVCache:
        """An empty KV cache for incremental decoding (class doc)."""
        return KVCache(len(self.blocks))

    def forward(
        self,
        x: Tensor,
        lengths: Tensor,
        state: KVCache | None = None,
        memory: Tensor | tuple[tuple[Tensor, Tensor], ...] | None = None,
        memory_mask: Tensor | None = None,
        cross_weights: list[Tensor] | None = None,
    ) -> tuple[Tensor, KVCache | None]:
        steps = x.shape[1]
        offset = state.length if state is not None else 0
        if state is not None and not self.incremental:
            raise ValueError("only a causal Transformer decodes incrementally")
        if offset + steps > self.max_positions:
            raise UserError(
                f"a sequence of {offset + steps} steps is longer than "
                f"model.encoder.max_positions {self.max_positions}",
                "truncate the input (data.max_length) or train with a larger max_positions",
            )
        mask = None  # None while every step is valid: the kernels' unmasked paths
        if int(lengths.min()) < steps:
            mask = lengths_to_mask(lengths.to(x.device), steps)  # (B, T)
        h = self.project(x)
        if self.learned_positions is not None:
            h = h + self.learned_positions.weight[offset : offset + steps]
        elif self.config.positions == "sinusoidal":
            h = h + self.sinusoids[offset : offset + steps]
        if self.embedding_norm is not None:
            h = self.embedding_norm(h)
        h = self.dropout(h)
        for index, block in enumerate(self.blocks):
            own = memory[index] if isinstance(memory, tuple) else memory
            h = block(h, mask, state, index, own, memory_mask, cross_weights)
        if state is not None:
            state.advance(mask, x.shape[0], steps)
        if self.final_norm is not None:
            h = self.final_norm(h)
        return (h if mask is None else h * mask.unsqueeze(-1)), state
