"""Family text-generation on real PTB: streams, baselines and short runs that beat them."""

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
@pytest.mark.parametrize(
    ("steps", "beaten"),
    [
        # 300 steps (~1/8 epoch, well under a minute): the LSTM already beats word counts.
        (300, ["test_unigram_ppl"]),
        # the make-demo claim, ~2 minutes: it beats the smoothed bigram too (make test-all).
        pytest.param(1200, ["test_bigram_ppl", "test_unigram_ppl"], marks=pytest.mark.slow),
    ],
)
def test_ptb_demo_lstm_beats_the_count_baselines(
    tmp_path: Path, steps: int, beaten: list[str]
) -> None:
    # A step budget, not a clock: the same result on a busy machine.
    budget = [f"train.max_steps={steps}", "train.max_minutes=30", "train.progress=false"]
    recipe = load_recipe(RECIPES / "ptb-lstm-demo.toml", [*budget, "eval.samples=1"])
    result = train_recipe(recipe, tmp_path / "run")
    m = result.metrics
    ppls = [m["test_ppl"], *(m[name] for name in beaten)]
    assert ppls == sorted(ppls), ppls
    assert m["test_bigram_ppl"] < m["test_unigram_ppl"]
    assert m["valid_bits"] == pytest.approx(math.log2(m["valid_ppl"]), rel=1e-3)
    bundle = load_bundle(result.bundle)
    assert bundle.model.config.encoder.num_layers == 2 and bundle.task == "text-generation"
