"""Initialise a model's embedding layer from pretrained word vectors (word2vec, navec).

Any seqlab model that starts with ``torch.nn.Embedding`` over a :class:`Vocabulary` can
take its rows from a :class:`~seqlab.text.keyed_vectors.KeyedVectors`: known words copy
their vector, the rest (specials, rare words) are drawn from ``N(0, std of the known
rows)`` so they sit on the same scale, and the padding row is zero. Freezing keeps the
pretrained geometry (useful with little labelled data); not freezing fine-tunes it.

Shapes: V = model vocabulary size, D = vector size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from seqlab.errors import UserError
from seqlab.text.keyed_vectors import KeyedVectors


def embedding_matrix(
    keyed_vectors: KeyedVectors,
    vocab_itos: Sequence[str],
    lowercase_fallback: bool = True,
    padding_idx: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(V, D)`` float32 matrix for ``vocab_itos`` and a ``(V,)`` bool mask of found words.

    A word is looked up as is, then (``lowercase_fallback``) lowercased, e.g. ``Москва`` ->
    ``москва`` for navec's lowercase vocabulary.
    """
    if len(vocab_itos) == 0:
        raise UserError("the vocabulary is empty", "fit the tokenizer/vocabulary first")
    size = keyed_vectors.vector_size
    found = np.zeros(len(vocab_itos), dtype=bool)
    source = np.zeros(len(vocab_itos), dtype=np.int64)
    for row, word in enumerate(vocab_itos):
        index = keyed_vectors.key_to_index.get(word)
        if index is None and lowercase_fallback:
            index = keyed_vectors.key_to_index.get(word.lower())
        if index is not None:
            found[row], source[row] = True, index
    if padding_idx is not None:
        found[padding_idx] = False
    known = keyed_vectors.vectors[source[found]]
    std = float(known.std()) if found.sum() > 1 else 1.0 / np.sqrt(size)
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, std, size=(len(vocab_itos), size)).astype(np.float32)
    matrix[found] = known
    if padding_idx is not None:
        matrix[padding_idx] = 0.0
    return matrix, found


def pretrained_embedding(
    keyed_vectors: KeyedVectors,
    vocab_itos: Sequence[str],
    freeze: bool = True,
    lowercase_fallback: bool = True,
    padding_idx: int | None = None,
    seed: int = 0,
) -> tuple[torch.nn.Embedding, float]:
    """A ``torch.nn.Embedding(V, D)`` initialised from ``keyed_vectors``, and its coverage.

    ``coverage`` = share of the vocabulary (padding excluded) that had a pretrained
    vector. ``freeze=True`` makes the weights non-trainable.
    """
    matrix, found = embedding_matrix(
        keyed_vectors, vocab_itos, lowercase_fallback, padding_idx, seed
    )
    embedding = torch.nn.Embedding.from_pretrained(
        torch.from_numpy(matrix), freeze=freeze, padding_idx=padding_idx
    )
    countable = len(vocab_itos) - (padding_idx is not None)
    coverage = float(found.sum()) / countable if countable else 0.0
    return embedding, coverage
