"""``fill-mask``: BERT-style masked-language-model pretraining, and filling ``[MASK]``.

Data: any text corpus of the ``text-generation`` family (``ptb``, ``ru-sentences``,
``shakespeare`` or a ``file``), tokenised into one stream (``<eos>`` between lines)
and cut into blocks of ``data.block_size`` tokens; 15% of the tokens are corrupted
80/10/10 (:mod:`seqlab.data.masking`). Optionally (``data.sentence_task = "nsp"`` or
``"sop"``) each block is a sentence pair with a second, per-block task. Baselines: the
unigram model of the training stream (always the most frequent token; its masked-token
accuracy and perplexity) and, for the pair task, always guessing the majority label.
Model: :class:`~seqlab.models.mlm.MaskedLanguageModel`; its embedding and encoder are
what ``model.encoder_from`` of a classifier reuses.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from seqlab.config import PositiveInt, Probability
from seqlab.data.batching import Batch, pad_sequences
from seqlab.data.config import TextDataConfig
from seqlab.data.masking import IGNORE, MaskedLMBatches
from seqlab.data.readers import read_lines
from seqlab.errors import UserError
from seqlab.families.base import SPLITS, Family, Prepared, validated
from seqlab.families.generation import TextGeneration, TokenScore, encode_stream
from seqlab.models.mlm import MaskedLanguageModel, MaskedLMConfig
from seqlab.text.tokenizers import Tokenizer
from seqlab.train.loop import evaluate

MASK_MARK = "[MASK]"


@dataclass
class MaskedLMData(TextDataConfig):
    dataset: str = "ptb"
    tokenizer: str = "wordpiece"
    block_size: PositiveInt = 128  # tokens per row
    mask_probability: Probability = 0.15
    replace_mask: Probability = 0.8  # of the chosen tokens: [MASK]
    replace_random: Probability = 0.1  # a random token (the rest stay as they are)
    sentence_task: Literal["none", "nsp", "sop"] = "none"  # next-sentence / sentence-order


@dataclass
class MaskedLMPreprocessing:
    """Stored in a bundle: how a user file is cut and masked for ``evaluate``."""

    block_size: PositiveInt = 128
    mask_probability: Probability = 0.15
    sentence_task: str = "none"


class FillMaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description=f"text with one or more {MASK_MARK}")
    top_k: int = Field(5, ge=1)

    @field_validator("text")
    @classmethod
    def _has_mask(cls, text: str) -> str:
        if MASK_MARK not in text:
            raise ValueError(f"the text has no {MASK_MARK} to fill")
        return text


class FillMaskResponse(BaseModel):
    text: str  # every [MASK] replaced by its likeliest token
    masks: list[list[TokenScore]]  # per [MASK], left to right: the top-k tokens


class FillMask(Family):
    task = "fill-mask"
    summary = "masked-LM pretraining (BERT 15% / 80-10-10); fills [MASK]; unigram baseline"
    data_config = MaskedLMData
    model_config = MaskedLMConfig
    preprocessing = MaskedLMPreprocessing
    Request = FillMaskRequest
    Response = FillMaskResponse
    example = "recipes/ptb-bert-mlm.toml"
    example_input = f"the company {MASK_MARK} it will"
    metrics: ClassVar[dict[str, str]] = {
        "loss": "min",
        "ppl": "min",
        "accuracy": "max",
        "unigram_accuracy": "max",
        "unigram_ppl": "min",
        "sentence_accuracy": "max",
        "sentence_majority": "max",
    }
    corpus = TextGeneration()  # the same text data sets and files

    # -------------------------------------------------------------- training
    def batches(self, ids: torch.Tensor, tokenizer: Tokenizer, data: Any, train: bool) -> Any:
        return MaskedLMBatches(
            ids,
            data.batch_size if train else data.eval_batch_size,
            data.block_size,
            tokenizer.mask_id,
            list(tokenizer.special_ids.values()),
            tokenizer.vocab_size,
            shuffle=train,
            seed=data.seed,
            probability=data.mask_probability,
            replace_mask=data.replace_mask,
            replace_random=data.replace_random,
            sentence_task=data.sentence_task,
            bos_id=tokenizer.bos_id,
            sep_id=tokenizer.eos_id,
        )

    def prepare(self, recipe: Any, preprocessing: Any = None, tokenizer: Any = None) -> Prepared:
        data = recipe.data
        if data.tokenizer == "char":
            raise UserError(
                "a masked LM over characters is not supported",
                "use data.tokenizer = 'wordpiece', 'bpe', 'word' or 'whitespace'",
            )
        self.check_dataset(data.dataset, (self.corpus.task,))  # the error names fill-mask
        streams, tokenizer, description = self.corpus.token_streams(recipe, tokenizer, "word")
        batches = {
            name: self.batches(streams[name], tokenizer, data, name == "train") for name in SPLITS
        }
        kept = MaskedLMPreprocessing(data.block_size, data.mask_probability, data.sentence_task)
        return Prepared(batches, kept, tokenizer, description, streams)

    def build_model(self, config: MaskedLMConfig) -> MaskedLanguageModel:
        return MaskedLanguageModel(config)

    def new_model(self, recipe: Any, prepared: Prepared) -> MaskedLanguageModel:
        tokenizer = prepared.tokenizer
        config = dataclasses.replace(
            recipe.model,
            vocab_size=tokenizer.vocab_size,
            pad_id=tokenizer.pad_id,
            mask_id=tokenizer.mask_id,
            sentence_head=recipe.data.sentence_task != "none",
        )
        return MaskedLanguageModel(config)

    def baseline(self, prepared: Prepared, split: str) -> dict[str, float]:
        """The unigram model of the training stream on the same masked targets; with
        sentence pairs, the share of the split's commoner pair label."""
        tokenizer = prepared.tokenizer
        counts = torch.bincount(prepared.data["train"], minlength=tokenizer.vocab_size).double()
        counts[list(tokenizer.special_ids.values())] = 0
        log_probs = torch.log((counts + 1) / (counts.sum() + counts.numel()))  # add-one
        batches = list(prepared.batches[split])
        targets = torch.cat([b.targets[b.targets != IGNORE] for b in batches])
        metrics = {
            "unigram_accuracy": float((targets == counts.argmax()).double().mean()),
            "unigram_ppl": math.exp(-float(log_probs[targets].mean())),
        }
        if batches[0].order is not None:
            share = float(torch.cat([b.order for b in batches]).double().mean())
            metrics["sentence_majority"] = max(share, 1.0 - share)
        return metrics

    def report(
        self, model: MaskedLanguageModel, prepared: Prepared, recipe: Any
    ) -> tuple[dict[str, Any], list[str]]:
        """Masked-token accuracy and perplexity beside the unigram baseline; a few fills."""
        split = recipe.eval.split
        metrics = {f"{split}_{k}": v for k, v in evaluate(model, prepared.batches[split]).items()}
        if recipe.eval.baseline:
            metrics |= {f"{split}_{k}": v for k, v in self.baseline(prepared, split).items()}
        lines = []
        stream = prepared.data[split]
        tokenizer = prepared.tokenizer
        for i in range(recipe.eval.samples):
            ids = stream[i * 40 : i * 40 + 12].tolist()
            words = [tokenizer.id_to_token(t) for t in ids]
            if len(words) < 6:
                break
            hidden = words[5]
            text = tokenizer.decode(ids[:5]) + f" {MASK_MARK} " + tokenizer.decode(ids[6:])
            filled = self.predict_one(model, tokenizer, text, 3)
            guesses = ", ".join(f"{s.token} {s.score:.2f}" for s in filled.masks[0])
            lines.append(f"{text!r}: {guesses} (was {hidden!r})")
        return metrics, lines

    def evaluate_file(self, bundle: Any, path: str) -> dict[str, Any]:
        """Masked-token accuracy of a bundle on a user text file (fixed masks)."""
        ids = torch.tensor(encode_stream(bundle.tokenizer, read_lines(path), "word"))
        kept = bundle.preprocessing
        data = MaskedLMData(
            eval_batch_size=16,
            block_size=kept.block_size,
            mask_probability=kept.mask_probability,
            sentence_task=kept.sentence_task,  # type: ignore[arg-type]
        )
        batches = self.batches(ids, bundle.tokenizer, data, train=False)
        return {**evaluate(bundle.model, batches), "tokens": int(ids.numel())}

    # -------------------------------------------------------------- using a bundle
    def encode_masked(
        self, model: MaskedLanguageModel, tokenizer: Tokenizer, text: str
    ) -> list[int]:
        """The ids of a text with ``[MASK]`` marks (refused past the model's context)."""
        ids: list[int] = []
        for index, piece in enumerate(text.split(MASK_MARK)):
            if index:
                ids.append(tokenizer.mask_id)
            ids.extend(tokenizer.encode(piece.strip()) if piece.strip() else [])
        if model.config.sentence_head:  # trained on <bos> A <eos> B <eos>
            ids = [tokenizer.bos_id, *ids, tokenizer.eos_id]
        limit = model.encoder.max_positions
        if limit is not None and len(ids) > limit:
            raise UserError(
                f"the text has {len(ids)} tokens, more than the model's context of {limit}",
                "shorten the text",
            )
        return ids

    @torch.no_grad()
    def fill(
        self,
        model: MaskedLanguageModel,
        tokenizer: Tokenizer,
        texts: list[str],
        top_k: list[int],
    ) -> list[FillMaskResponse]:
        """Fill every ``[MASK]`` of each text: the texts in one padded batch."""
        encoded = [self.encode_masked(model, tokenizer, text) for text in texts]
        ids, lengths = pad_sequences(encoded, pad_value=tokenizer.pad_id)
        device = next(model.parameters()).device
        model.eval()
        logits = model(Batch(ids.to(device), lengths)).logits  # (B, T, V)
        specials = list(tokenizer.special_ids.values())
        responses = []
        for row, (sequence, k) in enumerate(zip(encoded, top_k, strict=True)):
            masks, filled = [], list(sequence)
            for position in [i for i, t in enumerate(sequence) if t == tokenizer.mask_id]:
                probs = torch.softmax(logits[row, position].float(), dim=-1)
                probs[specials] = 0.0
                values, indices = probs.topk(min(k, probs.numel()))
                masks.append(
                    [
                        TokenScore(token=tokenizer.id_to_token(i), score=v)
                        for v, i in zip(values.tolist(), indices.tolist(), strict=True)
                    ]
                )
                filled[position] = int(indices[0])
            responses.append(FillMaskResponse(text=tokenizer.decode(filled), masks=masks))
        return responses

    def predict_one(
        self, model: MaskedLanguageModel, tokenizer: Tokenizer, text: str, top_k: int
    ) -> FillMaskResponse:
        return self.fill(model, tokenizer, [text], [top_k])[0]

    def predict(self, bundle: Any, requests: list[FillMaskRequest]) -> list[FillMaskResponse]:
        texts, top_k = [r.text for r in requests], [r.top_k for r in requests]
        return self.fill(bundle.model, bundle.tokenizer, texts, top_k)

    def request_from_text(self, text: str, top_k: int = 5) -> BaseModel:
        return validated(FillMaskRequest, text=text, top_k=top_k)

    def show(self, response: FillMaskResponse) -> str:
        guesses = " | ".join(
            ", ".join(f"{s.token} {s.score:.3f}" for s in mask) for mask in response.masks
        )
        return f"{response.text}  ({guesses})"
