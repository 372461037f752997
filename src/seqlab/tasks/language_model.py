"""Task `lm`: next-token language modelling on a token stream (word or character).

Data: ``ptb`` (Mikolov's split, ``<eos>`` closes every line), ``shakespeare``
(characters), or ``file`` (a UTF-8 text file split 90/5/5 by position). Baseline:
count-based unigram and add-k bigram models measured on the same stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from seqlab.data.batching import LMStreamBatches
from seqlab.data.datasets import load_dataset
from seqlab.data.readers import read_lines
from seqlab.errors import UserError
from seqlab.models.lm import LanguageModel, LanguageModelConfig
from seqlab.models.ngram import NGramLM
from seqlab.recipe import Recipe, build_dataclass
from seqlab.tasks.common import copy_pretrained, new_tokenizer, pretrained_vectors
from seqlab.text.tokenizers import Tokenizer

SPLITS = ("train", "valid", "test")


@dataclass
class LMData:
    tokenizer: Tokenizer
    streams: dict[str, torch.Tensor]  # split -> (N,) token ids
    description: str
    unit: str  # "word" or "char"
    batches: dict[str, Any] = field(default_factory=dict)


def _split_by_position(text: str, fractions=(0.9, 0.05, 0.05)) -> dict[str, str]:
    lines = text.splitlines(keepends=True)
    a = int(len(lines) * fractions[0])
    b = a + int(len(lines) * fractions[1])
    return {"train": "".join(lines[:a]), "valid": "".join(lines[a:b]), "test": "".join(lines[b:])}


def raw_splits(recipe: Recipe) -> tuple[dict[str, str | list[str]], str]:
    """Per split: a list of lines (line-based data) or one string (character data)."""
    data = recipe.data
    if data.dataset == "file":
        if not data.path:
            raise UserError("data.dataset = 'file' needs data.path", "set data.path = 'corpus.txt'")
        text = "".join(line + "\n" for line in read_lines(data.path))
        return _split_by_position(text), f"`{data.path}`, split 90/5/5 by position"
    splits = load_dataset(data.dataset, **data.options)
    if not isinstance(splits, dict) or not set(SPLITS) <= set(splits):
        raise UserError(
            f"dataset '{data.dataset}' is not a language-modelling corpus",
            "use ptb, shakespeare or dataset = 'file'",
        )
    return splits, f"`{data.dataset}` (train/valid/test as shipped)"


def _encode_split(tokenizer: Tokenizer, split: str | list[str], unit: str) -> list[int]:
    if unit == "char":
        text = split if isinstance(split, str) else "\n".join(split)
        return tokenizer.encode(text)
    lines = split.splitlines() if isinstance(split, str) else split
    ids: list[int] = []
    for line in lines:
        ids.extend(tokenizer.encode(line, add_eos=True))
    return ids


def prepare(recipe: Recipe, tokenizer: Tokenizer | None = None) -> LMData:
    """Tokenise every split into one id stream and cut train/valid/test batches."""
    data = recipe.data
    splits, description = raw_splits(recipe)
    unit = "char" if data.tokenizer == "char" else "word"
    if data.limit:
        splits = {k: (v[: data.limit] if k == "train" else v) for k, v in splits.items()}
    if tokenizer is None:
        tokenizer = new_tokenizer(data)
        train = splits["train"]
        tokenizer.fit([train] if isinstance(train, str) else train)
    streams = {
        name: torch.tensor(_encode_split(tokenizer, splits[name], unit), dtype=torch.long)
        for name in SPLITS
    }
    batches = {
        "train": LMStreamBatches(streams["train"], data.batch_size, data.bptt),
        "valid": LMStreamBatches(streams["valid"], data.eval_batch_size, data.bptt),
        "test": LMStreamBatches(streams["test"], data.eval_batch_size, data.bptt),
    }
    return LMData(tokenizer, streams, description, unit, batches)


def build_model(recipe: Recipe, prepared: LMData) -> LanguageModel:
    config = build_dataclass(LanguageModelConfig, recipe.model, "model")
    config.vocab_size = prepared.tokenizer.vocab_size
    config.pad_id = prepared.tokenizer.pad_id
    vectors = pretrained_vectors(config)
    model = LanguageModel(config)
    if vectors is not None:
        prepared.description += f"; {copy_pretrained(model.embedding, vectors, prepared.tokenizer)}"
    return model


def baselines(prepared: LMData, split: str = "test") -> dict[str, float]:
    """Unigram (add-one) and bigram (add-k, k tuned on valid) perplexities."""
    vocab = prepared.tokenizer.vocab_size
    train = prepared.streams["train"].numpy()
    valid, target = prepared.streams["valid"].numpy(), prepared.streams[split].numpy()
    unigram = NGramLM(vocab, order=1).fit(train)
    bigram = NGramLM(vocab, order=2, k=[1.0, 0.1, 0.03, 0.01, 0.003, 0.001]).fit(train, valid)
    return {
        "unigram_ppl": unigram.perplexity(target),
        "bigram_ppl": bigram.perplexity(target),
        "bigram_k": bigram.k_,
    }


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
) -> str:
    """``prompt`` + a sampled continuation of at least one token (words stop at ``<eos>``).

    A prompt that often ends a sentence ("the company said" in PTB) would otherwise
    mostly get an empty continuation.
    """
    ids = tokenizer.encode(prompt) if prompt else [tokenizer.eos_id]
    stop = tokenizer.eos_id if unit == "word" else None
    new = model.generate(
        ids, max_new_tokens, temperature, top_k, top_p, stop_id=stop, seed=seed, min_new_tokens=1
    )
    joiner = "" if unit == "char" or not prompt else " "
    return prompt + joiner + tokenizer.decode(new)


def stream_summary(prepared: LMData) -> dict[str, int]:
    return {f"{k}_tokens": int(v.numel()) for k, v in prepared.streams.items()} | {
        "vocab_size": prepared.tokenizer.vocab_size
    }


def report(
    model: LanguageModel, prepared: LMData, recipe: Recipe
) -> tuple[dict[str, Any], list[str]]:
    """Test metrics beside the count baselines, and a few generated samples."""
    from seqlab.train.loop import evaluate

    split = recipe.eval.split
    metrics = {f"{split}_{k}": v for k, v in evaluate(model, prepared.batches[split]).items()}
    if recipe.eval.baseline:
        metrics |= {f"{split}_{k}": v for k, v in baselines(prepared, split).items()}
    prompts = (
        ["the stock market", "in the first quarter", ""]
        if prepared.unit == "word"
        else ["ROMEO:\n", "First Citizen:\n", "KING "]
    )
    shown = [
        continue_text(model, prepared.tokenizer, prompt, prepared.unit, seed=i)
        for i, prompt in enumerate(prompts[: recipe.eval.samples])
    ]
    return metrics, [f"sample: {text!r}" for text in shown]


def evaluate_file(bundle: Any, recipe: Recipe, path: str) -> dict[str, Any]:
    """Perplexity of a language-model bundle on a user text file."""
    from seqlab.train.loop import evaluate

    unit = "char" if recipe.data.tokenizer == "char" else "word"
    lines = read_lines(path)
    ids = torch.tensor(_encode_split(bundle.tokenizer, lines, unit), dtype=torch.long)
    if ids.numel() < 2:
        raise UserError(f"{path} has too little text to score", "give it at least a sentence")
    batches = LMStreamBatches(ids, 1, recipe.data.bptt)
    return {**evaluate(bundle.model, batches), "tokens": int(ids.numel())}
