"""bf16 mixed precision vs float32 training: steps/s and validation loss, same run.

    python benchmarks/precision.py [--recipe recipes/cmudict-g2p-transformer.toml]
                                   [--steps 200] [--rounds 2] [--threads 2] [--goal 1.2]

Trains the recipe's model (by default the CMUdict Transformer) from one initialisation
for ``--steps`` steps (the warm-up shortened to a quarter of them at most) with
``train.precision = "fp32"`` and ``"bf16"``, alternately, ``--rounds`` times, through
the real training loop. Speed: steps per CPU second of this process, best round (on a
shared machine wall time mostly measures the other processes).
Quality: both models' validation loss after the same steps, which must agree within 2%.
Exits 1 if they do not or the speed-up is below ``--goal`` (bfloat16 pays off on CPUs
with AVX512-BF16 or AMX and on GPUs from Ampere on; elsewhere it can be slower).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
import time

import torch

from seqlab.recipe import load_recipe
from seqlab.train.loop import evaluate, fit, seed_everything

TOLERANCE = 0.02


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="recipes/cmudict-g2p-transformer.toml")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--goal", type=float, default=1.2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    recipe = load_recipe(args.recipe)
    seed_everything(recipe.train.seed)
    prepared = recipe.family.prepare(recipe)
    start = recipe.family.new_model(recipe, prepared)
    train, valid = prepared.batches["train"], prepared.batches["valid"]
    seconds = {"fp32": float("inf"), "bf16": float("inf")}
    losses: dict[str, float] = {}
    for _ in range(args.rounds):
        for precision in seconds:
            model = copy.deepcopy(start)
            cfg = dataclasses.replace(
                recipe.train,
                precision=precision,
                max_steps=args.steps,
                warmup_steps=min(recipe.train.warmup_steps, args.steps // 4),
                progress=False,
            )
            began = time.process_time()
            fit(model, train, None, cfg)
            seconds[precision] = min(seconds[precision], time.process_time() - began)
            with torch.no_grad():
                losses[precision] = evaluate(model, valid)["loss"]
    ratio = seconds["fp32"] / seconds["bf16"]
    print(f"{recipe.name}: {args.steps} training steps, {args.threads} thread(s), CPU time")
    for precision, spent in seconds.items():
        rate = args.steps / spent
        print(f"  {precision}  {rate:6.2f} steps/s   valid loss {losses[precision]:.5f}")
    gap = abs(losses["bf16"] - losses["fp32"]) / losses["fp32"]
    print(f"  speed-up {ratio:.2f}x   valid loss gap {100 * gap:.2f}%")
    if gap > TOLERANCE:
        print(f"FAIL: the valid losses differ by {100 * gap:.2f}% > {100 * TOLERANCE:.0f}%")
        return 1
    if ratio < args.goal:
        print(f"FAIL: speed-up {ratio:.2f}x < {args.goal}x")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
