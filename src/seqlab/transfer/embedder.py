"""Texts -> fixed-size vectors: a pretrained network used as a feature extractor.

Legend: N texts, C chunks, B batch, T steps, E embedding size, V TF-IDF vocabulary.

:class:`Embedder` reads a folder that is either

* a BERT-family checkpoint (``config.json`` without a ``task`` + ``model.safetensors`` +
  ``tokenizer.json``, e.g. sentence-transformers' all-MiniLM-L6-v2), loaded by
  :func:`seqlab.models.bert.load_bert` and pooled by :meth:`BertEncoder.pool`
  (``mean`` / ``max`` / ``cls``), or
* a seqlab bundle whose model has a token embedding and an encoder (``fill-mask``, an
  LM, a text classifier), taken by :func:`seqlab.families.text.pretrained_encoder` and
  pooled by :class:`seqlab.nn.heads.Pooling` (``mean`` / ``max`` / ``last``; ``cls``
  only when its tokenizer is a BERT one that adds [CLS]: seqlab's own tokenizers add
  none, and ``last`` is then the analogue for a causal encoder).

Both ignore padded steps, so a text's vector does not depend on its batch.

**Long texts are chunked, not truncated.** A Transformer reads at most ``max_length``
tokens (MiniLM: 256, its ``sentence_bert_config.json``); sentence-transformers silently
drops the rest, so a 2,000-word article would be represented by its first ~200 words.
Here the text's tokens (without specials) are cut into windows of ``max_length`` minus
the specials, starting every ``stride`` tokens (default: 3/4 of a window, so consecutive
windows overlap by a quarter and no sentence is only ever seen cut at a border); the last
window is aligned to the text's end so it is full. Each window is wrapped in the model's
specials ([CLS] … [SEP]) and embedded; the chunk vectors are then averaged **weighted
by their token counts** (mean pooling over a text of several chunks is then close to the
mean over all its tokens) — with ``pooling="max"`` the chunks' element-wise maximum is
taken instead, which is the maximum over all tokens. L2 normalisation comes last. A text
that fits one window is one chunk, exactly what the model reads unchunked (tested).
All chunks of all texts are batched together, sorted by length so batches pad little.

:class:`TfidfEmbedder` is the same-interface bag-of-words baseline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from seqlab.data.batching import pad_sequences
from seqlab.data.datasets import checkpoint_folder
from seqlab.errors import UserError, did_you_mean
from seqlab.text.tokenizers import PretrainedTokenizer, Tokenizer

Pooling = Literal["mean", "max", "cls", "last"]
POOLINGS: tuple[str, ...] = ("mean", "max", "cls", "last")
Progress = Callable[[int, int], None]  # (chunks done, chunks in all)


@dataclass(frozen=True)
class EmbedderOptions:
    """Everything that decides an :class:`Embedder`'s vectors (saved in ``index.json``).

    ``path``: the model folder (absolute). ``max_length``: tokens a chunk holds with its
    specials (None: the model's own maximum). ``stride``: tokens between chunk starts
    (None: 3/4 of a chunk's text). ``chunk=False`` truncates long texts instead.
    """

    path: str
    pooling: Pooling = "mean"
    normalize: bool = True
    batch_size: int = 32
    max_length: int | None = None
    stride: int | None = None
    chunk: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_bundle(folder: Path) -> bool:
    """True for a seqlab bundle (its config.json names a task), False for a checkpoint."""
    meta = folder / "config.json"
    if not folder.is_dir():
        raise UserError(f"model folder not found: {folder}", "check the path")
    if not meta.is_file():
        raise UserError(
            f"{folder} is not a model folder (no config.json)",
            "pass a BERT checkpoint folder (e.g. all-MiniLM-L6-v2) or a seqlab bundle folder",
        )
    try:
        return "task" in json.loads(meta.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as error:
        raise UserError(f"{meta} is not a JSON object ({error})", "restore the file") from None


class _BundleEncoder(nn.Module):
    """A bundle's embedding + encoder + :class:`Pooling`: (B, T) ids, (B,) lengths -> (B, E)."""

    def __init__(self, embedding: nn.Embedding, encoder: nn.Module, pooling: str) -> None:
        super().__init__()
        from seqlab.nn.heads import Pooling as PoolingModule

        self.embedding, self.encoder, self.kind = embedding, encoder, pooling
        if pooling != "cls":
            self.pool = PoolingModule(pooling, encoder.output_size, encoder.directions)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        outputs, _ = self.encoder(self.embedding(ids), lengths)  # (B, T, D)
        if self.kind == "cls":  # a bundle fine-tuned from BERT keeps its [CLS] first
            return outputs[:, 0]
        return self.pool(outputs, lengths)[0]  # (B, D)


def _specials(tokenizer: Tokenizer, plain: Tokenizer) -> tuple[list[int], list[int]]:
    """The ids the model's tokenizer puts before and after a text ([CLS], [SEP]), found
    by encoding a probe with and without them (so RoBERTa's <s> … </s> works too)."""
    full, body = tokenizer.encode("a b"), plain.encode("a b")
    for start in range(len(full) - len(body) + 1):
        if full[start : start + len(body)] == body:
            return full[:start], full[start + len(body) :]
    raise UserError("cannot find the text inside the tokenizer's template", "report this model")


class Embedder:
    """Texts -> (N, E) float32 vectors with a pretrained encoder; see the module doc.

    Build it with :func:`load_embedder`. ``embed(texts)`` chunks long texts (or truncates
    them with ``chunk=False``), and ``count_tokens(text)`` says how long a text is.
    """

    def __init__(
        self,
        model: Callable[[Tensor, Tensor], Tensor],
        tokenizer: Tokenizer,
        options: EmbedderOptions,
        model_max: int | None,
        dim: int,
        description: str,
    ) -> None:
        self.model, self.tokenizer, self.options = model, tokenizer, options
        self.dim, self.description = dim, description  # E, and a line saying what the model is
        if isinstance(tokenizer, PretrainedTokenizer):
            # The same tokenizer without specials and without truncation: chunking needs
            # every token of a long text, and the window adds the specials itself.
            params = {"add_special_tokens": False, "max_length": None}
            self.plain: Tokenizer = PretrainedTokenizer.from_dict(
                {**tokenizer.to_dict(), "params": params}
            )
            self.prefix, self.suffix = _specials(tokenizer, self.plain)
        else:  # a seqlab tokenizer adds nothing and never truncates (the family does)
            self.plain, self.prefix, self.suffix = tokenizer, [], []
        length = options.max_length or model_max
        if options.max_length is not None and model_max is not None and length > model_max:
            raise UserError(
                f"max_length {length} is more than the model reads ({model_max} tokens)",
                f"pass --max-length {model_max} or less",
            )
        extra = len(self.prefix) + len(self.suffix)
        if length is not None and length <= extra:
            raise UserError(f"max_length {length} leaves no room for text", "pass a larger one")
        self.max_length = length
        # Text tokens per chunk (None: any length fits, e.g. a recurrent encoder).
        self.window = None if length is None else length - extra
        stride = options.stride or (None if self.window is None else max(1, self.window * 3 // 4))
        if stride is not None and self.window is not None and not 0 < stride <= self.window:
            raise UserError(
                f"stride {stride} must be between 1 and the window ({self.window} tokens)",
                "chunks must overlap or touch, else text is skipped",
            )
        self.stride = stride

    @property
    def path(self) -> str:
        return self.options.path

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without the model's specials."""
        return len(self.plain.encode(text))

    def fits(self, text: str) -> bool:
        """Whether ``text`` fits one window (no chunking or truncation needed)."""
        return self.window is None or self.count_tokens(text) <= self.window

    def chunks(self, text: str) -> list[list[int]]:
        """The id lists the model reads for ``text``: one a window, specials included."""
        ids = self.plain.encode(text)
        window = self.window
        if window is None or len(ids) <= window:
            pieces = [ids]
        elif not self.options.chunk:
            pieces = [ids[:window]]
        else:
            assert self.stride is not None
            starts = [*range(0, len(ids) - window, self.stride), len(ids) - window]
            pieces = [ids[start : start + window] for start in starts]
        wrapped = [self.prefix + piece + self.suffix for piece in pieces]
        # A bundle's encoder cannot read an empty sequence: one <unk>, as its family does.
        return [chunk or [self.tokenizer.unk_id] for chunk in wrapped]

    @torch.no_grad()
    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """N texts -> (N, E) float32 vectors (unit rows when ``normalize``).

        ``progress(done, total)`` is called after each batch, counting chunks.
        """
        if isinstance(texts, str):
            raise UserError("embed got a single string", "pass a list of texts, e.g. [text]")
        chunks: list[list[int]] = []
        owner: list[int] = []  # (C,) the text each chunk belongs to
        for row, text in enumerate(texts):
            pieces = self.chunks(text)
            chunks.extend(pieces)
            owner.extend([row] * len(pieces))
        vectors = self._embed_chunks(chunks, progress)  # (C, E)
        owners = np.asarray(owner, dtype=np.int64)
        if self.options.pooling == "max":
            pooled = np.full((len(texts), vectors.shape[1]), -np.inf, dtype=np.float64)
            np.maximum.at(pooled, owners, vectors)
        else:
            weights = np.asarray([len(chunk) for chunk in chunks], dtype=np.float64)  # (C,)
            pooled = np.zeros((len(texts), vectors.shape[1]), dtype=np.float64)
            np.add.at(pooled, owners, vectors * weights[:, None])
            pooled /= np.bincount(owners, weights, minlength=len(texts))[:, None]
        if self.options.normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)

    def _embed_chunks(self, chunks: list[list[int]], progress: Progress | None) -> np.ndarray:
        """C id lists -> (C, E) float64 pooled chunk vectors (not normalised)."""
        order = sorted(range(len(chunks)), key=lambda index: len(chunks[index]))
        out: np.ndarray | None = None
        size = self.options.batch_size
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            ids, lengths = pad_sequences(
                [chunks[r] for r in rows], self.tokenizer.pad_id, torch.long
            )
            pooled = self.model(ids, lengths).double().numpy()  # (B, E)
            if out is None:
                out = np.empty((len(chunks), pooled.shape[1]), dtype=np.float64)
            out[rows] = pooled
            if progress is not None:
                progress(min(start + size, len(order)), len(order))
        if out is None:
            raise UserError("nothing to embed", "pass at least one text")
        return out


def load_embedder(
    path: str | Path,
    pooling: str | None = None,
    normalize: bool = True,
    batch_size: int = 32,
    max_length: int | None = None,
    stride: int | None = None,
    chunk: bool = True,
) -> Embedder:
    """An :class:`Embedder` of the model folder ``path`` (a BERT checkpoint or a seqlab
    bundle; or a registered checkpoint's name, e.g. ``"minilm"``). ``pooling=None``: what
    a sentence-transformers folder says (MiniLM: mean), else mean. A folder that is not a
    model is one UserError line."""
    folder = checkpoint_folder(Path(path).expanduser()).resolve()
    if pooling is not None and pooling not in POOLINGS:
        raise UserError(f"unknown pooling {pooling!r}", did_you_mean(pooling, POOLINGS))
    if batch_size < 1:
        raise UserError(f"batch_size {batch_size} must be at least 1", "e.g. 32")
    if _is_bundle(folder):
        from seqlab.families.text import pretrained_encoder

        kind = pooling or "mean"
        try:
            source = pretrained_encoder(str(folder))
        except UserError as error:  # its messages name the recipe key that calls it
            message = error.message.removeprefix("model.encoder_from: ")
            raise UserError(message, error.fix) from None
        if kind == "cls" and not isinstance(source.tokenizer, PretrainedTokenizer):
            raise UserError(
                "this bundle's tokenizer adds no [CLS] token to pool",
                "use --pooling mean, max or last",
            )
        model: Any = _BundleEncoder(source.embedding, source.encoder, kind).eval()
        tokenizer = source.tokenizer
        model_max = getattr(source.encoder, "max_positions", None)
        dim, what = source.encoder.output_size, source.description
    else:
        from seqlab.models.bert import load_bert

        if pooling == "last":
            raise UserError("BERT pools mean, max or its [CLS] token", "use --pooling cls")
        bert, tokenizer = load_bert(folder, pooling=pooling, normalize=False)  # type: ignore[arg-type]
        kind = bert.config.pooling
        model, model_max = bert.embed, tokenizer.max_length
        dim, what = (
            bert.config.encoder.hidden_size,
            f"BERT checkpoint {folder.parent.name}/{folder.name}",
        )
    options = EmbedderOptions(
        str(folder),
        kind,
        normalize,
        batch_size,
        max_length,
        stride,
        chunk,  # type: ignore[arg-type]
    )
    return Embedder(model, tokenizer, options, model_max, dim, what)


def embedder_from_options(options: dict[str, Any]) -> Embedder:
    """The :class:`Embedder` an ``index.json`` describes (:meth:`EmbedderOptions.to_dict`)."""
    try:
        return load_embedder(**options)
    except TypeError as error:
        raise UserError(f"bad embedder options {options} ({error})", "rebuild the index") from None


class TfidfEmbedder:
    """The bag-of-words baseline with :class:`Embedder`'s interface: ``embed(texts)`` ->
    (N, V) CSR float32 rows of unit L2 norm (cosine = dot product, as for embeddings).

    Sparse, because dense rows of a news collection's ~30k-term vocabulary would take
    hundreds of MB for a few thousand texts. The first ``embed`` (or ``fit``) learns the
    vocabulary and IDF from its texts — the collection itself, as a search index would —
    and later calls reuse them. seqlab's own :class:`~seqlab.text.tfidf.TfidfVectorizer`
    with scikit-learn's smooth IDF, sublinear TF and English stop words.
    """

    def __init__(self, min_df: int = 2, sublinear_tf: bool = True, stop_words: str = "english"):
        from seqlab.text.tfidf import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(
            stop_words=stop_words,
            min_df=min_df,
            idf="smooth",
            tf="raw",
            norm="l2",
            sublinear_tf=sublinear_tf,
        )
        self.fitted = False

    def fit(self, texts: Sequence[str]) -> TfidfEmbedder:
        self.vectorizer.fit(list(texts))
        self.fitted = True
        return self

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> sp.csr_matrix:
        """N texts -> (N, V) sparse float32, unit rows (an empty text stays a zero row)."""
        if isinstance(texts, str):
            raise UserError("embed got a single string", "pass a list of texts, e.g. [text]")
        if not self.fitted:
            self.fit(texts)
        matrix = self.vectorizer.transform(list(texts)).astype(np.float32).tocsr()
        if progress is not None:
            progress(len(texts), len(texts))
        return matrix

    def terms(self) -> np.ndarray:
        """(V,) the term of each column."""
        return self.vectorizer.get_feature_names_out()
