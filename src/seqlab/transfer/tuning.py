"""Fine-tuning a pretrained network from the recipe: freezing, gradual unfreezing,
discriminative learning rates and LoRA — no subclassing (lecture 002, "transfer").

The ``[transfer]`` table of any recipe::

    [transfer]
    freeze = ["embedding", "encoder.blocks.0"]  # parameter names or module prefixes (fnmatch)
    freeze_layers = 0          # also freeze the bottom N layer groups (0 = none)
    unfreeze = "gradual"       # ULMFiT: epoch 1 trains the top group, each epoch one more
    layer_lr_decay = 0.38      # lr of group g = lr * decay ** (top - g)  (ULMFiT: 1 / 2.6)
    lr_scale = { "head.*" = 10.0 }  # any parameter pattern -> a multiplier of train.lr

    [transfer.lora]            # low-rank adapters (Hu et al. 2021); see seqlab.nn.lora
    rank = 8
    alpha = 16
    targets = ["encoder.blocks.*.attention.*"]

**Layer groups** (bottom up, as ULMFiT and HF's layer-wise lr decay count them): group 0
is the input side — the token ``embedding`` and whatever the encoder adds before its
first layer (positions, the embedding LayerNorm, an input projection); groups 1..L are
the encoder's layers (a Transformer's blocks; a recurrent stack's layers, both
directions together; a CNN's convolutions); the top group is everything else — the
pooling and the head, which a transfer run usually creates new. A model without an
``encoder`` has one group.

With LoRA the base weights of every group but the top one are frozen; the adapters and
the top group train (``freeze`` may freeze more). Howard & Ruder 2018 (ULMFiT) for
gradual unfreezing and discriminative rates; Hu et al. 2021 for LoRA.
"""

from __future__ import annotations

import fnmatch
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field
from torch import nn

from seqlab.config import NonNegativeInt, PositiveFloat
from seqlab.errors import UserError, no_match
from seqlab.nn.lora import (
    LoRAConfig,
    apply_lora,
    lora_parameters,
    mark_only_lora_trainable,
    save_adapters,
)
from seqlab.train.callbacks import Callback, TrainState


@dataclass
class TransferConfig:
    """The recipe's ``[transfer]`` table (module doc). The defaults change nothing."""

    freeze: list[str] = field(default_factory=list)
    freeze_layers: NonNegativeInt = 0
    unfreeze: Literal["none", "gradual"] = "none"
    layer_lr_decay: Annotated[float, Field(gt=0, le=1)] = 1.0
    lr_scale: dict[str, PositiveFloat] = field(default_factory=dict)
    lora: LoRAConfig | None = None

    @property
    def active(self) -> bool:
        return self != TransferConfig()


Named = list[tuple[str, nn.Parameter]]


def _encoder_layers(encoder: nn.Module) -> list[list[nn.Module]]:
    """The layers of a seqlab encoder, bottom up (module doc); [] when it has none."""
    if hasattr(encoder, "blocks"):  # Transformer
        return [[block] for block in encoder.blocks]
    rnn = getattr(encoder, "rnn", None)
    if rnn is not None and hasattr(rnn, "cells"):  # Recurrent: cells[layer * D + direction]
        step = rnn.num_directions
        return [list(rnn.cells[i : i + step]) for i in range(0, len(rnn.cells), step)]
    if hasattr(encoder, "convs"):  # CNN / FCN (their norms join the conv of the same index)
        norms = list(getattr(encoder, "norms", []))
        return [[conv, *norms[i : i + 1]] for i, conv in enumerate(encoder.convs)]
    if hasattr(encoder, "layers"):
        return [[layer] for layer in encoder.layers]
    return []


def layer_groups(model: nn.Module) -> list[Named]:
    """The model's parameters in layer groups, bottom up (module doc)."""
    encoder = getattr(model, "encoder", None)
    layers = _encoder_layers(encoder) if isinstance(encoder, nn.Module) else []
    owner: dict[int, int] = {}
    for index, modules in enumerate(layers, start=1):
        for module in modules:
            for parameter in module.parameters():
                owner[id(parameter)] = index
    top = len(layers) + 1
    groups: list[Named] = [[] for _ in range(top + 1)]
    past_layers = False  # encoder parameters registered after its layers (a final norm)
    for name, parameter in model.named_parameters():
        if id(parameter) in owner:
            groups[owner[id(parameter)]].append((name, parameter))
            past_layers = True
        elif name.startswith("embedding.") or (name.startswith("encoder.") and not past_layers):
            groups[0].append((name, parameter))  # the input side of the encoder
        else:
            groups[top].append((name, parameter))
    return [group for group in groups if group] if layers or groups[0] else [groups[top]]


def matches(name: str, pattern: str) -> bool:
    """``pattern`` names the parameter, a module containing it, or fnmatches it."""
    return name == pattern or name.startswith(pattern + ".") or fnmatch.fnmatchcase(name, pattern)


