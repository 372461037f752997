"""Intrinsic evaluation of word vectors: analogies and word-similarity correlation.

- :func:`analogy_accuracy`: Mikolov et al. 2013's ``questions-words.txt`` (``a b c d``:
  a is to b as c is to d), answered by 3CosAdd (``b - a + c``). Same protocol as the C
  tool's ``compute-accuracy`` and gensim's ``evaluate_word_analogies`` (the tests check
  that the numbers are identical): only the first ``restrict_vocab`` words are searched,
  questions with a word outside them are skipped (reported as ``coverage``), the query
  words are never an answer.
- :func:`word_similarity_spearman`: Spearman's rho between human scores (WordSim-353,
  Finkelstein et al. 2002; SimLex-999, Hill et al. 2015) and cosine similarities.

The data files ship with gensim (``gensim/test/test_data``); :func:`gensim_test_file`
finds them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from seqlab.data.readers import read_text
from seqlab.errors import UserError
from seqlab.text.keyed_vectors import KeyedVectors

PathLike = str | os.PathLike[str]


def gensim_test_file(name: str) -> Path:
    """Path of a file in gensim's test data (``questions-words.txt``, ``wordsim353.tsv``…)."""
    import importlib.util

    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("gensim is not installed", "pip install gensim (it ships the test sets)")
    path = Path(spec.submodule_search_locations[0]) / "test" / "test_data" / name
    if not path.is_file():
        raise UserError(f"gensim has no test file {name}", "pass the file's path yourself")
    return path


def _restricted_vocab(kv: KeyedVectors, restrict_vocab: int, case_insensitive: bool):
    """Key -> row over the first ``restrict_vocab`` words; with case folding the most
    frequent (first) spelling of a word wins, as in gensim."""
    keys = kv.index_to_key[:restrict_vocab]
    fold = str.upper if case_insensitive else (lambda key: key)
    vocab: dict[str, int] = {}
    for index, key in enumerate(keys):
        vocab.setdefault(fold(key), index)
    return vocab, fold


def _read_lines(path: PathLike) -> list[str]:
    return read_text(path, "evaluation file", allow_empty=True).splitlines()


def analogy_accuracy(
    kv: KeyedVectors,
    questions_path: PathLike,
    restrict_vocab: int = 30000,
    case_insensitive: bool = True,
    batch_size: int = 512,
) -> dict[str, Any]:
    """Accuracy of 3CosAdd on an analogy file.

    Returns ``{"accuracy", "correct", "total", "questions", "coverage", "per_section":
    {name: {"accuracy", "correct", "total"}}}``; ``accuracy`` is over the questions that
    could be asked (``total``), ``coverage = total / questions``. An accuracy with nothing
    to measure is ``None``.
    """
    vocab, fold = _restricted_vocab(kv, restrict_vocab, case_insensitive)
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    section: str | None = None
    questions = 0
    for line_number, line in enumerate(_read_lines(questions_path), start=1):
        if line.startswith(": "):
            section = line[2:].strip()
            sections.setdefault(section, [])
            continue
        words = [fold(word) for word in line.split()]
        if len(words) != 4:
            continue
        if section is None:
            raise UserError(
                f"{questions_path}:{line_number}: a question before any ': section' line",
                "start the file with a line like ': capital-common-countries'",
            )
        questions += 1
        if all(word in vocab for word in words):
            sections[section].append(tuple(words))  # type: ignore[arg-type]
    if questions == 0:
        raise UserError(f"{questions_path} has no 'a b c d' questions", "pass an analogy file")

    limit = min(restrict_vocab, len(kv))
    vectors, norms = kv.vectors[:limit], kv.norms[:limit]
    unit = kv.vectors[:limit] / np.where(norms > 0, norms, 1)[:, None].astype(np.float32)
    safe_norms = np.where(norms > 0, norms, 1).astype(np.float32)
    per_section: dict[str, dict[str, Any]] = {}
    for name, items in sections.items():
        correct = 0
        for begin in range(0, len(items), batch_size):
            batch = items[begin : begin + batch_size]
            index = np.array([[vocab[w] for w in item] for item in batch])  # (Q, 4)
            # gensim: mean of unit vectors with weights (+1 b, +1 c, -1 a), renormalised.
            query = unit[index[:, 1]] + unit[index[:, 2]] - unit[index[:, 0]]  # (Q, D)
            query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-30)
            scores = (vectors @ query.T).T / safe_norms  # (Q, N) cosine
            rows = np.arange(len(batch))[:, None]
            scores[rows, index[:, :3]] = -np.inf  # the query words are never returned
            top = np.argpartition(-scores, min(5, limit - 1), axis=1)[:, :5]
            top = np.take_along_axis(top, np.argsort(-scores[rows, top], axis=1), axis=1)
            for item, candidates in zip(batch, top, strict=True):
                predicted = None  # first of the top 5 that is not a query word (gensim)
                for candidate in candidates:
                    predicted = fold(kv.index_to_key[candidate])
                    if predicted in vocab and predicted not in item[:3]:
                        break
                correct += predicted == item[3]
        per_section[name] = {
            "correct": correct,
            "total": len(items),
            "accuracy": correct / len(items) if items else None,
        }
    total = sum(s["total"] for s in per_section.values())
    correct = sum(s["correct"] for s in per_section.values())
    return {
        "accuracy": correct / total if total else None,
        "correct": correct,
        "total": total,
        "questions": questions,
        "coverage": total / questions,
        "per_section": per_section,
    }


