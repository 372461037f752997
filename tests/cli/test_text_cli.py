"""``seqlab tokenize`` and ``seqlab tfidf``, run for real through typer's CliRunner."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from seqlab.cli.main import app
from seqlab.text.tokenizers import BPETokenizer, CharTokenizer

runner = CliRunner()


def make_app() -> typer.Typer:
    return app  # seqlab's own app: a UserError becomes one line and exit code 2


def invoke(*args: str):
    return runner.invoke(make_app(), [str(arg) for arg in args])


def test_tokenize_word_default_lowercases_and_keeps_cyrillic() -> None:
    result = invoke("tokenize", "Привет, МИР! Ёжик ток-шоу")
    assert result.exit_code == 0, result.output
    assert result.output == "привет , мир ! ёжик ток-шоу\n"
    result = invoke("tokenize", "Привет, МИР!", "--no-lowercase")
    assert result.output == "Привет , МИР !\n"
    assert invoke("tokenize", "Ёжик", "--yo-to-e").output == "ежик\n"


def test_tokenize_file_one_line_per_input_line(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("ab c\n\nД д\n", encoding="utf-8")
    result = invoke("tokenize", "--file", path, "--kind", "char")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["a b ▁ c", "", "Д ▁ д"]
    ids = invoke("tokenize", "--file", path, "--kind", "char", "--ids")
    tokenizer = CharTokenizer().fit(["ab c", "Д д"])
    assert ids.output.splitlines()[0] == " ".join(map(str, tokenizer.encode("ab c")))


def test_tokenize_bpe_pieces_cover_the_input(tmp_path: Path) -> None:
    text = "the cat sat on the mat, the cat sat.\nкошка сидела на коврике"
    result = invoke("tokenize", text, "--kind", "bpe", "--vocab-size", "300")
    assert result.exit_code == 0, result.output
    shown = result.output.splitlines()
    # English pieces are exactly the input text they cover.
    assert "".join(shown[0].split(" ")).replace("▁", " ") == text.splitlines()[0]
    # One shown piece per token id of the same tokenizer trained the same way.
    same = BPETokenizer(vocab_size=300, min_frequency=1).fit(text.splitlines())
    for line, pieces in zip(text.splitlines(), shown, strict=True):
        assert len(pieces.split(" ")) == len(same.encode(line))
    saved = tmp_path / "tokenizer.json"
    CharTokenizer().fit(["xyz"]).save(saved)
    assert invoke("tokenize", "zyx", "--tokenizer", saved).output == "z y x\n"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["tokenize"], "either TEXT or --file"),
        (["tokenize", "   "], "empty"),
        (["tokenize", "a", "--kind", "morse"], "unknown --kind 'morse' — use one of word,"),
        (["tokenize", "a", "--kind", "bep"], "unknown --kind 'bep' — did you mean 'bpe'?"),
        (["tokenize", "--file", "/nonexistent/file.txt"], "not found"),
        (["tfidf", "/nonexistent/file.txt"], "not found"),
    ],
)
def test_user_errors(args, match) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert match in result.output


def test_tokenize_whitespace_kind_keeps_pretokenised_tokens() -> None:
    result = invoke("tokenize", "Mr. <unk> said N", "--kind", "whitespace")
    assert result.exit_code == 0, result.output
    assert result.output == "mr. <unk> said n\n"
    result = invoke("tokenize", "Mr. <unk>", "--kind", "whitespace", "--no-lowercase")
    assert result.output == "Mr. <unk>\n"


def test_non_utf8_and_empty_files(tmp_path: Path) -> None:
    cp1251 = tmp_path / "cp1251.txt"
    cp1251.write_bytes("Привет".encode("cp1251"))
    for command in ("tokenize", "tfidf"):
        args = ["--file", cp1251] if command == "tokenize" else [cp1251]
        result = invoke(command, *args)
        assert result.exit_code == 2
        assert "not UTF-8: byte 0xcf at offset 0 (line 1)" in result.output
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert "no documents" in invoke("tfidf", empty).output
    assert "empty" in invoke("tokenize", "--file", empty).output


def l2_normalised(weights: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(value * value for value in weights.values()))
    return {term: value / norm for term, value in weights.items()}


def test_tfidf_top_terms_per_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.txt"
    path.write_text("a b a\nb c\n\nc c c d\n", encoding="utf-8")
    result = invoke("tfidf", path, "--top", "2")
    assert result.exit_code == 0, result.output
    # Lecture TF-IDF by hand: TF = n_t / len(d), IDF = log(3 / df), then l2 per row.
    first = l2_normalised({"a": 2 / 3 * math.log(3), "b": 1 / 3 * math.log(1.5)})
    last = l2_normalised({"c": 3 / 4 * math.log(1.5), "d": 1 / 4 * math.log(3)})
    assert result.output.splitlines() == [
        f"[1] a {first['a']:.3f}, b {first['b']:.3f}",
        "[2] b 0.707, c 0.707",
        f"[4] c {last['c']:.3f}, d {last['d']:.3f}",
    ]
    single = tmp_path / "single.txt"
    single.write_text("only one document\n", encoding="utf-8")
    # One document: log(1/1) = 0 for every term under the lecture IDF.
    assert invoke("tfidf", single).output == "[1] (no term with a non-zero weight)\n"


def test_tfidf_per_class_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(
        "label,text\npos,a great great film\nneg,a dull film\npos,great fun\nneg,dull and slow\n",
        encoding="utf-8",
    )
    result = invoke("tfidf", path, "--top", "2")
    assert result.exit_code == 0, result.output
    # Class documents: "a" and "film" are in both (IDF 0); the rest have IDF log 2.
    negative = l2_normalised({"dull": 2 / 6, "and": 1 / 6, "slow": 1 / 6})
    positive = l2_normalised({"great": 3 / 6, "fun": 1 / 6})
    assert result.output.splitlines() == [
        f"[neg] dull {negative['dull']:.3f}, and {negative['and']:.3f}",
        f"[pos] great {positive['great']:.3f}, fun {positive['fun']:.3f}",
    ]
    tsv = tmp_path / "reviews.tsv"
    tsv.write_text("y\tsentence\n1\tgood good\n0\tbad\n", encoding="utf-8")
    result = invoke(
        "tfidf", tsv, "--label-column", "y", "--text-column", "sentence", "--idf", "smooth"
    )
    assert result.output.splitlines() == ["[0] bad 1.000", "[1] good 1.000"]
    missing = invoke("tfidf", path, "--label-column", "stars")
    assert "column 'stars' not in the file (columns: label, text)" in missing.output
