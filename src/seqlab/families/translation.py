"""``translation``: sequence-to-sequence models — grapheme → phoneme, inflection, MT.

Data: a translation data set of ``seqlab datasets`` (``cmudict``, ``ru-inflection``,
``libreoffice-en-ru``, ``movie-dialog``) or a user's parallel data: ``data.path`` a TSV
of ``source<TAB>target`` lines (Tatoeba's ``rus.txt`` too), or ``data.path`` +
``data.target_path`` two aligned files; a user's data is split seeded 90/5/5. Source and
target get their own tokenizers (``data.source_tokenizer``, ``data.target_tokenizer``)
or one shared vocabulary, saved together as a :class:`~seqlab.text.tokenizers.TokenizerPair`.

Model: :class:`~seqlab.models.seq2seq.Seq2Seq`. Report: corpus metrics of the test split
decoded with beam search (:func:`seqlab.decoding.beam.beam_search`) — word and phoneme
error rate for g2p (a word is right when it matches any of its pronunciations), exact
match for inflection, BLEU and chrF (sacrebleu) otherwise — beside a same-run baseline:
copy the source (inflection) or a word-by-word dictionary from the training pairs (MT).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from seqlab.config import NonNegativeFloat, NonNegativeInt, PositiveInt
from seqlab.data.batching import BucketSampler, pad_sequences
from seqlab.data.config import DataConfig, limit_splits
from seqlab.data.datasets import load_dataset
from seqlab.decoding.beam import beam_search
from seqlab.errors import UserError
from seqlab.evaluate import seq2seq as measures
from seqlab.families.base import SPLITS, Family, Prepared
from seqlab.models.seq2seq import Seq2Seq, Seq2SeqBatch, Seq2SeqConfig, Seq2SeqEnsemble
from seqlab.nn.transformer import TransformerConfig
from seqlab.text.tokenizers import KINDS, Tokenizer, TokenizerPair, make_tokenizer
from seqlab.train.loop import evaluate

Pair = tuple[str, str]
Kind = Literal["word", "whitespace", "char", "chars+tags", "bpe", "wordpiece"]
Scorer = Callable[[list[str], list[list[str]]], float]  # (predictions, references per row)


def _on_tokens(measure: Callable[..., float]) -> Scorer:
    """A measure of whitespace-split token lists as a scorer of texts."""

    def scorer(predictions: list[str], references: list[list[str]]) -> float:
        split = [prediction.split() for prediction in predictions]
        return measure(split, [[reference.split() for reference in refs] for refs in references])

    return scorer


SCORERS: dict[str, Scorer] = {
    "wer": _on_tokens(measures.word_error_rate),
    "per": _on_tokens(measures.phoneme_error_rate),
    "exact_match": measures.exact_match,
    "bleu": measures.bleu,
    "chrf": measures.chrf,
}
METRICS = tuple(SCORERS)


@dataclass
class ParallelData(DataConfig):
    """Pairs of texts, source -> target: a registered data set, a TSV file
    (``source<TAB>target``) or, with ``target_path``, two aligned files. The keys that
    both the ``translation`` and the ``sentence-similarity`` families read."""

    target_path: str | None = None  # with data.path: two aligned files
    reverse: bool = False  # swap the two sides (libreoffice-en-ru gives en -> ru)
    source_tokenizer: Kind = "char"
    target_tokenizer: Kind = "whitespace"
    shared_vocabulary: bool = False  # one tokenizer for both sides (needed by model.shared)
    lowercase: bool = False  # the source side
    target_lowercase: bool = False
    min_freq: PositiveInt = 1
    vocab_size: PositiveInt = 8000  # bpe / wordpiece, per side
    max_source_length: PositiveInt = 100  # tokens (what is done with longer: the family's)
    max_target_length: PositiveInt = 100


@dataclass
class TranslationData(ParallelData):
    """:class:`ParallelData`; training pairs longer than the maximum lengths are left
    out; decoding settings for the report and the default request."""

    dataset: str = "cmudict"
    metrics: tuple[str, ...] | None = None  # default: by data set (module doc)
    beam_size: PositiveInt = 5  # decoding for the report and the default request
    length_penalty: float = 0.0  # GNMT alpha
    max_length_a: NonNegativeFloat = 2.0  # output limit: a * source tokens + b (fairseq's
    max_length_b: NonNegativeInt = 10  # max_len_a / max_len_b), at most max_target_length


@dataclass
class TranslationPreprocessing:
    """Stored in a bundle: length limits and the decoding defaults."""

    max_source_length: PositiveInt = 100
    max_target_length: PositiveInt = 100
    beam_size: PositiveInt = 5
    length_penalty: float = 0.0
    metrics: tuple[str, ...] = ("bleu", "chrf")
    max_length_a: float = 2.0
    max_length_b: int = 10


class TranslateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    top_k: int = Field(1, ge=1, description="hypotheses to return")
    beam_size: int | None = Field(None, ge=1, description="default: the bundle's")
    max_length: int | None = Field(None, ge=1, description="target tokens; default: the bundle's")
    length_penalty: float | None = None
    truncate: bool = False  # cut a source longer than the bundle's maximum (else refuse)
    attention: bool = False  # return the source x target attention weights


class Hypothesis(BaseModel):
    text: str
    score: float  # length-normalised log-probability (the beam's ranking)
    log_prob: float


class TranslateResponse(BaseModel):
    translation: str
    hypotheses: list[Hypothesis]
    truncated: bool = False
    source_tokens: list[str] = []
    target_tokens: list[str] = []
    attention: list[list[float]] | None = None  # (target tokens + <eos>) x source tokens


class Seq2SeqBatches:
    """Batches of (source ids, target ids) pairs, bucketed by source length.

    Training batches come from :class:`~seqlab.data.batching.BucketSampler` (reshuffled
    per epoch from ``(seed, epoch)``, so a resumed run replays the same batches; pools of
    50 batches sorted by source length, so little padding); evaluation batches are in
    length order. Every batch carries its rows' indices.
    """

    carries_state = False

    def __init__(
        self,
        pairs: list[tuple[list[int], list[int]]],
        batch_size: int,
        bos_id: int,
        eos_id: int,
        pad_id: int,
        shuffle: bool = False,
        seed: int = 0,
    ) -> None:
        if not pairs:
            raise UserError("a split has no sentence pairs", "use more data or a looser limit")
        self.pairs = pairs
        self.bos_id, self.eos_id, self.pad_id = bos_id, eos_id, pad_id
        lengths = [len(source) for source, _ in pairs]
        # Evaluation: one bucket of everything, i.e. all pairs in length order.
        bucket = None if shuffle else len(pairs)
        self.sampler = BucketSampler(lengths, batch_size, shuffle, seed, bucket)

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[Seq2SeqBatch]:
        for rows in self.sampler:
            sources = [self.pairs[i][0] for i in rows]
            targets = [[self.bos_id, *self.pairs[i][1], self.eos_id] for i in rows]
            yield Seq2SeqBatch(
                *_padded(sources, self.pad_id),
                *_padded(targets, self.pad_id),
                indices=torch.tensor(rows),
            )


def _padded(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T) long ids right-padded with ``pad_id``, and (B,) lengths."""
    return pad_sequences(rows, pad_value=pad_id, dtype=torch.long)


