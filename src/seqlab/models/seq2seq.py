"""Encoder-decoder (seq2seq) models: a recurrent decoder with attention, or a Transformer.

Lecture ``001_*.txt`` / ``004_*.txt``: the encoder reads the source, the decoder writes
the target one token at a time from what it wrote so far and what it reads of the source.

Legend: B batch, S source steps, T target steps, V target vocabulary, E embedding size,
M encoder output size (the memory), H decoder hidden size, L decoder layers.

**Recurrent decoder** (``[model.decoder] type`` = any cell of ``seqlab.nn.cells.CELLS``),
Luong et al. 2015's global attention with input feeding (OpenNMT's RNN decoder)::

    x_t = [emb(y_{t-1}); h̃_{t-1}]            (input feeding: the last attentional state)
    s_t = cells(x_t, s_{t-1})                  (L stacked cells, dropout between them)
    c_t, a_t = attention(s_t, h_1..h_S)        (dot | general | additive = Bahdanau's score)
    h̃_t = tanh(W_c [c_t; s_t]);  p(y_t) = softmax(W_o h̃_t)

``attention = "none"`` is the context-vector model of the notes (Sutskever et al. 2014 /
Cho et al. 2014): the only thing the decoder knows of the source is its initial state,
h̃_t = s_t and no input feeding. Without input feeding (``input_feeding = false``, or no
attention) the states s_t do not depend on attention, so teacher-forced training runs the
stack over the whole target in one :class:`~seqlab.nn.recurrent.Recurrent` call (torch's
fused kernel or the cell's fast path) and attends for all steps at once (1.2x faster per
training step for a CMUdict-sized model). Either way the initial decoder state is a learned
*bridge* of the encoder's summary: the final states of its top layer (both directions
concatenated) for a recurrent encoder, the mean of its outputs otherwise;
s_0 = tanh(W_b summary) per layer (an LSTM's memory cell gets W_b' summary).

**Transformer** (``[model.decoder] type = "transformer"``, Vaswani et al. 2017): a causal
:class:`~seqlab.nn.transformer.TransformerEncoder` with cross-attention to the memory in
every block; decoding carries its :class:`~seqlab.nn.attention.KVCache`.

Training is teacher forcing (the gold previous token), or with ``teacher_forcing`` < 1
(recurrent decoders) the model's own greedy token with that probability per row and step
(Bengio et al. 2015's scheduled sampling with a fixed rate); the loss is the
cross-entropy of the target tokens with optional label smoothing (Szegedy et al. 2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.config import DropoutRate, PositiveInt, Probability
from seqlab.data.batching import TensorBatch
from seqlab.errors import UserError
from seqlab.models.output import ModelOutput
from seqlab.nn.attention import GlobalAttention
from seqlab.nn.cells import CELLS
from seqlab.nn.encoders import EncoderConfig, RecurrentConfig, build_encoder
from seqlab.nn.heads import lengths_to_mask
from seqlab.nn.recurrent import Recurrent
from seqlab.nn.transformer import TransformerConfig, TransformerEncoder

DecoderState = dict[str, Any]  # tensors (batch first), tuples of them, a KVCache


@dataclass
class RNNDecoderConfig:
    """A recurrent decoder (module doc); ``type`` is a cell name."""

    TYPES: ClassVar[tuple[str, ...]] = tuple(CELLS)

    type: str = "lstm"
    hidden_size: PositiveInt = 256
    num_layers: PositiveInt = 1
    dropout: DropoutRate = 0.0  # between layers
    attention: Literal["none", "dot", "general", "additive"] = "general"
    input_feeding: bool = True


DecoderConfig = RNNDecoderConfig | TransformerConfig


@dataclass
class Seq2SeqBatch(TensorBatch):
    """Source ids ``inputs`` (B, S) with ``lengths`` (B,); ``targets`` (B, T + 1):
    ``<bos>`` y_1 .. y_T ``<eos>`` padded, with ``target_lengths`` (B,) counting both
    markers (None at prediction); ``indices`` (B,): rows' places in the data set."""

    inputs: Tensor
    lengths: Tensor
    targets: Tensor | None = None
    target_lengths: Tensor | None = None
    indices: Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]


