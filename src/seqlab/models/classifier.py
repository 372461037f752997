"""Many-to-one: a sequence (text or time series) -> one class.

Legend: B batch, T time steps, F input features, E embedding size, D encoder output
size, C classes.

    tokens (B, T) --embedding--> (B, T, E) --encoder--> (B, T, D) --pool--> (B, D) --> (B, C)
    series (B, T, F) -----------------------^
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.config import DropoutRate, PositiveInt
from seqlab.data.batching import Batch
from seqlab.models.output import ModelOutput, State
from seqlab.nn.encoders import EncoderConfig, RecurrentConfig, build_encoder
from seqlab.nn.heads import Pooling


@dataclass
class SequenceClassifierConfig:
    """Hyper-parameters of :class:`SequenceClassifier` (the ``[model]`` table; saved in
    ``config.json``). ``vocab_size``, ``num_classes``, ``pad_id`` and ``class_weights``
    are filled in by the family from the data."""

    TYPES: ClassVar[tuple[str, ...]] = ("neural",)

    type: str = "neural"  # the text-classification family's model type ("tfidf": TF-IDF + LR)
    encoder: EncoderConfig = field(default_factory=RecurrentConfig)
    embedding_dim: PositiveInt = 128
    pooling: Literal["last", "mean", "max", "cls", "attention"] = "last"
    normalize_pooled: bool = False  # unit L2 norm of the pooled vector before the head
    embedding_dropout: DropoutRate = 0.0  # on the embedded inputs
    head_dropout: DropoutRate = 0.0  # on the pooled vector
    pretrained_vectors: str | None = None  # initialise the embedding (see load_vectors)
    freeze_embeddings: bool = False  # keep pretrained embedding rows fixed
    encoder_from: str | None = None  # a bundle / BERT folder: its tokenizer, embedding and
    # encoder (config and weights) replace the recipe's; the pooling and head are new
    vocab_size: int = 0  # > 0: inputs are token ids; 0: inputs are float features
    input_size: PositiveInt = 1  # features per step when vocab_size == 0
    num_classes: PositiveInt = 2
    pad_id: int = 0
    class_weights: list[float] | None = None  # loss weights for imbalanced classes


class SequenceClassifier(nn.Module):
    """Embedding (or raw features) -> any encoder -> pooling over valid steps -> linear.

    ``forward(batch)`` with ``batch.inputs`` (B, T) long or (B, T) / (B, T, F) float,
    ``batch.lengths`` (B,) and optional ``batch.targets`` (B,) returns a
    :class:`ModelOutput` with ``logits`` (B, C), the loss when there are targets, and
    ``extras["attention"]`` (B, T) for attention pooling.

    Initialisation: the embedding is N(0, 1) with a zero padding row (torch's
    default), the encoder initialises itself, the head is torch's Linear default.
    """

    METRICS: ClassVar[dict[str, str]] = {"loss": "min", "accuracy": "max"}

    def __init__(self, config: SequenceClassifierConfig) -> None:
        super().__init__()
        self.config = config
        if config.vocab_size > 0:
            self.embedding: nn.Module = nn.Embedding(
                config.vocab_size, config.embedding_dim, padding_idx=config.pad_id
            )
            self.embedding.weight.requires_grad_(not config.freeze_embeddings)
            input_size = config.embedding_dim
        else:
            self.embedding, input_size = nn.Identity(), config.input_size
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)
        self.encoder = build_encoder(config.encoder, input_size)
        self.pool = Pooling(
            config.pooling,
            self.encoder.output_size,
            self.encoder.directions,
            normalize=config.normalize_pooled,
        )
        self.dropout = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(self.encoder.output_size, config.num_classes)
        weights = torch.tensor(config.class_weights or [], dtype=torch.float32)
        self.register_buffer("class_weights", weights, persistent=False)

    def forward(self, batch: Batch, state: State | None = None) -> ModelOutput:
        x = self.embedding_dropout(self.embedding(batch.inputs))
        if x.dim() == 2:  # univariate series (B, T) -> (B, T, 1)
            x = x.unsqueeze(-1)
        outputs, _ = self.encoder(x, batch.lengths)  # (B, T, D)
        pooled, weights = self.pool(outputs, batch.lengths)  # (B, D), (B, T) or None
        logits = self.head(self.dropout(pooled))  # (B, C)
        extras = {} if weights is None else {"attention": weights}
        if batch.targets is None:
            return ModelOutput(logits, extras=extras)
        weight = self.class_weights if self.class_weights.numel() else None
        loss = F.cross_entropy(logits.float(), batch.targets, weight=weight)
        return ModelOutput(logits, loss, extras=extras)

    def metric_sums(self, output: ModelOutput, batch: Batch) -> dict[str, tuple[float, float]]:
        """Per-batch sums for validation: unweighted loss and accuracy."""
        logits, targets = output.logits.float(), batch.targets
        count = float(targets.numel())
        loss = F.cross_entropy(logits, targets, reduction="sum").item()
        correct = (logits.argmax(-1) == targets).sum().item()
        return {"loss": (loss, count), "accuracy": (correct, count)}

    @staticmethod
    def summarize(means: dict[str, float]) -> dict[str, float]:
        return means
