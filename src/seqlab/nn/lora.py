"""LoRA: low-rank adapters for ``nn.Linear`` layers and for the weights of recurrent cells.

Hu et al. (2021), "LoRA: Low-Rank Adaptation of Large Language Models" (arXiv:2106.09685).
A frozen weight W (out, in) is used as::

    W' = W + s · B A        A (r, in), B (out, r), r << min(in, out), s = alpha / r

A starts kaiming-uniform and B at zero (peft's choice), so W' = W at the start and the
adapted model first computes exactly what the base model did. Only A and B train
(:func:`mark_only_lora_trainable`): r (in + out) numbers per matrix instead of in * out.

**Linear layers** become :class:`LoRALinear`: ``base(x) + s · B A dropout(x)``, peft's LoRA
Linear (equal outputs and gradients, tests/nn/test_lora.py).

**Recurrent weights** (which peft cannot adapt): an adapted cell's class becomes a subclass
whose attribute lookup returns ``W + s · B A`` for every adapted name, so everything that
reads ``cell.weight_hh`` — torch's fused kernels through ``Recurrent._flat_weights``, the
fast paths of :mod:`seqlab.nn.fast_cells` and the reference loop — uses the adapted weight,
and autograd carries the gradient to A and B on every path. W stays the cell's parameter
under its own name; A and B live in ``cell.lora[name]`` (keys ``cells.0.lora.weight_hh.
lora_A``). This is what ``torch.nn.utils.parametrize`` does, with two differences: one
subclass per cell class, not per module (``fast_cells`` finds a cell's fast path through
the class's bases, which a per-module class would defeat), and W keeps its name
(parametrize renames it ``parametrizations.weight_hh.original``). Writing into the tensor a
read returns (``cell.weight_hh[0] = 1``) changes nothing; write into ``cell._parameters``.

**Dropout** differs from peft on recurrent weights. peft drops the adapter's *input*; the
input of W_hh is the hidden state of every step inside a fused kernel, out of reach. We
drop entries of the update instead, W + dropout(s · B A) (DropConnect, Wan et al. 2013; the
weight drop of AWD-LSTM, Merity et al. 2018), with one mask per read of the weight: once
per forward on the fused kernels and fast paths, once per step on the reference loop
(``fused=False``). Linear layers keep peft's input dropout.

Not adapted: ``nn.Embedding``, norms, subclasses of ``nn.Linear`` (``nn.MultiheadAttention``
reads its ``out_proj.weight`` directly) and weights shared by two modules (an LM's decoder
tied to its embedding: merging would change the embedding too).
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import Tensor, nn

from seqlab import atomic
from seqlab.config import DropoutRate, PositiveFloat, PositiveInt, to_dict, validate
from seqlab.errors import UserError, no_match
from seqlab.nn.cells import Cell

_CONFIG_KEY, _NAMES_KEY = "seqlab.lora.config", "seqlab.lora.names"  # adapter file metadata


@dataclass
class LoRAConfig:
    """Which weights get adapters, and their size. ``targets`` are fnmatch patterns over the
    qualified names of ``nn.Linear`` modules (``encoder.blocks.0.attention.qkv``) and of the
    2-D weights of recurrent cells (``encoder.rnn.cells.0.weight_hh``); ``*`` crosses dots."""

    rank: PositiveInt = 8
    alpha: PositiveFloat = 16.0  # scaling s = alpha / rank (peft's default, not rsLoRA)
    dropout: DropoutRate = 0.0
    targets: list[str] = field(default_factory=lambda: ["*"])


class _LowRank(nn.Module):
    """The update ΔW = s · B A (out, in) of one weight: ``lora_A`` (r, in), ``lora_B`` (out, r)."""

    def __init__(self, weight: Tensor, config: LoRAConfig) -> None:
        super().__init__()
        out_features, in_features = weight.shape
        options: dict[str, Any] = {"device": weight.device, "dtype": weight.dtype}
        self.lora_A = nn.Parameter(torch.empty(config.rank, in_features, **options))
        self.lora_B = nn.Parameter(torch.zeros(out_features, config.rank, **options))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # peft's (and nn.Linear's) init
        self.rank, self.alpha, self.scaling = config.rank, config.alpha, config.alpha / config.rank
        self.dropout_rate = config.dropout
        self.merged = False  # True: ΔW has been added into W, so it must not be added again

    def delta(self) -> Tensor:
        """ΔW = s · B A, (out, in)."""
        return (self.lora_B @ self.lora_A) * self.scaling

    def merge(self, weight: Tensor) -> None:
        """W <- W + ΔW in place (no-op when merged)."""
        if not self.merged:
            with torch.no_grad():
                weight.add_(self.delta())
            self.merged = True

    def unmerge(self, weight: Tensor) -> None:
        """W <- W - ΔW in place (no-op when not merged)."""
        if self.merged:
            with torch.no_grad():
                weight.sub_(self.delta())
            self.merged = False

    def extra_repr(self) -> str:
        return f"rank={self.rank}, alpha={self.alpha}, dropout={self.dropout_rate}"


class LoRALinear(_LowRank):
    """``nn.Linear`` + LoRA, as peft's LoRA Linear: x (..., in) -> (..., out) =
    ``base(x) + s · B A dropout(x)`` (only ``base(x)`` once merged)."""

    def __init__(self, base: nn.Linear, config: LoRAConfig) -> None:
        super().__init__(base.weight, config)
        self.base = base
        self.lora_dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        result = self.base(x)
        if self.merged:
            return result
        # Two thin GEMMs, never the (out, in) ΔW: r (in + out) flops per row instead of in*out.
        update = F.linear(F.linear(self.lora_dropout(x), self.lora_A), self.lora_B)
        return result + update * self.scaling


class _LoRAWeight(_LowRank):
    """The adapter of one cell weight: ``forward(W) = W + dropout(ΔW)`` (W once merged)."""

    def forward(self, weight: Tensor) -> Tensor:
        if self.merged:
            return weight
        delta = self.delta()
        if self.training and self.dropout_rate > 0:
            delta = F.dropout(delta, self.dropout_rate)  # DropConnect on ΔW (module doc)
        return weight + delta


class _AdaptedCell(Cell):
    """Mixin of adapted cells: reading an adapted weight returns W + ΔW.

    ``nn.Module.__getattr__`` is how ``cell.weight_hh`` finds the parameter (it is not in
    the instance ``__dict__``), so this override sees every read, by every path.
    """

    _base_class: type[Cell]

    def __getattr__(self, name: str) -> Any:
        value = super().__getattr__(name)
        # Through __dict__: during deepcopy / unpickling ``_modules`` may not exist yet.
        adapters = self.__dict__.get("_modules", {}).get("lora")
        if adapters is not None and name in adapters:
            return adapters[name](value)
        return value


_ADAPTED_CLASSES: dict[type[Cell], type[Cell]] = {}


def _adapted_class(cls: type[Cell]) -> type[Cell]:
    """``LoRA<cls>``, one class per cell class (not per module, unlike parametrize)."""
    if cls not in _ADAPTED_CLASSES:
        # fast_cells finds a subclass's fast path through its base class (its MRO).
        adapted = type(f"LoRA{cls.__name__}", (_AdaptedCell, cls), {"_base_class": cls})
        _ADAPTED_CLASSES[cls] = adapted
    return _ADAPTED_CLASSES[cls]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _adaptable(model: nn.Module) -> dict[str, tuple[nn.Module, str | None]]:
    """Qualified name -> (module, cell weight name, or None for a Linear) of every weight
    :func:`apply_lora` may adapt: plain ``nn.Linear`` below the root, cells' 2-D weights;
    never a weight shared by two modules (module docstring)."""
    uses = Counter(id(p) for _, p in model.named_parameters(remove_duplicate=False))
    found: dict[str, tuple[nn.Module, str | None]] = {}
    for prefix, module in model.named_modules():
        if type(module) is nn.Linear and prefix and uses[id(module.weight)] == 1:
            found[prefix] = (module, None)
        elif isinstance(module, Cell):
            for name, weight in module.named_parameters(recurse=False):
                if weight.dim() == 2 and uses[id(weight)] == 1:
                    found[_join(prefix, name)] = (module, name)
    return found


def _adapters(model: nn.Module) -> dict[str, tuple[_LowRank, Tensor]]:
    """Adapted name -> (adapter, the raw weight its ΔW is merged into)."""
    found: dict[str, tuple[_LowRank, Tensor]] = {}
    for prefix, module in model.named_modules():
        if isinstance(module, LoRALinear):
            found[prefix] = (module, module.base.weight)
        elif isinstance(module, _AdaptedCell):
            for name, adapter in module.lora.items():
                found[_join(prefix, name)] = (adapter, module._parameters[name])
    return found


def apply_lora(model: nn.Module, config: LoRAConfig) -> list[str]:
    """Add adapters in place to every weight a pattern of ``config.targets`` matches
    (``LoRAConfig``); returns the adapted names, sorted. The model computes what it did
    before (B = 0) until the adapters train."""
    config = validate(LoRAConfig, config, "lora")
    if not config.targets:
        raise UserError("lora.targets is empty", "list fnmatch patterns, e.g. ['*']")
    if _adapters(model):
        raise UserError(
            "this model already has LoRA adapters",
            "apply_lora once per model; strip_lora(model) removes them (merged)",
        )
    candidates = _adaptable(model)
    if not candidates:
        raise UserError(
            "the model has no nn.Linear layer or recurrent cell weight to adapt",
            "LoRA adapts nn.Linear submodules and recurrent cells (seqlab.nn.cells); "
            "wrap a lone nn.Linear in a module",
        )
    chosen: set[str] = set()
    for pattern in config.targets:  # check every pattern before changing anything
        matched = [name for name in candidates if fnmatch.fnmatchcase(name, pattern)]
        if not matched:
            skipped = [
                name
                for name, module in model.named_modules()
                if isinstance(module, nn.Linear) and fnmatch.fnmatchcase(name, pattern)
            ]
            if skipped:
                raise UserError(
                    f"LoRA target {pattern!r} matches only layers LoRA leaves alone: "
                    f"{skipped[:3]} (a weight tied to another module, a subclass of "
                    f"nn.Linear or the model itself)",
                    "leave them out of lora.targets: merging into a tied weight would "
                    "change the other module too",
                )
            raise no_match("LoRA target", pattern, sorted(candidates))
        chosen.update(matched)
    modules = dict(model.named_modules())
    for name in sorted(chosen):
        module, weight_name = candidates[name]
        if weight_name is None:
            adapter: _LowRank = LoRALinear(module, config)  # type: ignore[arg-type]
            parent, _, child = name.rpartition(".")
            setattr(modules[parent], child, adapter)
        else:
            if not isinstance(module, _AdaptedCell):
                module.__class__ = _adapted_class(type(module))
                module.lora = nn.ModuleDict()
            adapter = _LoRAWeight(module._parameters[weight_name], config)
            module.lora[weight_name] = adapter
        adapter.train(module.training)  # a model in eval mode must not start dropping
    model._seqlab_lora_config = config  # what save_adapters writes
    return sorted(chosen)


def lora_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The adapters' A and B matrices, in ``model.parameters()`` order."""
    # Not adapter.parameters(): a LoRALinear's include its base layer's.
    adapters = [adapter for adapter, _ in _adapters(model).values()]
    ids = {id(p) for adapter in adapters for p in (adapter.lora_A, adapter.lora_B)}
    return [p for p in model.parameters() if id(p) in ids]