def _check_patterns(model: nn.Module, patterns: list[str] | dict[str, Any], key: str) -> None:
    names = [name for name, _ in model.named_parameters()]
    for pattern in patterns:
        if not any(matches(name, pattern) for name in names):
            modules = sorted(
                {n.rsplit(".", 1)[0] for n in names} | {n.split(".")[0] for n in names}
            )
            raise no_match(f"transfer.{key}:", pattern, modules)


@dataclass
class TransferPlan:
    """What :func:`prepare_transfer` did: the optimiser's parameter groups (each with an
    ``lr_scale`` the loop multiplies the scheduled lr by), the callbacks the loop runs
    (gradual unfreezing) and a line for the log."""

    param_groups: list[dict[str, Any]]
    callbacks: list[Callback]
    description: str
    trainable: int  # parameters that train in some epoch
    lora: bool = False


def prepare_transfer(model: nn.Module, config: TransferConfig) -> TransferPlan:
    """Apply ``config`` to ``model`` in place: adapters, frozen parameters, lr groups."""
    _check_patterns(model, config.freeze, "freeze")
    _check_patterns(model, config.lr_scale, "lr_scale")
    groups = layer_groups(model)
    if config.freeze_layers >= len(groups):
        raise UserError(
            f"transfer.freeze_layers = {config.freeze_layers} freezes every one of the "
            f"model's {len(groups)} layer groups: nothing would train",
            f"use at most {len(groups) - 1}",
        )
    adapted: list[str] = []
    if config.lora is not None:
        top_names = [name for name, _ in groups[-1]]
        adapted = apply_lora(model, config.lora)
        mark_only_lora_trainable(model, also=top_names)
        groups = layer_groups(model)  # adapters are new parameters
    frozen = {
        id(p)
        for name, p in model.named_parameters()
        if any(matches(name, pattern) for pattern in config.freeze)
    }
    for group in groups[: config.freeze_layers]:
        frozen |= {id(p) for _, p in group}
    for _, parameter in model.named_parameters():
        if id(parameter) in frozen:
            parameter.requires_grad_(False)
    top = len(groups) - 1
    param_groups = []
    for depth, group in enumerate(groups):
        scale = config.layer_lr_decay ** (top - depth)
        by_scale: dict[float, list[nn.Parameter]] = {}
        for name, parameter in group:
            own = [s for pattern, s in config.lr_scale.items() if matches(name, pattern)]
            by_scale.setdefault(scale * (own[-1] if own else 1.0), []).append(parameter)
        for lr_scale, params in by_scale.items():
            param_groups.append({"params": params, "lr_scale": lr_scale, "layer": depth})
    callbacks: list[Callback] = []
    if config.unfreeze == "gradual":
        fixed = {id(p) for _, p in model.named_parameters() if not p.requires_grad}
        adapters = {id(p) for p in lora_parameters(model)}
        callbacks.append(GradualUnfreezing(groups, fixed, adapters))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    parts = [f"{trainable:,} of {total:,} parameters train"]
    if adapted:
        parts.append(f"LoRA r={config.lora.rank} on {len(adapted)} weights")  # type: ignore[union-attr]
    if config.unfreeze == "gradual":
        parts.append(f"gradual unfreezing of {len(groups)} layer groups")
    if config.layer_lr_decay != 1.0:
        parts.append(f"lr x {config.layer_lr_decay:g} per layer group down")
    description = "transfer: " + "; ".join(parts)
    return TransferPlan(param_groups, callbacks, description, trainable, bool(adapted))


class GradualUnfreezing(Callback):
    """ULMFiT's gradual unfreezing: in epoch e only the top e layer groups train.

    Parameters frozen before training (by the recipe, or LoRA's frozen base weights)
    stay frozen; adapters always train. The trainable set follows the epoch number
    alone, so a resumed run trains the same parameters.
    """

    def __init__(self, groups: list[Named], frozen: set[int], adapters: set[int]) -> None:
        self.groups, self.frozen, self.adapters = groups, frozen, adapters

    def on_epoch_start(self, state: TrainState) -> None:
        first_trained = max(0, len(self.groups) - state.epoch)
        for depth, group in enumerate(self.groups):
            for _, parameter in group:
                if id(parameter) in self.frozen:
                    continue
                parameter.requires_grad_(depth >= first_trained or id(parameter) in self.adapters)


def adapter_bytes(model: nn.Module) -> bytes:
    """The model's LoRA adapters as the bytes of a safetensors file (``save_adapters``)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "adapters.safetensors"
        save_adapters(model, path)
        return path.read_bytes()


__all__ = [
    "GradualUnfreezing",
    "LoRAConfig",
    "TransferConfig",
    "TransferPlan",
    "adapter_bytes",
    "layer_groups",
    "lora_parameters",
    "matches",
    "prepare_transfer",
]
