"""Pieces shared by the tasks: tokenizer factory and seeded splits."""

from __future__ import annotations

from seqlab.errors import UserError
from seqlab.recipe import DataConfig
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
