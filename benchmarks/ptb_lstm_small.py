"""Zaremba et al. 2014 "small" LSTM on Penn Treebank, end to end through seqlab.

Runs `recipes/ptb-lstm-small.toml` (2x200 LSTM, 13 epochs, SGD lr 20 on the
per-token loss = lr 1 on the 20-step sum, clip 0.25, halving after epoch 4) and prints
test perplexity beside the paper's 114.5 and the count baselines of the same run.
Exits 1 if test perplexity is above the target (default 120).

    .venv/bin/python benchmarks/ptb_lstm_small.py            # full run (~25-40 min on 2 cores)
    .venv/bin/python benchmarks/ptb_lstm_small.py --epochs 1 --target 250   # quick look
    .venv/bin/python benchmarks/ptb_lstm_small.py --resume   # continue an interrupted run
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from seqlab.recipe import load_recipe
from seqlab.run import train_recipe

ROOT = Path(__file__).resolve().parents[1]
PAPER = 114.5


def run_ptb(
    recipe_name: str, reference: str, target: float, doc: str, argv: list[str] | None = None
) -> tuple[dict[str, Any], int]:
    """Train ``recipes/RECIPE_NAME.toml`` (options: --epochs, --target, --out, --resume),
    print test perplexity beside ``reference`` and the count baselines; returns the
    metrics and the exit code (1 above the target)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=13)
    parser.add_argument("--target", type=float, default=target)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / f"bench-{recipe_name}")
    parser.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    args = parser.parse_args(argv)
    recipe = load_recipe(ROOT / "recipes" / f"{recipe_name}.toml", [f"train.epochs={args.epochs}"])
    command = f"python benchmarks/{Path(sys.argv[0]).name}"
    result = train_recipe(recipe, args.out, resume=args.resume, command=command)
    m = result.metrics
    print(
        f"\nPTB test perplexity: seqlab {m['test_ppl']:.1f} | {reference} | "
        f"unigram {m['test_unigram_ppl']:.1f} | "
        f"bigram(k={m['test_bigram_k']}) {m['test_bigram_ppl']:.1f} | "
        f"wall {result.seconds / 60:.1f} min, {m['epochs']} epochs"
    )
    if m["test_ppl"] > args.target:
        print(f"FAIL: test perplexity {m['test_ppl']:.1f} > target {args.target}")
        return m, 1
    return m, 0


def main() -> int:
    m, code = run_ptb("ptb-lstm-small", f"paper {PAPER}", 120.0, __doc__)
    print(f"ratio to the paper: {m['test_ppl'] / PAPER:.3f}")
    return code


if __name__ == "__main__":
    sys.exit(main())
