"""Using a loaded bundle: classify texts, rank next tokens, generate.

Shared by the CLI and the service, so both answer the same way.
"""

from __future__ import annotations

from typing import Any

import torch

from seqlab.bundle import Bundle
from seqlab.errors import UserError
from seqlab.recipe import Recipe


def _unit(recipe: Recipe) -> str:
    return "char" if recipe.data.tokenizer == "char" else "word"


def predict_texts(
    bundle: Bundle, recipe: Recipe, texts: list[str], top: int = 1
) -> list[dict[str, Any]]:
    """Per text: the best label (or next token) with its probability and the top-k list."""
    if bundle.tokenizer is None:
        raise UserError("this bundle takes series, not texts", "use `seqlab evaluate` for it")
    if bundle.task == "classify":
        from seqlab.tasks.classification import ClassificationData, predict_proba

        prepared = ClassificationData(bundle.tokenizer, bundle.labels, {}, "")
        probs = torch.from_numpy(
            predict_proba(bundle.model, prepared, texts, recipe.data.max_length)
        )
        names = bundle.labels
    else:
        rows = []
        with torch.no_grad():
            for text in texts:
                ids = bundle.tokenizer.encode(text) or [bundle.tokenizer.eos_id]
                bundle.model.reset_state()
                inputs = torch.tensor([ids])
                logits, _ = bundle.model(inputs, torch.tensor([len(ids)]))
                rows.append(torch.softmax(logits[0, -1], dim=-1))
                bundle.model.reset_state()
        probs = torch.stack(rows)
        names = [bundle.tokenizer.decode([i]) or f"<{i}>" for i in range(probs.shape[1])]
    k = max(1, min(top, probs.shape[1]))
    values, indices = probs.topk(k, dim=1)
    results = []
    for text, vals, idx in zip(texts, values.tolist(), indices.tolist(), strict=True):
        ranked = [{"label": names[i], "probability": v} for v, i in zip(vals, idx, strict=True)]
        results.append(
            {
                "text": text,
                "label": ranked[0]["label"],
                "probability": ranked[0]["probability"],
                "top": ranked,
            }
        )
    return results


def generate_texts(
    bundle: Bundle,
    recipe: Recipe,
    prompt: str,
    max_tokens: int = 40,
    temperature: float = 0.8,
    top_k: int | None = 40,
    top_p: float | None = None,
    num: int = 1,
    seed: int = 0,
) -> list[str]:
    """``num`` continuations of ``prompt`` from a language-model bundle."""
    if bundle.task != "lm":
        raise UserError(
            f"bundle {bundle.path} is a '{bundle.task}' model, not a language model",
            "use `seqlab predict` for it",
        )
    if max_tokens < 1:
        raise UserError("max tokens must be at least 1", "pass --max-tokens 40")
    from seqlab.tasks.language_model import continue_text

    return [
        continue_text(
            bundle.model,
            bundle.tokenizer,
            prompt,
            _unit(recipe),
            max_tokens,
            temperature,
            top_k,
            top_p,
            seed=seed + i,
        )
        for i in range(num)
    ]