def lora_state_dict(model: nn.Module) -> dict[str, Tensor]:
    """The adapters' tensors by their names in ``model.state_dict()``, and nothing else."""
    ids = {id(p) for p in lora_parameters(model)}
    return {name: p.detach() for name, p in model.named_parameters() if id(p) in ids}


def mark_only_lora_trainable(model: nn.Module, also: Sequence[str] = ()) -> None:
    """Freeze every parameter but the adapters and those matching an fnmatch pattern of
    ``also`` (e.g. ``["head.*"]``), tried on each name and on its name before apply_lora
    (``head.weight`` for ``head.base.weight``)."""
    adapters = {id(p) for p in lora_parameters(model)}
    if not adapters:
        raise UserError("the model has no LoRA adapters", "call apply_lora(model, config) first")
    wrapped = {name for name, module in model.named_modules() if isinstance(module, LoRALinear)}
    aliases = []  # (parameter, (its name, its name before apply_lora))
    for name, parameter in model.named_parameters():
        owner, _, leaf = name.rpartition(".")
        linear, _, last = owner.rpartition(".")
        plain = _join(linear, leaf) if last == "base" and linear in wrapped else name
        aliases.append((parameter, (name, plain)))

    def matches(pattern: str, names: tuple[str, str]) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for name in names)

    for pattern in also:
        if not any(matches(pattern, names) for _, names in aliases):
            raise no_match("trainable pattern", pattern, [names[0] for _, names in aliases])
    for parameter, names in aliases:
        keep = id(parameter) in adapters or any(matches(pattern, names) for pattern in also)
        parameter.requires_grad_(keep)


