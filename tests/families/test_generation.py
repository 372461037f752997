"""Family text-generation on real PTB: streams, baselines and a 2-minute run that beats them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from seqlab.bundle import load_bundle
from seqlab.recipe import load_recipe
from seqlab.run import train_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def test_ptb_stream_has_eos_per_line_and_mikolov_counts() -> None:
    recipe = load_recipe(RECIPES / "ptb-lstm-small.toml")
    prepared = recipe.family.prepare(recipe)
    eos = prepared.tokenizer.eos_id
    # 887,521 words + one <eos> per line (42,068 lines) = Mikolov's 929,589 tokens.
    assert prepared.data["train"].numel() == 887_521 + 42_068
    assert int((prepared.data["valid"] == eos).sum()) == 3_370
    assert prepared.tokenizer.encode("<unk>") == [prepared.tokenizer.unk_id]
    assert prepared.tokenizer.vocab_size <= 10_000 + 5  # 10k PTB types + specials


def test_count_baselines_on_ptb_are_in_the_known_range() -> None:
    recipe = load_recipe(RECIPES / "ptb-lstm-small.toml")
    got = recipe.family.baselines(recipe.family.prepare(recipe), "test")
    assert 600 < got["unigram_ppl"] < 800  # PTB unigram perplexity is ~ 690
    assert 150 < got["bigram_ppl"] < got["unigram_ppl"]


@pytest.mark.e2e
def test_two_minute_ptb_lstm_beats_the_count_baselines(tmp_path: Path) -> None:
    recipe = load_recipe(
        RECIPES / "ptb-lstm-demo.toml",
        # A step budget, not a clock: ~1.5 minutes on one core, the same result on a busy one.
        ["train.max_steps=1200", "train.max_minutes=30", "train.progress=false", "eval.samples=1"],
    )
    result = train_recipe(recipe, tmp_path / "run")
    m = result.metrics
    assert m["test_ppl"] < m["test_bigram_ppl"] < m["test_unigram_ppl"]
    assert m["valid_bits"] == pytest.approx(math.log2(m["valid_ppl"]), rel=1e-3)
    bundle = load_bundle(result.bundle)
    assert bundle.model.config.encoder.num_layers == 2 and bundle.task == "text-generation"
