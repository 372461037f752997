"""What every model returns: ``model(batch, state=None) -> ModelOutput``."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor

State = tuple[Tensor, ...]


@dataclass
class ModelOutput:
    """``logits`` of the model's task, ``loss`` when the batch has targets, the ``state``
    to pass back in for the next chunk of a stream (a recurrent model's final state; the
    caller carries and detaches it), and ``extras`` such as attention weights."""

    logits: Tensor
    loss: Tensor | None = None
    state: State | None = None
    extras: dict[str, Tensor] = field(default_factory=dict)
