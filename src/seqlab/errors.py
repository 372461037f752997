"""Errors a person can act on (docs/architecture.md, "Errors").

A :class:`UserError` is a user mistake: the CLI prints it as one line and exits 2,
the service maps it to a 4xx JSON body. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class UserError(Exception):
    """A mistake in the user's input, with what was wrong and how to fix it."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message


def did_you_mean(name: object, options: Iterable[str], cutoff: float = 0.6) -> str:
    """The fix for an unknown name: ``did you mean 'x'?`` or ``use one of a, b, c``.

    The one "did you mean" of seqlab: recipe keys, cells, encoders, data sets,
    tokenizers and families all answer an unknown name with this line.
    """
    options = list(options)
    lowered = {option.lower(): option for option in options}
    close = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=cutoff)
    if close:
        return f"did you mean '{lowered[close[0]]}'?"
    return f"use one of {', '.join(options)}"


def no_match(what: str, pattern: str, names: Sequence[str]) -> UserError:
    """The UserError for a name pattern (LoRA targets, frozen parameters) that matches
    none of ``names``: a close name if there is one, else the first few names."""
    hint = did_you_mean(pattern, names)
    if not hint.startswith("did you mean"):  # no close name: show a few, not hundreds
        shown = ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "")
        hint = f"fnmatch patterns over names such as {shown}"
    return UserError(f"{what} {pattern!r} matches nothing", hint)
