"""One-to-many / next-token: a recurrent (or any-encoder) language model.

Legend: B batch, T time steps, V vocabulary size, E embedding size, D encoder output.

    tokens (B, T) -> embedding (B, T, E) -> dropout -> encoder (B, T, D)
                  -> dropout -> [projection D->E] -> decoder (B, T, V), tied to the embedding

Zaremba et al. 2014 ("Recurrent Neural Network Regularization"): dropout only on the
non-recurrent connections, uniform init in ±init_range, truncated BPTT with the
hidden state carried across consecutive batches of one token stream.
Press & Wolf 2017 / Inan et al. 2017: tying input and output embeddings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.decoding.sampling import sample_next
from seqlab.nn.encoders import EncoderConfig, build_encoder

State = tuple[Tensor, ...]


@dataclass
class LanguageModelConfig(EncoderConfig):
    """Hyper-parameters of :class:`LanguageModel` (saved as ``config.json``)."""

    vocab_size: int = 0
    embedding_dim: int = 200
    tie_weights: bool = True
    embedding_dropout: float = 0.0  # dropout on embeddings and on encoder outputs
    init_range: float | None = 0.1  # uniform(-r, r) for every weight (Zaremba 2014)
    pad_id: int = 0
    carry_state: bool = True  # keep the state between consecutive batches (truncated BPTT)
    pretrained_vectors: str | None = None  # initialise the embedding (see load_vectors)
    freeze_embeddings: bool = False  # keep embedding rows (and a tied decoder) fixed


class LanguageModel(nn.Module):
    """Predicts token t+1 from tokens <= t.

    ``forward(inputs (B, T), lengths (B,), targets (B, T))`` returns
    ``(logits (B, T, V), mean loss over non-pad targets or None)``. With
    ``carry_state`` the final state of one call (detached) starts the next while the
    model trains or evaluates on a stream; :meth:`reset_state` forgets it.
    """

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.encoder = build_encoder(config, config.embedding_dim)
        self.dropout = nn.Dropout(config.embedding_dropout)
        size = self.encoder.output_size
        # Tying needs the decoder input to have the embedding's size: project if not.
        needs_projection = config.tie_weights and size != config.embedding_dim
        self.projection = nn.Linear(size, config.embedding_dim) if needs_projection else None
        out_size = config.embedding_dim if config.tie_weights else size
        self.decoder = nn.Linear(out_size, config.vocab_size)
        if config.init_range:
            for parameter in self.parameters():
                nn.init.uniform_(parameter, -config.init_range, config.init_range)
        if config.tie_weights:
            self.decoder.weight = self.embedding.weight
        self.embedding.weight.requires_grad_(not config.freeze_embeddings)
        self._state: State | None = None

    def reset_state(self) -> None:
        self._state = None

    def forward(
        self,
        inputs: Tensor,
        lengths: Tensor,
        targets: Tensor | None = None,
        state: State | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        carried = self._state
        if state is None and self.config.carry_state and carried is not None:
            # A stream batch continues the previous one only if the batch size matches.
            state = carried if carried[0].shape[1] == inputs.shape[0] else None
        x = self.dropout(self.embedding(inputs))  # (B, T, E)
        outputs, final = self.encoder(x, lengths, state)  # (B, T, D)
        if self.config.carry_state and final is not None:
            self._state = tuple(s.detach() for s in final)
        hidden = self.dropout(outputs)
        if self.projection is not None:
            hidden = self.projection(hidden)
        logits = self.decoder(hidden)  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            targets.reshape(-1),
            ignore_index=self.config.pad_id,
        )
        return logits, loss

    def metric_sums(self, logits: Tensor, targets: Tensor) -> dict[str, tuple[float, float]]:
        flat = targets.reshape(-1)
        count = float((flat != self.config.pad_id).sum().item())
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
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
    ) -> list[int]:
        """Continue ``prompt`` (token ids) one sampled token at a time; returns new ids.

        Sampling stops at ``stop_id`` (not returned), which is never drawn before
        ``min_new_tokens`` tokens exist (HF ``generate``'s ``min_new_tokens``).
        """
        was_training = self.training
        self.eval()
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        device = self.embedding.weight.device
        tokens = torch.tensor([prompt], dtype=torch.long, device=device)  # (1, P)
        stateless = self.encoder.__class__.__name__ != "RecurrentEncoder"
        state, new = None, []
        for _ in range(max_new_tokens):
            step_in = tokens if stateless or state is None else tokens[:, -1:]
            x = self.embedding(step_in)
            lengths = torch.tensor([step_in.shape[1]])
            outputs, state = self.encoder(x, lengths, None if stateless else state)
            hidden = outputs[:, -1]
            if self.projection is not None:
                hidden = self.projection(hidden)
            logits = self.decoder(hidden)  # (1, V)
            if stop_id is not None and len(new) < min_new_tokens:
                logits[:, stop_id] = float("-inf")
            next_id = sample_next(logits, temperature, top_k, top_p, generator)
            token = int(next_id.item())
            if stop_id is not None and token == stop_id:
                break
            new.append(token)
            tokens = torch.cat([tokens, next_id.view(1, 1)], dim=1)
        self.train(was_training)
        return new
