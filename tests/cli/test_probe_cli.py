"""``seqlab probe``: run for real (MiniLM on a tiny tagged CoNLL file) with a table, JSON
and a PNG; a folder that is not a model, a data set without tags and zero sentences are
one line, exit 2."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqlab.cli.main import app

runner = CliRunner()

LEXICON = {
    "DET": ["the", "a", "every", "this"],
    "ADJ": ["old", "green", "quiet", "famous"],
    "NOUN": ["dog", "jury", "city", "letter", "farmer", "river"],
    "VERB": ["saw", "wrote", "crossed", "praised", "found"],
}


@pytest.fixture(scope="module")
def minilm(minilm_folder: Path) -> Path:
    return minilm_folder


@pytest.fixture
def conll(tmp_path: Path) -> Path:
    """40 sentences DET (ADJ) NOUN VERB DET NOUN . of a toy grammar, token<TAB>tag."""
    rng = random.Random(0)
    blocks = []
    for _ in range(40):
        tags = ["DET", *(["ADJ"] * rng.randint(0, 1)), "NOUN", "VERB", "DET", "NOUN"]
        lines = [f"{rng.choice(LEXICON[tag])}\t{tag}" for tag in tags] + [".\tPUNCT"]
        blocks.append("\n".join(lines))
    path = tmp_path / "toy.conll"
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path


def test_probe_runs_on_a_conll_file(minilm: Path, conll: Path, tmp_path: Path) -> None:
    png = tmp_path / "probe.png"
    args = ["probe", str(minilm), "--data", str(conll), "--max-iter", "50"]
    result = runner.invoke(app, [*args, "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert "embeddings" in result.output and "majority tag per word" in result.output
    assert "32 train / 4 test sentences" in result.output  # the family's 80/10/10 split
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shown = runner.invoke(app, [*args, "--json"])
    assert shown.exit_code == 0, shown.output
    row = json.loads(shown.output)
    assert len(row["accuracies"]) == 7 and row["tags"] == 5
    assert all(0 <= accuracy <= 1 for accuracy in row["accuracies"])
    assert max(row["accuracies"]) >= 0.9  # the toy tags are easy for a middle layer


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{empty}"], "is not a model folder"),
        (["{model}", "--data", "mr"], "is for text-classification"),
        (["{model}", "--data", "{conll}", "--train-sentences", "0"], "nothing to probe"),
        (["{model}", "--data", "{empty}/missing.conll"], "not found"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    minilm: Path, conll: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    values = {"{empty}": str(empty), "{model}": str(minilm), "{conll}": str(conll)}
    filled = [values.get(a, a.replace("{empty}", str(empty))) for a in args]
    result = runner.invoke(app, ["probe", *filled])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
