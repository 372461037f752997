"""Many-to-one: a sequence (text or time series) -> one class.

Legend: B batch, T time steps, F input features, E embedding size, D encoder output
size, C classes.

    tokens (B, T) --embedding--> (B, T, E) --encoder--> (B, T, D) --pool--> (B, D) --> (B, C)
    series (B, T, F) -----------------------^
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.nn.encoders import EncoderConfig, build_encoder
from seqlab.nn.heads import Pooling


@dataclass
class SequenceClassifierConfig(EncoderConfig):
    """Hyper-parameters of :class:`SequenceClassifier` (saved as ``config.json``)."""

    vocab_size: int = 0  # > 0: inputs are token ids; 0: inputs are float features
    input_size: int = 1  # features per step when vocab_size == 0
    embedding_dim: int = 128
    num_classes: int = 2
    pooling: str = "last"  # last | mean | max | attention
    embedding_dropout: float = 0.0  # on the embedded inputs
    head_dropout: float = 0.0  # on the pooled vector
    pad_id: int = 0
    class_weights: list[float] | None = None  # loss weights for imbalanced classes
    pretrained_vectors: str | None = None  # initialise the embedding (see load_vectors)
    freeze_embeddings: bool = False  # keep pretrained embedding rows fixed


class SequenceClassifier(nn.Module):
    """Embedding (or raw features) -> any encoder -> pooling over valid steps -> linear.

    ``forward(inputs (B, T) long | (B, T) or (B, T, F) float, lengths (B,), targets (B,))``
    returns ``(logits (B, C), loss or None)``.
    """

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
        self.encoder = build_encoder(config, input_size)
        self.pool = Pooling(config.pooling, self.encoder.output_size, self.encoder.directions)
        self.dropout = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(self.encoder.output_size, config.num_classes)
        weights = torch.tensor(config.class_weights or [], dtype=torch.float32)
        self.register_buffer("class_weights", weights, persistent=False)

    def forward(
        self, inputs: Tensor, lengths: Tensor, targets: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        x = self.embedding_dropout(self.embedding(inputs))
        if x.dim() == 2:  # univariate series (B, T) -> (B, T, 1)
            x = x.unsqueeze(-1)
        outputs, _ = self.encoder(x, lengths)  # (B, T, D)
        logits = self.head(self.dropout(self.pool(outputs, lengths)))  # (B, C)
        if targets is None:
            return logits, None
        weight = self.class_weights if self.class_weights.numel() else None
        return logits, F.cross_entropy(logits, targets, weight=weight)

    def metric_sums(self, logits: Tensor, targets: Tensor) -> dict[str, tuple[float, float]]:
        """Per-batch sums for validation: unweighted loss and accuracy."""
        count = float(targets.numel())
        loss = F.cross_entropy(logits, targets, reduction="sum").item()
        correct = (logits.argmax(-1) == targets).sum().item()
        return {"loss": (loss, count), "accuracy": (correct, count)}

    @staticmethod
    def summarize(means: dict[str, float]) -> dict[str, float]:
        return means

    @torch.no_grad()
    def predict_proba(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """(B, C) class probabilities."""
        return torch.softmax(self(inputs, lengths)[0], dim=-1)
