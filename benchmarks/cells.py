"""Training time per token of every recurrent cell at equal hidden size, with its FLOPs.

Letters: B batch, T time steps, H hidden size (= input size here), L layers.

    python benchmarks/cells.py [--quick] [--threads N] [--padded] [--steps T] [--clock C]

The shape is PTB Zaremba-small's (B=20, T=20, H=200, 2 layers; ``--steps 35`` for the
PyTorch word_language_model's bptt). Every variant runs one forward + backward per round;
variants are interleaved (order rotated every round) so load from other processes hits
them alike, and each reports its fastest round (interference only ever adds time). One
intra-op thread by default: on a shared machine OpenMP threads waiting on each other turn
every other process's load into noise. With one thread the clock is this process's CPU
time (``time.process_time``: time the core spent on us, not on the other processes of a
shared machine); with more threads it is wall time (``--clock`` to choose).

Columns, per cell (``Recurrent(cell, fused=True)``, i.e. its fastest exact path):

* ``us/token``   — forward + backward time / (B*T).
* ``vs lstm``    — raw time ratio against the fused LSTM.
* ``flops``      — GEMM FLOPs ratio against the LSTM, from the cells' parameter shapes:
  every 2-D weight (out, in) costs out*in multiply-adds per row and step (LSTM:
  4H x (I+H); GRU 3 blocks, tanh RNN 1, LSTM-f/-i/-o 3, MUT1 4 H x H matrices, MUT2 5,
  MUT3 6 at I = H).
* ``normalised`` — ``vs lstm`` / ``flops``: time per unit of GEMM work against the LSTM.
* ``reference``  — the per-step ``cell(x_t, state)`` loop (``fused=False``) / fast path.
* ``vs torch``   — cells on torch's kernels against raw ``torch.nn.LSTM/GRU/RNN`` with
  the same weights (padded: packed in, padded (B, T, H) out, as Recurrent returns).

Targets (issue 10), and the script exits 1 when one is missed: cells on torch's kernels
<= 1.05x raw torch.nn.*; every other cell <= 1.3x the fused LSTM, normalised by FLOPs.
``--padded`` gives every sequence a random length in [T/2, T] (packed kernels, masks).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.nn.cells import CELLS, FUSED_KINDS
from seqlab.nn.recurrent import Recurrent

BATCH, STEPS, HIDDEN, LAYERS = 20, 20, 200, 2
MAX_FUSED_OVER_TORCH = 1.05
MAX_NORMALISED = 1.3
TORCH_MODULES = {"lstm": nn.LSTM, "lstm_b": nn.LSTM, "gru": nn.GRU, "rnn_tanh": nn.RNN}


def gemm_flops(model: Recurrent) -> int:
    """Multiply-adds per batch row and time step: Σ out*in over every 2-D weight."""
    return sum(p.numel() for p in model.parameters() if p.dim() == 2)


def torch_twin(model: Recurrent) -> nn.RNNBase:
    """torch.nn.LSTM/GRU/RNN with the same weights as ``model``."""
    module = TORCH_MODULES[model.cell_name]
    twin = module(
        model.input_size, model.hidden_size, num_layers=model.num_layers, batch_first=True
    )
    twin.load_state_dict(
        {
            f"{name}_l{layer}": parameter
            for layer, cell in enumerate(model.cells)
            for name, parameter in cell.named_parameters()
        }
    )
    return twin


def training_step(run: Callable[[], torch.Tensor], module: nn.Module) -> Callable[[], None]:
    def step() -> None:
        module.zero_grad(set_to_none=True)
        run().sum().backward()

    return step


def _variants(
    x: torch.Tensor, lengths: torch.Tensor | None
) -> tuple[dict[str, Callable[[], None]], dict[str, int]]:
    """Name -> one training step, and cell -> GEMM FLOPs per row and step."""
    variants: dict[str, Callable[[], None]] = {}
    flops: dict[str, int] = {}
    for cell in CELLS:
        fast = Recurrent(cell, HIDDEN, HIDDEN, num_layers=LAYERS, fused=True)
        flops[cell] = gemm_flops(fast)
        variants[cell] = training_step(lambda m=fast: m(x, lengths)[0], fast)
        if cell in FUSED_KINDS:
            twin = torch_twin(fast)

            def raw(twin: nn.RNNBase = twin) -> torch.Tensor:
                if lengths is None:
                    return twin(x)[0]
                # The same outputs as Recurrent's: padded (B, T, H), zeros past each length.
                packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
                outputs = twin(packed)[0]
                return pad_packed_sequence(outputs, batch_first=True, total_length=x.size(1))[0]

            variants[f"{cell}:torch"] = training_step(raw, twin)
        else:
            reference = Recurrent(cell, HIDDEN, HIDDEN, num_layers=LAYERS, fused=False)
            reference.load_state_dict(fast.state_dict())
            variants[f"{cell}:reference"] = training_step(
                lambda m=reference: m(x, lengths)[0], reference
            )
    return variants, flops


def measure(
    variants: dict[str, Callable[[], None]],
    rounds: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Fastest seconds per forward+backward, variants interleaved, order rotated per round."""
    names = list(variants)
    for name in names:  # warm-up: allocator, oneDNN primitive caches
        variants[name]()
        variants[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = clock()
            variants[name]()
            times[name].append(clock() - start)
    return {name: min(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="5 rounds instead of 25 (~30 s on an idle machine)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1)")
    parser.add_argument(
        "--padded", action="store_true", help="random lengths in [T/2, T] instead of full rows"
    )
    parser.add_argument("--steps", type=int, default=STEPS, help=f"T ({STEPS})")
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        help="process CPU time or wall time (default: cpu with one thread, else wall)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rounds = 5 if args.quick else 25
    clock_name = args.clock or ("cpu" if args.threads == 1 else "wall")
    clock = time.process_time if clock_name == "cpu" else time.perf_counter
    steps = args.steps
    x = torch.randn(BATCH, steps, HIDDEN)
    lengths = None
    if args.padded:
        lengths = torch.randint(steps // 2, steps + 1, (BATCH,))
        lengths[0] = steps
    variants, flops = _variants(x, lengths)
    best = measure(variants, rounds, clock)
    tokens = BATCH * steps if lengths is None else int(lengths.sum())

    print(
        f"B={BATCH} T={steps} H={HIDDEN} L={LAYERS}{' padded' if args.padded else ''}, "
        f"forward+backward, best of {rounds} interleaved rounds, {clock_name} clock, "
        f"{torch.get_num_threads()} thread(s), torch {torch.__version__}"
    )
    print(
        f"{'cell':<10}{'path':>7}{'us/token':>10}{'vs lstm':>9}{'flops':>7}"
        f"{'normalised':>12}{'reference':>11}{'vs torch':>10}"
    )
    failed = []
    lstm = best["lstm"]
    for cell in CELLS:
        seconds = best[cell]
        raw = seconds / lstm
        flop_ratio = flops[cell] / flops["lstm"]
        normalised = raw / flop_ratio
        path = "torch" if cell in FUSED_KINDS else "fast"
        reference = best.get(f"{cell}:reference")
        twin = best.get(f"{cell}:torch")
        line = (
            f"{cell:<10}{path:>7}{seconds / tokens * 1e6:>10.2f}{raw:>9.2f}{flop_ratio:>7.2f}"
            f"{normalised:>12.2f}"
        )
        line += f"{reference / seconds:>10.2f}x" if reference else f"{'':>11}"
        line += f"{seconds / twin:>10.2f}" if twin else ""
        print(line)
        if twin and seconds / twin > MAX_FUSED_OVER_TORCH:
            failed.append(f"{cell}: {seconds / twin:.2f}x torch.nn (target {MAX_FUSED_OVER_TORCH})")
        if reference and normalised > MAX_NORMALISED:
            failed.append(f"{cell}: {normalised:.2f}x LSTM per FLOP (target {MAX_NORMALISED})")
    if failed:
        print("FAIL: " + "; ".join(failed), file=sys.stderr)
        return 1
    print(
        f"OK: torch-kernel cells <= {MAX_FUSED_OVER_TORCH}x torch.nn.*, "
        f"fast-path cells <= {MAX_NORMALISED}x the LSTM per FLOP"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
