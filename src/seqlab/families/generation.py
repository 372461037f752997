"""``text-generation``: next-token language modelling on a token stream (word or char).

Data: ``ptb`` (Mikolov's split, ``<eos>`` closes every line), ``shakespeare``
(characters), or ``file`` (a UTF-8 text file split 90/5/5 by position). Baselines:
count-based unigram and add-k bigram models measured on the same stream. Model:
:class:`~seqlab.models.lm.LanguageModel` over a causal encoder (a non-causal one is
refused: it would report a fake perplexity).

``model.init_from = "runs/NAME/bundle"`` continues a trained language model on this
recipe's data (ULMFiT's LM fine-tuning, Howard & Ruder 2018): the bundle's tokenizer,
its whole ``[model]`` and its weights; the recipe's other ``[model]`` keys must be left
out, and words outside the bundle's vocabulary read as ``<unk>``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from seqlab.config import PositiveInt
from seqlab.data.batching import Batch, LMStreamBatches, pad_sequences
from seqlab.data.config import TextDataConfig, limit_splits
from seqlab.data.datasets import load_dataset
from seqlab.data.readers import read_lines
from seqlab.errors import UserError
from seqlab.families.base import (
    SPLITS,
    Family,
    GenerateRequest,
    GenerateResponse,
    Prepared,
    validated,
)
from seqlab.families.text import copy_pretrained, new_tokenizer, pretrained_vectors
from seqlab.models.lm import LanguageModel, LanguageModelConfig, check_causal
from seqlab.models.ngram import NGramConfig, NGramLM
from seqlab.text.tokenizers import Tokenizer
from seqlab.train.callbacks import TrainState
from seqlab.train.loop import evaluate


@dataclass
class LMData(TextDataConfig):
    dataset: str = "ptb"
    bptt: PositiveInt = 35  # truncated back-propagation length


@dataclass
class LMPreprocessing:
    """Stored in a bundle: characters are one stream; words get ``<eos>`` per line."""

    unit: Literal["word", "char"] = "word"
    bptt: PositiveInt = 35


class NextTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = ""
    top_k: int = Field(1, ge=1)


class TokenScore(BaseModel):
    token: str
    score: float


class NextTokenResponse(BaseModel):
    """The likeliest next token after the text, and the ``top_k`` likeliest."""

    token: str
    score: float
    top: list[TokenScore]


def _split_by_position(text: str, fractions=(0.9, 0.05, 0.05)) -> dict[str, str]:
    lines = text.splitlines(keepends=True)
    a = int(len(lines) * fractions[0])
    b = a + int(len(lines) * fractions[1])
    return {"train": "".join(lines[:a]), "valid": "".join(lines[a:b]), "test": "".join(lines[b:])}


def encode_stream(tokenizer: Tokenizer, split: str | list[str], unit: str) -> list[int]:
    """One split as one id stream: characters as they come, words with ``<eos>`` per line."""
    if unit == "char":
        text = split if isinstance(split, str) else "\n".join(split)
        return tokenizer.encode(text)
    lines = split.splitlines() if isinstance(split, str) else split
    ids: list[int] = []
    for line in lines:
        ids.extend(tokenizer.encode(line, add_eos=True))
    return ids


class TextGeneration(Family):
    """Model types: ``neural`` (:class:`LanguageModel` over a causal encoder, the default)
    and ``ngram`` (:class:`NGramLM`, a count model fitted in a second)."""

    task = "text-generation"
    summary = "next-token language model; generates text; unigram / bigram baselines"
    data_config = LMData
    model_config = LanguageModelConfig | NGramConfig
    preprocessing = LMPreprocessing
    Request = NextTokenRequest
    Response = NextTokenResponse
    example = "recipes/ptb-lstm-demo.toml"
    metrics: ClassVar[dict[str, str]] = {
        "loss": "min",
        "ppl": "min",
        "bits": "min",
        "unigram_ppl": "min",
        "bigram_ppl": "min",
    }
    # The prompts shown after training, per unit.
    PROMPTS: ClassVar[dict[str, list[str]]] = {
        "word": ["the stock market", "in the first quarter", ""],
        "char": ["ROMEO:\n", "First Citizen:\n", "KING "],
    }

    # -------------------------------------------------------------- training
    def raw_splits(self, recipe: Any) -> tuple[dict[str, str | list[str]], str]:
        """Per split: a list of lines (line-based data) or one string (character data)."""
        data = recipe.data
        if data.dataset == "file":
            if not data.path:
                raise UserError(
                    "data.dataset = 'file' needs data.path", "set data.path = 'corpus.txt'"
                )
            text = "".join(line + "\n" for line in read_lines(data.path))
            return _split_by_position(text), f"`{data.path}`, split 90/5/5 by position"
        self.check_dataset(data.dataset, (self.task,))
        return load_dataset(data.dataset, **data.options), f"`{data.dataset}` (as shipped)"

    def token_streams(
        self, recipe: Any, tokenizer: Tokenizer | None, unit: str
    ) -> tuple[dict[str, torch.Tensor], Tokenizer, str]:
        """Every split (limited for quick runs) as one id stream, the tokenizer fitted on
        train unless given, and the data's description."""
        data = recipe.data
        splits, description = self.raw_splits(recipe)
        splits = limit_splits(splits, data)
        if tokenizer is None:
            train = splits["train"]
            tokenizer = new_tokenizer(data).fit([train] if isinstance(train, str) else train)
        streams = {
            name: torch.tensor(encode_stream(tokenizer, splits[name], unit), dtype=torch.long)
            for name in SPLITS
        }
        return streams, tokenizer, description

    def prepare(self, recipe: Any, preprocessing: Any = None, tokenizer: Any = None) -> Prepared:
        """Tokenise every split into one id stream and cut train/valid/test batches."""
        data = recipe.data
        unit = "char" if data.tokenizer == "char" else "word"
        source = getattr(recipe.model, "init_from", None)
        if tokenizer is None and source:
            bundle = self.source_model(source)
            if bundle.preprocessing.unit != unit:
                raise UserError(
                    f"model.init_from: {source} reads {bundle.preprocessing.unit}s, this "
                    f"recipe {unit}s",
                    f"set data.tokenizer = {'char' if unit == 'word' else 'word'!r}",
                )
            tokenizer = bundle.tokenizer
        streams, tokenizer, description = self.token_streams(recipe, tokenizer, unit)
        batches = {
            name: LMStreamBatches(
                streams[name],
                data.batch_size if name == "train" else data.eval_batch_size,
                data.bptt,
            )
            for name in SPLITS
        }
        return Prepared(batches, LMPreprocessing(unit, data.bptt), tokenizer, description, streams)

    def check_recipe(self, recipe: Any) -> None:
        if isinstance(recipe.model, LanguageModelConfig):
            check_causal(recipe.model.encoder)
            if recipe.model.init_from:  # the architecture is the bundle's
                default = LanguageModelConfig(init_from=recipe.model.init_from)
                changed = [
                    f.name
                    for f in dataclasses.fields(default)
                    if getattr(recipe.model, f.name) != getattr(default, f.name)
                ]
                if changed:
                    raise UserError(
                        "model.init_from takes the whole [model] from its bundle, but the "
                        f"recipe also sets model.{', model.'.join(changed)}",
                        "leave only model.init_from in [model]",
                    )

    def source_model(self, path: str) -> Any:
        """The bundle ``model.init_from`` names: a neural text-generation bundle."""
        from seqlab.bundle import load_bundle

        if not (Path(path) / "config.json").is_file():
            raise UserError(
                f"model.init_from: {path} is not a bundle folder (no config.json)",
                "pass the bundle folder of a text-generation run, e.g. runs/NAME/bundle",
            )
        bundle = load_bundle(path)
        if bundle.task != self.task or not isinstance(bundle.model, LanguageModel):
            raise UserError(
                f"model.init_from: {path} is a {bundle.task} bundle, not a neural language model",
                "pass the bundle of a text-generation run with model.type = 'neural'",
            )
        return bundle

    def build_model(self, config: Any) -> LanguageModel | NGramLM:
        if isinstance(config, NGramConfig):
            return NGramLM.from_config(config)
        return LanguageModel(config)

    def new_model(self, recipe: Any, prepared: Prepared) -> LanguageModel | NGramLM:
        tokenizer = prepared.tokenizer
        if isinstance(recipe.model, NGramConfig):
            return self.build_model(
                dataclasses.replace(recipe.model, vocab_size=tokenizer.vocab_size)
            )
        if recipe.model.init_from:
            source = self.source_model(recipe.model.init_from).model
            model = LanguageModel(
                dataclasses.replace(source.config, init_from=recipe.model.init_from)
            )
            model.load_state_dict(source.state_dict())
            prepared.description += f"; weights from the language model {recipe.model.init_from}"
            return model
        config = dataclasses.replace(
            recipe.model, vocab_size=tokenizer.vocab_size, pad_id=tokenizer.pad_id
        )
        vectors = pretrained_vectors(config)
        model = LanguageModel(config)
        if vectors is not None:
            prepared.description += f"; {copy_pretrained(model.embedding, vectors, tokenizer)}"
        return model

    def train(
        self, model: Any, prepared: Prepared, recipe: Any, out: Any, resume: bool, plan: Any = None
    ) -> Any:
        """The loop for a neural model; counting for an n-gram model."""
        if not isinstance(model, NGramLM):
            return super().train(model, prepared, recipe, out, resume, plan)
        streams = prepared.data
        model.fit(streams["train"].numpy(), streams["valid"].numpy())
        valid = self.stream_metrics(model, prepared.batches["valid"], streams["valid"])
        record = {"epoch": 1, **{f"valid_{k}": v for k, v in valid.items()}}
        return TrainState(epoch=1, history=[record], best=valid["loss"], best_epoch=1)

    def stream_metrics(self, model: Any, batches: Any, stream: torch.Tensor) -> dict[str, float]:
        """Mean loss per token, perplexity and bits of a model on a token stream."""
        if isinstance(model, NGramLM):
            return LanguageModel.summarize({"loss": -float(model.log_probs(stream.numpy()).mean())})
        return evaluate(model, batches)

    def baselines(self, prepared: Prepared, split: str = "test") -> dict[str, float]:
        """Unigram (add-one) and bigram (add-k, k tuned on valid) perplexities."""
        vocab = prepared.tokenizer.vocab_size
        streams = prepared.data
        train, valid = streams["train"].numpy(), streams["valid"].numpy()
        unigram = NGramLM(vocab, order=1).fit(train)
        bigram = NGramLM(vocab, order=2, k=[1.0, 0.1, 0.03, 0.01, 0.003, 0.001]).fit(train, valid)
        target = streams[split].numpy()
        return {
            "unigram_ppl": unigram.perplexity(target),
            "bigram_ppl": bigram.perplexity(target),
            "bigram_k": bigram.k_,
        }

    def report(
        self, model: LanguageModel, prepared: Prepared, recipe: Any
    ) -> tuple[dict[str, Any], list[str]]:
        """Test metrics beside the count baselines, and a few generated samples."""
        split = recipe.eval.split
        measured = self.stream_metrics(model, prepared.batches[split], prepared.data[split])
        metrics = {f"{split}_{k}": v for k, v in measured.items()}
        if recipe.eval.baseline:
            metrics |= {f"{split}_{k}": v for k, v in self.baselines(prepared, split).items()}
        unit = prepared.preprocessing.unit
        shown = [
            continue_text(model, prepared.tokenizer, prompt, unit, seed=i)
            for i, prompt in enumerate(self.PROMPTS[unit][: recipe.eval.samples])
        ]
        return metrics, [f"sample: {text!r}" for text in shown]

    def evaluate_file(self, bundle: Any, path: str) -> dict[str, Any]:
        """Perplexity of a language-model bundle on a user text file."""
        unit = bundle.preprocessing.unit
        ids = torch.tensor(encode_stream(bundle.tokenizer, read_lines(path), unit))
        if ids.numel() < 2:
            raise UserError(f"{path} has too little text to score", "give it at least a sentence")
        batches = LMStreamBatches(ids, 1, bundle.preprocessing.bptt)
        return {**self.stream_metrics(bundle.model, batches, ids), "tokens": int(ids.numel())}

    # -------------------------------------------------------------- using a bundle
    def predict(self, bundle: Any, requests: list[NextTokenRequest]) -> list[NextTokenResponse]:
        """The next-token distribution after each text, in one padded batch."""
        tokenizer = bundle.tokenizer
        encoded = [tokenizer.encode(r.text) or [tokenizer.eos_id] for r in requests]
        probs = next_token_probabilities(bundle.model, encoded, tokenizer.pad_id)
        responses = []
        for request, row in zip(requests, probs, strict=True):
            values, indices = row.topk(min(request.top_k, row.numel()))
            top = [
                TokenScore(token=tokenizer.id_to_token(i), score=v)
                for v, i in zip(values.tolist(), indices.tolist(), strict=True)
            ]
            responses.append(NextTokenResponse(token=top[0].token, score=top[0].score, top=top))
        return responses

    def request_from_text(self, text: str, top_k: int = 1) -> BaseModel:
        return validated(NextTokenRequest, text=text, top_k=top_k)

    def show(self, response: NextTokenResponse) -> str:
        return ", ".join(f"{item.token} {item.score:.3f}" for item in response.top)

    def generate(self, bundle: Any, request: GenerateRequest) -> GenerateResponse:
        ids = bundle.tokenizer.encode(request.prompt) if request.prompt else []
        limit = bundle.model.context_size
        truncated = limit is not None and len(ids) > limit
        if truncated and not request.truncate:
            raise UserError(
                f"the prompt has {len(ids)} tokens, more than the model's context of "
                f"{limit} tokens",
                "shorten the prompt, or pass --truncate to keep its last tokens",
            )
        if request.num_beams > 1:
            return GenerateResponse(
                texts=self.beam_texts(bundle, request, ids), truncated=truncated
            )
        texts = [
            continue_text(
                bundle.model,
                bundle.tokenizer,
                request.prompt,
                bundle.preprocessing.unit,
                request.max_new_tokens,
                request.temperature,
                request.top_k,
                request.top_p,
                seed=request.seed + i,
                ids=ids,
            )
            for i in range(request.num_return_sequences)
        ]
        return GenerateResponse(texts=texts, truncated=truncated)

    def beam_texts(self, bundle: Any, request: GenerateRequest, ids: list[int]) -> list[str]:
        """The prompt + its ``num_return_sequences`` likeliest continuations (beam search)."""
        if request.num_return_sequences > request.num_beams:
            raise UserError(
                f"{request.num_return_sequences} sequences need at least as many beams, "
                f"not {request.num_beams}",
                "raise --beams or lower --num",
            )
        model, tokenizer = bundle.model, bundle.tokenizer
        if isinstance(model, NGramLM):
            raise UserError("beam search needs a neural language model", "leave out --beams")
        unit = bundle.preprocessing.unit
        found = model.beam_generate(
            model_prompt(model, tokenizer, ids),
            request.max_new_tokens,
            request.num_beams,
            request.num_return_sequences,
            request.length_penalty,
            stop_id=tokenizer.eos_id if unit == "word" else None,
        )
        return [joined(request.prompt, tokenizer.decode(h.tokens), unit) for h in found]


