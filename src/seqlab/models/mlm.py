"""Masked language model (BERT pretraining's first task; lecture ``001_*.txt``, "BERT").

Legend: B batch, T steps, V vocabulary, E embedding size, D encoder output, N the
positions to predict.

    tokens (B, T) -> embedding (B, T, E) -> dropout -> encoder (B, T, D)
                  -> head: dense D->E, GELU, LayerNorm (BERT's "transform")
                  -> decoder E->V, tied to the embedding, with its own bias

With ``sentence_head`` (BERT's next-sentence / ALBERT's sentence-order task,
:mod:`seqlab.data.masking`) the tokens of segment B get one learned vector added (so
single-segment input, the fine-tuning case, is the plain embedding), and ``<bos>``'s
output goes through BERT's pooler (dense D->D, tanh) to a 2-way classifier; the loss
is the sum of both tasks, as in BERT.

The encoder reads the whole sequence in both directions (a Transformer without the
causal mask, as BERT; a bidirectional recurrent stack also works) and predicts the
original token at each corrupted position (:mod:`seqlab.data.masking`). The embedding
and encoder are what a classifier reuses (``model.encoder_from``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.config import DropoutRate, PositiveFloat, PositiveInt
from seqlab.data.batching import Batch
from seqlab.data.masking import IGNORE
from seqlab.models.output import ModelOutput, State
from seqlab.nn.encoders import EncoderConfig, build_encoder
from seqlab.nn.transformer import TransformerConfig


@dataclass
class MaskedLMConfig:
    """Hyper-parameters of :class:`MaskedLanguageModel` (the ``[model]`` table; saved in
    ``config.json``). ``vocab_size``, ``pad_id`` and ``mask_id`` come from the tokenizer."""

    TYPES: ClassVar[tuple[str, ...]] = ("neural",)

    type: str = "neural"
    # BERT's layout. Not sinusoidal positions: added to normal(0, 0.02) token embeddings
    # they drown the tokens, and the model stays at the unigram guess (tests/models/test_mlm.py).
    encoder: EncoderConfig = field(
        default_factory=lambda: TransformerConfig(
            norm="post", positions="learned", embedding_norm=True, max_positions=512
        )
    )
    embedding_dim: PositiveInt = 128
    embedding_dropout: DropoutRate = 0.0
    init_std: PositiveFloat | None = 0.02  # normal(0, σ) embedding and head (BERT)
    layer_norm_eps: PositiveFloat = 1e-12
    sentence_head: bool = False  # set from data.sentence_task ("nsp" / "sop")
    vocab_size: int = 0
    pad_id: int = 0
    mask_id: int = 0


class MaskedLanguageModel(nn.Module):
    """Predicts the original tokens at the masked positions.

    ``forward(batch)`` with ``batch.inputs`` (B, T) and ``batch.lengths`` (B,) returns
    ``logits`` (B, T, V); with ``batch.targets`` (B, T) (:data:`IGNORE` where there is
    nothing to predict) it computes the vocabulary scores of the N target positions only
    — ``logits`` (N, V), the expensive part on a CPU — and their mean loss. With a
    sentence head and a :class:`~seqlab.data.masking.MaskedLMBatch` carrying ``segments``
    (B, T) and ``order`` (B,), ``extras["sentence_logits"]`` (B, 2) and their loss too.
    """

    METRICS: ClassVar[dict[str, str]] = {"loss": "min", "ppl": "min", "accuracy": "max"}

    def __init__(self, config: MaskedLMConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.dropout = nn.Dropout(config.embedding_dropout)
        self.encoder = build_encoder(config.encoder, config.embedding_dim)
        size, dim = self.encoder.output_size, config.embedding_dim
        self.transform = nn.Linear(size, dim)
        self.transform_norm = nn.LayerNorm(dim, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(dim, config.vocab_size)
        self.decoder.weight = self.embedding.weight
        if config.sentence_head:
            self.second_segment = nn.Parameter(torch.zeros(dim))
            self.pooler = nn.Linear(size, size)
            self.sentence = nn.Linear(size, 2)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """normal(0, init_std) embedding and transform, zero biases (torch defaults if None);
        the encoder initialises itself."""
        heads = (self.pooler, self.sentence) if self.config.sentence_head else ()
        for module in (self.embedding, self.transform, self.transform_norm, self.decoder, *heads):
            module.reset_parameters()
        if self.config.init_std is not None:
            with torch.no_grad():
                for module in (self.embedding, self.transform):
                    module.weight.normal_(0.0, self.config.init_std)
                self.transform.bias.zero_()
                self.decoder.bias.zero_()
                for module in heads:
                    module.weight.normal_(0.0, self.config.init_std)
                    module.bias.zero_()
        if self.config.sentence_head:
            with torch.no_grad():
                self.second_segment.zero_()
        self.encoder.reset_parameters()

    def hidden(self, batch: Batch) -> torch.Tensor:
        """Encoder outputs (B, T, D)."""
        x = self.embedding(batch.inputs)
        segments = getattr(batch, "segments", None)
        if self.config.sentence_head and segments is not None:
            x = x + segments.unsqueeze(-1).to(x.dtype) * self.second_segment
        x = self.dropout(x)
        outputs, _ = self.encoder(x, batch.lengths)
        return outputs

    def scores(self, hidden: torch.Tensor) -> torch.Tensor:
        """(..., D) encoder outputs -> (..., V) vocabulary logits."""
        return self.decoder(self.transform_norm(F.gelu(self.transform(hidden))))

    def forward(self, batch: Batch, state: State | None = None) -> ModelOutput:
        hidden = self.hidden(batch)
        if batch.targets is None:
            return ModelOutput(self.scores(hidden))
        chosen = batch.targets != IGNORE  # (B, T)
        logits = self.scores(hidden[chosen])  # (N, V)
        loss = F.cross_entropy(logits.float(), batch.targets[chosen])
        order = getattr(batch, "order", None)
        if not self.config.sentence_head or order is None:
            return ModelOutput(logits, loss)
        sentence = self.sentence(torch.tanh(self.pooler(hidden[:, 0])))  # (B, 2)
        loss = loss + F.cross_entropy(sentence.float(), order)
        return ModelOutput(logits, loss, extras={"sentence_logits": sentence})

    def metric_sums(self, output: ModelOutput, batch: Batch) -> dict[str, tuple[float, float]]:
        targets = batch.targets[batch.targets != IGNORE]
        logits = output.logits.float()
        count = float(targets.numel())
        loss = F.cross_entropy(logits, targets, reduction="sum").item()
        correct = float((logits.argmax(-1) == targets).sum().item())
        sums = {"loss": (loss, count), "accuracy": (correct, count)}
        if "sentence_logits" in output.extras:
            sentence = output.extras["sentence_logits"].float()
            right = (sentence.argmax(-1) == batch.order).sum().item()
            sums["sentence_accuracy"] = (float(right), float(batch.order.numel()))
        return sums

    @staticmethod
    def summarize(means: dict[str, float]) -> dict[str, float]:
        """Perplexity of the masked tokens = exp(mean NLL)."""
        return {**means, "ppl": math.exp(min(means["loss"], 50.0))}
