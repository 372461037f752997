"""Pieces the text families share: the recipe's tokenizer and pretrained embeddings."""

from __future__ import annotations

from typing import Any

import torch

from seqlab.data.config import TextDataConfig
from seqlab.text.embeddings import embedding_matrix
from seqlab.text.keyed_vectors import KeyedVectors, load_vectors
from seqlab.text.tokenizers import Tokenizer, make_tokenizer


def new_tokenizer(data: TextDataConfig) -> Tokenizer:
    """The unfitted tokenizer a recipe's ``[data]`` section asks for."""
    return make_tokenizer(
        data.tokenizer,
        lowercase=data.lowercase,
        min_freq=data.min_freq,
        max_size=data.max_vocab,
        vocab_size=data.vocab_size,
    )


def pretrained_vectors(config: Any) -> KeyedVectors | None:
    """Load ``config.pretrained_vectors`` (if set); the embedding size follows the vectors."""
    if not config.pretrained_vectors:
        return None
    vectors = load_vectors(config.pretrained_vectors)
    config.embedding_dim = vectors.vector_size
    return vectors


@torch.no_grad()
def copy_pretrained(
    embedding: torch.nn.Embedding,
    vectors: KeyedVectors,
    tokenizer: Tokenizer,
    padding_idx: int | None = None,
) -> str:
    """Copy the vectors of known tokens into ``embedding``; returns a one-line summary.

    Tokens without a vector (specials, rare words) get ``N(0, std of the known rows)``
    draws; the padding row stays zero.
    """
    itos = [tokenizer.id_to_token(i) for i in range(tokenizer.vocab_size)]
    matrix, found = embedding_matrix(vectors, itos, padding_idx=padding_idx)
    embedding.weight.copy_(torch.from_numpy(matrix))
    countable = len(itos) - (padding_idx is not None)
    return (
        f"embeddings from {len(vectors):,} pretrained vectors "
        f"({found.sum():,}/{countable:,} tokens covered)"
    )
