"""Bundles: save -> load gives identical outputs (also in a fresh process); bad bundles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqlab.bundle import load_bundle, save_bundle
from seqlab.data.batching import Batch
from seqlab.errors import UserError
from seqlab.families.classification import ClassificationPreprocessing
from seqlab.families.generation import LMPreprocessing
from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.models.lm import LanguageModel, LanguageModelConfig
from seqlab.nn.encoders import RecurrentConfig
from seqlab.text.tokenizers import WordTokenizer

TEXTS = ["a good film", "a bad film", "good acting , bad plot"]


def _classifier_bundle(path: Path) -> tuple[SequenceClassifier, WordTokenizer]:
    tokenizer = WordTokenizer().fit(TEXTS)
    config = SequenceClassifierConfig(
        vocab_size=tokenizer.vocab_size,
        embedding_dim=8,
        encoder=RecurrentConfig("mut2", hidden_size=8, bidirectional=True),
        pooling="attention",
    )
    model = SequenceClassifier(config).eval()
    save_bundle(
        path,
        model,
        task="text-classification",
        preprocessing=ClassificationPreprocessing(["neg", "pos"], max_length=20),
        tokenizer=tokenizer,
        metrics={"test_accuracy": 0.5},
        recipe={"task": "text-classification", "name": "b", "train": {"lr": 0.1}},
        command="seqlab train x.toml",
    )
    return model, tokenizer


def test_save_load_identical_logits(tmp_path: Path) -> None:
    model, tokenizer = _classifier_bundle(tmp_path / "b")
    bundle = load_bundle(tmp_path / "b")
    batch = Batch(torch.tensor([tokenizer.encode("a good plot")]), torch.tensor([3]))
    assert torch.equal(model(batch).logits, bundle.model(batch).logits)
    assert bundle.preprocessing == ClassificationPreprocessing(["neg", "pos"], 20)
    assert bundle.task == "text-classification" and bundle.recipe.train.lr == 0.1
    assert bundle.tokenizer.encode("a good plot") == tokenizer.encode("a good plot")
    card = (tmp_path / "b" / "README.md").read_text()
    assert "seqlab train x.toml" in card and "test_accuracy" in card
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # temp dirs are gone


def test_tied_lm_round_trip_in_a_fresh_process(tmp_path: Path) -> None:
    tokenizer = WordTokenizer(split="whitespace").fit(TEXTS)
    model = LanguageModel(
        LanguageModelConfig(
            vocab_size=tokenizer.vocab_size,
            embedding_dim=8,
            encoder=RecurrentConfig(hidden_size=8),
            tie_weights=True,
        )
    ).eval()
    save_bundle(
        tmp_path / "lm",
        model,
        task="text-generation",
        preprocessing=LMPreprocessing(),
        tokenizer=tokenizer,
    )
    expected = model(Batch(torch.tensor([[3, 4, 5]]), torch.tensor([3]))).logits[0, -1, :4]
    code = (
        "import sys, torch, json; from seqlab.bundle import load_bundle; "
        "from seqlab.data.batching import Batch; "
        "b = load_bundle(sys.argv[1]); assert b.model.decoder.weight is b.model.embedding.weight; "
        "out = b.model(Batch(torch.tensor([[3,4,5]]), torch.tensor([3]))).logits; "
        "print(json.dumps(out[0,-1,:4].tolist()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "lm")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == pytest.approx(expected.tolist(), abs=0)


def test_overwrite_is_atomic_and_complete(tmp_path: Path) -> None:
    _classifier_bundle(tmp_path / "b")
    _classifier_bundle(tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "README.md",
        "config.json",
        "metrics.json",
        "model.safetensors",
        "recipe.toml",
        "tokenizer.json",
    ]


@pytest.mark.parametrize(
    "damage",
    [
        "missing_weights",
        "bad_weights",
        "bad_config",
        "missing_dir",
        "wrong_shapes",
        "bad_tokenizer",
        "no_tokenizer",
        "old_format",
        "newer_format",
        "unknown_key",
        "mistyped_value",
        "unknown_task",
    ],
)
def test_damaged_bundles_are_user_errors(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "b"
    _classifier_bundle(path)
    if damage == "missing_weights":
        (path / "model.safetensors").unlink()
    elif damage == "bad_weights":
        (path / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    elif damage == "bad_config":
        (path / "config.json").write_text("{not json")
    elif damage == "missing_dir":
        path = tmp_path / "nowhere"
    elif damage == "bad_tokenizer":
        (path / "tokenizer.json").write_text('{"type": "word"')
    elif damage == "no_tokenizer":
        (path / "tokenizer.json").unlink()
    else:
        meta = json.loads((path / "config.json").read_text())
        edit = {
            "wrong_shapes": lambda m: m["model"]["encoder"].update(hidden_size=4),
            "old_format": lambda m: m.pop("format_version"),
            "newer_format": lambda m: m.update(format_version=99),
            "unknown_key": lambda m: m["model"]["encoder"].update(hiden_size=4),
            "mistyped_value": lambda m: m["preprocessing"].update(max_length="long"),
            "unknown_task": lambda m: m.update(task="classify"),
        }[damage]
        edit(meta)
        (path / "config.json").write_text(json.dumps(meta))
    expected = {
        "old_format": "has format 1; this seqlab .* reads format 2",
        "newer_format": "upgrade seqlab",
        "unknown_key": "unknown key '.*model.encoder.hiden_size' — did you mean 'hidden_size'",
        "mistyped_value": "preprocessing.max_length: input should be a valid integer",
        "unknown_task": "unknown task 'classify'",
        "no_tokenizer": "has no tokenizer.json",
        "missing_weights": "has no model.safetensors",
        "bad_weights": "model.safetensors is corrupted",
        "bad_config": "config.json is corrupted",
        "missing_dir": "bundle not found",
        "wrong_shapes": "weights do not match config.json",
        "bad_tokenizer": "tokenizer.json is not valid",
    }[damage]
    with pytest.raises(UserError, match=expected):
        load_bundle(path)
