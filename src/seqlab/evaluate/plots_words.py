"""2-D maps of word vectors (PCA or t-SNE) saved as PNG.

PCA (via SVD of the centred vectors) keeps global directions, so analogy offsets such
as king - man ~ queen - woman show as parallel arrows; t-SNE (van der Maaten & Hinton
2008) keeps neighbourhoods and shows clusters better.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seqlab.errors import UserError
from seqlab.text.keyed_vectors import KeyedVectors


def project_2d(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """``(N, D) -> (N, 2)`` by PCA or t-SNE."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if method == "pca":
        centred = vectors - vectors.mean(axis=0)
        _, _, components = np.linalg.svd(centred, full_matrices=False)
        projected = centred @ components[:2].T
        if projected.shape[1] < 2:  # D == 1
            projected = np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))
        return projected
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(max(1, min(30, len(vectors) - 1)))
        tsne = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca")
        return tsne.fit_transform(vectors)
    raise UserError(f"unknown projection {method!r}", "use 'pca' or 'tsne'")


def plot_words(
    kv: KeyedVectors,
    words: Sequence[str],
    path: str | os.PathLike[str],
    method: str = "pca",
    title: str | None = None,
    seed: int = 0,
) -> Path:
    """Scatter the words' vectors in 2-D with their labels; returns the PNG path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    words = list(dict.fromkeys(words))  # unique, in order
    missing = [word for word in words if word not in kv]
    if missing:
        raise UserError(
            f"not in the vocabulary: {', '.join(missing)}", "plot words the model knows"
        )
    if len(words) < 3:
        raise UserError(f"need at least 3 words to plot, got {len(words)}", "pass more words")
    points = project_2d(kv[words], method, seed)
    figure, axes = plt.subplots(figsize=(7, 6), dpi=110)
    axes.scatter(points[:, 0], points[:, 1], s=18, color="tab:blue")
    for word, (x, y) in zip(words, points, strict=True):
        axes.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9)
    axes.set_title(title or f"{len(words)} words, {method.upper()} of {kv.vector_size}-d vectors")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    from seqlab.evaluate.plots import save_figure

    path = Path(path)
    save_figure(figure, path)
    return path
