"""GPT generation with and without the KV cache: tokens/s side by side, same run.

    python benchmarks/generate.py [--new-tokens 256] [--rounds 3] [--threads 1]

A randomly initialised GPT (4 pre-LN layers, 256 dims, 4 heads, 10k vocabulary, a
context long enough that nothing is cropped) continues a 16- and a 256-token prompt
greedily. With the cache each new token is one query against the cached keys and
values; without it every step re-reads the whole prefix (cost grows with its length).
The two variants alternate, each reports its fastest round, timed in CPU seconds of this
process (on a shared machine wall time mostly measures the other processes), and both
must produce the same tokens. Exits 1 if they differ, or if the speed-up with the
256-token prompt is below the goal (default 5x).

With a short prompt the speed-up is smaller, and no cache can change that: a cached
step reads every weight once for a single token (a matrix-vector product per layer),
so it is bound by memory bandwidth, while recomputing a short prefix is a small, fast
matrix-matrix product. The script prints the bandwidth a cached step achieves
(megabytes of weights per token / its time) to show that floor.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from seqlab.models.lm import LanguageModel, LanguageModelConfig
from seqlab.nn.transformer import TransformerConfig

GOAL = 5.0  # with the long prompt (GATED)
PROMPTS = (16, 256)
GATED = 256


def build_gpt(context: int) -> LanguageModel:
    encoder = TransformerConfig(
        hidden_size=256,
        num_layers=4,
        num_heads=4,
        causal=True,
        positions="learned",
        max_positions=context,
    )
    config = LanguageModelConfig(
        encoder=encoder, embedding_dim=256, vocab_size=10_000, init_std=0.02
    )
    return LanguageModel(config).eval()


def measure(prompt_length: int, new_tokens: int, rounds: int) -> tuple[float, float, bool]:
    """(tokens/s with the cache, tokens/s recomputing, same tokens?) for one prompt length."""
    torch.manual_seed(0)
    prompt = torch.randint(0, 10_000, (prompt_length,)).tolist()
    model = build_gpt(context=prompt_length + new_tokens)
    best = {True: float("inf"), False: float("inf")}
    outputs: dict[bool, list[int]] = {}
    for round_ in range(rounds):
        for use_cache in (True, False) if round_ % 2 == 0 else (False, True):
            started = time.process_time()
            outputs[use_cache] = model.generate(
                prompt, new_tokens, temperature=0.0, use_cache=use_cache
            )
            best[use_cache] = min(best[use_cache], time.process_time() - started)
    return new_tokens / best[True], new_tokens / best[False], outputs[True] == outputs[False]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--goal", type=float, default=GOAL)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"GPT 4x256, {args.new_tokens} new tokens, {args.threads} thread(s), "
        f"best of {args.rounds} (CPU time)\n"
        "  prompt   with KV cache   recomputing   speed-up   same tokens"
    )
    ratios, same = {}, True
    megabytes = sum(p.numel() * p.element_size() for p in build_gpt(16).parameters()) / 1e6
    for prompt_length in PROMPTS:
        cached, recomputed, equal = measure(prompt_length, args.new_tokens, args.rounds)
        ratios[prompt_length] = cached / recomputed
        same &= equal
        print(
            f"  {prompt_length:6d}   {cached:8.1f} tok/s  {recomputed:8.1f} tok/s"
            f"   {ratios[prompt_length]:6.2f}x   {'yes' if equal else 'NO'}"
            f"   (cached: {megabytes * cached / 1e3:.1f} GB/s of weights)"
        )
    print(f"  {megabytes:.1f} MB of weights are read for every cached token")
    if not same:
        print("FAIL: generation with the cache differs from recomputation")
        return 1
    if ratios[GATED] < args.goal:
        print(f"FAIL: speed-up {ratios[GATED]:.2f}x < {args.goal}x with a {GATED}-token prompt")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
