"""Word vectors with a vocabulary: lookup, cosine neighbours, analogies, save/load.

The query semantics follow gensim's ``KeyedVectors`` so results can be compared one to
one (tests/text/test_keyed_vectors.py is an oracle against gensim): ``most_similar``
averages the *unit* vectors of the positive words and subtracts those of the negative
words, then ranks every word by cosine to that mean and leaves the query words out.
``analogy(a, b, c)`` is 3CosAdd (Mikolov et al. 2013, "Linguistic regularities"):
``b - a + c``.

Shapes: N = number of words, D = vector size.

Storage (no pickle anywhere): a folder with ``vectors.safetensors`` + ``vocab.json``, or
one ``*.safetensors`` file with the vocabulary in its JSON metadata; and the word2vec
C tool's text/binary format (``save_word2vec_format``), readable by gensim.
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from seqlab import atomic
from seqlab.errors import UserError

PathLike = str | os.PathLike[str]
VECTORS_FILE = "vectors.safetensors"
VOCAB_FILE = "vocab.json"
_FORMAT = "seqlab.keyed_vectors/1"


class KeyedVectors:
    """A vocabulary (``index_to_key``) and its vectors ``(N, D)`` float32.

    Args:
        index_to_key: the words, most frequent first by convention (``restrict_vocab``
            in queries keeps the first words).
        vectors: ``(N, D)`` array.
        counts: optional corpus counts ``(N,)``.
    """

    def __init__(
        self,
        index_to_key: Sequence[str],
        vectors: np.ndarray,
        counts: np.ndarray | None = None,
    ) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(index_to_key):
            raise UserError(
                f"vectors of shape {vectors.shape} do not match {len(index_to_key)} words",
                "pass one row per word",
            )
        self.index_to_key = list(index_to_key)
        self.key_to_index = {key: index for index, key in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise UserError("the vocabulary has duplicate words", "pass each word once")
        self.vectors = vectors
        self.counts = None if counts is None else np.ascontiguousarray(counts, dtype=np.int64)
        self._norms: np.ndarray | None = None

    # ------------------------------------------------------------------ lookup
    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        return key in self.key_to_index

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} words, {self.vector_size} dims)"

    def get_index(self, key: str) -> int:
        """Row of ``key``; an unknown word is a :class:`UserError` naming it."""
        try:
            return self.key_to_index[key]
        except KeyError:
            raise UserError(
                f"word {key!r} is not in the vocabulary ({len(self)} words)",
                "check the spelling/case or lower min_count when training",
            ) from None

    def __getitem__(self, key: str | Iterable[str]) -> np.ndarray:
        """``(D,)`` for a word, ``(K, D)`` for a list of words."""
        if isinstance(key, str):
            return self.vectors[self.get_index(key)]
        return self.vectors[[self.get_index(k) for k in key]]

    @property
    def norms(self) -> np.ndarray:
        """L2 norm of each row ``(N,)`` (computed once)."""
        if self._norms is None or len(self._norms) != len(self.vectors):
            self._norms = np.linalg.norm(self.vectors, axis=1)
        return self._norms

    def unit_vectors(self) -> np.ndarray:
        """Rows scaled to unit length ``(N, D)``; zero rows stay zero."""
        norms = self.norms
        return self.vectors / np.where(norms > 0, norms, 1.0)[:, None].astype(np.float32)

    # ----------------------------------------------------------------- queries
    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        va, vb = self[a], self[b]
        denominator = float(np.linalg.norm(va) * np.linalg.norm(vb))
        return float(np.dot(va, vb) / denominator) if denominator > 0 else 0.0

    def _query_vector(self, positive: Sequence[str], negative: Sequence[str]) -> np.ndarray:
        if not positive and not negative:
            raise UserError("most_similar needs at least one word", "pass positive=[...]")
        mean = np.zeros(self.vector_size, dtype=np.float32)
        for key, weight in [(k, 1.0) for k in positive] + [(k, -1.0) for k in negative]:
            index = self.get_index(key)
            norm = self.norms[index]
            if norm > 0:
                mean += np.float32(weight) * (self.vectors[index] / norm)
        # gensim divides by the total weight and then renormalises; only the direction counts.
        mean /= len(positive) + len(negative)
        length = np.linalg.norm(mean)
        return mean / length if length > 0 else mean

    def most_similar(
        self,
        positive: str | Sequence[str] | None = None,
        negative: str | Sequence[str] | None = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """Words nearest (cosine) to ``mean(unit(positive)) - mean(unit(negative))``.

        The query words themselves are never returned. ``restrict_vocab`` searches only
        the first rows (the most frequent words).
        """
        positive = [positive] if isinstance(positive, str) else list(positive or [])
        negative = [negative] if isinstance(negative, str) else list(negative or [])
        if topn < 1:
            raise UserError(f"topn must be at least 1, got {topn}", "pass topn >= 1")
        mean = self._query_vector(positive, negative)
        end = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        norms = self.norms[:end]
        scores = (self.vectors[:end] @ mean) / np.where(norms > 0, norms, 1.0)
        exclude = {self.key_to_index[k] for k in positive + negative}
        wanted = min(topn + len(exclude), end)
        best = np.argpartition(-scores, wanted - 1)[:wanted] if wanted < end else np.arange(end)
        best = best[np.argsort(-scores[best], kind="stable")]
        result = [(self.index_to_key[i], float(scores[i])) for i in best if i not in exclude]
        return result[:topn]

    def analogy(self, a: str, b: str, c: str, topn: int = 1) -> list[tuple[str, float]]:
        """``a : b :: c : ?`` by 3CosAdd (the answer is near ``b - a + c``)."""
        return self.most_similar(positive=[b, c], negative=[a], topn=topn)

    # -------------------------------------------------------------- save/load
    def save(self, path: PathLike) -> None:
        """Save to a folder (vectors.safetensors + vocab.json) or one ``.safetensors`` file."""
        from safetensors.numpy import save

        path = Path(path)
        # safetensors writes the raw buffer: a strided view would be saved as garbage.
        tensors = {"vectors": np.ascontiguousarray(self.vectors, dtype=np.float32)}
        if self.counts is not None:
            tensors["counts"] = np.ascontiguousarray(self.counts)
        vocab = {"format": _FORMAT, "index_to_key": self.index_to_key}
        if path.suffix == ".safetensors":
            blob = save(tensors, metadata={"vocab": json.dumps(vocab, ensure_ascii=False)})
            atomic.write_bytes(path, blob)
            return
        blob = save(tensors)
        text = json.dumps(vocab, ensure_ascii=False).encode("utf-8")
        atomic.write_bytes(path / VECTORS_FILE, blob)
        atomic.write_bytes(path / VOCAB_FILE, text)

    @classmethod
    def load(cls, path: PathLike) -> KeyedVectors:
        """Load what :meth:`save` wrote (a folder or a ``.safetensors`` file)."""
        from safetensors import safe_open
        from safetensors.numpy import load_file

        path = Path(path)
        if path.is_dir():
            vectors_path, vocab_path = path / VECTORS_FILE, path / VOCAB_FILE
            if not vectors_path.exists() or not vocab_path.exists():
                raise UserError(
                    f"{path} has no {VECTORS_FILE} + {VOCAB_FILE}",
                    "point to a folder written by KeyedVectors.save / `seqlab w2v train`",
                )
            vocab = json.loads(vocab_path.read_text(encoding="utf-8"))
        elif path.is_file() and path.suffix == ".safetensors":
            vectors_path = path
            with safe_open(str(path), framework="numpy") as handle:
                metadata = handle.metadata() or {}
            if "vocab" not in metadata:
                raise UserError(f"{path} has no vocabulary metadata", "save with KeyedVectors.save")
            vocab = json.loads(metadata["vocab"])
        else:
            raise UserError(
                f"no saved word vectors at {path}",
                "pass a folder or .safetensors file written by KeyedVectors.save",
            )
        tensors = load_file(str(vectors_path))
        return cls(vocab["index_to_key"], tensors["vectors"], tensors.get("counts"))

    def save_word2vec_format(self, path: PathLike, binary: bool = False) -> None:
        """Write the word2vec C tool's format (header ``N D``; one word + vector a line)."""

        def write(stream) -> None:
            stream.write(f"{len(self)} {self.vector_size}\n".encode())
            for key, row in zip(self.index_to_key, self.vectors, strict=True):
                if binary:  # word, space, D little-endian float32, newline (as word2vec.c)
                    stream.write(key.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
                else:  # %.9g round-trips float32 exactly
                    values = " ".join(f"{float(v):.9g}" for v in row)
                    stream.write(f"{key} {values}\n".encode())

        atomic.write_stream(path, write)

    @classmethod
    def load_word2vec_format(
        cls, path: PathLike, binary: bool = False, limit: int | None = None
    ) -> KeyedVectors:
        """Read the word2vec C tool's text or binary format (first ``limit`` words)."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"no such file: {path}", "pass a word2vec .txt/.bin file")
        with open(path, "rb") as stream:
            header = stream.readline().split()
            try:
                count, size = int(header[0]), int(header[1])
            except (IndexError, ValueError):
                raise UserError(
                    f"{path} does not start with a 'COUNT DIM' header",
                    "pass a file in word2vec format (or check --binary)",
                ) from None
            if limit is not None:
                count = min(count, limit)
            words: list[str] = []
            vectors = np.empty((count, size), dtype=np.float32)
            if binary:
                _read_binary_rows(stream.read(), path, words, vectors)
            else:
                for row in range(count):
                    parts = stream.readline().decode("utf-8").rstrip().split(" ")
                    if len(parts) != size + 1:
                        raise UserError(
                            f"{path} line {row + 2} has {len(parts) - 1} values, expected {size}",
                            "pass binary=True for a binary file, or fix the file",
                        )
                    words.append(parts[0])
                    vectors[row] = np.asarray(parts[1:], dtype=np.float32)
        return cls(words, vectors)

    @classmethod
    def from_navec(cls, path: PathLike, limit: int | None = None) -> KeyedVectors:
        """Load navec's quantised Russian vectors (a ``navec_*.tar``), most frequent first.

        navec (natasha project) stores 300-d vectors product-quantised; they are unpacked
        to float32 here. ``limit`` keeps the ``limit`` most frequent words; ``<unk>`` and
        ``<pad>`` are dropped.
        """
        from navec import Navec

        path = Path(path)
        if not path.is_file() or not tarfile.is_tarfile(path):
            raise UserError(
                f"no navec tar at {path}", "pass e.g. navec_news_v1_1B_250K_300d_100q.tar"
            )
        navec = Navec.load(str(path))
        words = np.asarray(navec.vocab.words, dtype=object)
        counts = np.asarray(navec.vocab.counts, dtype=np.int64)
        keep = np.nonzero((words != "<unk>") & (words != "<pad>"))[0]
        order = keep[np.argsort(-counts[keep], kind="stable")][:limit]
        indexes = navec.pq.indexes[order]  # (N, Q) centroid ids per sub-space
        parts = navec.pq.codes[np.arange(navec.pq.qdim), indexes]  # (N, Q, D / Q)
        vectors = parts.reshape(len(order), navec.pq.dim).astype(np.float32)
        return cls(words[order].tolist(), vectors, counts[order])


def _read_binary_rows(data: bytes, path: Path, words: list[str], vectors: np.ndarray) -> None:
    """Parse ``word SPACE float32*D`` records (optionally newline-separated, as word2vec.c)."""
    width = 4 * vectors.shape[1]
    position = 0
    for row in range(len(vectors)):
        while data[position : position + 1] == b"\n":
            position += 1
        space = data.find(b" ", position)
        if space < 0 or space + 1 + width > len(data):
            raise UserError(f"{path} ends early at word {row}", "the file is truncated")
        words.append(data[position:space].decode("utf-8"))
        vectors[row] = np.frombuffer(data, dtype="<f4", count=width // 4, offset=space + 1)
        position = space + 1 + width


def load_vectors(path: PathLike) -> KeyedVectors:
    """Word vectors from any supported source, chosen by the path.

    ``"navec"`` (natasha's bundled Russian vectors), a navec ``.tar``, a word2vec
    ``.bin`` / ``.txt`` / ``.vec`` file, or a folder / ``.safetensors`` file written by
    :meth:`KeyedVectors.save` (``seqlab w2v train``).
    """
    if str(path) == "navec":
        found = navec_path()
        if found is None:
            raise UserError(
                "navec vectors are not installed", "pip install --no-deps natasha==1.6.0"
            )
        return KeyedVectors.from_navec(found)
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_file() and suffix == ".bin":
        return KeyedVectors.load_word2vec_format(path, binary=True)
    if path.is_file() and suffix in (".txt", ".vec"):
        return KeyedVectors.load_word2vec_format(path, binary=False)
    if path.is_file() and suffix == ".tar":
        return KeyedVectors.from_navec(path)
    return KeyedVectors.load(path)


def navec_path() -> Path | None:
    """The navec file shipped inside the ``natasha`` package, if natasha is installed."""
    import importlib.util

    spec = importlib.util.find_spec("natasha")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "data/emb/navec_news_v1_1B_250K_300d_100q.tar"
    return path if path.is_file() else None
