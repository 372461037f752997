"""Batched tagging vs one sentence at a time: sentences/s side by side, same run.

    python benchmarks/tagger.py [--bundle runs/wnut16-bilstm-crf/bundle] [--sentences 512]

Tags WNUT-16 tweets with a BiLSTM-CRF (character BiLSTM features, or a character CNN
with ``--char-features cnn``; Viterbi decoding): the given bundle, else a small one
trained here for 100 steps. Once in batches of 64
sentences (padded, masked: one encoder call and one batched Viterbi per batch), once
sentence by sentence. Both must give the same tags. Timed in CPU seconds of this
process (on a shared machine wall time mostly measures the other processes), best of
the rounds. Exits 1 if they differ or the speed-up is below the goal (default 10x).
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from seqlab.bundle import load_bundle
from seqlab.data.datasets import load_dataset
from seqlab.recipe import load_recipe_dict, recipe_from_dict
from seqlab.run import train_recipe
from speedup import arguments, parse, race, report

GOAL = 10.0
BATCH = 64
RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "wnut16-bilstm-crf.toml"


def small_tagger(folder: Path, char_features: str) -> Path:
    """The WNUT-16 recipe's BiLSTM-CRF trained for 100 steps (about a minute)."""
    raw = load_recipe_dict(RECIPE)
    raw["model"]["char_features"] = char_features
    raw["train"] |= {"max_steps": 100, "progress": False}
    raw["eval"] = {"samples": 0, "baseline": False}
    result = train_recipe(recipe_from_dict(raw), folder, console=Console(file=io.StringIO()))
    return result.bundle


def main() -> int:
    parser = arguments(__doc__, sentences=512, goal=GOAL)
    parser.add_argument("--char-features", default="lstm", help="without --bundle: lstm | cnn")
    args = parse(parser)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.bundle or small_tagger(Path(tmp) / "run", args.char_features)
        bundle = load_bundle(path)
    data = load_dataset("wnut16")
    tweets = [words for split in ("test", "valid", "train") for words, _ in data[split]]
    sentences = tweets[: args.sentences]
    found, rates = race(
        lambda size: bundle.family.tag(bundle.model, bundle, sentences, batch_size=size)[0],
        len(sentences),
        BATCH,
        args.rounds,
    )
    same = found["batched"] == found["one by one"]
    tokens = sum(map(len, sentences))
    title = (
        f"BiLSTM-CRF (character {bundle.model.config.char_features}), "
        f"{len(sentences)} WNUT-16 tweets ({tokens:,} tokens), batches of {BATCH}, "
        f"{args.threads} thread(s), CPU time"
    )
    return report(title, rates, same, "tags", args.goal)


if __name__ == "__main__":
    sys.exit(main())
