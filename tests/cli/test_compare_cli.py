"""``seqlab compare`` and ``seqlab diagnose`` run for real; bad input -> one line, exit 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqlab.cli.main import app
from seqlab.data.datasets import DATASETS

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "recipes" / "compare-ci.toml"
QUICK = ["--set", "compare.budget_tokens=8000"]  # 20 steps of 20 x 20 tokens per run


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def ptb_compare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed CI grid (two cells x two seeds, real PTB) with a smaller budget."""
    if not DATASETS["ptb"].is_available():
        pytest.skip("ptb is not installed (seqlab datasets prepare)")
    out = tmp_path_factory.mktemp("compare") / "out"
    result = _invoke("--threads", 1, "compare", CI, *QUICK, "--out", out)
    assert result.exit_code == 0, result.output
    assert "Spearman ρ vs published test_loss" in result.output
    return out


@pytest.mark.e2e
def test_compare_writes_the_report(ptb_compare: Path) -> None:
    markdown = (ptb_compare / "report.md").read_text(encoding="utf-8")
    assert "| rank | row | hidden_size | parameters | tokens/s |" in markdown
    assert re.search(r"\| 1 \| (lstm|rnn_tanh) \|", markdown)
    assert "Spearman ρ between this ranking" in markdown and "an LSTM beats a tanh RNN" in markdown
    page = (ptb_compare / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3  # curves, gradient flow, gates
    for png in ("learning_curves.png", "gradient_flow.png", "gate_saturation.png"):
        assert (ptb_compare / png).read_bytes()[:4] == b"\x89PNG"
    data = json.loads((ptb_compare / "report.json").read_text(encoding="utf-8"))
    assert [row["runs"] for row in data["rows"]] == [2, 2]
    for row in data["rows"]:
        assert abs(row["parameters"] - 150_000) <= 0.05 * 150_000
    for run in (ptb_compare / "runs").iterdir():
        assert json.loads((run / "point.json").read_text())["tokens"] == 8000


@pytest.mark.e2e
def test_compare_again_trains_nothing(ptb_compare: Path) -> None:
    before = _snapshot(ptb_compare / "runs")
    result = _invoke("--threads", 1, "compare", CI, *QUICK, "--out", ptb_compare)
    assert result.exit_code == 0, result.output
    assert result.output.count(": done") == 4 and ": training" not in result.output
    assert _snapshot(ptb_compare / "runs") == before


@pytest.mark.e2e
def test_a_report_folder_of_another_grid_is_refused(ptb_compare: Path) -> None:
    before = _snapshot(ptb_compare)
    result = _invoke("compare", CI, "--set", "compare.budget_tokens=4000", "--out", ptb_compare)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "made by a different grid" in result.output
    assert _snapshot(ptb_compare) == before  # nothing lost or rewritten


@pytest.mark.e2e
def test_diagnose_a_bundle_and_a_recipe(ptb_compare: Path, tmp_path: Path) -> None:
    bundle = ptb_compare / "runs" / "type-lstm__seed-1" / "bundle"
    result = _invoke("diagnose", bundle, "--out", tmp_path / "bundle", "--set", "data.bptt=30")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "bundle" / "diagnose.json").read_text())
    assert len(saved) == 1 and len(saved[0]["norms"]) == 30
    result = _invoke("diagnose", CI, "--out", tmp_path / "recipe", "--batches", 1)
    assert result.exit_code == 0, result.output
    assert {
        d["label"] for d in json.loads((tmp_path / "recipe" / "diagnose.json").read_text())
    } == {
        "rnn_tanh",
        "lstm",
    }
    for folder in ("bundle", "recipe"):
        for png in ("gradient_flow.png", "gate_saturation.png"):
            assert (tmp_path / folder / png).read_bytes()[:4] == b"\x89PNG"


@pytest.fixture
def offline(tmp_path: Path) -> list[str]:
    """--set options turning the CI grid onto a small local file (no data set needed)."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 50)
    return [
        "--set", 'data.dataset="file"', "--set", f'data.path="{corpus}"',
        "--set", "data.batch_size=4", "--set", "data.eval_batch_size=2",
        "--set", "compare.parameters=2000", "--set", "model.embedding_dim=8",
    ]  # fmt: skip


def test_diagnose_a_plain_recipe(offline: list[str], tmp_path: Path) -> None:
    plain = tmp_path / "plain.toml"
    text = CI.read_text(encoding="utf-8")
    plain.write_text(text[: text.index("\n[compare]\n")])
    data_sets = offline[:8]  # the data keys only: a plain recipe has no [compare]
    result = _invoke("diagnose", plain, *data_sets, "--out", tmp_path / "d", "--batches", 2)
    assert result.exit_code == 0, result.output
    (saved,) = json.loads((tmp_path / "d" / "diagnose.json").read_text())
    assert saved["cell"] == "lstm" and (tmp_path / "d" / "gradient_flow.png").is_file()


BAD = [
    ('compare.grid.model.encoder.type=["lstm", "grru"]', "unknown model.encoder.type 'grru'",
     "did you mean 'gru'?"),
    ("compare.grid.model.encoder.hidden=[8]", "unknown key 'model.encoder.hidden'",
     "did you mean 'hidden_size'?"),
    ("compare.parameters=10", "impossible parameter target 10", "raise [compare] parameters"),
    ("compare.budget_tokens=0", "compare.budget_tokens: input should be greater than", "fix"),
    ('compare.solve="train.lr"', "train.lr does not change the parameter count", "solve"),
]  # fmt: skip


@pytest.mark.parametrize(("override", "message", "fix"), BAD, ids=[b[1][:30] for b in BAD])
def test_bad_input_is_one_line_and_writes_nothing(
    offline: list[str], tmp_path: Path, override: str, message: str, fix: str
) -> None:
    out = tmp_path / "out"
    result = _invoke("compare", CI, *offline, "--set", override, "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert message in lines[0] and fix in lines[0]
    assert not out.exists()
