"""The spine knows no task: task names appear only in the family registry and modules."""

from __future__ import annotations

import re
from pathlib import Path

from seqlab.families import FAMILIES

SRC = Path(__file__).resolve().parents[1] / "src" / "seqlab"
# The families name themselves; the data-set registry labels each data set with a task.
ALLOWED = {SRC / "families", SRC / "data" / "datasets.py"}


def test_no_task_name_outside_the_families() -> None:
    names = "|".join(re.escape(name) for name in FAMILIES)
    pattern = re.compile(rf"""["']({names}|classify|lm|classifier)["']""")
    offenders = []
    for path in SRC.rglob("*.py"):
        if any(path == allowed or allowed in path.parents for allowed in ALLOWED):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_family_has_a_recipe_and_complete_contract() -> None:
    root = SRC.parents[1]
    for task, family in FAMILIES.items():
        assert family.task == task
        assert (root / family.example).is_file(), family.example
        assert family.metrics.get("loss") == "min"
        for attribute in ("data_config", "model_config", "preprocessing", "Request", "Response"):
            assert getattr(family, attribute) is not None
