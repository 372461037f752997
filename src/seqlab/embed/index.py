"""An exact cosine index over a collection's embeddings, saved as a folder.

Legend: N items, Q queries, E embedding size, k neighbours.

    index = EmbeddingIndex.build(load_embedder(MINILM), texts, ids=..., labels=...)
    index.save("runs/bbc-index")
    EmbeddingIndex.load("runs/bbc-index").search("oil prices rise", k=10)

Folder (written to a temporary name, then renamed: :func:`seqlab.atomic.folder`)::

    vectors.npy   (N, E) float32, unit rows (cosine = dot product)
    items.jsonl   one {"id", "text", "label", "metadata"} a line, in row order
    index.json    {"format", "embedder": EmbedderOptions, "model", "count", "dim", ...}

**Exact search only.** A query is one (N, E) x (E,) product and an ``argpartition`` for
the top k (O(N), then only k are sorted): for N = 10^5 items of E = 384 that took about
15 ms per query on this shared 2-core machine (measured), so an approximate index (HNSW,
IVF) would buy little below millions of items and would cost recall and a dependency.
Larger sets of queries go in blocks of rows so the (Q, N) score matrix stays small.

**Outliers** are the items with the lowest mean cosine to their k nearest neighbours
(k = 10 by default), not the items farthest from the collection's centroid: a
collection of several topics has no meaningful single centre — a sound article of the
smallest topic is far from the centroid, while an article close to no other article is
isolated whatever the topics (a k-NN density, as in local outlier scores).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from seqlab import atomic
from seqlab.errors import UserError, did_you_mean
from seqlab.transfer.embedder import Embedder, Progress, embedder_from_options

FORMAT = "seqlab.embedding-index/1"
_BLOCK_FLOATS = 1 << 24  # scores computed per block of query rows: 64 MB of float32


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """(N, E) -> float32 rows of unit L2 norm (a zero row stays zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def nearest(
    queries: np.ndarray | sp.spmatrix,
    vectors: np.ndarray | sp.spmatrix,
    k: int,
    exclude: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of ``vectors`` with the largest dot product with each query.

    ``queries`` (Q, E) and ``vectors`` (N, E), dense or scipy sparse (TF-IDF), with unit
    rows for cosine. ``exclude`` (Q,): a row of ``vectors`` each query may not return
    (itself, for "more like this" or leave-one-out). Returns ``(indices (Q, k) int64,
    scores (Q, k) float32)``, best first; equal scores by row number. k is capped at
    the rows available.
    """
    count = vectors.shape[0]
    k = min(k, count - (exclude is not None))
    if k < 1:
        raise UserError("not enough items to search", "index at least two texts")
    rows = queries.shape[0]
    block = max(1, _BLOCK_FLOATS // max(count, 1))
    indices = np.empty((rows, k), dtype=np.int64)
    scores = np.empty((rows, k), dtype=np.float32)
    for start in range(0, rows, block):
        part = queries[start : start + block] @ vectors.T  # (b, N)
        part = np.asarray(part.toarray() if sp.issparse(part) else part, dtype=np.float32)
        if exclude is not None:
            part[np.arange(part.shape[0]), exclude[start : start + block]] = -np.inf
        top = np.argpartition(-part, k - 1, axis=1)[:, :k]  # (b, k) unordered
        top_scores = np.take_along_axis(part, top, axis=1)
        order = np.lexsort((top, -top_scores), axis=1)  # by score, then row number
        indices[start : start + block] = np.take_along_axis(top, order, axis=1)
        scores[start : start + block] = np.take_along_axis(top_scores, order, axis=1)
    return indices, scores


@dataclass
class Hit:
    """One answer: the item, its cosine to the query (or its outlier score) and its rank."""

    rank: int
    id: str
    score: float
    text: str
    label: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.id,
            "score": round(self.score, 6),
            "label": self.label,
            "text": self.text,
            **({"metadata": self.metadata} if self.metadata else {}),
        }


class EmbeddingIndex:
    """Unit (N, E) vectors with their items; exact cosine search (see the module doc)."""

    def __init__(
        self,
        vectors: np.ndarray,
        items: list[dict[str, Any]],
        info: dict[str, Any],
        embedder: Embedder | None = None,
    ) -> None:
        if vectors.ndim != 2 or vectors.shape[0] != len(items):
            raise UserError(
                f"{vectors.shape[0]} vectors for {len(items)} items", "rebuild the index"
            )
        self.vectors = unit_rows(vectors)
        self.items, self.info = items, info
        self._embedder = embedder
        self._rows = {str(item["id"]): row for row, item in enumerate(items)}

    # ------------------------------------------------------------------ build, save, load
    @classmethod
    def build(
        cls,
        embedder: Embedder,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        labels: Sequence[str | None] | None = None,
        metadata: Sequence[dict[str, Any]] | None = None,
        progress: Progress | None = None,
    ) -> EmbeddingIndex:
        """Embed ``texts`` (long ones chunked) and keep them with their ids (default: the
        row numbers), labels and metadata."""
        texts = list(texts)
        if not texts:
            raise UserError("the collection is empty", "give at least one text")
        ids = [str(i) for i in range(len(texts))] if ids is None else [str(i) for i in ids]
        for name, values in (("ids", ids), ("labels", labels), ("metadata", metadata)):
            if values is not None and len(values) != len(texts):
                raise UserError(f"{len(values)} {name} for {len(texts)} texts", "give one each")
        seen: set[str] = set()
        for item_id in ids:
            if item_id in seen:
                raise UserError(f"item id {item_id!r} is used twice", "ids must be unique")
            seen.add(item_id)
        items = [
            {
                "id": item_id,
                "text": text,
                "label": None if labels is None else labels[row],
                "metadata": {} if metadata is None else dict(metadata[row]),
            }
            for row, (item_id, text) in enumerate(zip(ids, texts, strict=True))
        ]
        long = sum(not embedder.fits(text) for text in texts)
        info = {
            "format": FORMAT,
            "embedder": embedder.options.to_dict(),
            "model": embedder.description,
            "count": len(texts),
            "dim": embedder.dim,
            # Texts longer than one window: chunked, or truncated when chunking is off.
            ("chunked" if embedder.options.chunk else "truncated"): long,
        }
        return cls(embedder.embed(texts, progress), items, info, embedder)

    def save(self, folder: str | Path) -> Path:
        """Write the index folder atomically (temporary folder, then rename)."""
        with atomic.folder(folder) as temp:
            np.save(temp / "vectors.npy", self.vectors)
            lines = (json.dumps(item, ensure_ascii=False) for item in self.items)
            (temp / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
            (temp / "index.json").write_text(json.dumps(self.info, indent=2) + "\n")
        return Path(folder)

    @classmethod
    def load(cls, folder: str | Path) -> EmbeddingIndex:
        """Read a folder written by :meth:`save`; anything else is one UserError line."""
        folder = Path(folder)
        meta = folder / "index.json"
        if not meta.is_file():
            raise UserError(
                f"{folder} is not an embedding index (no index.json)",
                "build one with `seqlab embed index --model MODEL SOURCE --out FOLDER`",
            )
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
            vectors = np.load(folder / "vectors.npy", allow_pickle=False)
            with (folder / "items.jsonl").open(encoding="utf-8") as handle:
                items = [json.loads(line) for line in handle if line.strip()]
        except (OSError, ValueError) as error:
            raise UserError(f"{folder} is a damaged index ({error})", "rebuild it") from None
        if not isinstance(info, dict) or info.get("format") != FORMAT:
            found = info.get("format") if isinstance(info, dict) else None
            raise UserError(f"{meta} has format {found!r}, not {FORMAT!r}", "rebuild the index")
        return cls(vectors, items, info)

    # ------------------------------------------------------------------ queries
    @property
    def embedder(self) -> Embedder:
        """The model that made the vectors (loaded from ``index.json`` on first use)."""
        if self._embedder is None:
            self._embedder = embedder_from_options(self.info["embedder"])
        return self._embedder

    def use_model(self, path: str | Path) -> None:
        """Read queries with the model at ``path`` (the index's own, moved elsewhere)."""
        options = {**self.info["embedder"], "path": str(path)}
        self._embedder = embedder_from_options(options)

    def __len__(self) -> int:
        return len(self.items)

    def row(self, item_id: str) -> int:
        """The row of ``item_id``; an unknown id is a UserError with the closest ones."""
        row = self._rows.get(str(item_id))
        if row is None:
            hint = did_you_mean(item_id, self._rows)
            if not hint.startswith("did you mean"):  # not a list of every id of a collection
                examples = ", ".join(repr(i) for i in list(self._rows)[:3])
                hint = f"use an id of the index's items.jsonl, e.g. {examples}"
            raise UserError(f"no item {item_id!r} in this index of {len(self)} items", hint)
        return row

    def hit(self, rank: int, row: int, score: float) -> Hit:
        item = self.items[row]
        return Hit(
            rank, str(item["id"]), float(score), item["text"], item.get("label"),
            item.get("metadata") or {},
        )  # fmt: skip

    def _hits(self, rows: np.ndarray, scores: np.ndarray) -> list[Hit]:
        pairs = zip(rows, scores, strict=True)
        return [self.hit(rank, row, score) for rank, (row, score) in enumerate(pairs, 1)]

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """(Q, E) unit vectors of ``queries``: chunked when long, refused when chunking is
        off (a truncated query would silently match on its first sentences only)."""
        embedder = self.embedder
        if not embedder.options.chunk:
            for query in queries:
                if not embedder.fits(query):
                    raise UserError(
                        f"the query has {embedder.count_tokens(query)} tokens, more than the "
                        f"model reads ({embedder.window}) and this index does not chunk",
                        "shorten the query, or rebuild the index with chunking",
                    )
        return unit_rows(embedder.embed(list(queries)))

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The k items most similar (cosine) to ``query``, best first."""
        indices, scores = nearest(self.embed_queries([query]), self.vectors, k)
        return self._hits(indices[0], scores[0])

    def similar(self, item_id: str, k: int = 10) -> list[Hit]:
        """ "More like this": the k items nearest ``item_id``, excluding the item itself."""
        row = self.row(item_id)
        indices, scores = nearest(self.vectors[row : row + 1], self.vectors, k, np.array([row]))
        return self._hits(indices[0], scores[0])

    def neighbour_scores(self, k: int = 10) -> np.ndarray:
        """(N,) mean cosine of each item to its k nearest other items (module doc)."""
        rows = np.arange(len(self))
        _, scores = nearest(self.vectors, self.vectors, k, exclude=rows)
        return scores.mean(axis=1)

    def outliers(self, top: int = 10, k: int = 10) -> list[Hit]:
        """The ``top`` items least similar to their k nearest neighbours, most isolated
        first; a hit's score is that mean cosine."""
        density = self.neighbour_scores(k)
        order = np.lexsort((np.arange(len(self)), density))[:top]
        return self._hits(order, density[order])