def merge_lora(model: nn.Module) -> None:
    """W <- W + s · B A for every adapter; the adapters stay and the outputs do not change
    (to float rounding; bit for bit on recurrent weights), with no extra work per forward.
    For inference and export: merged adapters get neither dropout nor gradients."""
    for adapter, weight in _adapters(model).values():
        adapter.merge(weight)


def unmerge_lora(model: nn.Module) -> None:
    """Undo :func:`merge_lora` (W <- W - s · B A, exact to float rounding)."""
    for adapter, weight in _adapters(model).values():
        adapter.unmerge(weight)


def _config_of(model: nn.Module, names: Sequence[str]) -> LoRAConfig:
    """The config apply_lora stored on ``model``; else (adapters added to a submodule)
    the one read off the adapters, with their exact names as targets."""
    stored = model.__dict__.get("_seqlab_lora_config")
    if stored is not None:
        return stored
    adapter = _adapters(model)[names[0]][0]
    return LoRAConfig(adapter.rank, adapter.alpha, adapter.dropout_rate, list(names))


def save_adapters(model: nn.Module, path: str | os.PathLike[str]) -> int:
    """Write the adapters (:func:`lora_state_dict`) to a safetensors file with the
    :class:`LoRAConfig` and the adapted names in its metadata; returns the bytes written."""
    names = sorted(_adapters(model))
    if not names:
        raise UserError("the model has no LoRA adapters to save", "call apply_lora first")
    # safetensors writes raw buffers: contiguous CPU copies.
    tensors = {k: v.cpu().contiguous() for k, v in lora_state_dict(model).items()}
    metadata = {
        "format": "pt",
        _CONFIG_KEY: json.dumps(to_dict(_config_of(model, names))),
        _NAMES_KEY: json.dumps(names),
    }
    blob = save(tensors, metadata=metadata)
    atomic.write_bytes(path, blob)  # temp file, then rename: never a half-written file
    return len(blob)


