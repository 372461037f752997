"""Extractive summaries from sentence embeddings, a lead baseline and ROUGE-1.

Legend: S sentences of one document, E embedding size.

A document is split into sentences (:func:`split_sentences`), each sentence embedded
(any :class:`~seqlab.transfer.embedder.Embedder`, unit rows), and n sentences chosen:

* ``centroid`` (Radev et al. 2004, with embeddings as in Rossiello et al. 2017): the
  sentences most similar to the document's mean vector — what the document is "about";
  with ``redundancy`` set, a sentence whose cosine to one already chosen exceeds it is
  skipped (near-duplicates say the same thing twice).
* ``textrank`` (Mihalcea & Tarau 2004): PageRank over the graph whose edge weights are
  the sentences' cosine similarities (negative ones dropped: PageRank needs non-negative
  weights, and an opposite sentence is no endorsement). A sentence is central when it
  is similar to other central sentences. :func:`textrank_scores` runs the power
  iteration; the test checks it against the principal eigenvector of the damped
  transition matrix and against networkx.
* ``lead``: the first n sentences — the classic news baseline (journalists put the
  essentials first), hard to beat on news.

The chosen sentences are returned in document order. :func:`rouge1` is ROUGE-1 (Lin
2004) exactly as Google's ``rouge_score`` computes it without stemming (tested).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from seqlab.errors import UserError, did_you_mean

Method = Literal["textrank", "centroid", "lead"]
METHODS: tuple[str, ...] = ("textrank", "centroid", "lead")

# -------------------------------------------------------------------- sentence splitting
# seqlab.text has word tokenizers but no sentence splitter, so a small rule-based one:
# a sentence ends at . ! ? (closing quotes/brackets included) followed by white space and
# an upper-case letter, a digit or an opening quote — unless the word before the full
# stop is a known abbreviation ("Mr. Blair"), an initial ("J. K. Rowling") or dotted
# letters ("U.S. troops"). A line break always ends a sentence (titles, paragraphs).
_BOUNDARY = re.compile(r"""[.!?]+["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])""")
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "jr",
        "sr",
        "sir",
        "rev",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "gov",
        "sen",
        "rep",
        "pres",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "no",
        "nos",
        "fig",
        "al",
        "approx",
        "dept",
        "est",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mt",
        "ft",
    }
)
_DOTTED = re.compile(r"(?:[a-z]\.)+[a-z]?|[a-z]")


def _is_abbreviation(before: str) -> bool:
    """Whether the text before a full stop ends with an abbreviation or an initial."""
    words = before.split()
    if not words:
        return False
    word = words[-1].lstrip("\"'“‘([").lower()
    return word in _ABBREVIATIONS or bool(_DOTTED.fullmatch(word))


def split_sentences(text: str) -> list[str]:
    """A text -> its sentences (stripped, none empty); see the rules above."""
    sentences: list[str] = []
    for line in text.splitlines():
        line, start = line.strip(), 0
        for match in _BOUNDARY.finditer(line):
            if line[match.start()] == "." and _is_abbreviation(line[start : match.start()]):
                continue
            sentences.append(line[start : match.end()].strip())
            start = match.end()
        if line[start:].strip():
            sentences.append(line[start:].strip())
    return sentences


# -------------------------------------------------------------------- scoring sentences
def similarity_graph(vectors: np.ndarray) -> np.ndarray:
    """(S, E) unit rows -> (S, S) edge weights: cosine clipped at 0, zero diagonal."""
    weights = np.clip(vectors @ vectors.T, 0.0, None).astype(np.float64)
    np.fill_diagonal(weights, 0.0)
    return weights


def transition_matrix(weights: np.ndarray) -> np.ndarray:
    """(S, S) weights -> row-stochastic (S, S): P[i, j] = w_ij / sum_j w_ij; a sentence
    with no edge jumps anywhere uniformly (PageRank's dangling nodes)."""
    out = weights.sum(axis=1, keepdims=True)
    uniform = np.full_like(weights, 1.0 / len(weights))
    return np.where(out > 0, weights / np.where(out > 0, out, 1.0), uniform)


