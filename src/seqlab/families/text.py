"""Pieces the text families share: the recipe's tokenizer, pretrained embeddings and
pretrained encoders."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from typing import Any

import torch

from seqlab.data.config import TextDataConfig
from seqlab.data.datasets import checkpoint_folder
from seqlab.errors import UserError
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


@dataclass
class PretrainedEncoder:
    """The embedding + encoder of a pretrained model, ready to copy into a new model."""

    embedding: torch.nn.Embedding
    encoder: torch.nn.Module
    encoder_config: Any
    tokenizer: Tokenizer
    description: str


@functools.lru_cache(maxsize=2)
def pretrained_encoder(path: str) -> PretrainedEncoder:
    """The embedding and encoder of ``path``: a seqlab bundle whose model has them (a
    ``fill-mask`` bundle, a classifier, a language model) or a BERT checkpoint folder
    (``config.json`` + ``model.safetensors`` + ``tokenizer.json``), with its tokenizer.
    Loaded once per path and process (a grid of runs shares it)."""
    folder = checkpoint_folder(path)  # a folder, or a registered checkpoint ("minilm")
    meta = folder / "config.json"
    if not meta.is_file():
        raise UserError(
            f"model.encoder_from: {path} has no config.json",
            "pass a bundle folder written by `seqlab train` or a BERT checkpoint folder",
        )
    try:
        is_bundle = "task" in json.loads(meta.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"model.encoder_from: {meta} is not JSON ({exc})", "re-create it") from None
    if not is_bundle:
        from seqlab.models.bert import load_bert

        bert, tokenizer = load_bert(folder)
        encoder_config = bert.encoder.config
        what = f"BERT checkpoint {folder.name}"
        return PretrainedEncoder(bert.embedding, bert.encoder, encoder_config, tokenizer, what)
    from seqlab.bundle import load_bundle

    bundle = load_bundle(folder)
    model = bundle.model
    embedding, encoder = getattr(model, "embedding", None), getattr(model, "encoder", None)
    if not isinstance(embedding, torch.nn.Embedding) or encoder is None or bundle.tokenizer is None:
        raise UserError(
            f"model.encoder_from: the {bundle.family.task} bundle {path} has no token "
            "embedding and encoder to reuse",
            "pass a fill-mask, text-generation or text-classification bundle",
        )
    what = f"{bundle.family.task} bundle {folder}"
    return PretrainedEncoder(embedding, encoder, model.config.encoder, bundle.tokenizer, what)


def with_pretrained_shapes(config: Any) -> Any:
    """``config`` with the encoder and embedding size of its ``encoder_from`` source, so
    that the model it builds can take the pretrained weights."""
    source = pretrained_encoder(config.encoder_from)
    return dataclasses.replace(
        config, encoder=source.encoder_config, embedding_dim=source.embedding.embedding_dim
    )


def copy_pretrained_encoder(model: torch.nn.Module, path: str) -> str:
    """Copy the embedding and encoder of ``path`` into ``model`` (built from
    :func:`with_pretrained_shapes`'s config); returns a one-line summary."""
    source = pretrained_encoder(path)
    model.embedding.load_state_dict(source.embedding.state_dict())
    model.encoder.load_state_dict(source.encoder.state_dict())
    return f"embedding and encoder from the {source.description}"
