"""Atomic files and folders: an error mid-write leaves the old content and no temp."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab import atomic


def test_folder_replaces_the_old_one_or_leaves_it_untouched(tmp_path: Path) -> None:
    target = tmp_path / "bundle"
    with atomic.folder(target) as temp:
        (temp / "a.txt").write_text("one")
    with atomic.folder(target) as temp:
        (temp / "b.txt").write_text("two")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    with pytest.raises(RuntimeError), atomic.folder(target) as temp:
        (temp / "c.txt").write_text("half")
        raise RuntimeError("crash mid-write")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]  # no temp, no .old


def test_write_stream_error_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "x.json"
    atomic.write_json(path, {"a": 1})

    def fail(stream) -> None:
        stream.write(b"{half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic.write_stream(path, fail)
    assert path.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]
