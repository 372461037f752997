"""KeyedVectors against gensim's KeyedVectors (oracle) and file-format round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKeyedVectors

from seqlab.errors import UserError
from seqlab.text import keyed_vectors
from seqlab.text.keyed_vectors import KeyedVectors, load_vectors, navec_path


@pytest.fixture
def vectors() -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)] + ["Москва", "ёж"]
    return words, rng.normal(size=(len(words), 12)).astype(np.float32)


def gensim_twin(words: list[str], matrix: np.ndarray) -> GensimKeyedVectors:
    twin = GensimKeyedVectors(matrix.shape[1])
    twin.add_vectors(words, matrix)
    return twin


def assert_same_neighbours(ours: list, theirs: list) -> None:
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)


def test_most_similar_similarity_analogy_match_gensim(vectors) -> None:
    words, matrix = vectors
    ours, theirs = KeyedVectors(words, matrix), gensim_twin(words, matrix)
    for query in [
        {"positive": ["w1"]},
        {"positive": ["w1", "w2"], "negative": ["w3"], "topn": 7},
        {"positive": ["Москва"], "negative": ["w5", "w6"], "topn": 20},
        {"positive": ["w0"], "topn": 5, "restrict_vocab": 30},
        {"negative": ["w9"], "topn": 3},
    ]:
        assert_same_neighbours(ours.most_similar(**query), theirs.most_similar(**query))
    for a, b in [("w1", "w2"), ("ёж", "w40"), ("w7", "w7")]:
        assert ours.similarity(a, b) == pytest.approx(float(theirs.similarity(a, b)), rel=1e-5)
    assert_same_neighbours(
        ours.analogy("w1", "w2", "w3", topn=4),
        theirs.most_similar(positive=["w2", "w3"], negative=["w1"], topn=4),
    )


def test_lookup_and_unknown_words(vectors) -> None:
    words, matrix = vectors
    kv = KeyedVectors(words, matrix)
    assert "w3" in kv and "nope" not in kv and len(kv) == 62 and kv.vector_size == 12
    np.testing.assert_array_equal(kv["w3"], matrix[3])
    np.testing.assert_array_equal(kv[["w3", "ёж"]], matrix[[3, 61]])
    with pytest.raises(UserError, match="'nope' is not in the vocabulary"):
        kv.most_similar("nope")
    with pytest.raises(UserError, match="not in the vocabulary"):
        kv.similarity("w1", "nope")
    with pytest.raises(UserError, match="do not match"):
        KeyedVectors(words[:3], matrix)
    with pytest.raises(UserError, match="duplicate"):
        KeyedVectors(["a", "a"], matrix[:2])


@pytest.mark.parametrize("target", ["folder", "file.safetensors"])
def test_save_load_round_trip(vectors, tmp_path: Path, target: str) -> None:
    words, matrix = vectors
    counts = np.arange(len(words))[::-1]
    KeyedVectors(words, matrix, counts).save(tmp_path / target)
    loaded = KeyedVectors.load(tmp_path / target)
    assert loaded.index_to_key == words
    np.testing.assert_array_equal(loaded.vectors, matrix)
    np.testing.assert_array_equal(loaded.counts, counts)
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temp files


def test_load_missing_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no saved word vectors"):
        KeyedVectors.load(tmp_path / "nothing")
    with pytest.raises(UserError, match=r"no vectors\.safetensors"):
        KeyedVectors.load(tmp_path)


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_format_round_trip_with_gensim(vectors, tmp_path: Path, binary: bool) -> None:
    words, matrix = vectors
    ours_file, gensim_file = tmp_path / "ours.w2v", tmp_path / "gensim.w2v"
    KeyedVectors(words, matrix).save_word2vec_format(ours_file, binary=binary)
    read_by_gensim = GensimKeyedVectors.load_word2vec_format(str(ours_file), binary=binary)
    assert read_by_gensim.index_to_key == words
    np.testing.assert_array_equal(read_by_gensim.vectors, matrix)

    gensim_twin(words, matrix).save_word2vec_format(str(gensim_file), binary=binary)
    read_by_us = KeyedVectors.load_word2vec_format(gensim_file, binary=binary)
    assert read_by_us.index_to_key == words
    np.testing.assert_allclose(read_by_us.vectors, matrix, rtol=1e-6)
    limited = KeyedVectors.load_word2vec_format(ours_file, binary=binary, limit=5)
    assert limited.index_to_key == words[:5] and limited.vectors.shape == (5, 12)


def test_word2vec_format_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("not a header\n", encoding="utf-8")
    with pytest.raises(UserError, match="COUNT DIM"):
        KeyedVectors.load_word2vec_format(bad)
    short = tmp_path / "short.txt"
    short.write_text("2 3\na 1 2 3\nb 1 2\n", encoding="utf-8")
    with pytest.raises(UserError, match="has 2 values, expected 3"):
        KeyedVectors.load_word2vec_format(short)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(b"2 3\na " + np.zeros(3, "<f4").tobytes() + b"\nb " + b"\0" * 4)
    with pytest.raises(UserError, match="ends early"):
        KeyedVectors.load_word2vec_format(truncated, binary=True)
    with pytest.raises(UserError, match="no such file"):
        KeyedVectors.load_word2vec_format(tmp_path / "missing.bin", binary=True)


def test_from_navec_matches_the_navec_package() -> None:
    path = navec_path()
    if path is None:
        pytest.skip("natasha (which ships navec_news_v1_1B_250K_300d_100q.tar) is not installed")
    from navec import Navec

    kv = KeyedVectors.from_navec(path, limit=2000)
    navec = Navec.load(str(path))
    assert kv.vectors.shape == (2000, 300)
    assert "<unk>" not in kv and "<pad>" not in kv
    assert list(kv.counts) == sorted(kv.counts, reverse=True)  # most frequent first
    for word in [*kv.index_to_key[:50:7], "россия"]:
        if word in kv:
            np.testing.assert_allclose(kv[word], navec[word], rtol=1e-6)
    assert kv.similarity("россия", "москва") == pytest.approx(navec.sim("россия", "москва"), 1e-5)
    with pytest.raises(UserError, match="no navec tar"):
        KeyedVectors.from_navec(Path("/nonexistent/navec.tar"))


def test_load_vectors_picks_the_format_from_the_path(vectors, tmp_path: Path, monkeypatch) -> None:
    words, matrix = vectors
    kv = KeyedVectors(words, matrix)
    kv.save(tmp_path / "folder")
    kv.save_word2vec_format(tmp_path / "v.txt")
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    for name in ("folder", "v.txt", "v.bin"):
        loaded = load_vectors(tmp_path / name)
        assert loaded.index_to_key == words
        np.testing.assert_allclose(loaded.vectors, matrix, rtol=1e-6)
    monkeypatch.setattr(keyed_vectors, "navec_path", lambda: None)
    with pytest.raises(UserError, match="navec vectors are not installed"):
        load_vectors("navec")
