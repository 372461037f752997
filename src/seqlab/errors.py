"""Errors a person can act on (docs/architecture.md, "Errors").

A :class:`UserError` is a user mistake: the CLI prints it as one line and exits 2,
the service maps it to a 4xx JSON body. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


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
