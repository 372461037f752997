"""``token-classification``: one tag per token — part of speech, named entities.

Data: ``wnut16`` (Twitter NER, BIO), ``brown`` (POS; ``data.options = {tags = "full"}``
for the full tag set, base tags by default), or ``file``: CoNLL (``token<TAB>tag``),
CoNLL-U, or one sentence a line (``tokens<TAB>tags``), split 80/10/10 with a fixed seed
unless ``data.valid_path`` / ``data.test_path`` give the other splits.

Tags: entity data may be learnt in another scheme than it is written in
(``data.tag_scheme = "BIOES"`` for BIO data: the CRF then also learns where entities
end); predictions are converted back, and entities are always scored in the data's own
scheme, exactly (type and span) as CoNLL / seqeval do.

Metrics: token accuracy; for entity tags precision, recall and F1 (micro over entities,
and per type); baselines in the same run: the most frequent tag of each training word
(unknown words: the most frequent tag) and, for entities, a dictionary of the training
set's entity strings matched longest-first. Model:
:class:`~seqlab.models.tagger.SequenceTagger` (BiLSTM-CRF with character features by
default).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from seqlab.config import PositiveInt
from seqlab.data.batching import BucketSampler, pad_sequences
from seqlab.data.config import DataConfig
from seqlab.data.datasets import load_dataset
from seqlab.data.loaders import split_indices
from seqlab.data.readers import read_tagging
from seqlab.errors import UserError
from seqlab.families.base import SPLITS, Family, Prepared
from seqlab.families.text import (
    copy_pretrained,
    copy_pretrained_encoder,
    pretrained_encoder,
    pretrained_vectors,
    with_pretrained_shapes,
)
from seqlab.models.tagger import SequenceTagger, SequenceTaggerConfig, TaggingBatch
from seqlab.text import tagging as schemes
from seqlab.text.tokenizers import Tokenizer, WordTokenizer, make_tokenizer
from seqlab.text.words import context_limit, pack_windows, special_ids, word_pieces

Sentence = tuple[list[str], list[str]]  # tokens, tags


class Encoded(NamedTuple):
    """A sentence as model steps: ``ids`` (word ids, or every word's sub-token ids in
    turn), ``chars`` (each step's character ids: the word's at its first sub-token,
    none at the others), ``tags`` (each step's tag id, 0 where untagged; [] without
    tags) and ``first``: the step of each word's first sub-token (None: one step a word)."""

    ids: list[int]
    chars: list[list[int]]
    tags: list[int]
    first: list[int] | None = None


# Raw text -> tokens: URLs, @mentions and #hashtags whole, words with inner hyphens,
# apostrophes or dots (U.S., don't), any other character alone.
TOKEN_PATTERN = re.compile(r"https?://\S+|[@#]?\w+(?:[-‐'’.]\w+)*|\S")
PER_TYPE = ("precision", "recall", "f1", "support")  # each entity type's scores


# ---------------------------------------------------------------- configs and schemas
@dataclass
class TaggingData(DataConfig):
    dataset: str = "wnut16"
    format: Literal["auto", "conll", "conllu", "lines"] = "auto"  # dataset = "file"
    valid_path: str | None = None  # with data.path: the other splits, else a seeded split
    test_path: str | None = None
    tag_scheme: Literal["auto", "BIO", "BIOES", "IO", "none"] = "auto"  # what the model learns
    lowercase: bool = False  # the word vocabulary (character features keep the case)
    min_freq: PositiveInt = 1  # rarer training words are <unk>
    tokenizer: Literal["word", "bpe", "wordpiece"] = "word"  # sub-words: tagged at the first
    vocab_size: PositiveInt = 8000  # bpe / wordpiece
    max_word_length: PositiveInt = 30  # characters read per word


