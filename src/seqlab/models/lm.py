"""One-to-many / next-token: a recurrent (or any-encoder) language model.

Legend: B batch, T time steps, V vocabulary size, E embedding size, D encoder output.

    tokens (B, T) -> embedding (B, T, E) -> dropout -> encoder (B, T, D)
                  -> dropout -> [projection D->E] -> decoder (B, T, V), tied to the embedding

Zaremba et al. 2014 ("Recurrent Neural Network Regularization"): dropout only on the
non-recurrent connections, uniform init in ±init_range, truncated BPTT with the
hidden state carried across consecutive batches of one token stream (the model returns
its final state; the training loop passes it back in, detached, as PyTorch's
word_language_model example carries ``hidden``).
Press & Wolf 2017 / Inan et al. 2017: tying input and output embeddings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.config import DropoutRate, PositiveFloat, PositiveInt
from seqlab.data.batching import Batch
from seqlab.decoding.beam import Hypothesis, beam_search
from seqlab.decoding.sampling import sample_tokens
from seqlab.errors import UserError
from seqlab.models.output import ModelOutput, State
from seqlab.nn.encoders import EncoderConfig, RecurrentConfig, build_encoder


@dataclass
class LanguageModelConfig:
    """Hyper-parameters of :class:`LanguageModel` (the ``[model]`` table; saved in
    ``config.json``). ``vocab_size`` and ``pad_id`` are filled in from the tokenizer."""

    TYPES: ClassVar[tuple[str, ...]] = ("neural",)

    type: str = "neural"  # the text-generation family's model type ("ngram": a count model)
    encoder: EncoderConfig = field(default_factory=RecurrentConfig)
    embedding_dim: PositiveInt = 200
    tie_weights: bool = True
    embedding_dropout: DropoutRate = 0.0  # dropout on embeddings and on encoder outputs
    init_range: PositiveFloat | None = 0.1  # uniform(±r) for embedding, projection, decoder
    init_std: PositiveFloat | None = None  # normal(0, σ) instead (GPT-2: 0.02); wins if set
    pretrained_vectors: str | None = None  # initialise the embedding (see load_vectors)
    freeze_embeddings: bool = False  # keep embedding rows (and a tied decoder) fixed
    # A text-generation bundle to continue training: its tokenizer, [model] and weights
    # (ULMFiT's LM fine-tuning; the text-generation family, model.init_from).
    init_from: str | None = None
    vocab_size: int = 0
    pad_id: int = 0


def check_causal(encoder: EncoderConfig) -> None:
    """A next-token model must not see the token it predicts: refuse other encoders."""
    if encoder.causal:
        return
    fix = (
        "set model.encoder.bidirectional = false"
        if isinstance(encoder, RecurrentConfig)
        else "set model.encoder.causal = true"
    )
    raise UserError(
        f"a language model needs a causal encoder, but this {encoder.type} encoder lets "
        "each position see the tokens after it (its perplexity would be fake)",
        fix,
    )


class LanguageModel(nn.Module):
    """Predicts token t+1 from tokens <= t.

    ``forward(batch, state=None)`` with ``batch.inputs`` (B, T), ``batch.lengths`` (B,)
    and optional ``batch.targets`` (B, T) returns a :class:`ModelOutput`: ``logits``
    (B, T, V), the mean loss over non-pad targets, and the encoder's final ``state``
    (recurrent encoders), which the caller may pass back in for the next chunk.

    Initialisation: with ``init_std`` σ, the embedding, projection and decoder weights
    are normal(0, σ) and the biases zero (GPT-2); else with ``init_range`` r they are
    uniform(±r) (Zaremba 2014); with neither, torch's defaults. The encoder keeps its
    own initialisation (a recurrent stack's is set by ``model.encoder.init_range`` and
    the cell, e.g. LSTM-b's forget bias of 1; a Transformer's by its ``init_std``).
    """

    METRICS: ClassVar[dict[str, str]] = {"loss": "min", "ppl": "min", "bits": "min"}

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        check_causal(config.encoder)
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.encoder = build_encoder(config.encoder, config.embedding_dim)
        self.dropout = nn.Dropout(config.embedding_dropout)
        size = self.encoder.output_size
        # Tying needs the decoder input to have the embedding's size: project if not.
        needs_projection = config.tie_weights and size != config.embedding_dim
        self.projection = nn.Linear(size, config.embedding_dim) if needs_projection else None
        out_size = config.embedding_dim if config.tie_weights else size
        self.decoder = nn.Linear(out_size, config.vocab_size)
        if config.tie_weights:
            self.decoder.weight = self.embedding.weight
        self.reset_parameters()
        self.embedding.weight.requires_grad_(not config.freeze_embeddings)

    def reset_parameters(self) -> None:
        """Embedding, projection and decoder as the class doc says; the encoder its own."""
        own = [m for m in (self.embedding, self.projection, self.decoder) if m is not None]
        for module in own:
            module.reset_parameters()  # torch's defaults (a tied weight: the decoder's)
        if self.config.init_std is not None:
            with torch.no_grad():
                for module in own:
                    module.weight.normal_(0.0, self.config.init_std)
                    if getattr(module, "bias", None) is not None:
                        module.bias.zero_()
        elif self.config.init_range is not None:
            r = self.config.init_range
            with torch.no_grad():
                for module in own:
                    for parameter in module.parameters(recurse=False):
                        parameter.uniform_(-r, r)
        self.encoder.reset_parameters()

    def forward(self, batch: Batch, state: State | None = None) -> ModelOutput:
        x = self.dropout(self.embedding(batch.inputs))  # (B, T, E)
        outputs, final = self.encoder(x, batch.lengths, state)  # (B, T, D)
        hidden = self.dropout(outputs)
        if self.projection is not None:
            hidden = self.projection(hidden)
        logits = self.decoder(hidden)  # (B, T, V)
        if batch.targets is None:
            return ModelOutput(logits, state=final)
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(),
            batch.targets.reshape(-1),
            ignore_index=self.config.pad_id,
        )
        return ModelOutput(logits, loss, state=final)

    def metric_sums(self, output: ModelOutput, batch: Batch) -> dict[str, tuple[float, float]]:
        flat = batch.targets.reshape(-1)
        count = float((flat != self.config.pad_id).sum().item())
        loss = F.cross_entropy(
            output.logits.reshape(-1, output.logits.shape[-1]).float(),
            flat,
            ignore_index=self.config.pad_id,
            reduction="sum",
        ).item()
        return {"loss": (loss, count)}

    @staticmethod
    def summarize(means: dict[str, float]) -> dict[str, float]:
        """Perplexity = exp(mean NLL per token); bits = NLL / ln 2 (bits per char for chars)."""
        loss = means["loss"]
        return {**means, "ppl": math.exp(min(loss, 50.0)), "bits": loss / math.log(2)}

    @property
    def context_size(self) -> int | None:
        """The longest sequence the encoder reads (a Transformer's max_positions), or None."""
        return self.encoder.max_positions

    def _next_logits(self, tokens: Tensor, state: State | None) -> tuple[Tensor, State | None]:
        """(N, V) logits after ``tokens`` (N, P), continuing ``state`` when given."""
        x = self.embedding(tokens)
        lengths = torch.full((tokens.shape[0],), tokens.shape[1], device=tokens.device)
        outputs, state = self.encoder(x, lengths, state)
        hidden = outputs[:, -1]
        if self.projection is not None:
            hidden = self.projection(hidden)
        return self.decoder(hidden), state

    def _check_prompt(self, prompt: list[int]) -> None:
        limit = self.context_size
        if limit is not None and len(prompt) > limit:
            raise UserError(
                f"the prompt has {len(prompt)} tokens, more than the model's context of "
                f"{limit} tokens",
                "shorten the prompt, or let it be truncated to its last tokens (--truncate)",
            )

    @torch.no_grad()
    def beam_generate(
        self,
        prompt: list[int],
        max_new_tokens: int = 50,
        beam_size: int = 4,
        num_return: int = 1,
        length_penalty: float = 0.0,
        stop_id: int | None = None,
        use_cache: bool = True,
    ) -> list[Hypothesis]:
        """The ``num_return`` likeliest continuations of ``prompt`` (at least one token),
        by batched beam search (:func:`~seqlab.decoding.beam.beam_search`, GNMT length
        penalty); a hypothesis ends at ``stop_id`` (not included, never first) or after
        ``max_new_tokens`` tokens (the stop counts as one). With ``use_cache`` an
        incremental encoder carries its state per beam (reordered with the beams);
        otherwise, or when the text could outgrow ``context_size``, every step re-reads
        the (cropped) text of each beam.
        """
        self._check_prompt(prompt)
        if not prompt:
            raise UserError("beam search needs a prompt of at least one token", "pass a prompt")
        limit = self.context_size
        device = self.embedding.weight.device
        fits = limit is None or len(prompt) + max_new_tokens <= limit
        history = torch.tensor([prompt], dtype=torch.long, device=device)  # (1, P)
        state: dict[str, object]
        if use_cache and self.encoder.incremental and fits:
            encoder_state = self.encoder.new_state()
            if len(prompt) > 1:
                _, encoder_state = self._next_logits(history[:, :-1], encoder_state)
            state = {"encoder": _batch_first(encoder_state)}
        else:
            state = {"ids": history[:, :-1]}

        def step(tokens: Tensor, state: dict[str, object]) -> tuple[Tensor, dict[str, object]]:
            if "ids" in state:
                ids = torch.cat([state["ids"], tokens.unsqueeze(1)], dim=1)  # type: ignore[list-item]
                window = ids if limit is None else ids[:, -limit:]
                return self._next_logits(window, None)[0], {"ids": ids}
            carried = _time_first(state["encoder"])
            logits, carried = self._next_logits(tokens.unsqueeze(1), carried)
            return logits, {"encoder": _batch_first(carried)}

        start = history[:, -1]
        # -1 is no token: without a stop id nothing ends a hypothesis early; with one, it
        # is never the first token.
        eos, first = (-1, 0) if stop_id is None else (stop_id, 1)
        [found] = beam_search(
            step,
            state,
            start,
            beam_size,
            max_new_tokens,
            eos,
            length_penalty=length_penalty,
            num_return=num_return,
            min_length=first,
        )
        return found

    @torch.no_grad()
    def generate(
        self,
        prompt: list[int],
        max_new_tokens: int = 50,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        stop_id: int | None = None,
        seed: int | None = None,
        min_new_tokens: int = 0,
        use_cache: bool = True,
    ) -> list[int]:
        """Continue ``prompt`` (token ids) one sampled token at a time; returns new ids
        (:func:`~seqlab.decoding.sampling.sample_tokens`: stop id, ``min_new_tokens``).

        With ``use_cache`` an incremental encoder reads each new token once: a recurrent
        stack carries its state, a causal Transformer its KV cache. Otherwise (or for a
        CNN) every step re-reads the whole prefix. Once the text is longer than
        ``context_size``, each step reads the last ``context_size`` tokens afresh (as
        nanoGPT crops its context). A prompt longer than the context is an error (the
        caller decides whether to truncate). Call it on a model in eval mode (bundles are).
        """
        self._check_prompt(prompt)
        limit = self.context_size
        device = self.embedding.weight.device
        incremental = use_cache and self.encoder.incremental
        context = list(prompt)

        def read(tokens: list[int], state: State | None) -> tuple[Tensor, State | None]:
            ids = torch.tensor([tokens], dtype=torch.long, device=device)  # (1, P)
            return self._next_logits(ids, state)

        logits, state = read(context, self.encoder.new_state() if incremental else None)

        def step(token: int) -> Tensor:
            nonlocal state
            context.append(token)
            if incremental and (limit is None or len(context) <= limit):
                logits, state = read([token], state)
            else:  # re-read the (cropped) context
                window = context if limit is None else context[-limit:]
                fresh = self.encoder.new_state() if incremental else None
                logits, state = read(window, fresh)
            return logits

        options = (temperature, top_k, top_p, stop_id, seed, min_new_tokens)
        return sample_tokens(logits, step, max_new_tokens, *options)


def _batch_first(state: object) -> object:
    """A recurrent encoder's (L*D, N, H) state tensors -> (N, L*D, H), so beam search can
    reorder rows; a KV cache (already batch first) or None as it is."""
    if isinstance(state, tuple):
        return tuple(t.transpose(0, 1) for t in state)
    return state


def _time_first(state: object) -> object:
    """Inverse of :func:`_batch_first`."""
    if isinstance(state, tuple):
        return tuple(t.transpose(0, 1).contiguous() for t in state)
    return state
