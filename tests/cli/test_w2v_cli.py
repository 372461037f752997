"""``seqlab w2v train|similar|analogy|eval|plot`` run for real on a tiny corpus."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seqlab.cli.main import app
from seqlab.text.keyed_vectors import KeyedVectors

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, ["w2v", *[str(arg) for arg in args]])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two topics (animals, cities), one sentence per line, with punctuation and case."""
    folder = tmp_path_factory.mktemp("w2v")
    rng = np.random.default_rng(0)
    topics = [
        ["Кошка", "собака", "мышь", "king", "queen", "man", "woman"],
        ["Москва", "Париж", "Лондон", "Берлин", "Рим", "Мадрид", "Вена"],
    ]
    lines = []
    for _ in range(600):
        topic = topics[rng.integers(2)]
        lines.append(", ".join(topic[i] for i in rng.integers(0, 7, 8)) + ".")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = folder / "vectors"
    result = invoke(
        "train",
        corpus,
        "--out",
        out,
        "--vector-size",
        16,
        "--window",
        3,
        "--min-count",
        2,
        "--epochs",
        3,
        "--sample",
        0,
        "--workers",
        1,
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    assert "14 words x 16 dims" in result.output
    return out


def test_train_writes_vectors_and_summary(trained: Path) -> None:
    kv = KeyedVectors.load(trained)
    assert len(kv) == 14 and "кошка" in kv and "," not in kv  # lowercased, no punctuation
    summary = json.loads((trained / "word2vec.json").read_text(encoding="utf-8"))
    assert summary["params"]["vector_size"] == 16 and summary["sentences"] == 600
    assert summary["loss_per_epoch"][-1] < summary["loss_per_epoch"][0]


def test_similar_lists_same_topic_neighbours(trained: Path) -> None:
    result = invoke("similar", trained, "москва", "--topn", 3)
    assert result.exit_code == 0, result.output
    assert (
        sum(
            city in result.output for city in ["париж", "лондон", "берлин", "рим", "мадрид", "вена"]
        )
        == 3
    )


def test_analogy_and_eval_and_plot(trained: Path, tmp_path: Path) -> None:
    result = invoke("analogy", trained, "man", "king", "woman", "--topn", 2)
    assert result.exit_code == 0 and "man : king :: woman : ?" in result.output
    report = tmp_path / "eval.json"
    result = invoke("eval", trained, "--json", report)
    assert result.exit_code == 0, result.output
    assert "analogy accuracy" in result.output and "wordsim353" in result.output
    data = json.loads(report.read_text())
    assert data["wordsim353"]["pairs"] >= 1  # king/queen/man/woman pairs are in WordSim
    png = tmp_path / "words.png"
    result = invoke("plot", trained, "москва", "париж", "кошка", "собака", "--out", png)
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    png_tsne = tmp_path / "tsne.png"
    result = invoke(
        "plot", trained, "москва", "париж", "кошка", "собака", "--out", png_tsne, "--tsne"
    )
    assert result.exit_code == 0 and png_tsne.stat().st_size > 1000


def test_word2vec_format_files_are_accepted(trained: Path, tmp_path: Path) -> None:
    binary = tmp_path / "vectors.bin"
    KeyedVectors.load(trained).save_word2vec_format(binary, binary=True)
    result = invoke("similar", binary, "кошка", "--topn", 2)
    assert result.exit_code == 0, result.output


def test_user_errors_exit_2_with_one_line(trained: Path, tmp_path: Path) -> None:
    cp1251 = tmp_path / "cp1251.txt"
    cp1251.write_bytes("привет мир\n".encode("cp1251"))
    result = invoke("train", cp1251, "--out", tmp_path / "out", "--no-progress")
    assert result.exit_code == 2 and "is not UTF-8: byte 0xef at offset 0" in result.output
    result = invoke("train", tmp_path / "missing.txt", "--out", tmp_path / "out", "--no-progress")
    assert result.exit_code == 2 and "error: corpus file not found:" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = invoke("similar", trained, "жираф")
    assert result.exit_code == 2 and "'жираф' is not in the vocabulary" in result.output
    result = invoke("plot", trained, "кошка", "жираф", "--out", tmp_path / "x.png")
    assert result.exit_code == 2 and "жираф" in result.output
    result = invoke("similar", tmp_path / "nowhere", "кошка")
    assert result.exit_code == 2 and "no saved word vectors" in result.output
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("один два\n", encoding="utf-8")
    result = invoke("train", tiny, "--out", tmp_path / "tiny", "--no-progress")
    assert result.exit_code == 2 and "min_count=5" in result.output
