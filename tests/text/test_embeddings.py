"""pretrained_embedding: rows copied from the vectors, unknown rows on the same scale."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqlab.errors import UserError
from seqlab.text.embeddings import embedding_matrix, pretrained_embedding
from seqlab.text.keyed_vectors import KeyedVectors


@pytest.fixture
def kv() -> KeyedVectors:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)] + ["москва"]
    return KeyedVectors(words, rng.normal(0, 0.5, size=(len(words), 32)).astype(np.float32))


def test_known_rows_copied_unknown_rows_scaled(kv: KeyedVectors) -> None:
    itos = [
        "<pad>",
        "<unk>",
        *[f"w{i}" for i in range(200)],
        "Москва",
        *[f"new{i}" for i in range(97)],
    ]
    embedding, coverage = pretrained_embedding(kv, itos, padding_idx=0)
    weight = embedding.weight.detach().numpy()
    np.testing.assert_array_equal(weight[2:202], kv.vectors[:200])
    np.testing.assert_array_equal(weight[202], kv["москва"])  # lowercase fallback
    np.testing.assert_array_equal(weight[0], 0.0)  # padding row
    assert coverage == pytest.approx(201 / 299)  # padding not counted
    unknown = weight[[1, *range(203, 300)]]
    assert unknown.std() == pytest.approx(kv.vectors[:201].std(), rel=0.1)  # N(0, std of known)
    assert not embedding.weight.requires_grad  # frozen by default
    ids = torch.tensor([[2, 202, 0]])
    np.testing.assert_array_equal(embedding(ids)[0, 0].numpy(), kv["w0"])


def test_unfrozen_and_no_lowercase_fallback(kv: KeyedVectors) -> None:
    embedding, coverage = pretrained_embedding(
        kv, ["Москва", "w1"], freeze=False, lowercase_fallback=False
    )
    assert embedding.weight.requires_grad and coverage == 0.5
    _matrix, found = embedding_matrix(kv, ["Москва", "w1"], lowercase_fallback=False)
    assert found.tolist() == [False, True]
    embedding(torch.tensor([0, 1])).sum().backward()  # trainable: gradients flow
    assert embedding.weight.grad is not None


def test_empty_vocabulary_is_a_user_error(kv: KeyedVectors) -> None:
    with pytest.raises(UserError, match="vocabulary is empty"):
        pretrained_embedding(kv, [])