def word_similarity_spearman(
    kv: KeyedVectors,
    pairs_path: PathLike,
    restrict_vocab: int = 300000,
    case_insensitive: bool = True,
    delimiter: str = "\t",
) -> dict[str, Any]:
    """Spearman (and Pearson) correlation of cosine similarity with human scores.

    ``pairs_path``: ``word1 TAB word2 TAB score`` lines, ``#`` comments (WordSim-353 and
    SimLex-999 as gensim ships them). Pairs with an unknown word are skipped.
    Returns ``{"spearman", "pearson", "pairs", "oov", "coverage"}``.
    """
    from scipy import stats

    vocab, fold = _restricted_vocab(kv, restrict_vocab, case_insensitive)
    gold: list[float] = []
    model: list[float] = []
    oov = 0
    for line in _read_lines(pairs_path):
        if not line or line.startswith("#"):
            continue
        parts = line.split(delimiter)
        if len(parts) != 3:
            continue
        try:
            score = float(parts[2])
        except ValueError:
            continue
        a, b = fold(parts[0]), fold(parts[1])
        if a not in vocab or b not in vocab:
            oov += 1
            continue
        va, vb = kv.vectors[vocab[a]], kv.vectors[vocab[b]]
        denominator = float(np.linalg.norm(va) * np.linalg.norm(vb))
        gold.append(score)
        model.append(float(np.dot(va, vb)) / denominator if denominator > 0 else 0.0)
    if not gold:
        raise UserError(
            f"no pair of {pairs_path} has both words in the vocabulary ({oov} skipped)",
            "train on a larger corpus or check the file's format (word1 TAB word2 TAB score)",
        )
    spearman = stats.spearmanr(gold, model).statistic if len(gold) > 1 else float("nan")
    pearson = stats.pearsonr(gold, model).statistic if len(gold) > 1 else float("nan")
    return {
        "spearman": float(spearman),
        "pearson": float(pearson),
        "pairs": len(gold),
        "oov": oov,
        "coverage": len(gold) / (len(gold) + oov),
    }


def evaluate_word_vectors(kv: KeyedVectors, restrict_vocab: int = 30000) -> dict[str, Any]:
    """Analogy accuracy + WordSim-353 + SimLex-999 on gensim's copies of the test sets."""
    result: dict[str, Any] = {
        "analogy": analogy_accuracy(kv, gensim_test_file("questions-words.txt"), restrict_vocab)
    }
    for name, file in (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
        try:
            result[name] = word_similarity_spearman(kv, gensim_test_file(file))
        except UserError as error:  # no pair in the vocabulary: report, do not fail
            result[name] = {"spearman": None, "error": str(error)}
    return result