def model_prompt(model: LanguageModel, tokenizer: Tokenizer, ids: list[int]) -> list[int]:
    """What the model reads first: the prompt's ids (``<eos>``, a sentence boundary, when
    empty), its last ``context_size`` for a windowed model (the caller decided to
    truncate, or it fits)."""
    ids = ids or [tokenizer.eos_id]
    return ids[-model.context_size :] if model.context_size is not None else ids


def joined(prompt: str, continuation: str, unit: str) -> str:
    """The prompt and its decoded continuation: words apart, characters together."""
    return prompt + ("" if unit == "char" or not prompt else " ") + continuation


@torch.no_grad()
def next_token_probabilities(model: Any, encoded: list[list[int]], pad_id: int) -> torch.Tensor:
    """(B, V) P(next token | ids) for each id list; the neural model in one padded batch."""
    if isinstance(model, NGramLM):
        return torch.from_numpy(np.exp(np.stack([model.next_log_probs(ids) for ids in encoded])))
    padded, lengths = pad_sequences(encoded, pad_value=pad_id)
    device = next(model.parameters()).device
    logits = model(Batch(padded, lengths).to(device)).logits  # (B, T, V)
    last = logits[torch.arange(len(encoded)), lengths.to(device) - 1]  # (B, V)
    return torch.softmax(last.float(), dim=-1).cpu()


def continue_text(
    model: LanguageModel,
    tokenizer: Tokenizer,
    prompt: str,
    unit: str,
    max_new_tokens: int = 30,
    temperature: float = 0.8,
    top_k: int | None = 40,
    top_p: float | None = None,
    seed: int = 0,
    ids: list[int] | None = None,
) -> str:
    """``prompt`` + a sampled continuation of at least one token (words stop at ``<eos>``).

    A prompt that often ends a sentence ("the company said" in PTB) would otherwise
    mostly get an empty continuation. ``ids``: the prompt already encoded (else it is).
    """
    if ids is None:
        ids = tokenizer.encode(prompt) if prompt else []
    stop = tokenizer.eos_id if unit == "word" else None
    new = model.generate(
        model_prompt(model, tokenizer, ids),
        max_new_tokens,
        temperature,
        top_k,
        top_p,
        stop_id=stop,
        seed=seed,
        min_new_tokens=1,
    )
    return joined(prompt, tokenizer.decode(new), unit)
