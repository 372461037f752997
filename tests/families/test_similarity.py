"""sentence-similarity on a tiny synthetic parallel TSV: train -> report (retrieval beside
TF-IDF and chance) -> bundle -> predict (embeddings, ranked candidates; API and CLI);
recall@k and the transliteration baseline against oracles; refused inputs."""

from __future__ import annotations

import dataclasses
import io
import json
import random
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from seqlab.bundle import load_bundle, save_bundle
from seqlab.cli.main import app
from seqlab.errors import UserError
from seqlab.families import FAMILIES
from seqlab.families.similarity import (
    recall_at_k,
    retrieval_set,
    tfidf_similarity,
    transliterate,
)
from seqlab.recipe import recipe_from_dict, recipe_to_dict
from seqlab.run import train_recipe

runner = CliRunner()
FAMILY = FAMILIES["sentence-similarity"]
RU = ["кот", "собака", "дом", "лес", "река", "гора", "окно", "стол", "книга", "море", "поле",
      "город", "мост", "сад", "хлеб", "вода"]  # fmt: skip
EN = ["cat", "dog", "house", "forest", "river", "mountain", "window", "table", "book", "sea",
      "field", "city", "bridge", "garden", "bread", "water"]  # fmt: skip


def _pairs(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Distinct 3-5 word 'sentences' and their word-by-word translations."""
    rng = random.Random(seed)
    pairs: dict[tuple[str, str], None] = {}
    while len(pairs) < count:
        picks = rng.sample(range(len(RU)), rng.randint(3, 5))
        pairs[(" ".join(RU[i] for i in picks), " ".join(EN[i] for i in picks))] = None
    return list(pairs)


def _raw(path: Path, **model: Any) -> dict[str, Any]:
    return {
        "task": "sentence-similarity",
        "name": "tiny-clip",
        "data": {
            "dataset": "file",
            "path": str(path),
            "source_tokenizer": "whitespace",
            "target_tokenizer": "whitespace",
            "batch_size": 32,
            "eval_batch_size": 16,
        },
        "model": {
            "embedding_dim": 16,
            "projection_size": 16,
            "source_encoder": {"type": "gru", "hidden_size": 16, "bidirectional": True},
            **model,
        },
        "train": {"epochs": 6, "lr": 0.01, "progress": False},
        "eval": {"samples": 2},
    }


@pytest.fixture(scope="module")
def tsv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("similarity") / "pairs.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in _pairs(640)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tsv: Path):
    recipe = recipe_from_dict(_raw(tsv))
    return train_recipe(recipe, tsv.parent / "run", console=Console(file=io.StringIO()))


def test_train_reports_retrieval_beside_tfidf_and_chance(trained) -> None:
    m = trained.metrics
    n = m["test_retrieval_pairs"]
    assert n == 32  # 5 % of 640, all with distinct texts
    assert m["test_chance_recall_at_1"] == pytest.approx(1 / n)
    assert m["test_chance_recall_at_10"] == pytest.approx(10 / n)
    for kind in ("", "tfidf_"):
        for direction in ("s2t", "t2s"):
            r1, r10 = (
                m[f"test_{kind}{direction}_recall_at_1"],
                m[f"test_{kind}{direction}_recall_at_10"],
            )
            assert 0.0 <= r1 <= r10 <= 1.0
    assert m["test_s2t_recall_at_1"] > 5 * m["test_chance_recall_at_1"]  # it learned the words
    assert m["test_t2s_recall_at_10"] > 2 * m["test_chance_recall_at_10"]
    assert set(k.removeprefix("test_") for k in m if k.startswith("test_")) <= {
        *FAMILY.metrics,
        "retrieval_pairs",
    }
    assert trained.lines[0].startswith("retrieval among 32 test pairs: all the 32")
    assert len(trained.lines) == 3 and all("->" in line for line in trained.lines[1:])


def test_evaluate_reproduces_the_report(trained, tsv: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(trained.bundle)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    for key in ("test_loss", "test_s2t_recall_at_1", "test_t2s_recall_at_10"):
        assert metrics[key] == pytest.approx(trained.metrics[key], rel=1e-5), key
    on_file = FAMILY.evaluate_file(load_bundle(trained.bundle), str(tsv))
    assert on_file["retrieval_pairs"] == 640 and on_file["chance_recall_at_1"] == 1 / 640


def test_predict_ranks_candidates_by_cosine_of_the_embeddings(trained) -> None:
    bundle = load_bundle(trained.bundle)
    query, *_ = _pairs(640)[0]
    candidates = [t for _, t in _pairs(640)[:6]]
    request = FAMILY.request_from_text(f"{query} ||| " + " ||| ".join(candidates), top_k=6)
    [ranked] = bundle.predict([request])
    # The same ranking from separately requested embeddings of each side.
    [q] = bundle.predict([FAMILY.request_from_text(query)])
    others = bundle.predict([FAMILY.request_from_text(f"target:{c}") for c in candidates])
    cosines = [float(np.dot(q.embedding, o.embedding)) for o in others]
    assert [m.index for m in ranked.top] == list(np.argsort(cosines, kind="stable")[::-1])
    assert [m.cosine for m in ranked.top] == pytest.approx(sorted(cosines, reverse=True), abs=1e-5)
    assert ranked.top[0].text == candidates[0]  # a training pair: its translation first
    assert sum(m.score for m in ranked.top) == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(q.embedding) == pytest.approx(1.0, abs=1e-5)
    [two] = bundle.predict(
        [FAMILY.request_from_text(f"{query} ||| {candidates[1]} ||| {candidates[0]}", top_k=2)]
    )
    assert [m.index for m in two.top] == [1, 0]
    # A target-side query ranks source-side candidates.
    [back] = bundle.predict(
        [FAMILY.request_from_text(candidates[0], side="target", candidates=[query, "лес гора"])]
    )
    assert back.side == "target" and back.top[0].text == query and len(back.top) == 1


def test_predict_cli_shows_the_ranking(trained) -> None:
    query, answer = _pairs(640)[1]
    text = f"{query} ||| {answer} ||| cat dog sea"
    result = runner.invoke(app, ["predict", str(trained.bundle), text, "--top", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{answer} (") and result.output.count("cos") == 2
    plain = runner.invoke(app, ["predict", str(trained.bundle), query, "--json"])
    answer = json.loads(plain.output)
    assert len(answer["embedding"]) == 16 and not answer["truncated"]
    long = runner.invoke(app, ["predict", str(trained.bundle), "кот " * 129])  # 128 are read
    assert long.exit_code == 0 and "embedding (16 dims)" in long.output
    assert "cut to the bundle's maximum length" in long.output


@pytest.mark.parametrize("shared", [True, False], ids=["shared-gru", "gru-and-transformer"])
def test_a_saved_and_loaded_model_embeds_identically(
    tsv: Path, tmp_path: Path, shared: bool
) -> None:
    transformer = {"type": "transformer", "hidden_size": 16, "num_heads": 2, "max_positions": 4}
    raw = _raw(tsv, shared=True) if shared else _raw(tsv, target_encoder=transformer)
    raw["data"]["shared_vocabulary"] = shared
    raw["train"] = {"max_steps": 5, "progress": False}
    recipe = recipe_from_dict(raw)
    prepared = FAMILY.prepare(recipe)
    model = FAMILY.new_model(recipe, prepared)
    FAMILY.train(model, prepared, recipe, tmp_path / "run", resume=False)
    path = save_bundle(
        tmp_path / "bundle",
        model,
        task=FAMILY.task,
        preprocessing=prepared.preprocessing,
        tokenizer=prepared.tokenizer,
        recipe=recipe_to_dict(recipe),
    )
    bundle = load_bundle(path)
    assert (bundle.model.target is None) == bundle.tokenizer.shared == shared
    # A Transformer reads at most its max_positions tokens: longer targets are cut.
    assert bundle.preprocessing.max_target_length == (128 if shared else 4)
    pairs = prepared.data["test"]
    for loaded, original in zip(
        FAMILY.embed_pairs(bundle.model, bundle, pairs),
        FAMILY.embed_pairs(model.eval(), prepared, pairs),
        strict=True,
    ):
        assert torch.equal(loaded, original)


def test_two_threads_predict_like_sequential_calls(trained) -> None:
    bundle = load_bundle(trained.bundle)
    pairs = _pairs(640)[:4]
    requests = [
        FAMILY.request_from_text(f"{s} ||| " + " ||| ".join(t for _, t in pairs), top_k=4)
        for s, _ in pairs
    ]
    expected = bundle.predict(requests)  # one padded pass answers like one by one
    for alone, batched in zip([bundle.predict([r])[0] for r in requests], expected, strict=True):
        assert [m.index for m in alone.top] == [m.index for m in batched.top]
        assert alone.embedding == pytest.approx(batched.embedding, abs=1e-6)
    results: list[list] = [[], []]

    def work(worker: int) -> None:
        for _ in range(20):
            results[worker].append(bundle.predict(requests))

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answers == expected for worker in results for answers in worker)


def test_recall_at_k_equals_brute_force() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, size=(40, 40)).astype(float)  # many ties
    scores[7] = 0.0  # an all-zero row: every candidate ties with the right one
    expected = {}
    for k in (1, 3, 10):
        hits = 0
        for i, row in enumerate(scores):
            # Worst case among ties: the right candidate after every other as good.
            order = sorted(range(40), key=lambda j: (-row[j], j == i))
            hits += order.index(i) < k
        expected[k] = hits / 40
    assert recall_at_k(scores, (1, 3, 10)) == pytest.approx(expected)
    assert recall_at_k(np.eye(5)) == {1: 1.0, 10: 1.0}
    assert recall_at_k(np.zeros((5, 5)), (1, 4, 5)) == {1: 0.0, 4: 0.0, 5: 1.0}


def test_transliteration_and_the_tfidf_baseline_on_names() -> None:
    assert transliterate("Щука и ёж, Цапля!") == "Shhuka i yozh, Caplya!"
    assert transliterate("подъезд, семья, Эхо") == "podezd, semya, Exo"
    ru = ["Москва", "Новосибирск", "Екатеринбург", "Казань", "Самара", "Омск", "Ростов",
          "Уфа и Пермь", "Красноярск", "Воронеж", "Волгоград", "Тюмень"]  # fmt: skip
    en = ["Moskva", "Novosibirsk", "Ekaterinburg", "Kazan", "Samara", "Omsk", "Rostov",
          "Ufa i Perm", "Krasnoyarsk", "Voronezh", "Volgograd", "Tyumen"]  # fmt: skip
    similarity = tfidf_similarity(ru + en, ru, en)
    assert recall_at_k(similarity, (1,)) == {1: 1.0}
    assert recall_at_k(similarity.T, (1,)) == {1: 1.0}


def test_the_retrieval_set_keeps_texts_that_occur_once() -> None:
    pairs = [("a", "x"), ("b", "y"), ("a", "z"), ("c", "y"), ("d", "w")]
    chosen, distinct = retrieval_set(pairs, 10, seed=0)
    assert chosen == [("a", "x"), ("b", "y"), ("d", "w")] and distinct == 3
    sample, _ = retrieval_set(_pairs(50), 20, seed=1)
    assert len(sample) == 20 and sample == [p for p in _pairs(50) if p in set(sample)]


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("  ", {}, "bad request: text: value error, the text is empty"),
        ("кот дом", {"side": "english"}, "side: input should be 'source' or 'target'"),
        ("кот дом |||", {}, "a candidate text is empty"),
        ("кот дом", {"candidates": []}, "candidates: list should have at least 1 item"),
        ("кот", {"top_k": 0}, "top_k"),
    ],
)
def test_bad_requests_are_one_line_user_errors(text: str, options: dict, message: str) -> None:
    with pytest.raises(UserError) as error:
        FAMILY.request_from_text(text, **options)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_bad_input_on_the_command_line_is_one_line_exit_2(trained) -> None:
    for text, message in [
        ("кот |||", "a candidate text is empty"),
        ("target:", "the text is empty"),
    ]:
        result = runner.invoke(app, ["predict", str(trained.bundle), text])
        assert result.exit_code == 2, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_recipe_mistakes_are_user_errors(tsv: Path) -> None:
    with pytest.raises(UserError, match=r"data\.shared_vocabulary = true"):
        recipe_from_dict(_raw(tsv, shared=True))
    raw = _raw(tsv, shared=True, target_encoder={"type": "cnn"})
    raw["data"]["shared_vocabulary"] = True
    with pytest.raises(UserError, match="one encoder for both sides"):
        recipe_from_dict(raw)
    recipe = recipe_from_dict(_raw(tsv))
    for data, match in [
        ({"dataset": "mr"}, "'mr' is for text-classification, not sentence-similarity"),
        ({"path": None}, r"needs data\.path"),
    ]:
        wrong = dataclasses.replace(recipe, data=dataclasses.replace(recipe.data, **data))
        with pytest.raises(UserError, match=match):
            FAMILY.prepare(wrong)
    with pytest.raises(UserError, match=r"unknown model\.source_encoder\.type"):
        recipe_from_dict(_raw(tsv, source_encoder={"type": "gruu"}))
