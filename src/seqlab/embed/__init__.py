"""A collection of texts as vectors: an exact cosine index (``index``), clusters with their
top terms and scores (``cluster``), and extractive summaries (``summarize``). The vectors
come from :mod:`seqlab.transfer.embedder`; the CLI is ``seqlab embed``."""

from seqlab.embed.index import EmbeddingIndex, Hit, nearest

__all__ = ["EmbeddingIndex", "Hit", "nearest"]
