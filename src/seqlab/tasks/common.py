"""Pieces shared by the tasks: tokenizer factory and pretrained embeddings."""

from __future__ import annotations

from typing import Any

import torch

from seqlab.errors import UserError
from seqlab.recipe import DataConfig
from seqlab.text.embeddings import embedding_matrix
from seqlab.text.keyed_vectors import KeyedVectors, load_vectors
from seqlab.text.tokenizers import (
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    WordPieceTokenizer,
    WordTokenizer,
)

TOKENIZERS = ("word", "whitespace", "char", "bpe", "wordpiece")


def make_tokenizer(
    kind: str,
    lowercase: bool = True,
    min_freq: int = 1,
    max_size: int | None = None,
    vocab_size: int = 8000,
) -> Tokenizer:
    """An unfitted tokenizer named by a recipe's ``data.tokenizer``."""
    if kind == "word":
        return WordTokenizer(lowercase=lowercase, min_freq=min_freq, max_size=max_size)
    if kind == "whitespace":
        return WordTokenizer(
            lowercase=lowercase, split="whitespace", min_freq=min_freq, max_size=max_size
        )
    if kind == "char":
        return CharTokenizer(lowercase=lowercase, min_freq=min_freq)
    if kind == "bpe":
        return BPETokenizer(vocab_size=vocab_size, lowercase=lowercase)
    if kind == "wordpiece":
        return WordPieceTokenizer(vocab_size=vocab_size, lowercase=lowercase)
    raise UserError(
        f"unknown tokenizer '{kind}'", f"set data.tokenizer to one of {', '.join(TOKENIZERS)}"
    )


def new_tokenizer(data: DataConfig) -> Tokenizer:
    """The unfitted tokenizer a recipe's ``[data]`` section asks for."""
    return make_tokenizer(
        data.tokenizer, data.lowercase, data.min_freq, data.max_vocab, data.vocab_size
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
