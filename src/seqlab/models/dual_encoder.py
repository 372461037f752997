"""Two towers, one space: CLIP-style contrastive training for pairs of sequences.

Legend: B batch (pairs), S source steps, T target steps, E embedding size, D encoder
output size, P projection size (the shared space), V_s / V_t vocabulary sizes.

    source ids (B, S) --embedding--> (B, S, E) --encoder--> (B, S, D) --pool--> (B, D)
        --linear (no bias)--> (B, P) --L2 normalise--> u (B, P)
    target ids (B, T) --  the target tower, same layout (or the source's, ``shared``)  --> v (B, P)

The loss is CLIP's symmetric InfoNCE (Radford et al. 2021, "Learning Transferable Visual
Models From Natural Language Supervision", Figure 3), with pair i of the batch the
positive of row i and column i and the B - 1 other pairs its negatives (van den Oord et
al. 2018's InfoNCE over in-batch negatives)::

    s        = exp(t), clamped to [1, 100]           t: a learned scalar, t_0 = log(1 / 0.07)
    logits   = s · u vᵀ                              (B, B): cosine similarities, scaled
    loss     = ½ [ CE(logits, diag) + CE(logitsᵀ, diag) ]
             = ½ [ −1/B Σ_i log softmax_j(logits_ij)_i  − 1/B Σ_j log softmax_i(logits_ij)_j ]

``t`` is the log of CLIP's inverse temperature ("directly optimized during training as a
log-parameterized multiplicative scalar", initialised to the equivalent of 0.07, and
"clipped to prevent scaling the logits by more than 100", §2.5). OpenAI and open_clip
clamp the parameter in their training loop after each step; seqlab's loop knows no
model, so the model clamps in ``forward`` (beyond the bound the scale is constant and
the gradient to ``t`` is zero).

Validation sums (``metric_sums``): the loss and in-batch recall@1 in both directions
(the share of rows and columns whose largest logit is the diagonal one): with B
candidates, chance is 1 / B. The family's report measures retrieval over a fixed set of
N held-out pairs instead (recall@1 / @10 against k / N).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.config import DropoutRate, PositiveFloat, PositiveInt
from seqlab.data.batching import TensorBatch
from seqlab.errors import UserError
from seqlab.models.output import ModelOutput, State
from seqlab.nn.encoders import EncoderConfig, RecurrentConfig, build_encoder
from seqlab.nn.heads import Pooling


@dataclass
class PairBatch(TensorBatch):
    """``source`` (B, S) and ``target`` (B, T) token ids, right-padded, with their
    ``source_lengths`` / ``target_lengths`` (B,); row i of one translates row i of the
    other. ``indices`` (B,): each pair's place in its split."""

    source: Tensor
    source_lengths: Tensor
    target: Tensor
    target_lengths: Tensor
    indices: Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.source.shape[0]


@dataclass
class DualEncoderConfig:
    """Hyper-parameters of :class:`DualEncoder` (the recipe's ``[model]``; ``config.json``).

    ``source_encoder`` reads the source side; ``target_encoder`` the target side (None:
    the same architecture, its own weights). ``shared = true`` uses one tower — embedding,
    encoder, pooling and projection — for both sides (a siamese network; needs one shared
    vocabulary). Vocabulary sizes and the padding id are filled in from the tokenizers.
    """

    TYPES: ClassVar[tuple[str, ...]] = ("neural",)

    type: str = "neural"
    source_encoder: EncoderConfig = field(
        default_factory=lambda: RecurrentConfig("gru", hidden_size=256, bidirectional=True)
    )
    target_encoder: EncoderConfig | None = None
    embedding_dim: PositiveInt = 256
    pooling: Literal["last", "mean", "max", "attention"] = "mean"
    projection_size: PositiveInt = 256  # P: the shared space
    dropout: DropoutRate = 0.0  # on the embedded tokens
    shared: bool = False
    init_temperature: PositiveFloat = 0.07  # CLIP's τ_0: logit scale exp(t_0) = 1 / 0.07
    max_logit_scale: PositiveFloat = 100.0  # CLIP's clip of exp(t)
    learn_temperature: bool = True  # False: the scale stays 1 / init_temperature
    source_vocab_size: int = 0
    target_vocab_size: int = 0
    pad_id: int = 0