@dataclass
class TaggingPreprocessing:
    """Stored in a bundle: the model's tags (and scheme), the data's scheme, the word
    casing, the character vocabulary (id = index + 2; 0 pads, 1 is unknown) and the
    longest input the encoder reads (None: any; a longer sentence is read in windows)."""

    labels: list[str]
    scheme: str = "none"  # the model's
    data_scheme: str = "none"  # the data's: predictions are returned in it
    lowercase: bool = False
    chars: list[str] = dataclasses.field(default_factory=list)
    max_word_length: int = 30
    max_length: int | None = None

    @functools.cached_property
    def char_ids(self) -> dict[str, int]:
        """Character -> id (built once; not a field, so never saved)."""
        return {c: i + 2 for i, c in enumerate(self.chars)}

    @functools.cached_property
    def tag_ids(self) -> dict[str, int]:
        """Tag -> id, the model's output order."""
        return {tag: i for i, tag in enumerate(self.labels)}


class TagRequest(BaseModel):
    """A text (split into tokens by :data:`TOKEN_PATTERN`) or its tokens."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    tokens: list[str] | None = None
    top_k: int = Field(1, ge=1)  # > 1: each token's k likeliest tags (the CLI's --top)

    @model_validator(mode="after")
    def _one_input(self) -> TagRequest:
        if (self.text is None) == (self.tokens is None):
            raise ValueError("give text or tokens")
        if self.tokens is not None and not [t for t in self.tokens if t.strip()]:
            raise ValueError("the text has no tokens")
        if self.text is not None and not TOKEN_PATTERN.search(self.text):
            raise ValueError("the text has no tokens")
        return self


class Entity(BaseModel):
    text: str
    type: str
    start: int  # token index
    end: int  # exclusive


class TagScore(BaseModel):
    tag: str
    score: float  # P(tag | sentence) at this token: the CRF's marginal, or the softmax


class TagResponse(BaseModel):
    tokens: list[str]
    tags: list[str]
    entities: list[Entity]  # empty for tags that are not entities (POS)
    top: list[list[TagScore]] | None = None  # with top_k > 1: per token, in the model's tags


# ---------------------------------------------------------------- batches
class TaggingBatches:
    """Re-iterable bucketed batches of encoded sentences (word ids, character ids, tag
    ids); training batches reshuffle per epoch (:class:`BucketSampler`), evaluation
    batches keep their order of lengths and carry each row's index."""

    carries_state = False

    def __init__(
        self,
        sentences: list[Encoded],
        batch_size: int,
        shuffle: bool,
        seed: int,
        pad_id: int,
        with_chars: bool,
    ) -> None:
        if not sentences:
            raise UserError("a split has no sentences", "use more data or a looser limit")
        self.sentences, self.pad_id, self.with_chars = sentences, pad_id, with_chars
        self.sampler = BucketSampler([len(s.ids) for s in sentences], batch_size, shuffle, seed)

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[TaggingBatch]:
        for rows in self.sampler:
            yield collate([self.sentences[i] for i in rows], self.pad_id, self.with_chars, rows)


def collate(
    sentences: list[Encoded], pad_id: int, with_chars: bool, rows: list[int] | None = None
) -> TaggingBatch:
    """Pad encoded sentences into a :class:`TaggingBatch` (chars: the distinct words; a
    tag mask on the words' first sub-tokens for sub-token inputs)."""
    inputs, lengths = pad_sequences([s.ids for s in sentences], pad_value=pad_id, dtype=torch.long)
    chars = words = None
    if with_chars:  # each distinct word once; row 0 is the empty word (padding)
        rows_of: dict[tuple[int, ...], int] = {(): 0}
        steps = [[rows_of.setdefault(tuple(w), len(rows_of)) for w in s.chars] for s in sentences]
        width = max(1, max(map(len, rows_of)))
        chars = torch.tensor([[*w, *[0] * (width - len(w))] for w in rows_of], dtype=torch.long)
        words, _ = pad_sequences(steps, pad_value=0, dtype=torch.long)  # (B, T)
    targets = tag_mask = None
    if sentences[0].tags:
        targets, _ = pad_sequences([s.tags for s in sentences], pad_value=0, dtype=torch.long)
    if sentences[0].first is not None:
        tag_mask = torch.zeros(inputs.shape, dtype=torch.bool)
        for row, sentence in enumerate(sentences):
            tag_mask[row, sentence.first] = True
    indices = None if rows is None else torch.tensor(rows, dtype=torch.long)
    return TaggingBatch(inputs, lengths, chars, words, targets, tag_mask, indices)


