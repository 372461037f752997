"""``model.pretrained_vectors`` in a recipe: rows copied, frozen stays fixed, bundles reload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from seqlab.bundle import load_bundle
from seqlab.errors import UserError
from seqlab.recipe import recipe_from_dict
from seqlab.run import train_recipe
from seqlab.text.keyed_vectors import KeyedVectors

WORDS = ["great", "fun", "dull", "boring", "film"]


@pytest.fixture
def vectors(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "vectors"
    KeyedVectors(WORDS, rng.normal(size=(len(WORDS), 6)).astype(np.float32)).save(path)
    return path


def _classify_recipe(tmp_path: Path, vectors: Path, freeze: bool):
    rows = ["label,text"] + [
        f"{label},{text}"
        for _ in range(6)
        for label, text in (("pos", "great fun film"), ("neg", "dull boring film"))
    ]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    return recipe_from_dict(
        {
            "task": "text-classification",
            "name": "tiny",
            "data": {"dataset": "file", "path": str(tmp_path / "data.csv"), "batch_size": 4},
            "model": {
                "encoder": {"type": "gru", "hidden_size": 8},
                "embedding_dim": 32,  # replaced by the vectors' size
                "pretrained_vectors": str(vectors),
                "freeze_embeddings": freeze,
            },
            "train": {"epochs": 2, "lr": 0.05, "progress": False},
        }
    )


def test_known_rows_are_copied_and_padding_is_zero(tmp_path: Path, vectors: Path) -> None:
    recipe = _classify_recipe(tmp_path, vectors, freeze=False)
    prepared = recipe.family.prepare(recipe)
    model = recipe.family.new_model(recipe, prepared)
    kv = KeyedVectors.load(vectors)
    tok = prepared.tokenizer
    assert model.config.embedding_dim == 6
    for word in ("great", "dull", "film"):
        row = model.embedding.weight[tok.encode(word)[0]].detach().numpy()
        np.testing.assert_array_equal(row, kv[word])
    assert torch.count_nonzero(model.embedding.weight[tok.pad_id]) == 0
    assert "pretrained vectors" in prepared.description and "covered" in prepared.description


def test_frozen_embedding_survives_training_and_the_bundle_reloads(
    tmp_path: Path, vectors: Path
) -> None:
    recipe = _classify_recipe(tmp_path, vectors, freeze=True)
    result = train_recipe(recipe, tmp_path / "run")
    bundle = load_bundle(result.bundle)
    kv = KeyedVectors.load(vectors)
    weight = bundle.model.embedding.weight
    row = weight[bundle.tokenizer.encode("boring")[0]].detach().numpy()
    np.testing.assert_array_equal(row, kv["boring"])  # not moved by 2 epochs of training
    assert not weight.requires_grad


def test_lm_with_tied_pretrained_embedding(tmp_path: Path, vectors: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["great fun film", "dull boring film"] * 20) + "\n")
    recipe = recipe_from_dict(
        {
            "task": "text-generation",
            "data": {
                "dataset": "file",
                "path": str(corpus),
                "bptt": 4,
                "batch_size": 2,
                "eval_batch_size": 2,
            },
            "model": {"encoder": {"hidden_size": 6}, "pretrained_vectors": str(vectors)},
        }
    )
    prepared = recipe.family.prepare(recipe)
    model = recipe.family.new_model(recipe, prepared)
    row = model.embedding.weight[prepared.tokenizer.encode("fun")[0]].detach().numpy()
    np.testing.assert_array_equal(row, KeyedVectors.load(vectors)["fun"])
    assert model.decoder.weight is model.embedding.weight


def test_missing_vectors_are_a_user_error(tmp_path: Path) -> None:
    recipe = _classify_recipe(tmp_path, tmp_path / "nowhere", freeze=False)
    prepared = recipe.family.prepare(recipe)
    with pytest.raises(UserError, match="no saved word vectors"):
        recipe.family.new_model(recipe, prepared)
