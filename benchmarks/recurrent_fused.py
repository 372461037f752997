"""Recurrent fused vs unfused vs raw torch.nn.LSTM/GRU: forward + backward time, side by side.

Letters: B batch, T time steps, H hidden size (= input size here), L layers.

    python benchmarks/recurrent_fused.py [--quick] [--threads N]

All variants run interleaved (one step of each per round, order rotated every round) so
load from other processes hits them alike, and each reports its fastest round (interference
only ever adds time). One intra-op thread by default: on a shared machine OpenMP threads
waiting on each other turn every other process's load into noise (``--threads`` to change).
Ratios:

* fused/torch   — Recurrent on torch's fused kernel vs torch.nn.LSTM/GRU: should be ≈ 1.0
  (the same kernel; only the python around it differs). The script exits 1 if any is > 1.5.
* unfused/fused — the cost of the reference ``cell(x_t, state)`` loop (``fused=False``).
  The cells without a torch kernel run on their fast paths instead: benchmarks/cells.py.

Rows "padded" give every sequence a random length in [T/2, T] (packed kernel / masks).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import torch
from torch.nn.utils.rnn import pack_padded_sequence

from cells import measure, torch_twin, training_step
from seqlab.nn.recurrent import Recurrent

BATCH, STEPS, HIDDEN, LAYERS = 32, 35, 200, 2
MAX_FUSED_OVER_TORCH = 1.5


def _variants(cell: str, lengths: torch.Tensor | None) -> dict[str, Callable[[], None]]:
    model = Recurrent(cell, HIDDEN, HIDDEN, num_layers=LAYERS)
    twin = torch_twin(model)
    x = torch.randn(BATCH, STEPS, HIDDEN)

    def recurrent(fused: bool) -> torch.Tensor:
        model.fused = fused
        return model(x, lengths)[0]

    def raw_torch() -> torch.Tensor:
        if lengths is None:
            return twin(x)[0]
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return twin(packed)[0].data

    return {
        "fused": training_step(lambda: recurrent(True), model),
        "unfused": training_step(lambda: recurrent(False), model),
        "torch": training_step(raw_torch, twin),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 rounds instead of 25 (~15 s on an idle 2-core machine)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rounds = 5 if args.quick else 25
    padded = torch.randint(STEPS // 2, STEPS + 1, (BATCH,))
    padded[0] = STEPS

    print(
        f"B={BATCH} T={STEPS} H={HIDDEN} L={LAYERS}, forward+backward, best of {rounds} "
        f"interleaved rounds, {torch.get_num_threads()} thread(s), torch {torch.__version__}"
    )
    print(
        f"{'case':<14}{'fused ms':>10}{'unfused ms':>12}{'torch ms':>10}"
        f"{'fused/torch':>13}{'unfused/fused':>15}"
    )
    failed = []
    for cell in ("lstm", "gru"):
        for label, lengths in (("full", None), ("padded", padded)):
            result = measure(_variants(cell, lengths), rounds)
            over_torch = result["fused"] / result["torch"]
            loop_cost = result["unfused"] / result["fused"]
            case = f"{cell} {label}"
            print(
                f"{case:<14}{result['fused'] * 1e3:>10.2f}{result['unfused'] * 1e3:>12.2f}"
                f"{result['torch'] * 1e3:>10.2f}{over_torch:>13.2f}{loop_cost:>15.2f}"
            )
            if over_torch > MAX_FUSED_OVER_TORCH:
                failed.append(f"{case}: fused/torch = {over_torch:.2f}")
    if failed:
        print(
            f"FAIL: fused path slower than torch by more than {MAX_FUSED_OVER_TORCH}x: "
            + "; ".join(failed),
            file=sys.stderr,
        )
        return 1
    print(f"OK: fused/torch <= {MAX_FUSED_OVER_TORCH} for every case")
    return 0


if __name__ == "__main__":
    sys.exit(main())
