"""GPT generation with and without the KV cache: tokens/s side by side, same run.

    python benchmarks/generate.py [--new-tokens 256] [--rounds 3] [--threads 1]

A randomly initialised GPT (4 pre-LN layers, 256 dims, 4 heads, 10k vocabulary, context
512 so that nothing is cropped) continues a 16-token prompt greedily. With the cache each
new token is one query against the cached keys and values; without it every step
re-reads the whole prefix (cost grows with its length). The two variants alternate, each
reports its fastest round (load from other processes only ever adds time), and both must
produce the same tokens. Exits 1 if the speed-up is below the goal (default 5x).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from seqlab.models.lm import LanguageModel, LanguageModelConfig
from seqlab.nn.transformer import TransformerConfig

GOAL = 5.0


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--goal", type=float, default=GOAL)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    prompt = torch.randint(0, 10_000, (16,)).tolist()
    model = build_gpt(context=len(prompt) + args.new_tokens)
    best = {True: float("inf"), False: float("inf")}
    outputs: dict[bool, list[int]] = {}
    for round_ in range(args.rounds):
        for use_cache in (True, False) if round_ % 2 == 0 else (False, True):
            started = time.perf_counter()
            outputs[use_cache] = model.generate(
                prompt, args.new_tokens, temperature=0.0, use_cache=use_cache
            )
            best[use_cache] = min(best[use_cache], time.perf_counter() - started)
    if outputs[True] != outputs[False]:
        print("FAIL: generation with the cache differs from recomputation")
        return 1
    speed = {k: args.new_tokens / v for k, v in best.items()}
    ratio = speed[True] / speed[False]
    print(
        f"GPT 4x256, prompt {len(prompt)}, {args.new_tokens} new tokens, "
        f"{args.threads} thread(s), best of {args.rounds}:\n"
        f"  with KV cache    {speed[True]:8.1f} tokens/s\n"
        f"  recomputing      {speed[False]:8.1f} tokens/s\n"
        f"  speed-up         {ratio:8.2f}x (goal >= {args.goal}x); same tokens: yes"
    )
    if ratio < args.goal:
        print(f"FAIL: speed-up {ratio:.2f}x < {args.goal}x")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
