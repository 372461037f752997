"""Many-to-many, synchronous: one tag per token (part of speech, named entities).

Legend: B batch, T tokens (words, or sub-tokens of a pretrained encoder), C characters
per word, E word embedding size, Q character feature size, D encoder output size,
K tags.

    words (B, T) --embedding--> (B, T, E) ─┐
    chars (B, T, C) --char CNN / BiLSTM--> (B, T, Q) ─┴─ concat --> encoder --> (B, T, D)
        --linear--> emissions (B, T, K) --softmax or CRF--> tags (B, T)

The word representation is Lample et al. 2016's ("Neural Architectures for Named Entity
Recognition"): a word embedding (random, or word2vec / navec vectors) concatenated with
character features — the final states of a character BiLSTM (Lample) or the max over a
character CNN (Ma & Hovy 2016) — so unseen words and their shape (capitals, ``@user``,
``#tag``) still say something. The head is a per-token softmax or a linear-chain CRF
(:class:`~seqlab.nn.crf.CRF`), whose transition scores learn that I-PER follows B-PER;
with ``constrained`` the impossible BIO / BIOES transitions are forbidden outright.

Only the steps of ``batch.tag_mask`` are tagged and scored (default: every valid
step): a sub-token encoder tags each word at its first sub-token, and the CRF runs over
those steps only, holes and all.
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
from seqlab.nn.crf import CRF, bio_constraints
from seqlab.nn.encoders import EncoderConfig, RecurrentConfig, build_encoder
from seqlab.nn.heads import lengths_to_mask
from seqlab.nn.recurrent import Recurrent
from seqlab.text.tagging import entity_spans


@dataclass
class TaggingBatch(TensorBatch):
    """``inputs`` (B, T) word ids, ``lengths`` (B,); ``chars`` (N, C) character ids of
    the batch's distinct words (0-padded; row 0 is the empty word) and ``words`` (B, T)
    each step's row in it (None without character features); ``targets`` (B, T) tag ids
    (anything at untagged steps; None at prediction); ``tag_mask`` (B, T) bool, the steps
    that carry a tag (None: every valid step); ``indices`` (B,) rows' places in the data."""

    inputs: Tensor
    lengths: Tensor
    chars: Tensor | None = None
    words: Tensor | None = None
    targets: Tensor | None = None
    tag_mask: Tensor | None = None
    indices: Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]

    @property
    def tagged(self) -> Tensor:
        """(B, T) bool: the steps that are tagged."""
        if self.tag_mask is not None:
            return self.tag_mask
        return lengths_to_mask(self.lengths.to(self.inputs.device), self.inputs.shape[1])


@dataclass
class SequenceTaggerConfig:
    """Hyper-parameters of :class:`SequenceTagger` (the recipe's ``[model]``;
    ``config.json``). Vocabulary sizes, ``labels`` and pad ids come from the data."""

    TYPES: ClassVar[tuple[str, ...]] = ("neural",)

    type: str = "neural"
    encoder: EncoderConfig = field(
        default_factory=lambda: RecurrentConfig("lstm", hidden_size=128, bidirectional=True)
    )
    embedding_dim: PositiveInt = 100
    char_features: Literal["none", "cnn", "lstm"] = "lstm"
    char_embedding_dim: PositiveInt = 25
    char_hidden_size: PositiveInt = 25  # per direction (lstm) or filters (cnn)
    char_kernel_size: PositiveInt = 3  # cnn
    head: Literal["crf", "softmax"] = "crf"
    constrained: bool = True  # crf: forbid impossible BIO / BIOES transitions
    dropout: DropoutRate = 0.5  # on the word representation and before the head (Lample)
    pretrained_vectors: str | None = None  # word2vec / navec vectors for the word embedding
    # A bundle / BERT folder / registered checkpoint ("minilm"): its tokenizer, embedding
    # and encoder (char_features = "none"); words are tagged at their first sub-token.
    encoder_from: str | None = None
    freeze_embeddings: bool = False
    vocab_size: int = 0
    char_vocab_size: int = 0
    labels: list[str] = field(default_factory=list)  # tag names, in output order
    pad_id: int = 0


