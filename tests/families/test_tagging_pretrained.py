"""token-classification from a pretrained encoder (``model.encoder_from``): MiniLM's own
word pieces with [CLS] / [SEP], each word tagged at its first piece exactly as HF's
``word_ids()`` aligns it; the checkpoint's weights copied; train -> bundle -> predict;
sentences longer than the encoder's context read in windows; refused inputs."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from seqlab.bundle import load_bundle
from seqlab.cli.main import app
from seqlab.errors import UserError
from seqlab.recipe import recipe_from_dict
from seqlab.run import train_recipe

runner = CliRunner()

GRAMMAR = [
    ("the cat sat", "DET NOUN VERB"),
    ("a dog ran", "DET NOUN VERB"),
    ("the dogs sat", "DET NOUN VERB"),
    ("dogs ran", "NOUN VERB"),
    ("the unaffable cat sat", "DET ADJ NOUN VERB"),
]


@pytest.fixture()
def pos_file(tmp_path: Path) -> Path:
    path = tmp_path / "pos.txt"
    path.write_text("".join(f"{w}\t{t}\n" for w, t in GRAMMAR * 8))
    return path


def _raw(path: Path, **model: Any) -> dict[str, Any]:
    return {
        "task": "token-classification",
        "name": "tiny-pos",
        "data": {"dataset": "file", "format": "lines", "path": str(path), "batch_size": 8},
        "model": {
            "encoder_from": "minilm",
            "char_features": "none",
            "head": "softmax",
            "dropout": 0.1,
            **model,
        },
        "train": {
            "optimizer": "adamw",
            "lr": 0.0005,
            "max_steps": 12,
            "progress": False,
            "monitor": "accuracy",
        },
        "eval": {"samples": 1},
    }


def _train(raw: dict[str, Any], out: Path):
    return train_recipe(recipe_from_dict(raw), out, console=Console(file=io.StringIO()))


def test_words_are_read_as_the_checkpoints_pieces_tagged_at_the_first(
    minilm_folder: Path, pos_file: Path, hf_offline
) -> None:
    transformers = pytest.importorskip("transformers")
    from seqlab.models.bert import load_bert

    recipe = recipe_from_dict(_raw(pos_file))
    family = recipe.family
    prepared = family.prepare(recipe)
    auto = transformers.AutoTokenizer.from_pretrained(str(minilm_folder))
    labels = prepared.preprocessing.labels
    for text, tags in GRAMMAR:
        words, gold = text.split(), tags.split()
        [encoded] = family.encode(prepared, words, gold)
        reference = auto(words, is_split_into_words=True)
        assert encoded.ids == reference["input_ids"]  # [CLS] pieces [SEP]
        word_ids = reference.word_ids()
        assert encoded.first == [word_ids.index(i) for i in range(len(words))]
        assert [labels[encoded.tags[i]] for i in encoded.first] == gold
    [long] = family.encode(prepared, ["unaffable"], ["ADJ"])
    assert len(long.ids) == 5 and long.first == [1]  # [CLS] una ##ffa ##ble [SEP]
    bert, tokenizer = load_bert(minilm_folder)
    assert prepared.preprocessing.max_length == min(
        tokenizer.max_length or 10**9, bert.encoder.config.max_positions
    )
    model = family.new_model(recipe, prepared)
    for mine, theirs in ((model.embedding, bert.embedding), (model.encoder, bert.encoder)):
        a, b = mine.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert model.config.encoder == bert.config.encoder and model.config.embedding_dim == 384
    assert "embedding and encoder from the BERT checkpoint" in prepared.description


def test_a_minilm_tagger_trains_and_its_bundle_predicts(
    minilm_folder: Path, pos_file: Path, tmp_path: Path
) -> None:
    result = _train(_raw(pos_file), tmp_path / "run")
    assert result.metrics["test_accuracy"] > 0.9  # a trivial grammar
    bundle = load_bundle(result.bundle)
    assert bundle.tokenizer.kind == "pretrained"
    [one] = bundle.predict([bundle.family.request_from_text("the cat ran")])
    assert one.tokens == ["the", "cat", "ran"] and one.tags == ["DET", "NOUN", "VERB"]
    shown = runner.invoke(app, ["predict", str(result.bundle), "a dog sat", "--json"])
    assert shown.exit_code == 0, shown.output
    assert '"VERB"' in shown.output


def test_sentences_longer_than_the_context_are_read_in_windows(
    pos_file: Path, tmp_path: Path
) -> None:
    raw = _raw(pos_file, encoder_from=None)
    raw["model"]["encoder"] = {
        "type": "transformer",
        "hidden_size": 16,
        "num_heads": 2,
        "max_positions": 8,
        "positions": "learned",
    }
    raw["model"]["embedding_dim"] = 16
    raw["train"] |= {"max_steps": 3, "lr": 0.01}
    result = _train(raw, tmp_path / "run")
    bundle = load_bundle(result.bundle)
    family = bundle.family
    assert bundle.preprocessing.max_length == 8
    words = ("the cat sat " * 7).split()  # 21 words: windows of 8, 8 and 5
    parts = family.encode(bundle, words)
    assert [len(p.ids) for p in parts] == [8, 8, 5]
    [tags], [probs] = family.tag(bundle.model, bundle, [words], with_probabilities=True)
    chunks = [words[:8], words[8:16], words[16:]]
    one_by_one, chunk_probs = family.tag(bundle.model, bundle, chunks, with_probabilities=True)
    assert tags == [t for chunk in one_by_one for t in chunk]
    assert probs.shape == (21, len(bundle.preprocessing.labels))
    torch.testing.assert_close(
        torch.from_numpy(probs), torch.cat(list(map(torch.from_numpy, chunk_probs)))
    )


def test_character_features_beside_a_pretrained_encoder_are_refused(
    pos_file: Path, tmp_path: Path
) -> None:
    raw = _raw(pos_file, char_features="lstm")
    with pytest.raises(UserError, match="character features"):
        recipe_from_dict(raw)
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(
        'task = "token-classification"\nname = "bad"\n[data]\ndataset = "file"\n'
        f'path = "{pos_file}"\n[model]\nencoder_from = "minilm"\n'
    )
    result = runner.invoke(app, ["train", str(recipe), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "character features" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
