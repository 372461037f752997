"""Every shipped recipe trains (a few steps), writes a bundle, and the bundle answers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seqlab.bundle import load_bundle
from seqlab.data.datasets import DATASETS
from seqlab.recipe import Recipe, apply_overrides, load_recipe_dict, recipe_from_dict
from seqlab.run import train_recipe

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "recipes").glob("*.toml"))
QUICK = ["train.max_steps=3", "train.progress=false", "eval.samples=1", "eval.baseline=false"]
QUICK += ["data.limit=3000", "data.eval_limit=100"]  # lines / examples / characters
QUICK += ["data.batch_size=8"]  # three small steps: the run, not the speed, is tested
# Untrained seq2seq models rarely stop: decode the report's 100 sentences greedily and short.
QUICK_TRANSLATION = ["data.beam_size=1", "data.max_length_a=0.5", "data.max_length_b=4"]
# A 3,000-character slice of a text file leaves too few validation tokens for 32 rows.
QUICK_MORE = {
    "mr-ulmfit-lm": ["data.eval_batch_size=2"],
    "mr-ulmfit-lm-mr": ["data.eval_batch_size=2"],
}
# Inputs for recipes whose data the family's example input does not fit.
EXAMPLES = {
    "ru-inflection": "кошка NOUN,anim,femn,plur,gent",
    "sf-temps-lstm": " ".join(["50.5"] * 72) + " @ 2010-12-31T23:00",  # 72 h and the last hour
    "co2-lstm": " ".join(["370.0"] * 104) + " @ 2001-12-29",  # two years of weeks
    "sunspots-gru": " ".join(["60.0"] * 33) + " @ 2008",  # 33 years and the last one
}


def _strings(raw: object) -> list[str]:
    """Every string value of a raw recipe, nested tables included."""
    if isinstance(raw, dict):
        return [s for value in raw.values() for s in _strings(value)]
    if isinstance(raw, list):
        return [s for value in raw for s in _strings(value)]
    return [raw] if isinstance(raw, str) else []


def _quick_recipe(name: str, raw: dict, more: list[str] | None = None) -> Recipe:
    """The recipe ``name`` cut to a few small steps (plus ``more`` overrides); skips the
    test when its data set is not installed."""
    quick = QUICK + (QUICK_TRANSLATION if raw.get("task") == "translation" else [])
    quick += QUICK_MORE.get(name, []) + (more or [])
    recipe = recipe_from_dict(apply_overrides(raw, quick))
    info = DATASETS.get(recipe.data.dataset)
    if info is not None and not info.is_available():
        pytest.skip(f"{recipe.data.dataset} is not installed (seqlab datasets prepare)")
    return recipe


@pytest.mark.e2e
@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_recipe_trains_and_its_bundle_predicts(path: Path, tmp_path: Path) -> None:
    raw = load_recipe_dict(path)
    raw.pop("compare", None)  # a `seqlab compare` grid: its base recipe trains here
    recipe = _quick_recipe(path.stem, raw)
    made = [v for v in _strings(raw) if v.startswith("runs/") and not (ROOT / v).exists()]
    if made:  # a later step of a pipeline (ULMFiT): its recipe's header names the first
        pytest.skip(f"needs {made[0]}, the output of another run")
    result = train_recipe(recipe, tmp_path / "run")
    bundle = load_bundle(result.bundle)
    family = bundle.family
    example = EXAMPLES.get(path.stem, family.example_input)
    (answer,) = bundle.predict([family.request_from_text(example, top_k=2)])
    assert isinstance(answer, family.Response)
    if hasattr(answer, "hypotheses"):  # seq2seq: the two best beam hypotheses
        assert len(answer.hypotheses) == 2 and all(h.log_prob <= 0 for h in answer.hypotheses)
        return
    if hasattr(answer, "forecast"):  # a forecaster: the horizon's values and timestamps
        horizon = bundle.preprocessing.horizon
        assert len(answer.forecast) == len(answer.times) == horizon
        return
    if hasattr(answer, "anomalous"):  # a detector: a score per step, the bundle's threshold
        assert len(answer.step_scores) == len(answer.series) >= 1
        assert answer.threshold == bundle.preprocessing.threshold
        return
    if hasattr(answer, "tags"):  # a tagger: each token's two likeliest tags
        assert answer.top is not None and len(answer.top) == len(answer.tokens)
        for pair in answer.top:
            assert len(pair) == 2 and 0.0 <= pair[1].score <= pair[0].score <= 1.0
        return
    scores = [s.score for s in (answer.masks[0] if hasattr(answer, "masks") else answer.top)]
    assert len(scores) == 2 and all(0.0 <= score <= 1.0 for score in scores)


# One recipe per kind of network: a carried-state LSTM LM, a GPT, a BiLSTM-CRF tagger, a
# convolutional classifier with BatchNorm, a GRU forecaster, an RNN and a Transformer
# seq2seq.
BF16 = [
    "ptb-lstm-small",
    "shakespeare-char-gpt",
    "wnut16-bilstm-crf",
    "ucr-ecg200-fcn",
    "sunspots-gru",
    "cmudict-g2p",
    "cmudict-g2p-transformer",
]


@pytest.mark.e2e
@pytest.mark.parametrize("name", BF16)
def test_recipe_trains_in_bf16_mixed_precision(name: str, tmp_path: Path) -> None:
    """train.precision = "bf16": every kind of network trains and keeps float32 weights."""
    raw = load_recipe_dict(ROOT / "recipes" / f"{name}.toml")
    recipe = _quick_recipe(name, raw, ["train.precision=bf16"])
    result = train_recipe(recipe, tmp_path / "run")
    assert all(value == value for value in result.metrics.values() if isinstance(value, float))
    weights = load_bundle(result.bundle).model.state_dict().values()
    assert {w.dtype for w in weights if w.is_floating_point()} == {torch.float32}
