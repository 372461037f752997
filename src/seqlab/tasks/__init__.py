"""Tasks glue a recipe's data to a model family: prepare, build_model, report."""

from __future__ import annotations

from types import ModuleType

from seqlab.errors import UserError


def get_task(name: str) -> ModuleType:
    """The task module for a recipe's ``task`` (imported lazily: each pulls its data deps)."""
    from seqlab.tasks import classification, language_model

    tasks = {"classify": classification, "lm": language_model}
    if name not in tasks:
        raise UserError(f"unknown task '{name}'", f"use one of {', '.join(tasks)}")
    return tasks[name]
