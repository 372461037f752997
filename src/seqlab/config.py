"""Validated configs: plain dataclasses, checked by pydantic, with one-line errors.

Every config in seqlab (a recipe's sections, a model's config, a bundle's
preprocessing) is a ``@dataclass``. :func:`validate` builds one from a dict (as read
from TOML or ``config.json``): unknown keys are errors with a "did you mean" hint,
values are checked against the field types and their constraints (positive sizes,
finite learning rates, probabilities in [0, 1]), and a field whose type is a union of
configs (a model's ``encoder``) picks its member by the dict's ``type`` key.

Constraints are written into the annotations, so the dataclass stays the one source::

    @dataclass
    class TrainConfig:
        lr: FiniteFloat = 1e-3        # nan / inf refused
        epochs: PositiveInt = 10      # 0 and -5 refused
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from typing import Annotated, Any, TypeVar

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from seqlab.errors import UserError, did_you_mean

T = TypeVar("T")

PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1)]
DropoutRate = Annotated[float, Field(ge=0, lt=1)]

_STRICT_KEYS = ConfigDict(extra="forbid")


@cache
def _adapter(cls: Any) -> TypeAdapter:
    cls.__pydantic_config__ = _STRICT_KEYS  # type: ignore[attr-defined]
    return TypeAdapter(cls)


def _config_members(annotation: Any) -> list[type]:
    """The dataclass members of a ``A | B | None`` annotation (empty if it is not one)."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return []
    members = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(members) > 1 and all(dataclasses.is_dataclass(a) for a in members):
        return members
    return []


def _choose(members: list[type], values: dict[str, Any], where: str) -> type:
    """The member whose ``TYPES`` class attribute names ``values["type"]``."""
    names = [name for member in members for name in member.TYPES]
    kind = values.get("type", names[0])
    for member in members:
        if kind in member.TYPES:
            return member
    raise UserError(f"unknown {where}.type '{kind}'", did_you_mean(kind, names))


def _format(error: ValidationError, where: str) -> str:
    first = error.errors()[0]
    location = ".".join([where, *(str(part) for part in first["loc"])])
    return f"{location}: {first['msg'].lower()} (got {first['input']!r})"


def validate(cls: type[T], values: Any, where: str) -> T:
    """Build dataclass ``cls`` from ``values``; any mistake is a one-line UserError.

    ``where`` names the place in messages (``"train"``, ``"model.encoder"``). ``cls``
    may itself be a union of configs (a family with several model types).
    """
    members = _config_members(cls)
    if members:  # pick the member; anything but a dict or a member is refused below
        if type(values) in members:
            cls = type(values)
        else:
            cls = _choose(members, values, where) if isinstance(values, dict) else members[0]
    if dataclasses.is_dataclass(values) and isinstance(values, cls):
        values = dataclasses.asdict(values)
    if not isinstance(values, dict):
        raise UserError(f"[{where}] must be a table of key = value lines, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls, include_extras=True)
    values = dict(values)
    for key, value in values.items():
        if key not in fields:
            raise UserError(f"unknown key '{where}.{key}'", did_you_mean(key, sorted(fields)))
        if _config_members(hints[key]) and isinstance(value, dict):
            values[key] = validate(hints[key], value, f"{where}.{key}")
    try:
        return _adapter(cls).validate_python(values)
    except ValidationError as error:
        key = error.errors()[0]["loc"][0]
        default = fields[key].default if key in fields else dataclasses.MISSING
        fix = "fix that value"
        if default is not dataclasses.MISSING and default is not None:
            fix = f"its default is {default!r}"
        raise UserError(_format(error, where), fix) from None


def to_dict(config: Any) -> dict[str, Any]:
    """A config as plain JSON/TOML-able values (tuples become lists), every default filled."""
    return _adapter(type(config)).dump_python(config, mode="json")


def flatten(raw: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"encoder": {"type": x}}}`` -> ``{"model.encoder.type": x}`` (a
    recipe's ``options`` table stays one value)."""
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and key != "options":
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat
