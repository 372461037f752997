"""Batched beam search vs one sentence at a time: sentences/s side by side, same run.

    python benchmarks/beam.py [--bundle runs/cmudict-g2p/bundle] [--sentences 256]

Decodes CMUdict test words with a trained grapheme-to-phoneme model (the given bundle,
else a small one trained here for a few hundred steps) by beam search of width 5: once in
batches of 64 sentences (batch x beam rows in one tensor per step), once sentence by
sentence. Both must give the same hypotheses. Timed in CPU seconds of this process (on
a shared machine wall time mostly measures the other processes), best of the rounds.
Exits 1 if they differ or the speed-up is below the goal (default 5x).
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from seqlab.bundle import load_bundle
from seqlab.data.datasets import load_dataset
from seqlab.recipe import recipe_from_dict
from seqlab.run import train_recipe
from speedup import arguments, parse, race, report

GOAL = 5.0
WIDTH, BATCH = 5, 64


def small_g2p(folder: Path) -> Path:
    """A BiGRU -> GRU + attention g2p model trained for 400 steps (about a minute)."""
    raw = {
        "task": "translation",
        "name": "bench-beam",
        "data": {
            "dataset": "cmudict",
            "source_tokenizer": "char",
            "lowercase": True,
            "batch_size": 64,
            "eval_limit": 200,
        },
        "model": {
            "embedding_dim": 64,
            "encoder": {"type": "gru", "hidden_size": 128, "bidirectional": True},
            "decoder": {"type": "gru", "hidden_size": 128, "attention": "general"},
        },
        "train": {"max_steps": 400, "lr": 0.003, "progress": False},
        "eval": {"samples": 0, "baseline": False},
    }
    result = train_recipe(recipe_from_dict(raw), folder, console=Console(file=io.StringIO()))
    return result.bundle


def main() -> int:
    args = parse(arguments(__doc__, sentences=256, goal=GOAL))
    with tempfile.TemporaryDirectory() as tmp:
        path = args.bundle or small_g2p(Path(tmp) / "run")
        bundle = load_bundle(path)
    family, pair = bundle.family, bundle.tokenizer
    words = sorted({word for word, _ in load_dataset("cmudict")["test"]})[: args.sentences]
    sources = [pair.source.encode(word) for word in words]
    found, rates = race(
        lambda size: family.decode(bundle.model, sources, WIDTH, 40, batch_size=size),
        len(sources),
        BATCH,
        args.rounds,
    )
    same = all(
        [h.tokens for h in a] == [h.tokens for h in b]
        for a, b in zip(found["batched"], found["one by one"], strict=True)
    )
    title = (
        f"beam {WIDTH}, {len(sources)} CMUdict words, batches of {BATCH}, "
        f"{args.threads} thread(s), CPU time"
    )
    return report(title, rates, same, "hypotheses", args.goal)


if __name__ == "__main__":
    sys.exit(main())