# ---------------------------------------------------------------- the family
class TokenClassification(Family):
    task = "token-classification"
    summary = "one tag per token (POS, NER): BiLSTM-CRF with character features"
    data_config = TaggingData
    model_config = SequenceTaggerConfig
    preprocessing = TaggingPreprocessing
    Request = TagRequest
    Response = TagResponse
    example = "recipes/wnut16-bilstm-crf.toml"
    example_input = "Obama visited Paris with @user"
    metrics: ClassVar[dict[str, str]] = {
        "loss": "min",
        "accuracy": "max",
        "precision": "max",
        "recall": "max",
        "f1": "max",
        "macro_f1": "max",
        "baseline_accuracy": "max",
        "baseline_f1": "max",
    }

    def check_recipe(self, recipe: Any) -> None:
        """A pretrained encoder reads its own sub-tokens: no character features beside."""
        if recipe.model.encoder_from and recipe.model.char_features != "none":
            raise UserError(
                "model.encoder_from reads the checkpoint's sub-tokens; character features "
                "would change its input",
                'set model.char_features = "none"',
            )

    # -------------------------------------------------------------- data
    def load_sentences(self, data: TaggingData) -> tuple[dict[str, list[Sentence]], str]:
        if data.dataset != "file":
            self.check_dataset(data.dataset, (self.task,))
            loaded = load_dataset(data.dataset, **data.options)
            return {name: list(loaded[name]) for name in SPLITS}, f"`{data.dataset}`"
        if not data.path:
            raise UserError(
                "data.dataset = 'file' needs data.path",
                "set data.path = 'train.conll' (token<TAB>tag lines, CoNLL-U, or one "
                "sentence a line: tokens<TAB>tags)",
            )
        sentences = read_tagging(data.path, data.format)
        if data.valid_path or data.test_path:
            if not (data.valid_path and data.test_path):
                raise UserError(
                    "data.valid_path and data.test_path go together", "set both, or neither"
                )
            splits = {
                "train": sentences,
                "valid": read_tagging(data.valid_path, data.format),
                "test": read_tagging(data.test_path, data.format),
            }
            return splits, f"`{data.path}` + its valid and test files"
        parts = split_indices(len(sentences), (0.8, 0.1, 0.1), seed=data.seed)
        splits = {
            name: [sentences[i] for i in part] for name, part in zip(SPLITS, parts, strict=True)
        }
        return splits, f"`{data.path}`, seeded split 80/10/10"

    def prepare(self, recipe: Any, preprocessing: Any = None, tokenizer: Any = None) -> Prepared:
        data: TaggingData = recipe.data
        splits, description = self.load_sentences(data)
        limits = {"train": data.limit, "valid": data.eval_limit, "test": data.eval_limit}
        splits = {k: v[: limits[k]] if limits[k] else v for k, v in splits.items()}
        if preprocessing is None:
            preprocessing = self.fit_preprocessing(data, splits)
            preprocessing.max_length = self.max_length(recipe)
        if tokenizer is None and recipe.model.encoder_from:
            tokenizer = pretrained_encoder(recipe.model.encoder_from).tokenizer
        if tokenizer is None:
            texts = [" ".join(words) for words, _ in splits["train"]]
            if data.tokenizer == "word":  # the tokens as given
                options = {"split": "whitespace", "min_freq": data.min_freq}
                tokenizer = WordTokenizer(data.lowercase, **options).fit(texts)
            else:
                tokenizer = make_tokenizer(
                    data.tokenizer, lowercase=data.lowercase, vocab_size=data.vocab_size
                ).fit(texts)
        with_chars = recipe.model.char_features != "none"
        prepared = Prepared({}, preprocessing, tokenizer, "", data=splits)
        for name, sentences in splits.items():
            encoded = [w for words, tags in sentences for w in self.encode(prepared, words, tags)]
            train = name == "train"
            size = data.batch_size if train else data.eval_batch_size
            prepared.batches[name] = TaggingBatches(
                encoded, size, train, data.seed, tokenizer.pad_id, with_chars
            )
        counts = ", ".join(f"{len(splits[k]):,}" for k in SPLITS)
        prepared.description = (
            f"{description}: {counts} sentences; {len(preprocessing.labels)} tags "
            f"({preprocessing.scheme})"
        )
        return prepared

    def max_length(self, recipe: Any) -> int | None:
        """The longest input the encoder reads (its positions, and a pretrained
        tokenizer's own limit); None for a recurrent encoder."""
        if recipe.model.encoder_from:
            source = pretrained_encoder(recipe.model.encoder_from)
            positions = getattr(source.encoder_config, "max_positions", None)
            return context_limit(positions, source.tokenizer)
        return getattr(recipe.model.encoder, "max_positions", None)

    def fit_preprocessing(
        self, data: TaggingData, splits: dict[str, list[Sentence]]
    ) -> TaggingPreprocessing:
        """The tag scheme (the data's, and the model's: ``data.tag_scheme``), the tag set of
        every split (the annotation's inventory) and the training characters."""
        data_scheme = schemes.detect_scheme([tags for _, tags in splits["train"]])
        scheme = data_scheme if data.tag_scheme == "auto" else data.tag_scheme
        if scheme != data_scheme and "none" in (scheme, data_scheme):
            raise UserError(
                f"data.tag_scheme = {scheme!r}, but the data's tags are {data_scheme!r}",
                "use tag_scheme = 'auto' for tags that are not entities (POS)",
            )
        every = {
            tag
            for split in splits.values()
            for _, tags in split
            for tag in self._convert(tags, data_scheme, scheme)
        }
        labels = sorted(every, key=lambda tag: (tag != "O", tag))  # "O" first when present
        chars = sorted({c for words, _ in splits["train"] for word in words for c in word})
        return TaggingPreprocessing(
            labels, scheme, data_scheme, data.lowercase, chars, data.max_word_length
        )

    @staticmethod
    def _convert(tags: list[str], source: str, target: str) -> list[str]:
        """``tags`` written in ``source`` as ``target`` tags. Entity targets always come out
        well-formed (IOB1 or a stray I-X becomes IOB2), so the CRF's constrained
        transitions never meet an impossible gold sequence."""
        if "none" in (source, target):
            return tags
        return schemes.convert_tags(tags, target)

    def encode(self, source: Any, words: list[str], tags: list[str] | None = None) -> list[Encoded]:
        """A sentence -> its model steps (:class:`Encoded`), one item a window of the
        encoder's context (usually one): one step a word for a word vocabulary; for a
        sub-word tokenizer (``data.tokenizer = "bpe" | "wordpiece"``, or the checkpoint's
        of ``model.encoder_from``, with its [CLS] / [SEP]) each word's pieces, tagged at
        the first (the CRF skips the others). See :mod:`seqlab.text.words`."""
        processing: TaggingPreprocessing = source.preprocessing
        tokenizer: Tokenizer = source.tokenizer
        index, labels = processing.char_ids, processing.tag_ids
        spelled = [[index.get(c, 1) for c in w[: processing.max_word_length]] for w in words]
        tag_ids: list[int] = []
        if tags is not None:
            converted = self._convert(tags, processing.data_scheme, processing.scheme)
            tag_ids = [labels[tag] for tag in converted]
        by_word = tokenizer.kind == "word"
        if by_word:  # the tokens as given: no splitting, just the lookup
            cased = [w.lower() for w in words] if processing.lowercase else words
            pieces, specials = [[i] for i in tokenizer.vocab_.encode(cased)], ([], [])
        else:
            pieces, specials = [word_pieces(tokenizer, w) for w in words], special_ids(tokenizer)
        result, done = [], 0
        for ids, first in pack_windows(pieces, processing.max_length, *specials):
            chars: list[list[int]] = [[] for _ in ids]
            steps = [0] * len(ids) if tag_ids else []
            for word, step in enumerate(first, done):
                chars[step] = spelled[word]
                if tag_ids:
                    steps[step] = tag_ids[word]
            result.append(Encoded(ids, chars, steps, None if by_word else first))
            done += len(first)
        return result

    # -------------------------------------------------------------- model
    def build_model(self, config: SequenceTaggerConfig) -> SequenceTagger:
        return SequenceTagger(config)

    def new_model(self, recipe: Any, prepared: Prepared) -> SequenceTagger:
        tokenizer, processing = prepared.tokenizer, prepared.preprocessing
        config = dataclasses.replace(
            recipe.model,
            vocab_size=tokenizer.vocab_size,
            pad_id=tokenizer.pad_id,
            char_vocab_size=len(processing.chars) + 2,
            labels=list(processing.labels),
        )
        if config.encoder_from:
            config = with_pretrained_shapes(config)
        vectors = pretrained_vectors(config)
        model = SequenceTagger(config)
        if vectors is not None:
            summary = copy_pretrained(model.embedding, vectors, tokenizer, config.pad_id)
            prepared.description += f"; {summary}"
        if config.encoder_from:
            prepared.description += "; " + copy_pretrained_encoder(model, config.encoder_from)
        return model

    # -------------------------------------------------------------- tagging
    @torch.no_grad()
    def tag(
        self,
        model: SequenceTagger,
        source: Any,
        sentences: list[list[str]],
        with_probabilities: bool = False,
        batch_size: int = 64,
    ) -> tuple[list[list[str]], list[np.ndarray]]:
        """Tags of tokenised sentences in the data's scheme, ``batch_size`` at a time in
        length order, and with ``with_probabilities`` each sentence's (n, K) tag
        probabilities."""
        model.eval()
        device = next(model.parameters()).device
        # Every window of every sentence, with its sentence; windows are tagged in order
        # of length and put back in sentence order.
        owner, encoded = [], []
        for row, words in enumerate(sentences):
            parts = self.encode(source, words)
            owner += [row] * len(parts)
            encoded += parts
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].ids))
        labels = source.preprocessing.labels
        with_chars = model.chars is not None
        tags: list[list[str]] = [[] for _ in encoded]
        found: list[np.ndarray] = [np.zeros((0, len(labels)))] * len(encoded)
        for start in range(0, len(order), batch_size):
            items = order[start : start + batch_size]
            batch = collate([encoded[i] for i in items], source.tokenizer.pad_id, with_chars)
            batch = batch.to(device)
            output = model(batch)
            best = output.extras["tags"].tolist()  # one transfer a batch, then plain lists
            if with_probabilities:
                marginals = model.probabilities(output.logits, batch.tagged).cpu().numpy()
            for index, item in enumerate(items):
                window = encoded[item]
                steps = window.first if window.first is not None else range(len(window.ids))
                tags[item] = [labels[best[index][step]] for step in steps]
                if with_probabilities:
                    found[item] = marginals[index, steps]
        results: list[list[str]] = [[] for _ in sentences]
        probabilities: list[list[np.ndarray]] = [[] for _ in sentences]
        for item, row in enumerate(owner):
            results[row] += tags[item]
            probabilities[row].append(found[item])
        joined = [np.concatenate(p) if p else np.zeros((0, len(labels))) for p in probabilities]
        return [self._as_data(r, source.preprocessing) for r in results], joined

    def _as_data(self, tags: list[str], processing: TaggingPreprocessing) -> list[str]:
        """Model tags -> the data's scheme."""
        return self._convert(tags, processing.scheme, processing.data_scheme)

    # -------------------------------------------------------------- report
    def score(
        self, gold: list[list[str]], predicted: list[list[str]], scheme: str
    ) -> dict[str, Any]:
        """Token accuracy; for entity tags, micro precision / recall / F1, macro F1 and
        each type's (``precision_<TYPE>`` ... ``support_<TYPE>``)."""
        pairs = [
            (g, p)
            for gs, ps in zip(gold, predicted, strict=True)
            for g, p in zip(gs, ps, strict=True)
        ]
        result: dict[str, Any] = {"accuracy": float(np.mean([g == p for g, p in pairs]))}
        if scheme != "none":
            found = schemes.entity_scores(gold, predicted)
            micro = found["micro"]
            result |= {
                "precision": micro["precision"],
                "recall": micro["recall"],
                "f1": micro["f1"],
                "macro_f1": found["macro"]["f1"],
            }
            for name, values in found["types"].items():
                result |= {f"{key}_{name}": values[key] for key in PER_TYPE}
        return result

    def report(
        self, model: SequenceTagger, prepared: Prepared, recipe: Any
    ) -> tuple[dict[str, Any], list[str]]:
        split = recipe.eval.split
        sentences: list[Sentence] = prepared.data[split]
        processing: TaggingPreprocessing = prepared.preprocessing
        gold = [tags for _, tags in sentences]
        predicted, _ = self.tag(model, prepared, [words for words, _ in sentences])
        metrics: dict[str, Any] = {
            f"{split}_{k}": v
            for k, v in self.score(gold, predicted, processing.data_scheme).items()
        }
        if recipe.eval.baseline:
            guesses = baselines(prepared.data["train"], sentences, processing.data_scheme)
            for name, guessed in guesses.items():
                scored = self.score(gold, guessed, processing.data_scheme)
                key = "accuracy" if name == "most_frequent_tag" else "f1"
                metrics[f"{split}_baseline_{key}"] = scored[key]
        lines = [
            " ".join(w if t == "O" else f"{w}/{t}" for w, t in zip(words, tags, strict=True))
            for (words, _), tags in list(zip(sentences, predicted, strict=True))[
                : recipe.eval.samples
            ]
        ]
        lines += confusions(gold, predicted)
        return metrics, lines

    def evaluate_file(self, bundle: Any, path: str) -> dict[str, Any]:
        """Token accuracy (and entity scores) on a tagged file of the user's, in any of
        the readers' formats."""
        data = bundle.recipe.data if bundle.recipe is not None else TaggingData()
        sentences = read_tagging(path, data.format)
        predicted, _ = self.tag(bundle.model, bundle, [words for words, _ in sentences])
        gold = [tags for _, tags in sentences]
        scored = self.score(gold, predicted, bundle.preprocessing.data_scheme)
        return {f"file_{k}": v for k, v in scored.items()}

    def metrics_table(self, metrics: dict[str, Any]) -> Any:
        """Per entity type of the scored split: precision, recall, F1, support; micro and
        macro; then every other metric (accuracy, baselines, the run's) a row each."""
        from rich.table import Table

        per_type = re.compile(rf"(\w+?)_({'|'.join(PER_TYPE)})_(.+)")
        found = [m.groups() for key in metrics if (m := per_type.fullmatch(key))]
        split = found[0][0] if found else "test"
        types = sorted({name for where, key, name in found if key == "support"})
        table = Table("metric", *PER_TYPE, title=f"{split} split" if types else None)
        for name in types:
            values = [metrics[f"{split}_{key}_{name}"] for key in PER_TYPE]
            table.add_row(name, *(f"{v:.3f}" for v in values[:3]), f"{values[3]:,}")
        shown = {f"{split}_{key}_{name}" for name in types for key in PER_TYPE}
        if f"{split}_f1" in metrics and types:
            support = sum(metrics[f"{split}_support_{name}"] for name in types)
            micro = [metrics[f"{split}_{key}"] for key in ("precision", "recall", "f1")]
            table.add_row("micro", *(f"{v:.3f}" for v in micro), f"{support:,}", style="bold")
            shown |= {f"{split}_{key}" for key in ("precision", "recall", "f1")}
        for key, value in metrics.items():
            if key not in shown:
                table.add_row(
                    key, "", "", f"{value:.4f}" if isinstance(value, float) else str(value), ""
                )
        return table

    # -------------------------------------------------------------- using a bundle
    def predict(self, bundle: Any, requests: list[TagRequest]) -> list[TagResponse]:
        """Batched: every request's tokens are tagged together."""
        sentences = [
            request.tokens
            if request.tokens is not None
            else TOKEN_PATTERN.findall(request.text or "")
            for request in requests
        ]
        wanted = max(request.top_k for request in requests) > 1
        found, probabilities = self.tag(bundle.model, bundle, sentences, wanted)
        labels = bundle.preprocessing.labels
        scheme = bundle.preprocessing.data_scheme
        responses = []
        for request, words, tags, probs in zip(
            requests, sentences, found, probabilities, strict=True
        ):
            entities = [] if scheme == "none" else schemes.spans_to_entities(words, tags)
            top = None
            if request.top_k > 1:
                best = np.argsort(-probs, axis=1, kind="stable")[:, : request.top_k]
                top = [
                    [TagScore(tag=labels[i], score=float(row[i])) for i in order]
                    for row, order in zip(probs, best, strict=True)
                ]
            responses.append(
                TagResponse(
                    tokens=words, tags=tags, entities=[Entity(**e) for e in entities], top=top
                )
            )
        return responses

    def show(self, response: TagResponse) -> str:
        if response.top is not None:
            return " ".join(
                f"{word}/" + "|".join(f"{t.tag}:{t.score:.2f}" for t in scores)
                for word, scores in zip(response.tokens, response.top, strict=True)
            )
        if response.entities:
            return "; ".join(f"{e.text} ({e.type})" for e in response.entities)
        if any(tag != "O" for tag in response.tags):
            return " ".join(f"{w}/{t}" for w, t in zip(response.tokens, response.tags, strict=True))
        return "(no entities)"


