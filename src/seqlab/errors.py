"""Errors a person can act on (DESIGN.md §9).

A :class:`UserError` is a user mistake: the CLI prints it as one line and exits 2,
the service maps it to a 4xx JSON body. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input, with what was wrong and how to fix it."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message
