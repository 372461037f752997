"""Teacher-forced training of a recurrent decoder: one fused pass vs a step loop, same run.

    python benchmarks/seq2seq_unroll.py [--cell lstm] [--attention general] [--rounds 3]

A decoder without input feeding has states that do not depend on attention, so
``Seq2Seq`` trains it with one :class:`~seqlab.nn.recurrent.Recurrent` call over the whole
target (torch's fused kernel, or the cell's fast path) and attends for every step at once.
This times a full training step (forward, backward, Adam) of a CMUdict-sized model
(BiLSTM 192 encoder, decoder 256, batch 64, 10 letters -> 11 phonemes) both ways: the
fused pass, and the same model decoding step by step through ``RNNDecoder.step``. The
two must give the same loss and gradients. Timed in CPU seconds of this process, best
of the rounds. Exits 1 if they differ or the speed-up is below the goal (default 1.1x).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from seqlab.models.seq2seq import RNNDecoderConfig, Seq2Seq, Seq2SeqBatch, Seq2SeqConfig
from seqlab.nn.encoders import RecurrentConfig

GOAL = 1.1
BATCH, SOURCE, TARGET = 64, 10, 11


def model_and_batch(cell: str, attention: str) -> tuple[Seq2Seq, Seq2SeqBatch]:
    torch.manual_seed(0)
    config = Seq2SeqConfig(
        encoder=RecurrentConfig("lstm", hidden_size=192, bidirectional=True),
        decoder=RNNDecoderConfig(cell, 256, attention=attention, input_feeding=False),
        embedding_dim=128,
        source_vocab_size=32,
        target_vocab_size=72,
    )
    source = torch.randint(4, 32, (BATCH, SOURCE))
    lengths = torch.randint(3, SOURCE + 1, (BATCH,))
    target_lengths = torch.randint(3, TARGET + 1, (BATCH,)) + 1  # <bos> .. <eos>
    targets = torch.randint(4, 72, (BATCH, TARGET + 1))
    return Seq2Seq(config), Seq2SeqBatch(source, lengths, targets, target_lengths)


def stepwise_loss(model: Seq2Seq, batch: Seq2SeqBatch) -> torch.Tensor:
    """The reference: the same loss, the decoder called once per target step."""
    assert batch.targets is not None and batch.target_lengths is not None
    memory, mask, summary = model.encode(batch.inputs, batch.lengths)
    state = model.decoder.start(memory, mask, summary)
    inputs, labels = batch.targets[:, :-1], batch.targets[:, 1:]
    embedded = model.target_embedding(inputs)
    logits = []
    for t in range(inputs.shape[1]):
        hidden, state, _ = model.decoder.step(embedded[:, t], state)
        logits.append(model.scores(hidden))
    stacked = torch.stack(logits, dim=1)
    valid = torch.arange(inputs.shape[1])[None] < (batch.target_lengths - 1)[:, None]
    return torch.nn.functional.cross_entropy(stacked[valid], labels[valid])


def cpu_seconds(step, repeats: int) -> float:
    for _ in range(3):
        step()
    start = time.process_time()
    for _ in range(repeats):
        step()
    return (time.process_time() - start) / repeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--attention", default="general")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--goal", type=float, default=GOAL)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, batch = model_and_batch(args.cell, args.attention)
    model.train(False)  # dropout off: both ways must give the same numbers
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    fused = model(batch).loss
    reference = stepwise_loss(model, batch)
    grads = torch.autograd.grad(fused, list(model.parameters()), allow_unused=True)
    reference_grads = torch.autograd.grad(reference, list(model.parameters()), allow_unused=True)
    same = torch.allclose(fused, reference, atol=1e-5) and all(
        (a is None and b is None) or torch.allclose(a, b, atol=1e-5)
        for a, b in zip(grads, reference_grads, strict=True)
    )

    def train(loss_of):
        def step() -> None:
            optimizer.zero_grad()
            loss_of().backward()
            optimizer.step()

        return step

    one_pass = train(lambda: model(batch).loss)
    loop = train(lambda: stepwise_loss(model, batch))
    times = {"fused pass": [], "step loop": []}
    for _ in range(args.rounds):
        times["fused pass"].append(cpu_seconds(one_pass, args.repeats))
        times["step loop"].append(cpu_seconds(loop, args.repeats))
    best = {name: min(values) for name, values in times.items()}
    ratio = best["step loop"] / best["fused pass"]
    print(
        f"decoder {args.cell} + {args.attention} attention, batch {BATCH}, "
        f"{SOURCE} -> {TARGET} steps, 1 thread"
    )
    for name, seconds in best.items():
        print(f"  {name:10s} {seconds * 1000:7.1f} ms per training step (CPU, best of rounds)")
    print(f"  speed-up {ratio:.2f}x (goal {args.goal}x); same loss and gradients: {same}")
    return 0 if same and ratio >= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
