"""``sentence-similarity``: two encoders trained into one space on parallel text (CLIP).

Data: the parallel data of the ``translation`` family, read by its own code
(:meth:`Translation.raw_pairs`: a registered data set such as ``libreoffice-en-ru``, or
``data.path`` a ``source<TAB>target`` TSV / two aligned files, split seeded 90/5/5) and
tokenized by its :meth:`Translation.tokenizers` (one tokenizer per side, or a shared
vocabulary), saved as one :class:`~seqlab.text.tokenizers.TokenizerPair`. Texts longer
than ``data.max_source_length`` / ``max_target_length`` tokens are cut, not dropped.

Model: :class:`~seqlab.models.dual_encoder.DualEncoder`, trained with CLIP's symmetric
InfoNCE over in-batch negatives (Radford et al. 2021): bigger batches, more negatives.

Report: cross-lingual retrieval over N held-out pairs (``data.retrieval_pairs``, default
1,000: a seeded sample of the split's pairs with distinct texts, all of them when fewer):
recall@1 and recall@10 of finding each source's target among the N targets (``s2t``)
and the reverse (``t2s``), beside chance (k / N) and a TF-IDF baseline measured on the
same pairs in the same run: both sides transliterated to Latin letters
(:func:`transliterate`, GOST 7.79-2000 system B, simplified), character 3-5-grams within
word boundaries (idf fitted on the training texts), cosine similarity. A pair is found at
rank r when r - 1 other candidates score at least as high (ties count against it, so an
all-zero TF-IDF row is not a hit).

Predict: a text and its side -> its unit embedding; with candidate texts of the other
side, the candidates ranked by cosine, each with CLIP's zero-shot probability
softmax(s · cos) over the candidates. On the command line:
``"source: ТЕКСТ ||| candidate 1 ||| candidate 2"`` (``source:`` may be left out;
``target:`` queries with a target-side text).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from seqlab.config import PositiveInt
from seqlab.data.batching import BucketSampler, pad_sequences
from seqlab.data.config import limit_splits
from seqlab.errors import UserError
from seqlab.families.base import SPLITS, Family, Prepared, validated
from seqlab.families.translation import Kind, Pair, ParallelData, Translation
from seqlab.models.dual_encoder import DualEncoder, DualEncoderConfig, PairBatch
from seqlab.text.tfidf import TfidfVectorizer
from seqlab.text.tokenizers import Tokenizer, TokenizerPair
from seqlab.train.loop import evaluate

Side = Literal["source", "target"]
SIDES: tuple[Side, Side] = ("source", "target")
SEPARATOR = "|||"  # between the query and its candidates on the command line (Moses' field mark)
KS = (1, 10)  # recall@k of the report
_PARALLEL = Translation()  # the parallel-data readers and tokenizers this family reuses


# ---------------------------------------------------------------- configs and schemas
@dataclass
class SimilarityData(ParallelData):
    """The translation family's :class:`ParallelData` (longer texts are cut, not left
    out), with other defaults and without decoding settings."""

    dataset: str = "libreoffice-en-ru"
    source_tokenizer: Kind = "bpe"
    target_tokenizer: Kind = "bpe"
    lowercase: bool = True
    target_lowercase: bool = True
    max_source_length: PositiveInt = 128
    max_target_length: PositiveInt = 128
    retrieval_pairs: PositiveInt = 1000  # N of the report's retrieval test


@dataclass
class SimilarityPreprocessing:
    """Stored in a bundle: how many tokens of each side are read."""

    max_source_length: PositiveInt = 128
    max_target_length: PositiveInt = 128
    retrieval_pairs: PositiveInt = 1000


class SimilarityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    side: Side = Field("source", description="which encoder reads the text")
    candidates: list[str] | None = Field(
        None, min_length=1, description="texts of the other side to rank by cosine"
    )
    top_k: int = Field(1, ge=1, description="ranked candidates to return")
    embedding: bool = True  # return the text's embedding

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the text is empty")
        return text

    @field_validator("candidates")
    @classmethod
    def _candidates_not_blank(cls, candidates: list[str] | None) -> list[str] | None:
        if candidates is not None and any(not c.strip() for c in candidates):
            raise ValueError("a candidate text is empty")
        return candidates


class Match(BaseModel):
    text: str
    index: int  # its place among the request's candidates
    cosine: float
    score: float  # softmax over the candidates of s · cosine (CLIP's zero-shot probability)


class SimilarityResponse(BaseModel):
    side: Side
    embedding: list[float] | None = None  # (P,), unit norm
    top: list[Match] = []  # best first, at most top_k
    truncated: bool = False  # the text (or a candidate) was cut to the bundle's maximum


# ---------------------------------------------------------------- batches
class PairBatches:
    """Re-iterable :class:`PairBatch` es of (source ids, target ids), bucketed by the pair's
    total length (:class:`~seqlab.data.batching.BucketSampler`: reshuffled per epoch from
    ``(seed, epoch)``, so a resumed run replays the same batches). Training drops a short
    last batch (its few negatives make the loss easier than the others')."""

    carries_state = False

    def __init__(
        self,
        pairs: list[tuple[list[int], list[int]]],
        batch_size: int,
        pad_id: int,
        shuffle: bool = False,
        seed: int = 0,
    ) -> None:
        if not pairs:
            raise UserError("a split has no text pairs", "use more data or a larger split")
        self.pairs, self.pad_id = pairs, pad_id
        lengths = [len(s) + len(t) for s, t in pairs]
        drop_last = shuffle and len(pairs) > batch_size
        self.sampler = BucketSampler(lengths, batch_size, shuffle, seed, drop_last=drop_last)

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[PairBatch]:
        for rows in self.sampler:
            source = pad_sequences([self.pairs[i][0] for i in rows], self.pad_id, torch.long)
            target = pad_sequences([self.pairs[i][1] for i in rows], self.pad_id, torch.long)
            yield PairBatch(*source, *target, indices=torch.tensor(rows))


# ---------------------------------------------------------------- measures
def recall_at_k(similarity: np.ndarray, ks: Sequence[int] = KS) -> dict[int, float]:
    """Recall@k of (N, N) query x candidate scores whose right candidate is the diagonal:
    the share of queries with fewer than k *other* candidates scoring at least as high
    (ties count against the query)."""
    right = np.diagonal(similarity)[:, None]  # (N, 1)
    ahead = (similarity >= right).sum(axis=1) - 1  # (N,) other candidates at least as good
    return {k: float((ahead < k).mean()) for k in ks}


# GOST 7.79-2000 system B (ISO 9 in ASCII), simplified to letters: ц is always "c" (not
# "cz" before e, i, y, j), and the hard / soft signs and the diacritic marks of ы and э
# are dropped.
GOST_7_79_B = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "j", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "x", "ц": "c",
    "ч": "ch", "ш": "sh", "щ": "shh", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}  # fmt: skip