def load_adapters(model: nn.Module, path: str | os.PathLike[str]) -> LoRAConfig:
    """Load a :func:`save_adapters` file into ``model``: ``apply_lora`` with the saved
    config first unless the model has adapters already. Returns the saved config."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (OSError, SafetensorError) as error:
        raise UserError(f"cannot read LoRA adapters from {path}: {error}") from None
    if _CONFIG_KEY not in metadata or _NAMES_KEY not in metadata:
        raise UserError(f"{path} is not a LoRA adapter file", "write one with save_adapters")
    config = validate(LoRAConfig, json.loads(metadata[_CONFIG_KEY]), "lora")
    saved_names: list[str] = json.loads(metadata[_NAMES_KEY])
    if not _adapters(model):
        apply_lora(model, config)
    adapters = _adapters(model)
    if sorted(adapters) != sorted(saved_names):
        missing = sorted(set(saved_names) - set(adapters))
        extra = sorted(set(adapters) - set(saved_names))
        raise UserError(
            f"the adapters in {path} do not fit this model: in the file only {missing[:5]}, "
            f"in the model only {extra[:5]}",
            "load them into the model (architecture and config) they were trained on",
        )
    for name, (adapter, _) in adapters.items():
        if (adapter.rank, adapter.alpha) != (config.rank, config.alpha):
            raise UserError(
                f"adapter {name!r} has rank {adapter.rank}, alpha {adapter.alpha}; "
                f"{path} has rank {config.rank}, alpha {config.alpha}",
                "load into a fresh model (load_adapters applies the saved config)",
            )
    own = lora_state_dict(model)
    for key, tensor in tensors.items():
        if key not in own or own[key].shape != tensor.shape:
            shape = tuple(own[key].shape) if key in own else "no such tensor"
            raise UserError(
                f"{path}: {key} is {tuple(tensor.shape)} in the file, {shape} in the model",
                "load into the model (architecture and config) the adapters were trained on",
            )
    merged = [name for name, (adapter, _) in adapters.items() if adapter.merged]
    unmerge_lora(model)  # the merged W holds the old ΔW: take it out before A, B change
    with torch.no_grad():
        for key, tensor in tensors.items():
            own[key].copy_(tensor)
    for name in merged:
        adapters[name][0].merge(adapters[name][1])
    return config


def strip_lora(model: nn.Module) -> nn.Module:
    """Merge, then remove every adapter: the model's module types and state-dict keys are
    again those it had before :func:`apply_lora` (a bundle saves and loads it without this
    module). Returns ``model``, changed in place."""
    merge_lora(model)
    modules = dict(model.named_modules())
    for prefix, module in modules.items():
        if isinstance(module, LoRALinear):
            parent, _, child = prefix.rpartition(".")
            setattr(modules[parent], child, module.base)
        elif isinstance(module, _AdaptedCell):
            del module.lora
            module.__class__ = module._base_class
    model.__dict__.pop("_seqlab_lora_config", None)
    return model