def _as_pair(example: Any) -> Pair:
    """A loader's example as (source text, target text): (word, [phonemes]) pairs join the
    phonemes with spaces; an inflection example is ``"кошка NOUN,anim,femn,plur,gent"`` ->
    ``"кошек"`` (read with ``source_tokenizer = "chars+tags"``, ``target_tokenizer =
    "char"``)."""
    if hasattr(example, "lemma") and hasattr(example, "tags"):
        return f"{example.lemma} {','.join(example.tags)}", example.form
    source, target = example[0], example[-1]
    if not isinstance(target, str):
        target = " ".join(target)
    return str(source), target


def default_metrics(dataset: str) -> tuple[str, ...]:
    if dataset == "cmudict":
        return ("wer", "per")
    if dataset == "ru-inflection":
        return ("exact_match",)
    return ("bleu", "chrf")


class Translation(Family):
    task = "translation"
    summary = "seq2seq with attention or a Transformer; batched beam search; BLEU / chrF / WER"
    data_config = TranslationData
    model_config = Seq2SeqConfig
    preprocessing = TranslationPreprocessing
    Request = TranslateRequest
    Response = TranslateResponse
    example = "recipes/cmudict-g2p.toml"
    example_input = "seqlab"
    metrics: ClassVar[dict[str, str]] = {
        "loss": "min",
        "ppl": "min",
        "accuracy": "max",
        "wer": "min",
        "per": "min",
        "exact_match": "max",
        "bleu": "max",
        "chrf": "max",
        "baseline_exact_match": "max",
        "baseline_bleu": "max",
        "baseline_chrf": "max",
    }

    # -------------------------------------------------------------- data
    def raw_pairs(self, data: TranslationData) -> tuple[dict[str, list[Pair]], str]:
        """Per split, (source, target) texts."""
        if data.dataset == "file":
            from seqlab.data.loaders import split_indices
            from seqlab.data.parallel import read_aligned, read_tsv_pairs

            if not data.path:
                raise UserError(
                    "data.dataset = 'file' needs data.path",
                    "set data.path = 'pairs.tsv' (source<TAB>target), or two aligned files "
                    "with data.target_path",
                )
            pairs = (
                read_aligned(data.path, data.target_path)
                if data.target_path
                else read_tsv_pairs(data.path)
            )
            parts = split_indices(len(pairs), (0.9, 0.05, 0.05), seed=data.seed)
            splits = {
                name: [pairs[i] for i in part] for name, part in zip(SPLITS, parts, strict=True)
            }
            return splits, f"`{data.path}`, seeded split 90/5/5"
        self.check_dataset(data.dataset, (self.task,))
        loaded = load_dataset(data.dataset, **data.options)
        splits = {name: [_as_pair(example) for example in loaded[name]] for name in SPLITS}
        return splits, f"`{data.dataset}` (as shipped)"

    def tokenizers(self, data: TranslationData, train: list[Pair]) -> TokenizerPair:
        def fitted(kind: str, texts: list[str], lowercase: bool) -> Tokenizer:
            options = dict(lowercase=lowercase, min_freq=data.min_freq, vocab_size=data.vocab_size)
            return make_tokenizer(kind, **options).fit(texts)

        if data.shared_vocabulary:
            if data.source_tokenizer != data.target_tokenizer:
                raise UserError(
                    "data.shared_vocabulary needs one tokenizer kind for both sides",
                    f"set source_tokenizer = target_tokenizer (one of {KINDS})",
                )
            texts = [s for s, _ in train] + [t for _, t in train]
            shared = fitted(data.source_tokenizer, texts, data.lowercase)
            return TokenizerPair(shared)
        return TokenizerPair(
            fitted(data.source_tokenizer, [s for s, _ in train], data.lowercase),
            fitted(data.target_tokenizer, [t for _, t in train], data.target_lowercase),
        )

    def prepare(self, recipe: Any, preprocessing: Any = None, tokenizer: Any = None) -> Prepared:
        data: TranslationData = recipe.data
        for name in data.metrics or ():
            if name not in METRICS:
                raise UserError(f"data.metrics: unknown metric {name!r}", f"use some of {METRICS}")
        splits, description = self.raw_pairs(data)
        if data.reverse:
            splits = {name: [(t, s) for s, t in pairs] for name, pairs in splits.items()}
            description += ", reversed"
        splits = limit_splits(splits, data)
        pair = tokenizer if tokenizer is not None else self.tokenizers(data, splits["train"])
        encoded: dict[str, list[tuple[list[int], list[int]]]] = {}
        kept: dict[str, list[Pair]] = {}
        for name in SPLITS:
            encoded[name], kept[name] = [], []
            for source, target in splits[name]:
                ids = (pair.source.encode(source), pair.target.encode(target))
                fits = (
                    len(ids[0]) <= data.max_source_length and len(ids[1]) <= data.max_target_length
                )
                if ids[0] and ids[1] and (fits or name != "train"):
                    encoded[name].append(ids)
                    kept[name].append((source, target))
        batches = {
            name: Seq2SeqBatches(
                encoded[name],
                data.batch_size if name == "train" else data.eval_batch_size,
                pair.bos_id,
                pair.eos_id,
                pair.pad_id,
                shuffle=name == "train",
                seed=data.seed,
            )
            for name in SPLITS
        }
        processing = TranslationPreprocessing(
            data.max_source_length,
            data.max_target_length,
            data.beam_size,
            data.length_penalty,
            tuple(data.metrics or default_metrics(data.dataset)),
            data.max_length_a,
            data.max_length_b,
        )
        counts = ", ".join(f"{len(kept[n]):,}" for n in SPLITS)
        return Prepared(batches, processing, pair, f"{description}: {counts} pairs", kept)

    def build_model(self, config: Seq2SeqConfig) -> Seq2Seq:
        return Seq2Seq(config)

    def new_model(self, recipe: Any, prepared: Prepared) -> Seq2Seq:
        pair = prepared.tokenizer
        assert isinstance(pair, TokenizerPair)
        config = dataclasses.replace(
            recipe.model,
            source_vocab_size=pair.source.vocab_size,
            target_vocab_size=pair.target.vocab_size,
            pad_id=pair.pad_id,
            bos_id=pair.bos_id,
            eos_id=pair.eos_id,
        )
        return Seq2Seq(config)

    # -------------------------------------------------------------- decoding
    @torch.no_grad()
    def decode(
        self,
        model: Seq2Seq,
        sources: list[list[int]],
        beam_size: int,
        max_length: int,
        length_penalty: float = 0.0,
        num_return: int = 1,
        batch_size: int = 64,
        length_rule: tuple[float, int] | None = None,
    ) -> list[list[Any]]:
        """Beam-search hypotheses per source (batched, in length order). Each output has
        at most ``max_length`` tokens, and with ``length_rule = (a, b)`` at most
        ``a * len(source) + b``."""
        model.eval()
        device = next(model.parameters()).device
        config = model.config
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
        results: list[list[Any]] = [[] for _ in sources]
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            ids, lengths = _padded([sources[i] for i in rows], config.pad_id)
            state = model.start(ids.to(device), lengths)
            first = torch.full((len(rows),), config.bos_id, dtype=torch.long, device=device)
            limits: int | torch.Tensor = max_length
            if length_rule is not None:
                a, b = length_rule
                limits = torch.tensor(
                    [max(1, min(max_length, math.ceil(a * len(sources[i]) + b))) for i in rows]
                )
            found = beam_search(
                model.step,
                state,
                first,
                beam_size,
                limits,
                config.eos_id,
                length_penalty=length_penalty,
                num_return=num_return,
            )
            for row, hypotheses in zip(rows, found, strict=True):
                results[row] = hypotheses
        return results

    def decode_as_trained(
        self, model: Seq2Seq, sources: list[list[int]], processing: TranslationPreprocessing
    ) -> list[list[Any]]:
        """:meth:`decode` with the bundle's settings: beam, length penalty and limits."""
        return self.decode(
            model,
            sources,
            processing.beam_size,
            processing.max_target_length,
            processing.length_penalty,
            length_rule=(processing.max_length_a, processing.max_length_b),
        )

    # -------------------------------------------------------------- report
    def score(
        self, names: tuple[str, ...], predictions: list[str], references: list[list[str]]
    ) -> dict[str, float]:
        """The corpus metrics ``names`` of predictions against (possibly several) references."""
        return {name: SCORERS[name](predictions, references) for name in names}

    def baseline(
        self, kept: dict[str, list[Pair]], split: str, names: tuple[str, ...], pair: TokenizerPair
    ) -> dict[str, float]:
        """With exact match: copy the source's tokens that the target side knows (the lemma
        without its grammemes, for inflection). Otherwise translate word by word with each
        training source word's most frequent target word at the same relative position.
        G2P has no baseline this cheap."""
        if set(names) & {"wer", "per"}:
            return {}
        grouped = self.references(kept[split])
        sources = list(grouped)
        if "exact_match" in names:
            target, unknown = pair.target, pair.target.unk_id
            copies = [
                target.decode(
                    i for i in map(target.token_to_id, pair.source.tokenize(s)) if i != unknown
                )
                for s in sources
            ]
            return {"baseline_exact_match": measures.exact_match(copies, list(grouped.values()))}
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for source, target in kept["train"]:
            words, targets = source.lower().split(), target.split()
            for index, word in enumerate(words):  # the target word at the same relative place
                if targets:
                    table[word][targets[index * len(targets) // len(words)]] += 1

        def word_by_word(text: str) -> str:
            return " ".join(
                table[w].most_common(1)[0][0] if table[w] else w for w in text.lower().split()
            )

        guesses = [word_by_word(source) for source in sources]
        refs = list(grouped.values())
        return {
            "baseline_bleu": measures.bleu(guesses, refs),
            "baseline_chrf": measures.chrf(guesses, refs),
        }

    @staticmethod
    def references(pairs: list[Pair]) -> dict[str, list[str]]:
        """Source -> every target it has (several pronunciations of a word)."""
        grouped: dict[str, list[str]] = {}
        for source, target in pairs:
            grouped.setdefault(source, []).append(target)
        return grouped

    def report(
        self, model: Seq2Seq, prepared: Prepared, recipe: Any
    ) -> tuple[dict[str, Any], list[str]]:
        split = recipe.eval.split
        kept: dict[str, list[Pair]] = prepared.data
        processing: TranslationPreprocessing = prepared.preprocessing
        metrics = {f"{split}_{k}": v for k, v in evaluate(model, prepared.batches[split]).items()}
        pair = prepared.tokenizer
        grouped = self.references(kept[split])
        sources = list(grouped)
        sources_ids = [pair.source.encode(source) for source in sources]  # non-empty: prepare
        found = self.decode_as_trained(model, sources_ids, processing)
        predictions = [pair.target.decode(h[0].tokens) if h else "" for h in found]
        scores = self.score(processing.metrics, predictions, list(grouped.values()))
        metrics |= {f"{split}_{k}": v for k, v in scores.items()}
        if recipe.eval.baseline:
            metrics |= {
                f"{split}_{k}": v
                for k, v in self.baseline(kept, split, processing.metrics, pair).items()
            }
        lines = [
            f"{source!r} -> {prediction!r} (reference {grouped[source][0]!r})"
            for source, prediction in list(zip(sources, predictions, strict=True))[
                : recipe.eval.samples
            ]
        ]
        return metrics, lines

    def card_figures(self, model: Seq2Seq, prepared: Prepared) -> dict[str, tuple[str, bytes]]:
        """The attention of the first test example, for the model card."""
        from seqlab.evaluate.plots import attention_png

        test = prepared.data["test"]
        if not test or not self._attends(model):
            return {}
        pair: TokenizerPair = prepared.tokenizer
        processing: TranslationPreprocessing = prepared.preprocessing
        source = pair.source.encode(test[0][0])[: processing.max_source_length]
        found = self.decode_as_trained(model, [source], processing)
        if not found[0]:
            return {}
        best = found[0][0]
        empty = TranslateResponse(translation="", hypotheses=[])
        shown = self.with_attention(model, pair, source, best.tokens, empty)
        assert shown.attention is not None
        caption = f"attention while translating {test[0][0]!r} (test example 1)"
        if isinstance(model.config.decoder, TransformerConfig):
            caption += "; the last block's cross-attention, mean over heads"
        png = attention_png(shown.attention, shown.source_tokens, shown.target_tokens)
        return {"attention.png": (caption, png)}

    @staticmethod
    def _attends(model: Seq2Seq) -> bool:
        """A Transformer always attends; a recurrent decoder unless attention = none."""
        return getattr(model.config.decoder, "attention", "cross") != "none"

    # -------------------------------------------------------------- using a bundle
    def ensemble(self, bundles: list[Any]) -> Any:
        """The bundles' models as one :class:`Seq2SeqEnsemble` (the mean of their next-token
        probabilities), in a copy of the first bundle; every bundle must be a translation
        model with the first one's tokenizers (trained on the same data)."""
        first = bundles[0]
        for other in bundles[1:]:
            if other.task != self.task:
                raise UserError(
                    f"bundle {other.path} is a {other.task} model, not a translation model",
                    "ensemble translation bundles only",
                )
            if other.tokenizer.to_dict() != first.tokenizer.to_dict():
                raise UserError(
                    f"bundle {other.path} has other vocabularies than {first.path}",
                    "ensemble models trained on the same data with the same tokenizers",
                )
        model = Seq2SeqEnsemble([bundle.model for bundle in bundles]).eval()
        return dataclasses.replace(first, model=model, metrics={})

    def predict(self, bundle: Any, requests: list[TranslateRequest]) -> list[TranslateResponse]:
        pair: TokenizerPair = bundle.tokenizer
        processing: TranslationPreprocessing = bundle.preprocessing
        model: Seq2Seq = bundle.model
        responses = []
        for request in requests:  # grouped by decoding settings would batch; one by one is simple
            ids = self.source_ids(pair.source, request.text)
            limit = processing.max_source_length
            truncated = len(ids) > limit
            if truncated and not request.truncate:
                raise UserError(
                    f"the source has {len(ids)} tokens, more than the model's maximum of {limit}",
                    "shorten it, or pass --truncate to keep its first tokens",
                )
            ids = ids[:limit]
            beam = request.beam_size or processing.beam_size
            found = self.decode(
                model,
                [ids],
                max(beam, request.top_k),
                request.max_length or processing.max_target_length,
                processing.length_penalty
                if request.length_penalty is None
                else request.length_penalty,
                num_return=request.top_k,
                length_rule=None
                if request.max_length
                else (processing.max_length_a, processing.max_length_b),
            )[0]
            hypotheses = [
                Hypothesis(text=pair.target.decode(h.tokens), score=h.score, log_prob=h.log_prob)
                for h in found
            ]
            response = TranslateResponse(
                translation=hypotheses[0].text, hypotheses=hypotheses, truncated=truncated
            )
            if request.attention:
                response = self.with_attention(model, pair, ids, found[0].tokens, response)
            responses.append(response)
        return responses

    @staticmethod
    def source_ids(tokenizer: Tokenizer, text: str) -> list[int]:
        """The source's ids; empty, or with characters a character model never saw: an error
        (a word model reads unknown words as ``<unk>``, as it was trained)."""
        ids = tokenizer.encode(text)
        if not ids:
            raise UserError(f"the source {text!r} is empty", "pass some text")
        if tokenizer.kind in ("char", "chars+tags") and tokenizer.unk_id in ids:
            tokens = tokenizer.tokenize(text)
            unknown = sorted({t for t, i in zip(tokens, ids, strict=True) if i == tokenizer.unk_id})
            what = "characters" if tokenizer.kind == "char" else "characters or tags"
            raise UserError(
                f"the source {text!r} has unknown {what} {''.join(unknown)!r}",
                f"the model knows only the {what} of its training data",
            )
        return ids

    @torch.no_grad()
    def with_attention(
        self,
        model: Seq2Seq,
        pair: TokenizerPair,
        source: list[int],
        target: list[int],
        response: TranslateResponse,
    ) -> TranslateResponse:
        """The best hypothesis's attention weights, from a teacher-forced pass over it (a
        Transformer's: its last block's cross-attention, mean over heads)."""
        batch = Seq2SeqBatch(
            *_padded([source], model.config.pad_id),
            *_padded([[model.config.bos_id, *target, model.config.eos_id]], model.config.pad_id),
        )
        device = next(model.parameters()).device
        weights = model(batch.to(device), need_weights=True).extras.get("attention")
        if weights is None:
            raise UserError("this model has no attention to show", "train it with attention")
        return response.model_copy(
            update={
                "source_tokens": [pair.source.id_to_token(i) for i in source],
                "target_tokens": [pair.target.id_to_token(i) for i in target] + ["<eos>"],
                "attention": weights[0].cpu().tolist(),
            }
        )

    def show(self, response: TranslateResponse) -> str:
        if len(response.hypotheses) == 1:
            return response.translation
        return " | ".join(f"{h.text} ({h.score:.2f})" for h in response.hypotheses)

    def plot(self, response: TranslateResponse, path: str) -> None:
        """The attention heatmap of a response made with ``attention=True`` (PNG)."""
        from seqlab.evaluate.plots import plot_attention

        if response.attention is None:
            raise UserError("the response has no attention weights", "request attention=True")
        plot_attention(response.attention, response.source_tokens, response.target_tokens, path)