_TRANSLITERATION = str.maketrans(
    {**GOST_7_79_B, **{k.upper(): v.capitalize() for k, v in GOST_7_79_B.items()}}
)


def transliterate(text: str) -> str:
    """Cyrillic letters to Latin (:data:`GOST_7_79_B`); everything else is kept."""
    return text.translate(_TRANSLITERATION)


def tfidf_similarity(fit_on: list[str], sources: list[str], targets: list[str]) -> np.ndarray:
    """(N, M) cosine of transliterated character 3-5-gram TF-IDF vectors (sublinear tf,
    smooth idf fitted on ``fit_on``, l2 rows): the report's baseline."""
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), idf="smooth", tf="raw", sublinear_tf=True
    )
    vectorizer.fit([transliterate(text) for text in fit_on])
    a = vectorizer.transform([transliterate(text) for text in sources])
    b = vectorizer.transform([transliterate(text) for text in targets])
    return np.asarray((a @ b.T).todense())


def retrieval_set(pairs: list[Pair], size: int, seed: int) -> tuple[list[Pair], int]:
    """At most ``size`` pairs (a seeded sample, in data order) of the pairs with distinct
    texts — a pair whose source or target text an earlier pair has is left out — so every
    query has exactly one right candidate; and the number of pairs with distinct texts."""
    seen: tuple[set[str], set[str]] = (set(), set())
    distinct = []
    for source, target in pairs:
        if source not in seen[0] and target not in seen[1]:
            distinct.append((source, target))
            seen[0].add(source)
            seen[1].add(target)
    if len(distinct) <= size:
        return distinct, len(distinct)
    keep = sorted(random.Random(seed).sample(range(len(distinct)), size))
    return [distinct[i] for i in keep], len(distinct)