@dataclass
class Seq2SeqConfig:
    """Hyper-parameters of :class:`Seq2Seq` (the recipe's ``[model]``; ``config.json``).
    Vocabulary sizes and special ids come from the tokenizers."""

    TYPES: ClassVar[tuple[str, ...]] = ("neural",)

    type: str = "neural"
    encoder: EncoderConfig = field(
        default_factory=lambda: RecurrentConfig("lstm", hidden_size=256, bidirectional=True)
    )
    decoder: DecoderConfig = field(default_factory=RNNDecoderConfig)
    embedding_dim: PositiveInt = 128
    dropout: DropoutRate = 0.0  # on embeddings and before the output layer
    tie_embeddings: bool = False  # one embedding for source and target (shared vocabulary)
    tie_output: bool = False  # the output layer is the target embedding (transposed)
    label_smoothing: Probability = 0.0
    teacher_forcing: Probability = 1.0
    source_vocab_size: int = 0
    target_vocab_size: int = 0
    pad_id: int = 0
    bos_id: int = 2
    eos_id: int = 3


class RNNDecoder(nn.Module):
    """The recurrent decoder of the module doc. ``step(embedded (B, E), state)`` ->
    ``(h̃ (B, H), state, weights (B, S) | None)``; ``start(memory, mask, summary)`` builds
    the first state from the encoder's (B, S, M) outputs and (S_cell, B, K) summary."""

    def __init__(
        self, config: RNNDecoderConfig, embedding_dim: int, memory_size: int, summary: int
    ) -> None:
        super().__init__()
        self.config = config
        hidden = config.hidden_size
        self.attends = config.attention != "none"
        self.feeds = self.attends and config.input_feeding
        first = embedding_dim + (hidden if self.feeds else 0)
        # The stack's cells step one token at a time while decoding; a teacher-forced pass
        # without input feeding runs the whole stack on its fastest path (unroll).
        self.rnn = Recurrent(config.type, first, hidden, config.num_layers, dropout=config.dropout)
        self.state_size = CELLS[config.type].state_size
        self.bridges = nn.ModuleList(
            nn.Linear(summary, config.num_layers * hidden) for _ in range(self.state_size)
        )
        self.attention: GlobalAttention | None = None
        if self.attends:
            try:
                self.attention = GlobalAttention(config.attention, hidden, memory_size)
            except ValueError as error:
                raise UserError(
                    f"model.decoder: {error}",
                    "use attention = 'general', or equal decoder and encoder output sizes",
                ) from None
            self.combine = nn.Linear(memory_size + hidden, hidden, bias=False)
        self.output_size = hidden

    def start(self, memory: Tensor, mask: Tensor, summary: Tensor) -> DecoderState:
        batch, layers = memory.shape[0], self.rnn.num_layers
        states = []
        for index, bridge in enumerate(self.bridges):
            source = summary[min(index, summary.shape[0] - 1)]  # (B, K)
            value = bridge(source).view(batch, layers, -1)
            states.append(torch.tanh(value) if index == 0 else value)  # h: tanh; c: linear
        cells = tuple(tuple(state[:, layer] for state in states) for layer in range(layers))
        state: DecoderState = {"cells": cells, "memory": memory, "mask": mask}
        if self.attention is not None:
            state["keys"] = self.attention.prepare(memory)
        if self.feeds:
            state["feed"] = memory.new_zeros(batch, self.output_size)
        return state

    def step(self, embedded: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState, Any]:
        x = torch.cat([embedded, state["feed"]], dim=-1) if self.feeds else embedded
        cells = []
        for layer, cell in enumerate(self.rnn.cells):
            if layer:
                x = F.dropout(x, self.rnn.dropout, self.training)
            x, new = cell(x, state["cells"][layer])
            cells.append(new)
        new_state = {**state, "cells": tuple(cells)}
        attentional, weights = self._attend(x, state)
        if self.feeds:
            new_state["feed"] = attentional
        return attentional, new_state, weights

    def unroll(
        self, embedded: Tensor, lengths: Tensor, state: DecoderState
    ) -> tuple[Tensor, Tensor | None]:
        """Teacher-forced pass over (B, T, E) inputs with (B,) lengths, for a decoder
        without input feeding (its states do not depend on attention): the stack runs
        over all T steps on its fastest path, then every step attends at once. Returns
        (B, T, H) outputs, as T calls of :meth:`step` would, and (B, T, S) weights | None."""
        if self.feeds:
            raise ValueError("unroll needs a decoder without input feeding; use step")
        initial = tuple(
            torch.stack([layer[k] for layer in state["cells"]]) for k in range(self.state_size)
        )  # S_cell x (L, B, H), Recurrent's layout
        outputs, _ = self.rnn(embedded, lengths, initial)
        return self._attend(outputs, state)

    def _attend(self, x: Tensor, state: DecoderState) -> tuple[Tensor, Tensor | None]:
        """h̃ = tanh(W_c [c; s]) for (B, H) or (B, T, H) top-layer states (s when there is
        no attention), and the attention weights."""
        if self.attention is None:
            return x, None
        context, weights = self.attention(x, state["keys"], state["memory"], state["mask"])
        return torch.tanh(self.combine(torch.cat([context, x], dim=-1))), weights


