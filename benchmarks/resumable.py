"""One benchmark row = one seqlab run that is trained once, resumed, or read back.

Shared by the benchmarks that train several recipes in one resumable run
(``timeseries.py``, ``transfer_mr.py``): a finished row is read back from its bundle's
``metrics.json`` while its recipe is unchanged; an interrupted one resumes from its
checkpoint; a row whose recipe changed (or whose upstream run was retrained: ``fresh``)
starts over.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any


def train_or_read(
    recipe: Any, folder: Path, label: str, fresh: bool = False
) -> tuple[dict[str, Any], bool]:
    """The metrics of ``recipe``'s bundle in ``folder`` and whether it was trained now."""
    from rich.console import Console

    from seqlab.errors import UserError
    from seqlab.recipe import recipe_from_dict, recipe_to_dict
    from seqlab.run import train_recipe
    from seqlab.train.loop import check_resumable

    done = folder / "bundle" / "metrics.json"
    resolved = json.loads(json.dumps(recipe_to_dict(recipe), default=str))
    saved = folder / "recipe.json"  # written once the row is done: its recipe
    if fresh and folder.exists():
        print(f"  {label}: its source was retrained; training it again", flush=True)
        shutil.rmtree(folder)
    if saved.is_file() and done.is_file():
        if json.loads(saved.read_text()) == resolved:
            return json.loads(done.read_text()), False
        print(f"  {label}: the recipe changed; training it again", flush=True)
        shutil.rmtree(folder)
    # An interrupted row resumes, unless its recipe changed since (then it starts over).
    resume = (folder / "checkpoint.pt").is_file()
    if resume:
        try:
            check_resumable(folder, resolved, lambda raw: recipe_to_dict(recipe_from_dict(raw)))
        except UserError:
            print(f"  {label}: the recipe changed; training it again", flush=True)
            shutil.rmtree(folder)
            resume = False
    print(f"  {label}: {'resuming' if resume else 'training'} ...", flush=True)
    started = time.monotonic()
    train_recipe(recipe, folder, resume=resume, console=Console(quiet=True))
    saved.write_text(json.dumps(resolved, indent=1))
    if resume:  # the bundle's train_seconds counts this process only
        (folder / "resumed").write_text("train_seconds counts the last part only\n")
    print(f"  {label}: trained in {time.monotonic() - started:,.0f} s", flush=True)
    return json.loads(done.read_text()), True