# ---------------------------------------------------------------- the family
class SentenceSimilarity(Family):
    task = "sentence-similarity"
    summary = "two encoders, one space (CLIP InfoNCE) on parallel text; cross-lingual search"
    data_config = SimilarityData
    model_config = DualEncoderConfig
    preprocessing = SimilarityPreprocessing
    Request = SimilarityRequest
    Response = SimilarityResponse
    example = "recipes/libreoffice-ru-en-clip.toml"
    example_input = (
        "source: Выберите команду Файл - Сохранить. ||| Choose File - Save. "
        "||| Choose Format - Cells. ||| Click the Print button."
    )
    metrics: ClassVar[dict[str, str]] = {
        "loss": "min",
        "batch_recall_at_1": "max",
        **{
            f"{kind}{direction}_recall_at_{k}": "max"
            for kind in ("", "tfidf_")
            for direction in ("s2t", "t2s")
            for k in KS
        },
        **{f"chance_recall_at_{k}": "max" for k in KS},
    }

    # -------------------------------------------------------------- training
    def check_dataset(self, name: str, tasks: tuple[str, ...]) -> None:
        """Parallel data sets of the translation family serve this one too."""
        super().check_dataset(name, (*tasks, _PARALLEL.task))

    def check_recipe(self, recipe: Any) -> None:
        model, data = recipe.model, recipe.data
        if model.shared and not data.shared_vocabulary:
            raise UserError(
                "model.shared = true reads both sides with one tower, one vocabulary",
                "set data.shared_vocabulary = true (and one tokenizer kind for both sides)",
            )
        if model.shared and model.target_encoder is not None:
            raise UserError(
                "model.shared = true uses one encoder for both sides",
                "remove [model.target_encoder] or set model.shared = false",
            )

    def prepare(self, recipe: Any, preprocessing: Any = None, tokenizer: Any = None) -> Prepared:
        """Read and split the pairs (the translation family's readers), fit a tokenizer per
        side on train (unless a bundle's is given), cut each text to its side's maximum."""
        data: SimilarityData = recipe.data
        self.check_dataset(data.dataset, (self.task,))
        splits, description = _PARALLEL.raw_pairs(data)
        if data.reverse:
            splits = {name: [(t, s) for s, t in pairs] for name, pairs in splits.items()}
            description += ", reversed"
        splits = limit_splits(splits, data)
        pair = tokenizer if tokenizer is not None else _PARALLEL.tokenizers(data, splits["train"])
        if preprocessing is None:
            preprocessing = SimilarityPreprocessing(
                _within_context(data.max_source_length, recipe.model.source_encoder),
                _within_context(
                    data.max_target_length,
                    recipe.model.target_encoder or recipe.model.source_encoder,
                ),
                data.retrieval_pairs,
            )
        encoded: dict[str, list[tuple[list[int], list[int]]]] = {}
        kept: dict[str, list[Pair]] = {}
        for name in SPLITS:
            encoded[name], kept[name] = [], []
            for source, target in splits[name]:
                ids = (
                    pair.source.encode(source)[: preprocessing.max_source_length],
                    pair.target.encode(target)[: preprocessing.max_target_length],
                )
                if ids[0] and ids[1]:
                    encoded[name].append(ids)
                    kept[name].append((source, target))
        batches = {
            name: PairBatches(
                encoded[name],
                data.batch_size if name == "train" else data.eval_batch_size,
                pair.source.pad_id,
                shuffle=name == "train",
                seed=data.seed,
            )
            for name in SPLITS
        }
        counts = ", ".join(f"{len(kept[n]):,}" for n in SPLITS)
        return Prepared(batches, preprocessing, pair, f"{description}: {counts} pairs", kept)

    def build_model(self, config: DualEncoderConfig) -> DualEncoder:
        return DualEncoder(config)

    def new_model(self, recipe: Any, prepared: Prepared) -> DualEncoder:
        pair: TokenizerPair = prepared.tokenizer
        if pair.source.pad_id != pair.target.pad_id:
            raise UserError(
                "the two tokenizers pad with different ids",
                "use seqlab's tokenizer kinds on both sides",
            )
        config = dataclasses.replace(
            recipe.model,
            source_vocab_size=pair.source.vocab_size,
            target_vocab_size=pair.target.vocab_size,
            pad_id=pair.source.pad_id,
        )
        return DualEncoder(config)

    # -------------------------------------------------------------- embedding
    @torch.no_grad()
    def embed(
        self,
        model: DualEncoder,
        tokenizer: Tokenizer,
        limit: int,
        side: Side,
        texts: list[str],
        batch_size: int = 128,
    ) -> tuple[torch.Tensor, list[bool]]:
        """(N, P) unit embeddings of texts of one side (on the CPU, in input order; batched
        in length order), and whether each text was cut to ``limit`` tokens. A text with no
        tokens is a UserError. Reads the model only: concurrent calls are safe."""
        encoded = [tokenizer.encode(text) for text in texts]
        for text, ids in zip(texts, encoded, strict=True):
            if not ids:
                raise UserError(f"the {side} text {text!r} has no tokens", "pass some words")
        embed = model.embed_source if side == "source" else model.embed_target
        device = next(model.parameters()).device
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        vectors = torch.zeros(len(texts), model.config.projection_size)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            ids, lengths = pad_sequences(
                [encoded[i][:limit] for i in rows], model.config.pad_id, torch.long
            )
            vectors[rows] = embed(ids.to(device), lengths.to(device)).cpu()
        return vectors, [len(ids) > limit for ids in encoded]

    def embed_pairs(
        self, model: DualEncoder, source: Any, pairs: list[Pair]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, P) source and (N, P) target embeddings of text pairs; ``source`` is a
        Prepared or a Bundle (its tokenizer pair and preprocessing)."""
        pair, processing = source.tokenizer, source.preprocessing
        u, _ = self.embed(
            model, pair.source, processing.max_source_length, "source", [s for s, _ in pairs]
        )
        v, _ = self.embed(
            model, pair.target, processing.max_target_length, "target", [t for _, t in pairs]
        )
        return u, v

    # -------------------------------------------------------------- report
    def retrieval(
        self, model: DualEncoder, source: Any, pairs: list[Pair]
    ) -> tuple[dict[str, float], np.ndarray]:
        """Recall@k both ways over ``pairs`` (each pair's target among all targets) and
        chance, keys without the split prefix; and the (N, N) source x target cosines."""
        if not pairs:
            raise UserError("there are no text pairs to retrieve among", "use more data")
        u, v = self.embed_pairs(model, source, pairs)
        similarity = (u @ v.T).numpy()
        chance = {f"chance_recall_at_{k}": min(k, len(pairs)) / len(pairs) for k in KS}
        return _recalls("", similarity) | chance, similarity

    def report(
        self, model: DualEncoder, prepared: Prepared, recipe: Any
    ) -> tuple[dict[str, Any], list[str]]:
        """The split's loss and in-batch recall@1, then retrieval among N held-out pairs
        beside the transliterated TF-IDF baseline and chance (module doc)."""
        split = recipe.eval.split
        kept: dict[str, list[Pair]] = prepared.data
        metrics = {f"{split}_{k}": v for k, v in evaluate(model, prepared.batches[split]).items()}
        processing: SimilarityPreprocessing = prepared.preprocessing
        pairs, distinct = retrieval_set(kept[split], processing.retrieval_pairs, recipe.data.seed)
        scores, similarity = self.retrieval(model, prepared, pairs)
        if recipe.eval.baseline:
            train_texts = [text for pair in kept["train"] for text in pair]
            sources, targets = [s for s, _ in pairs], [t for _, t in pairs]
            scores |= _recalls("tfidf_", tfidf_similarity(train_texts, sources, targets))
        metrics |= {f"{split}_{k}": v for k, v in scores.items()}
        metrics[f"{split}_retrieval_pairs"] = len(pairs)
        how = "a seeded sample of" if len(pairs) < distinct else "all"
        lines = [
            f"retrieval among {len(pairs):,} {split} pairs: {how} the {distinct:,} pairs "
            f"with distinct source and target texts (of {len(kept[split]):,})"
        ]
        for i, j in enumerate(similarity[: recipe.eval.samples].argmax(1).tolist()):
            verdict = "right" if i == j else f"wrong; right: {pairs[i][1][:50]!r}"
            lines.append(f"{pairs[i][0][:60]!r} -> {pairs[j][1][:60]!r} ({verdict})")
        return metrics, lines

    def evaluate_file(self, bundle: Any, path: str) -> dict[str, Any]:
        """Retrieval over the pairs of a ``source<TAB>target`` file (those with distinct
        texts; a seeded sample of the bundle's ``retrieval_pairs`` when there are more)."""
        from seqlab.data.parallel import read_tsv_pairs

        pairs, _ = retrieval_set(read_tsv_pairs(path), bundle.preprocessing.retrieval_pairs, seed=0)
        return self.retrieval(bundle.model, bundle, pairs)[0] | {"retrieval_pairs": len(pairs)}

    # -------------------------------------------------------------- using a bundle
    def request_from_text(self, text: str, top_k: int = 1, **options: Any) -> BaseModel:
        """``"[source: | target: ]QUERY ||| CANDIDATE ||| CANDIDATE ..."`` -> a request (the
        prefix names the query's side; the candidates are texts of the other side)."""
        for side in SIDES:
            if text.startswith(f"{side}:"):
                options.setdefault("side", side)
                text = text[len(side) + 1 :]
                break
        query, *candidates = (part.strip() for part in text.split(SEPARATOR))
        if candidates:
            options["candidates"] = candidates
        return validated(self.Request, text=query, top_k=top_k, **options)

    def predict(self, bundle: Any, requests: list[SimilarityRequest]) -> list[SimilarityResponse]:
        """Batched: every text of a side (queries and candidates of all requests) is
        embedded in one pass per side."""
        model: DualEncoder = bundle.model
        pair: TokenizerPair = bundle.tokenizer
        processing: SimilarityPreprocessing = bundle.preprocessing
        texts: dict[str, list[str]] = {side: [] for side in SIDES}
        places = []  # per request: (query row, candidate rows) in texts[side] / texts[other]
        for request in requests:
            other = _other(request.side)
            query = len(texts[request.side])
            texts[request.side].append(request.text)
            start = len(texts[other])
            texts[other] += request.candidates or []
            places.append((query, range(start, len(texts[other]))))
        limits = {"source": processing.max_source_length, "target": processing.max_target_length}
        tokenizers = {"source": pair.source, "target": pair.target}
        embedded = {
            side: self.embed(model, tokenizers[side], limits[side], side, texts[side])
            for side in SIDES
            if texts[side]
        }
        scale = model.scale().item()
        responses = []
        for request, (query, rows) in zip(requests, places, strict=True):
            vectors, cut = embedded[request.side]
            response = SimilarityResponse(
                side=request.side,
                embedding=vectors[query].tolist() if request.embedding else None,
                truncated=cut[query],
            )
            if request.candidates:
                others, other_cut = embedded[_other(request.side)]
                cosines = others[list(rows)] @ vectors[query]  # (C,)
                probabilities = torch.softmax(scale * cosines, dim=0)
                order = torch.argsort(cosines, descending=True, stable=True)[: request.top_k]
                response.top = [
                    Match(
                        text=request.candidates[i],
                        index=i,
                        cosine=float(cosines[i]),
                        score=float(probabilities[i]),
                    )
                    for i in order.tolist()
                ]
                response.truncated |= any(other_cut[row] for row in rows)
            responses.append(response)
        return responses

    def show(self, response: SimilarityResponse) -> str:
        """The ranked candidates (probability, cosine), else the embedding's first values."""
        cut = " [a text was cut to the bundle's maximum length]" if response.truncated else ""
        if response.top:
            ranked = " | ".join(
                f"{m.text} ({m.score:.2f}, cos {m.cosine:.2f})" for m in response.top
            )
            return ranked + cut
        values = response.embedding or []
        shown = ", ".join(f"{x:.3f}" for x in values[:4])
        return f"{response.side} embedding ({len(values)} dims): [{shown}, ...]{cut}"


def _other(side: Side) -> Side:
    return "target" if side == "source" else "source"


def _recalls(prefix: str, similarity: np.ndarray) -> dict[str, float]:
    """``{prefix}s2t_recall_at_k`` over rows and ``{prefix}t2s_recall_at_k`` over columns."""
    scores = {}
    for direction, matrix in (("s2t", similarity), ("t2s", similarity.T)):
        for k, value in recall_at_k(matrix).items():
            scores[f"{prefix}{direction}_recall_at_{k}"] = value
    return scores


def _within_context(length: int, encoder: Any) -> int:
    """``length`` capped by the encoder's context (a Transformer's ``max_positions``)."""
    context = getattr(encoder, "max_positions", None)
    return length if context is None else min(length, context)


__all__ = ["SentenceSimilarity", "recall_at_k", "retrieval_set", "transliterate"]