class Seq2Seq(nn.Module):
    """Encoder-decoder of the module doc.

    ``forward(batch: Seq2SeqBatch, need_weights=False)`` -> ``logits`` (B, T, V), T = the
    targets' width - 1: the prediction after each of ``<bos> y_1 .. y_n`` (teacher
    forcing), i.e. of ``y_1 .. y_n <eos>``; the mean loss over the real target tokens
    (``<eos>`` included); ``extras["attention"]`` (B, T, S): a recurrent decoder's
    attention (always, it is computed anyway), or with ``need_weights`` a Transformer's
    last-block cross-attention averaged over its heads (``extras["cross_attention"]``
    keeps every block and head, (B, L, h, T, S)).

    Decoding: ``start(source, lengths)`` -> a :data:`DecoderState` of B rows;
    ``step(tokens (N,), state)`` -> (logits (N, V), state) — what
    :func:`seqlab.decoding.beam.beam_search` drives (states reorder by rows).
    """

    METRICS: ClassVar[dict[str, str]] = {"loss": "min", "ppl": "min", "accuracy": "max"}

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        self.check(config)
        dim = config.embedding_dim
        self.source_embedding = nn.Embedding(config.source_vocab_size, dim, config.pad_id)
        self.target_embedding = (
            self.source_embedding
            if config.tie_embeddings
            else nn.Embedding(config.target_vocab_size, dim, config.pad_id)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.encoder = build_encoder(config.encoder, dim)
        memory = self.encoder.output_size
        self.decoder: RNNDecoder | TransformerEncoder
        if isinstance(config.decoder, TransformerConfig):
            self.decoder = TransformerEncoder(
                config.decoder, dim, cross_attention=True, memory_size=memory
            )
        else:
            summary = memory  # the mean of the outputs, or the final states of a recurrent stack
            if isinstance(config.encoder, RecurrentConfig):
                summary = self.encoder.directions * config.encoder.hidden_size
            self.decoder = RNNDecoder(config.decoder, dim, memory, summary)
        size = self.decoder.output_size
        self.projection = (
            nn.Linear(size, dim, bias=False) if config.tie_output and size != dim else None
        )
        self.output = nn.Linear(dim if config.tie_output else size, config.target_vocab_size)
        if config.tie_output:
            self.output.weight = self.target_embedding.weight

    @staticmethod
    def check(config: Seq2SeqConfig) -> None:
        """Refuse settings that cannot work, one line each."""
        if config.source_vocab_size < 1 or config.target_vocab_size < 1:
            raise UserError("model: the vocabulary sizes are not set", "they come from the data")
        if config.tie_embeddings and config.source_vocab_size != config.target_vocab_size:
            raise UserError(
                "model.tie_embeddings needs one vocabulary for source and target",
                "set data.shared_vocabulary = true",
            )
        if isinstance(config.decoder, TransformerConfig):
            if not config.decoder.causal:
                raise UserError(
                    "model.decoder: a Transformer decoder must be causal",
                    "set model.decoder.causal = true",
                )
            if config.teacher_forcing < 1.0:
                raise UserError(
                    "model.teacher_forcing < 1 needs a recurrent decoder",
                    "use teacher_forcing = 1.0 with a Transformer decoder",
                )

    # ------------------------------------------------------------------ encoding
    def encode(self, source: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        """(B, S) ids -> memory (B, S, M), mask (B, S), summary (S_cell, B, K) | None."""
        x = self.dropout(self.source_embedding(source))
        memory, state = self.encoder(x, lengths)
        mask = lengths_to_mask(lengths.to(source.device), source.shape[1])
        if isinstance(self.decoder, TransformerEncoder):
            return memory, mask, None
        if isinstance(state, tuple) and isinstance(self.config.encoder, RecurrentConfig):
            directions = self.encoder.directions
            summary = torch.stack(
                [torch.cat(list(s[-directions:]), dim=-1) for s in state]  # top layer
            )  # (S_enc, B, D*H)
        else:
            valid = mask.unsqueeze(-1).to(memory.dtype)
            mean = (memory * valid).sum(1) / valid.sum(1).clamp(min=1.0)
            summary = mean.unsqueeze(0)  # (1, B, M)
        return memory, mask, summary

    def start(self, source: Tensor, lengths: Tensor) -> DecoderState:
        """The decoder state before the first target token (B rows)."""
        memory, mask, summary = self.encode(source, lengths)
        if isinstance(self.decoder, TransformerEncoder):  # memory keys / values: once
            projected = self.decoder.project_memory(memory)
            return {"cache": self.decoder.new_state(), "memory": projected, "mask": mask}
        return self.decoder.start(memory, mask, summary)

    # ------------------------------------------------------------------ decoding
    def scores(self, hidden: Tensor) -> Tensor:
        """(..., H) decoder outputs -> (..., V) logits."""
        hidden = self.dropout(hidden)
        if self.projection is not None:
            hidden = self.projection(hidden)
        return self.output(hidden)

    def step(self, tokens: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """One decoding step for N rows: (N,) previous tokens -> (N, V) logits."""
        embedded = self.dropout(self.target_embedding(tokens))
        if isinstance(self.decoder, TransformerEncoder):
            ones = torch.ones(tokens.shape[0], dtype=torch.long)
            hidden, cache = self.decoder(
                embedded.unsqueeze(1), ones, state["cache"], state["memory"], state["mask"]
            )
            return self.scores(hidden[:, 0]), {**state, "cache": cache}
        hidden, state, _ = self.decoder.step(embedded, state)
        return self.scores(hidden), state

    # ------------------------------------------------------------------ training
    def forward(
        self, batch: Seq2SeqBatch, state: Any = None, need_weights: bool = False
    ) -> ModelOutput:
        if batch.targets is None or batch.target_lengths is None:
            raise ValueError("Seq2Seq.forward needs targets (use start/step to decode)")
        inputs = batch.targets[:, :-1]  # (B, T): <bos> y_1 .. y_n, padded
        labels, valid = self.labels(batch)
        memory, mask, summary = self.encode(batch.inputs, batch.lengths)
        extras: dict[str, Tensor] = {}
        if isinstance(self.decoder, TransformerEncoder):
            embedded = self.dropout(self.target_embedding(inputs))
            blocks: list[Tensor] | None = [] if need_weights else None
            hidden, _ = self.decoder(embedded, batch.target_lengths - 1, None, memory, mask, blocks)
            logits = self.scores(hidden)
            if blocks:
                extras["cross_attention"] = torch.stack(blocks, dim=1)  # (B, L, h, T, S)
                extras["attention"] = blocks[-1].mean(dim=1)
        else:
            lengths = batch.target_lengths - 1
            state = self.decoder.start(memory, mask, summary)
            logits, weights = self._unroll(inputs, lengths, state)
            if weights is not None:
                extras["attention"] = weights
        loss = F.cross_entropy(
            logits[valid].float(), labels[valid], label_smoothing=self.config.label_smoothing
        )
        return ModelOutput(logits, loss, extras=extras)

    def _unroll(
        self, inputs: Tensor, lengths: Tensor, state: DecoderState
    ) -> tuple[Tensor, Tensor | None]:
        """Teacher-forced (or scheduled-sampling) recurrent decoding of (B, T) inputs with
        (B,) lengths: in one pass without input feeding, else step by step."""
        assert isinstance(self.decoder, RNNDecoder)
        sampling = self.training and self.config.teacher_forcing < 1.0
        embedded = self.dropout(self.target_embedding(inputs))  # (B, T, E)
        if not sampling and not self.decoder.feeds:
            hidden, weights = self.decoder.unroll(embedded, lengths, state)
            return self.scores(hidden), weights
        all_logits, all_weights, previous = [], [], None
        for t in range(inputs.shape[1]):
            x = embedded[:, t]
            if sampling and previous is not None:
                own = self.dropout(self.target_embedding(previous))
                gold = (
                    torch.rand(inputs.shape[0], device=inputs.device) < self.config.teacher_forcing
                )
                x = torch.where(gold.unsqueeze(-1), x, own)
            hidden, state, weights = self.decoder.step(x, state)
            logits = self.scores(hidden)
            all_logits.append(logits)
            if weights is not None:
                all_weights.append(weights)
            if sampling:
                previous = logits.argmax(-1).detach()
        stacked = torch.stack(all_weights, dim=1) if all_weights else None
        return torch.stack(all_logits, dim=1), stacked

    # ------------------------------------------------------------------ metrics
    @staticmethod
    def labels(batch: Seq2SeqBatch) -> tuple[Tensor, Tensor]:
        """The (B, T) tokens to predict, y_1 .. y_n ``<eos>`` padded, and where they are real."""
        assert batch.targets is not None and batch.target_lengths is not None
        labels = batch.targets[:, 1:]
        return labels, lengths_to_mask(batch.target_lengths.to(labels.device) - 1, labels.shape[1])

    def metric_sums(
        self, output: ModelOutput, batch: Seq2SeqBatch
    ) -> dict[str, tuple[float, float]]:
        labels, valid = self.labels(batch)
        logits, gold = output.logits[valid].float(), labels[valid]
        count = float(gold.numel())
        loss = F.cross_entropy(logits, gold, reduction="sum").item()
        correct = float((logits.argmax(-1) == gold).sum().item())
        return {"loss": (loss, count), "accuracy": (correct, count)}

    @staticmethod
    def summarize(means: dict[str, float]) -> dict[str, float]:
        """Per-token perplexity = exp(mean NLL)."""
        return {**means, "ppl": float(torch.tensor(min(means["loss"], 50.0)).exp())}


class Seq2SeqEnsemble(nn.Module):
    """Several :class:`Seq2Seq` models of one vocabulary decoding as one: at every step
    the mean of their next-token *probabilities* (fairseq's and OpenNMT's ensembles)::

        log p(y_t | y_<t, x) = log (1/K) sum_k p_k(y_t | y_<t, x)

    ``forward(batch)`` -> ``logits`` (B, T, V) holding these log-probabilities (so the
    loss, perplexity and accuracy of :meth:`Seq2Seq.metric_sums` are the ensemble's) and
    the first member's ``extras`` (its attention). ``start`` -> a tuple of the members'
    states; ``step(tokens (N,), state)`` -> ((N, V) log-probabilities, state): what
    :func:`seqlab.decoding.beam.beam_search` drives. Members keep their own sizes and
    architectures (a recurrent and a Transformer model may be mixed).
    """

    METRICS: ClassVar[dict[str, str]] = Seq2Seq.METRICS

    def __init__(self, models: list[Seq2Seq]) -> None:
        super().__init__()
        if len(models) < 2:
            raise ValueError("an ensemble needs at least two models")
        self.members = nn.ModuleList(models)
        self.config = models[0].config  # ids of pad / bos / eos: the same for every member

    @staticmethod
    def mean_probability(scores: list[Tensor]) -> Tensor:
        """K tensors (..., V) of logits -> (..., V) log of their mean softmax."""
        log_probs = torch.stack([torch.log_softmax(s.float(), dim=-1) for s in scores])
        return torch.logsumexp(log_probs, dim=0) - math.log(len(scores))

    def forward(
        self, batch: Seq2SeqBatch, state: Any = None, need_weights: bool = False
    ) -> ModelOutput:
        outputs = [member(batch, need_weights=need_weights) for member in self.members]
        log_probs = self.mean_probability([output.logits for output in outputs])
        labels, valid = Seq2Seq.labels(batch)
        loss = F.nll_loss(log_probs[valid], labels[valid])
        return ModelOutput(log_probs, loss, extras=outputs[0].extras)

    def start(self, source: Tensor, lengths: Tensor) -> tuple[DecoderState, ...]:
        return tuple(member.start(source, lengths) for member in self.members)

    def step(
        self, tokens: Tensor, state: tuple[DecoderState, ...]
    ) -> tuple[Tensor, tuple[DecoderState, ...]]:
        results = [member.step(tokens, s) for member, s in zip(self.members, state, strict=True)]
        return self.mean_probability([scores for scores, _ in results]), tuple(
            s for _, s in results
        )

    def metric_sums(
        self, output: ModelOutput, batch: Seq2SeqBatch
    ) -> dict[str, tuple[float, float]]:
        return self.members[0].metric_sums(output, batch)  # cross-entropy of log-probs = NLL

    summarize = staticmethod(Seq2Seq.summarize)