def textrank_scores(
    weights: np.ndarray, damping: float = 0.85, tol: float = 1e-12, max_iter: int = 1000
) -> np.ndarray:
    """PageRank of the weighted graph: (S, S) weights -> (S,) scores summing to 1.

    Power iteration of r <- (1 - d) / S + d * r P until the L1 change is below ``tol``;
    it converges geometrically at rate d, so 1000 steps of d = 0.85 are far beyond need.
    """
    count = len(weights)
    if count == 0:
        return np.zeros(0)
    transition = transition_matrix(weights)
    rank = np.full(count, 1.0 / count)
    for _ in range(max_iter):
        new = (1.0 - damping) / count + damping * (rank @ transition)
        if np.abs(new - rank).sum() < tol:
            return new
        rank = new
    return rank


def centroid_scores(vectors: np.ndarray) -> np.ndarray:
    """(S, E) unit rows -> (S,) cosine of each sentence to the document's mean vector."""
    centre = vectors.mean(axis=0)
    return vectors @ (centre / max(float(np.linalg.norm(centre)), 1e-12))


@dataclass
class Summary:
    """The chosen sentences (document order), their indices, every sentence's score."""

    method: str
    sentences: list[str]
    indices: list[int]
    scores: list[float]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "indices": self.indices, "summary": self.sentences}


def choose(scores: np.ndarray, n: int, vectors: np.ndarray, redundancy: float | None) -> list[int]:
    """The n best-scoring indices (ties: earlier first), skipping those whose cosine to
    one already chosen exceeds ``redundancy``; returned in document order."""
    chosen: list[int] = []
    for index in np.lexsort((np.arange(len(scores)), -scores)):
        if len(chosen) == n:
            break
        too_close = (
            redundancy is not None
            and chosen
            and float(np.max(vectors[chosen] @ vectors[index])) > redundancy
        )
        if too_close:
            continue
        chosen.append(int(index))
    return sorted(chosen)


def summarize(
    sentences: list[str],
    vectors: np.ndarray | None,
    n: int = 3,
    method: str = "textrank",
    redundancy: float | None = None,
    damping: float = 0.85,
) -> Summary:
    """Choose ``n`` of ``sentences`` with (S, E) unit ``vectors`` (unused by ``lead``)."""
    if method not in METHODS:
        raise UserError(f"unknown summary method {method!r}", did_you_mean(method, METHODS))
    if n < 1:
        raise UserError(f"{n} sentences", "ask for at least one")
    if method == "lead":
        scores = -np.arange(len(sentences), dtype=np.float64)  # earlier is better
        indices = list(range(min(n, len(sentences))))
    else:
        if vectors is None or len(vectors) != len(sentences):
            raise UserError("one vector a sentence is needed", "embed the sentences first")
        if method == "textrank":
            scores = textrank_scores(similarity_graph(vectors), damping)
        else:
            scores = centroid_scores(vectors)
        indices = choose(scores, n, vectors, redundancy)
    return Summary(method, [sentences[i] for i in indices], indices, scores.tolist())


def summarize_text(
    text: str, embedder: Any, n: int = 3, method: str = "textrank", **options: Any
) -> Summary:
    """Split ``text``, embed its sentences with ``embedder`` and :func:`summarize`."""
    sentences = split_sentences(text)
    if not sentences:
        raise UserError("the text has no sentences", "pass a non-empty text")
    vectors = None if method == "lead" else embedder.embed(sentences)
    return summarize(sentences, vectors, n, method, **options)


# -------------------------------------------------------------------- ROUGE-1
_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    """rouge_score's tokenisation without stemming: lower case, runs of anything but
    a-z 0-9 are separators (so accented letters split words, as there)."""
    return _NON_ALPHANUMERIC.sub(" ", text.lower()).split()


@dataclass(frozen=True)
class Rouge:
    precision: float
    recall: float
    f1: float


def rouge1(candidate: str, reference: str) -> Rouge:
    """ROUGE-1 of ``candidate`` against ``reference``: clipped unigram overlap over the
    candidate's (precision) and the reference's (recall) unigram counts, and their F1."""
    ours, theirs = Counter(rouge_tokens(candidate)), Counter(rouge_tokens(reference))
    overlap = sum((ours & theirs).values())
    precision = overlap / max(sum(ours.values()), 1)
    recall = overlap / max(sum(theirs.values()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return Rouge(precision, recall, f1)
