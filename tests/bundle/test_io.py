"""Bundles: save -> load gives identical outputs (also in a fresh process); bad bundles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqlab.bundle import load_bundle, save_bundle
from seqlab.errors import UserError
from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.models.lm import LanguageModel, LanguageModelConfig
from seqlab.text.tokenizers import WordTokenizer

TEXTS = ["a good film", "a bad film", "good acting , bad plot"]


def _classifier_bundle(path: Path) -> tuple[SequenceClassifier, WordTokenizer]:
    tokenizer = WordTokenizer().fit(TEXTS)
    config = SequenceClassifierConfig(
        vocab_size=tokenizer.vocab_size,
        embedding_dim=8,
        hidden_size=8,
        encoder="mut2",
        bidirectional=True,
        pooling="attention",
    )
    model = SequenceClassifier(config).eval()
    save_bundle(
        path,
        model,
        task="classify",
        tokenizer=tokenizer,
        labels=["neg", "pos"],
        metrics={"test_accuracy": 0.5},
        recipe={"task": "classify", "train": {"lr": 0.1}},
        command="seqlab train x.toml",
    )
    return model, tokenizer


def test_save_load_identical_logits(tmp_path: Path) -> None:
    model, tokenizer = _classifier_bundle(tmp_path / "b")
    bundle = load_bundle(tmp_path / "b")
    ids = torch.tensor([tokenizer.encode("a good plot")])
    assert torch.equal(model(ids, torch.tensor([3]))[0], bundle.model(ids, torch.tensor([3]))[0])
    assert bundle.labels == ["neg", "pos"] and bundle.task == "classify"
    assert bundle.tokenizer.encode("a good plot") == tokenizer.encode("a good plot")
    card = (tmp_path / "b" / "README.md").read_text()
    assert "seqlab train x.toml" in card and "test_accuracy" in card
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # temp dirs are gone


def test_tied_lm_round_trip_in_a_fresh_process(tmp_path: Path) -> None:
    tokenizer = WordTokenizer(split="whitespace").fit(TEXTS)
    model = LanguageModel(
        LanguageModelConfig(
            vocab_size=tokenizer.vocab_size, embedding_dim=8, hidden_size=8, tie_weights=True
        )
    ).eval()
    save_bundle(tmp_path / "lm", model, task="lm", tokenizer=tokenizer)
    ids = torch.tensor([[3, 4, 5]])
    expected = model(ids, torch.tensor([3]))[0][0, -1, :4].tolist()
    code = (
        "import sys, torch, json; from seqlab.bundle import load_bundle; "
        "b = load_bundle(sys.argv[1]); assert b.model.decoder.weight is b.model.embedding.weight; "
        "out = b.model(torch.tensor([[3,4,5]]), torch.tensor([3]))[0]; "
        "print(json.dumps(out[0,-1,:4].tolist()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "lm")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == pytest.approx(expected, abs=0)


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
    elif damage == "wrong_shapes":
        meta = json.loads((path / "config.json").read_text())
        meta["model"]["hidden_size"] = 4
        (path / "config.json").write_text(json.dumps(meta))
    elif damage == "bad_tokenizer":
        (path / "tokenizer.json").write_text('{"type": "word"')
    with pytest.raises(UserError):
        load_bundle(path)