class Tower(nn.Module):
    """One side: embedding -> encoder -> pooling over valid steps -> projection -> L2 norm.

    ``forward(ids (B, T), lengths (B,)) -> (B, P)`` unit vectors. Padded steps reach
    neither the encoder's valid outputs nor the pooling, so a row's vector does not depend
    on how much padding its batch adds (tested).
    """

    def __init__(self, encoder: EncoderConfig, vocab_size: int, config: DualEncoderConfig) -> None:
        super().__init__()
        if vocab_size <= 0:
            raise UserError(
                "a dual encoder needs the vocabulary sizes of both sides",
                "build it with the family's new_model (it fills them in from the tokenizers)",
            )
        self.embedding = nn.Embedding(vocab_size, config.embedding_dim, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        self.encoder = build_encoder(encoder, config.embedding_dim)
        self.pool = Pooling(config.pooling, self.encoder.output_size, self.encoder.directions)
        # CLIP projects each encoder's pooled output linearly, without a bias (§2.4).
        self.projection = nn.Linear(self.encoder.output_size, config.projection_size, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Embedding N(0, 1) with a zero padding row and the projection's Kaiming-uniform
        (torch's defaults); the encoder initialised itself when built (its own choice, e.g.
        the cells' ±1/sqrt(H)); attention pooling's layers keep torch's Linear default."""
        self.embedding.reset_parameters()
        self.projection.reset_parameters()

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        x = self.dropout(self.embedding(ids))  # (B, T, E)
        outputs, _ = self.encoder(x, lengths)  # (B, T, D)
        pooled, _ = self.pool(outputs, lengths)  # (B, D)
        return F.normalize(self.projection(pooled).float(), dim=-1)  # (B, P), unit rows


class DualEncoder(nn.Module):
    """A source tower and a target tower trained into one space (module doc).

    ``forward(batch: PairBatch)`` returns a :class:`ModelOutput` with ``logits`` (B, B) =
    s · u vᵀ (row i: source i against every target of the batch), the symmetric InfoNCE
    ``loss``, and ``extras`` ``source`` u (B, P), ``target`` v (B, P) and ``scale`` s
    (a 0-d tensor). ``embed_source`` / ``embed_target`` give (B, P) unit vectors.
    """

    METRICS: ClassVar[dict[str, str]] = {"loss": "min", "batch_recall_at_1": "max"}

    def __init__(self, config: DualEncoderConfig) -> None:
        super().__init__()
        self.config = config
        if config.shared:
            if config.target_encoder is not None:
                raise UserError(
                    "model.shared = true uses one encoder for both sides",
                    "remove [model.target_encoder] or set model.shared = false",
                )
            if config.source_vocab_size != config.target_vocab_size:
                raise UserError(
                    "model.shared = true needs one vocabulary for both sides",
                    "set data.shared_vocabulary = true",
                )
        self.source = Tower(config.source_encoder, config.source_vocab_size, config)
        self.target: Tower | None = None
        if not config.shared:
            target = config.target_encoder or config.source_encoder
            self.target = Tower(target, config.target_vocab_size, config)
        self.logit_scale = nn.Parameter(torch.zeros(()), requires_grad=config.learn_temperature)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Each tower's own initialisation, and CLIP's t_0 = log(1 / τ_0)."""
        self.source.reset_parameters()
        if self.target is not None:
            self.target.reset_parameters()
        with torch.no_grad():
            self.logit_scale.fill_(math.log(1.0 / self.config.init_temperature))

    # -------------------------------------------------------------- embedding
    def embed_source(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Source ids (B, S) and lengths (B,) -> (B, P) unit vectors."""
        return self.source(ids, lengths)

    def embed_target(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Target ids (B, T) and lengths (B,) -> (B, P) unit vectors."""
        return (self.target or self.source)(ids, lengths)

    def scale(self) -> Tensor:
        """s = exp(t) clamped to [1, max_logit_scale] (CLIP §2.5); a 0-d tensor."""
        return self.logit_scale.clamp(0.0, math.log(self.config.max_logit_scale)).exp()

    # -------------------------------------------------------------- training
    def forward(self, batch: PairBatch, state: State | None = None) -> ModelOutput:
        u = self.embed_source(batch.source, batch.source_lengths)  # (B, P)
        v = self.embed_target(batch.target, batch.target_lengths)  # (B, P)
        scale = self.scale()
        logits = scale * u @ v.T  # (B, B)
        extras = {"source": u, "target": v, "scale": scale}
        return ModelOutput(logits, info_nce(logits), extras=extras)

    def metric_sums(self, output: ModelOutput, batch: PairBatch) -> dict[str, tuple[float, float]]:
        """Per-batch sums for validation: the loss (weighted by B) and in-batch recall@1
        over both directions (2B retrievals among B candidates)."""
        logits = output.logits.float()
        rows = logits.shape[0]
        truth = torch.arange(rows, device=logits.device)
        assert output.loss is not None
        hits = (logits.argmax(1) == truth).sum() + (logits.argmax(0) == truth).sum()
        return {
            "loss": (output.loss.item() * rows, float(rows)),
            "batch_recall_at_1": (hits.item(), 2.0 * rows),
        }

    @staticmethod
    def summarize(means: dict[str, float]) -> dict[str, float]:
        return means


def info_nce(logits: Tensor) -> Tensor:
    """CLIP's symmetric loss of (B, B) logits whose diagonal holds the positive pairs:
    the mean of the cross-entropy over rows (source -> target) and over columns."""
    truth = torch.arange(logits.shape[0], device=logits.device)
    logits = logits.float()
    return (F.cross_entropy(logits, truth) + F.cross_entropy(logits.T, truth)) / 2
