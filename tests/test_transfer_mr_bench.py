"""benchmarks/transfer_mr.py on fake rows: the table, the verdicts, the exit code, the
quick-run overrides (no training here)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench() -> Any:
    spec = importlib.util.spec_from_file_location("transfer_mr", ROOT / "benchmarks/transfer_mr.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["transfer_mr"] = module  # its dataclasses look their module up
    sys.path.insert(0, str(ROOT / "benchmarks"))  # its sibling module `resumable`
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def _row(bench: Any, label: str, accuracy: float) -> dict[str, Any]:
    metrics = {"test_accuracy": accuracy, "valid_accuracy": 0.5, "train_seconds": 1234.4}
    return bench.table_row(label, metrics, 1_234_567, "a note")


def _fake(bench: Any, monkeypatch: pytest.MonkeyPatch, full: float) -> None:
    accuracy = {"tfidf": 0.795, "bilstm": 0.776, "minilm-head": 0.78, "minilm-full": full}
    accuracy["minilm-lora"] = 0.83
    monkeypatch.setattr(
        bench, "run_row", lambda name, out, limit: _row(bench, name, accuracy[name])
    )
    monkeypatch.setattr(bench, "features_row", lambda out, limit: _row(bench, "features", 0.80))
    monkeypatch.setattr(bench, "ulmfit_row", lambda out, limit: _row(bench, "ulmfit", 0.795))


def test_table_cells_and_published_anchors(
    bench: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _fake(bench, monkeypatch, full=0.85)
    assert bench.main(["--out", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "| minilm-full | 0.850 | 0.500 | 1,234,567 | 1,234 | a note |" in shown
    assert (
        "| Kim 2014 CNN-rand (published) | 0.761 |  |  |  | 10-fold CV, not this split |" in shown
    )
    assert "PASS  fine-tuned MiniLM >= 0.82 (test accuracy 0.850)" in shown
    assert "REPORT  features: 0.800, 0.5 points above TF-IDF + LR (0.795)" in shown
    assert "REPORT  minilm-head: 0.780, 1.5 points below TF-IDF + LR (0.795)" in shown
    assert "REPORT  ulmfit: 0.795, 0.0 points equal to TF-IDF + LR (0.795)" in shown
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["judged"] and saved["goals"] == {
        "fine-tuned MiniLM >= 0.82 (test accuracy 0.850)": True
    }
    assert list(saved["rows"]) == list(bench.ORDER)
    assert (tmp_path / "results.md").read_text().count("\n| ") == len(bench.ORDER) + 3


def test_a_missed_goal_exits_1_unless_it_is_a_quick_run(
    bench: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _fake(bench, monkeypatch, full=0.81)
    assert bench.main(["--out", str(tmp_path)]) == 1
    assert "MISS  fine-tuned MiniLM >= 0.82 (test accuracy 0.810)" in capsys.readouterr().out
    assert bench.main(["--out", str(tmp_path), "--limit", "50"]) == 0
    shown = capsys.readouterr().out
    assert "SMOKE RUN, --limit 50: not judged" in shown and "(not judged: --limit 50)" in shown
    # --only without the fine-tuned MiniLM: no goal to judge, only the report.
    assert bench.main(["--out", str(tmp_path), "--only", "minilm-features"]) == 0
    shown = capsys.readouterr().out
    assert "0.800 (TF-IDF + LR not run)" in shown and "MiniLM >=" not in shown
    with pytest.raises(SystemExit):
        bench.main(["--only", "minilm"])


def test_quick_run_overrides_and_lora_targets(bench: Any, tmp_path: Path) -> None:
    rows = bench.rows(tmp_path)
    assert bench.smoke(rows["tfidf"], 300) == ["data.limit=300", "data.eval_limit=300"]
    assert bench.smoke(rows["minilm-full"], 300)[-1] == "train.max_steps=5"
    # A language model's file splits are strings: the limit counts characters.
    assert bench.smoke(rows["ulmfit-lm"], 300)[0] == "data.limit=30000"
    assert f"model.init_from={tmp_path / 'ulmfit-lm/bundle'}" in rows["ulmfit-lm-mr"].overrides
    targets = [o for o in rows["minilm-lora"].overrides if o.startswith("transfer.lora.targets=")]
    assert json.loads(targets[0].split("=", 1)[1]) == bench.LORA_TARGETS
