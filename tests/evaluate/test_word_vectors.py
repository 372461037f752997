"""Analogy accuracy and word-similarity Spearman against gensim's evaluators (oracle)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKeyedVectors

from seqlab.errors import UserError
from seqlab.evaluate.word_vectors import (
    analogy_accuracy,
    evaluate_word_vectors,
    gensim_test_file,
    word_similarity_spearman,
)
from seqlab.text.keyed_vectors import KeyedVectors


def analogy_vectors(questions: Path, noise: float, seed: int = 0) -> KeyedVectors:
    """Vectors where b - a + c lands near d for many questions, but not all.

    Each (a, b) pair of a question shares an identity vector; the first word of a pair
    adds a section's "role 1" offset, the second "role 2". Noise makes some answers wrong.
    Case variants ("athens" after "Athens") test gensim's first-spelling-wins rule.
    """
    rng = np.random.default_rng(seed)
    identity: dict[str, np.ndarray] = {}
    vectors: dict[str, np.ndarray] = {}
    roles: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    section = ""
    for line in questions.read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            section = line
            roles[section] = (rng.normal(size=20), rng.normal(size=20))
            continue
        words = line.split()
        for first, second in ((words[0], words[1]), (words[2], words[3])):
            shared = identity.get(first, identity.get(second, rng.normal(size=20)))
            identity.setdefault(first, shared)
            identity.setdefault(second, shared)
            for word, role in ((first, 0), (second, 1)):
                if word not in vectors:
                    vectors[word] = shared + roles[section][role] + noise * rng.normal(size=20)
    words = list(vectors)
    lowercase = [w.lower() for w in words[::3] if w.lower() not in vectors]
    matrix = np.array([vectors[w] for w in words] + [rng.normal(size=20) for _ in lowercase])
    return KeyedVectors(words + lowercase, matrix.astype(np.float32))


def subset_questions(tmp_path: Path, every: int = 7) -> Path:
    lines = gensim_test_file("questions-words.txt").read_text(encoding="utf-8").splitlines()
    kept = [line for i, line in enumerate(lines) if line.startswith(":") or i % every == 0]
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def gensim_twin(kv: KeyedVectors) -> GensimKeyedVectors:
    twin = GensimKeyedVectors(kv.vector_size)
    twin.add_vectors(kv.index_to_key, kv.vectors)
    return twin


@pytest.mark.parametrize(("noise", "restrict"), [(0.6, 30000), (1.0, 300)])
def test_analogy_accuracy_equals_gensim(tmp_path: Path, noise: float, restrict: int) -> None:
    questions = subset_questions(tmp_path)
    kv = analogy_vectors(questions, noise)
    ours = analogy_accuracy(kv, questions, restrict_vocab=restrict)
    score, sections = gensim_twin(kv).evaluate_word_analogies(
        str(questions), restrict_vocab=restrict
    )
    assert 0.05 < ours["accuracy"] < 0.98  # a real mix of right and wrong answers
    assert ours["accuracy"] == pytest.approx(score)
    gensim_sections = {s["section"]: s for s in sections}
    for name, section in ours["per_section"].items():
        assert section["correct"] == len(gensim_sections[name]["correct"])
        assert section["total"] == section["correct"] + len(gensim_sections[name]["incorrect"])
    assert ours["total"] == len(gensim_sections["Total accuracy"]["correct"]) + len(
        gensim_sections["Total accuracy"]["incorrect"]
    )
    assert 0 < ours["coverage"] <= 1


def test_analogy_case_sensitive_equals_gensim(tmp_path: Path) -> None:
    questions = subset_questions(tmp_path, every=11)
    kv = analogy_vectors(questions, 0.8, seed=1)
    ours = analogy_accuracy(kv, questions, case_insensitive=False)
    score, _ = gensim_twin(kv).evaluate_word_analogies(str(questions), case_insensitive=False)
    assert ours["accuracy"] == pytest.approx(score)


@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
def test_word_similarity_equals_gensim(name: str) -> None:
    path = gensim_test_file(name)
    words = sorted(
        {
            w
            for line in path.read_text().splitlines()
            if not line.startswith("#")
            for w in line.split("\t")[:2]
        }
    )
    rng = np.random.default_rng(0)
    kv = KeyedVectors([*words[::2], "Tiger"], rng.normal(size=(len(words[::2]) + 1, 16)))
    ours = word_similarity_spearman(kv, path)
    pearson, spearman, oov_ratio = gensim_twin(kv).evaluate_word_pairs(str(path))
    assert ours["spearman"] == pytest.approx(spearman.statistic, abs=1e-12)
    assert ours["pearson"] == pytest.approx(pearson[0], abs=1e-6)  # float32 cosines
    assert 100 * (1 - ours["coverage"]) == pytest.approx(oov_ratio)


def test_errors_and_the_combined_report(tmp_path: Path) -> None:
    kv = KeyedVectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    with pytest.raises(UserError, match="evaluation file not found"):
        analogy_accuracy(kv, tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text(": section\n", encoding="utf-8")
    with pytest.raises(UserError, match="no 'a b c d' questions"):
        analogy_accuracy(kv, empty)
    with pytest.raises(UserError, match="no pair"):
        word_similarity_spearman(kv, gensim_test_file("wordsim353.tsv"))
    report = evaluate_word_vectors(kv)
    assert report["analogy"]["accuracy"] is None and report["analogy"]["coverage"] == 0
    assert report["wordsim353"]["spearman"] is None and "no pair" in report["wordsim353"]["error"]