class CharFeatures(nn.Module):
    """Character ids of the batch's words -> (B, T, Q) features (module doc).

    ``lstm``: the final forward and backward states of a BiLSTM over the word's
    characters (Q = 2 x hidden); ``cnn``: a width-k convolution, max over the word's
    characters (Q = filters). Id 0 is padding; an empty word (padding) gets zeros."""

    def __init__(self, kind: str, vocab_size: int, dim: int, hidden: int, kernel: int) -> None:
        super().__init__()
        self.kind = kind
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        if kind == "lstm":
            self.rnn = Recurrent("lstm", dim, hidden, bidirectional=True)
            self.output_size = 2 * hidden
        else:
            self.conv = nn.Conv1d(dim, hidden, kernel, padding=kernel // 2)
            self.output_size = hidden

    def forward(self, chars: Tensor, words: Tensor) -> Tensor:
        """``chars`` (N, C): the batch's distinct words, row 0 the empty word (padding);
        ``words`` (B, T): each step's row. Each distinct word is read once."""
        lengths = (chars != 0).sum(1)
        features = chars.new_zeros(len(chars), self.output_size, dtype=self.embedding.weight.dtype)
        real = lengths > 0
        if bool(real.any()):
            used = chars[real][:, : int(lengths.max())]  # (N', C') real words only
            x = self.embedding(used)  # (N', C', dim)
            if self.kind == "lstm":
                _, (h, _) = self.rnn(x, lengths[real])  # h: (2, N', hidden)
                found = torch.cat([h[0], h[1]], dim=-1)
            else:
                valid = (used != 0).unsqueeze(1)  # (N', 1, C')
                maps = self.conv(x.transpose(1, 2))[..., : used.shape[1]]  # (N', Q, C')
                found = maps.masked_fill(~valid, float("-inf")).amax(-1)
            features[real] = found.to(features.dtype)
        return features[words]  # (B, T, Q)


class SequenceTagger(nn.Module):
    """Word embedding [+ character features] -> any encoder -> emissions -> softmax / CRF.

    ``forward(batch: TaggingBatch)`` -> :class:`ModelOutput` with ``logits`` = emissions
    (B, T, K), the loss when there are targets — the CRF's negative log-likelihood, or
    the cross-entropy, summed over sentences and divided by the number of tagged tokens
    (per-token scale either way) — and, in eval mode, ``extras["tags"]`` (B, T): the
    predicted tags (Viterbi for the CRF, argmax for softmax), -1 at untagged steps.
    """

    def __init__(self, config: SequenceTaggerConfig) -> None:
        super().__init__()
        self.config = config
        if config.vocab_size < 1 or not config.labels:
            raise ValueError("SequenceTagger needs vocab_size and labels (set from the data)")
        # What validation measures (train.monitor's choices): entity F1 for entity tags only.
        self.METRICS = {"loss": "min", "accuracy": "max"} | (
            {"f1": "max"} if self.entity_tags else {}
        )
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, config.pad_id)
        self.embedding.weight.requires_grad_(not config.freeze_embeddings)
        size = config.embedding_dim
        self.chars: CharFeatures | None = None
        if config.char_features != "none":
            self.chars = CharFeatures(
                config.char_features,
                max(config.char_vocab_size, 2),
                config.char_embedding_dim,
                config.char_hidden_size,
                config.char_kernel_size,
            )
            size += self.chars.output_size
        self.dropout = nn.Dropout(config.dropout)
        self.encoder = build_encoder(config.encoder, size)
        num_tags = len(config.labels)
        self.head = nn.Linear(self.encoder.output_size, num_tags)
        self.crf: CRF | None = None
        if config.head == "crf":
            allowed = bio_constraints(config.labels) if config.constrained else (None,) * 3
            self.crf = CRF(num_tags, *allowed)

    def emissions(self, batch: TaggingBatch) -> Tensor:
        """(B, T, K) per-token tag scores."""
        x = self.embedding(batch.inputs)  # (B, T, E)
        if self.chars is not None:
            if batch.chars is None or batch.words is None:
                raise ValueError("this tagger reads characters: the batch needs chars")
            x = torch.cat([x, self.chars(batch.chars, batch.words)], dim=-1)  # (B, T, E + Q)
        outputs, _ = self.encoder(self.dropout(x), batch.lengths)  # (B, T, D)
        return self.head(self.dropout(outputs))

    def decode(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """(B, T) best tags, -1 at untagged steps."""
        if self.crf is not None:
            return self.crf.decode(emissions, mask)[0]
        return emissions.argmax(-1).masked_fill(~mask, -1)

    def probabilities(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """(B, T, K) P(tag at step t | sentence): the CRF's marginals (forward-backward),
        or the softmax; 0 at untagged steps."""
        if self.crf is not None:
            return self.crf.marginals(emissions.float(), mask)
        return torch.softmax(emissions.float(), dim=-1) * mask.unsqueeze(-1)

    def forward(self, batch: TaggingBatch, state: State | None = None) -> ModelOutput:
        emissions = self.emissions(batch)
        mask = batch.tagged
        # Viterbi only outside training: the loss does not need it
        extras = {} if self.training else {"tags": self.decode(emissions.detach(), mask)}
        if batch.targets is None:
            return ModelOutput(emissions, extras=extras)
        loss = self.loss_sum(emissions, batch.targets, mask) / mask.sum().clamp(min=1)
        return ModelOutput(emissions, loss, extras=extras)

    def loss_sum(self, emissions: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
        """The summed negative log-likelihood of the gold tags over the tagged steps."""
        if self.crf is not None:
            return self.crf(emissions.float(), targets, mask, reduction="sum")
        return F.cross_entropy(emissions[mask].float(), targets[mask], reduction="sum")

    def metric_sums(
        self, output: ModelOutput, batch: TaggingBatch
    ) -> dict[str, tuple[float, float]]:
        """Per-token loss and tag accuracy over the tagged steps; for entity tags the
        entity F1 (exact type and span, in the model's tag scheme)."""
        assert batch.targets is not None
        mask = batch.tagged
        count = float(mask.sum().item())
        loss = self.loss_sum(output.logits, batch.targets, mask).item()
        tags = output.extras.get("tags")
        if tags is None:
            tags = self.decode(output.logits.detach(), mask)
        correct = float((tags[mask] == batch.targets[mask]).sum().item())
        sums = {"loss": (loss, count), "accuracy": (correct, count)}
        if self.entity_tags:  # F1 = 2 TP / (predicted + gold): additive over batches
            gold, found = self._spans(batch.targets, mask), self._spans(tags, mask)
            sums["f1"] = (2.0 * len(gold & found), float(len(gold) + len(found)))
        return sums

    @property
    def entity_tags(self) -> bool:
        """Whether the tags mark entities (B-X, I-X, ...), so entity F1 is measured."""
        return any(label[:2] in ("B-", "I-", "E-", "S-") for label in self.config.labels)

    def _spans(self, tags: Tensor, mask: Tensor) -> set[tuple[int, str, int, int]]:
        """(row, type, start, end) of every entity in the tagged steps of (B, T) ids."""
        labels = self.config.labels
        spans = set()
        for row, (ids, valid) in enumerate(zip(tags.tolist(), mask.tolist(), strict=True)):
            names = [labels[i] for i, keep in zip(ids, valid, strict=True) if keep]
            spans |= {(row, *span) for span in entity_spans(names)}
        return spans

    @staticmethod
    def summarize(means: dict[str, float]) -> dict[str, float]:
        return means
