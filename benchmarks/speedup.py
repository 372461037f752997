"""What the batched-vs-one-by-one benchmarks (beam.py, tagger.py) share: their
arguments, the timing race and the verdict line."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch


def arguments(doc: str, sentences: int, goal: float) -> argparse.ArgumentParser:
    """``--bundle --sentences --rounds --threads --goal``; add more, then ``parse``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--sentences", type=int, default=sentences)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--goal", type=float, default=goal)
    return parser


def parse(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line and set torch's thread count from ``--threads``."""
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    return args


def race(
    run: Callable[[int], Any], count: int, batch: int, rounds: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """``run(batch_size)`` in batches of ``batch`` and one at a time, ``rounds`` times:
    each way's result and rate (``count`` items per CPU second of this process, best
    round; on a shared machine wall time mostly measures the other processes)."""
    best = {"batched": float("inf"), "one by one": float("inf")}
    found: dict[str, Any] = {}
    for _ in range(rounds):
        for name, size in (("batched", batch), ("one by one", 1)):
            started = time.process_time()
            found[name] = run(size)
            best[name] = min(best[name], time.process_time() - started)
    return found, {name: count / seconds for name, seconds in best.items()}


def report(title: str, rates: dict[str, float], same: bool, what: str, goal: float) -> int:
    """Print sentences/s of ``rates["batched"]`` and ``rates["one by one"]``, their ratio
    and whether both gave the same ``what``; 1 (failure) if not, or below ``goal``."""
    ratio = rates["batched"] / rates["one by one"]
    width = max(map(len, rates))
    print(title)
    for name, rate in rates.items():
        print(f"  {name:{width}s}  {rate:8.1f} sentences/s")
    print(f"  {'speed-up':{width}s}  {ratio:8.2f}x   same {what}: {'yes' if same else 'NO'}")
    if not same:
        print(f"FAIL: batched {what} differ from one sentence at a time")
        return 1
    if ratio < goal:
        print(f"FAIL: speed-up {ratio:.2f}x < {goal}x")
        return 1
    return 0