def baselines(
    train: list[Sentence], sentences: list[Sentence], scheme: str
) -> dict[str, list[list[str]]]:
    """Same-run baselines' tags for ``sentences``: each word's most frequent training tag
    (unknown words: the most frequent tag overall), and for entity tags a dictionary of
    the training entities' token strings (their most frequent type), matched
    longest-first left to right."""
    by_word: dict[str, Counter[str]] = {}
    overall: Counter[str] = Counter()
    for words, tags in train:
        overall.update(tags)
        for word, tag in zip(words, tags, strict=True):
            by_word.setdefault(word, Counter())[tag] += 1
    common = overall.most_common(1)[0][0]
    frequent = {w: c.most_common(1)[0][0] for w, c in by_word.items()}
    result = {
        "most_frequent_tag": [[frequent.get(w, common) for w in words] for words, _ in sentences]
    }
    if scheme == "none":
        return result
    names: dict[tuple[str, ...], Counter[str]] = {}
    for words, tags in train:
        for kind, start, end in schemes.entity_spans(tags):
            names.setdefault(tuple(words[start:end]), Counter())[kind] += 1
    known = {name: c.most_common(1)[0][0] for name, c in names.items()}
    longest = max((len(name) for name in known), default=0)
    tagged = []
    for words, _ in sentences:
        tags, i = ["O"] * len(words), 0
        while i < len(words):
            for size in range(min(longest, len(words) - i), 0, -1):
                kind = known.get(tuple(words[i : i + size]))
                if kind is not None:
                    tags[i : i + size] = [f"B-{kind}"] + [f"I-{kind}"] * (size - 1)
                    i += size
                    break
            else:
                i += 1
        tagged.append(tags)
    result["dictionary"] = tagged
    return result


def confusions(gold: list[list[str]], predicted: list[list[str]], top: int = 5) -> list[str]:
    """The most frequent (gold -> predicted) mistakes, one line each."""
    mistakes = Counter(
        (g, p)
        for gs, ps in zip(gold, predicted, strict=True)
        for g, p in zip(gs, ps, strict=True)
        if g != p
    )
    total = sum(len(gs) for gs in gold)
    return [
        f"confused {g} -> {p}: {n:,} tokens ({n / total:.2%})"
        for (g, p), n in mistakes.most_common(top)
    ]


__all__ = ["TOKEN_PATTERN", "TokenClassification"]
