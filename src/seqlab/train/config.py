"""The ``[train]`` section of a recipe: optimiser, schedule, stopping, device, checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import torch
from pydantic import Field

from seqlab.config import (
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Probability,
)
from seqlab.errors import UserError


@dataclass
class TrainConfig:
    """Optimiser, schedule and stopping rules for :func:`seqlab.train.loop.fit`."""

    optimizer: Literal["sgd", "rmsprop", "adam", "adamw"] = "adam"
    lr: PositiveFloat = 1e-3
    momentum: Probability = 0.0
    nesterov: bool = False
    weight_decay: NonNegativeFloat = 0.0  # adamw: on weight matrices only (nanoGPT, HF Trainer)
    betas: tuple[Probability, Probability] = (0.9, 0.999)  # adam / adamw
    epochs: PositiveInt = 10
    schedule: Literal["none", "step", "cosine", "plateau"] = "none"
    decay_start: NonNegativeInt = 0  # step: lr *= gamma every `step_size` epochs after this one
    step_size: PositiveInt = 1
    gamma: Annotated[float, Field(gt=0, le=1)] = 0.5  # the decay factor of step / plateau
    warmup_steps: NonNegativeInt = 0  # linear warm-up, any schedule
    min_lr: NonNegativeFloat = 0.0  # cosine: the floor it decays to
    patience_lr: PositiveInt = 1  # plateau: epochs without improvement before lr *= gamma
    clip_norm: PositiveFloat | None = 5.0
    early_stopping: PositiveInt | None = None  # patience in epochs; None = off
    monitor: str = "loss"  # a validation metric of the family (its direction is the family's)
    class_weights: Literal["balanced"] | None = None
    seed: int = 0
    deterministic: bool = True
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # "bf16": mixed precision (torch.autocast): the training forward pass computes its
    # matrix products in bfloat16, while weights, gradients, optimiser state and
    # evaluation stay float32 (Lightning's "bf16-mixed"). No loss scaling is needed:
    # bfloat16 has float32's range. On CPUs with AVX512-BF16 or AMX: 1.3x the steps per
    # CPU second for the CMUdict Transformer (benchmarks/precision.py); on x86 CPUs
    # without them bfloat16 is emulated, slower than float32, and fit warns.
    precision: Literal["fp32", "bf16"] = "fp32"
    max_steps: PositiveInt | None = None  # stop after this many optimiser steps (quick runs)
    max_minutes: PositiveFloat | None = None  # wall-clock budget of the run, resumptions included
    checkpoint_every: PositiveInt | None = None  # also checkpoint every N steps (exact resume)
    # The weights of the last N epochs averaged into the final model, when validation says
    # they are no worse than the best epoch (checkpoint averaging: Vaswani et al. 2017;
    # fairseq's average_checkpoints.py). 0 = off.
    average_last: NonNegativeInt = 0
    log_every: PositiveInt = 20
    progress: bool = True


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (x86: AVX512-BF16 or AMX-BF16).

    Other architectures are not judged (True): their bfloat16 flags have other names.
    """
    capabilities = torch.cpu.get_capabilities()
    if capabilities.get("architecture") != "x86_64":
        return True
    return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without CUDA is a UserError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError(
            "train.device = 'cuda' but this machine has no CUDA device",
            "use --set train.device=auto (or cpu)",
        )
    return torch.device(name)
