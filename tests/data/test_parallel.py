"""Parallel-text readers, the LibreOffice help extraction and its two-package prepare.

Oracles: tiny files written here with known pairs (a 3-column Tatoeba ``rus.txt``
excerpt among them), every bad case with its line number, and hand-made help pages
whose pairs are known; the prepare runs for real with a fake ``apt-get`` serving two
``.deb`` files built here by ``dpkg-deb``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from seqlab.data.corpora import load_libreoffice_en_ru
from seqlab.data.datasets import DATASETS
from seqlab.data.parallel import (
    help_paragraphs,
    libreoffice_pairs,
    read_aligned,
    read_tsv_pairs,
    write_tsv_pairs,
)
from seqlab.data.prepare import prepare_dataset, sha256_of
from seqlab.errors import UserError


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- TSV pairs


def test_tsv_pairs_and_tatoeba_rus_txt(tmp_path: Path) -> None:
    path = write(tmp_path, "pairs.tsv", "\ufeffhello\tпривет\n\n  cat \t кошка  \n")
    assert read_tsv_pairs(path) == [("hello", "привет"), ("cat", "кошка")]
    attribution = "CC-BY 2.0 (France) Attribution: tatoeba.org"
    rus = write(
        tmp_path,
        "rus.txt",
        f"Go.\tМарш!\t{attribution} #2877272 (CM) & #1159202 (shanghainese)\n"
        f"Hi.\tЗдравствуйте.\t{attribution} #538123 (CM) & #402127 (odexed)\n"
        f"Run!\tБеги!\t{attribution} #906328 (papabear) & #1569978 (Biga)\n",
    )
    assert read_tsv_pairs(rus) == [("Go.", "Марш!"), ("Hi.", "Здравствуйте."), ("Run!", "Беги!")]


def test_tsv_pairs_bad_lines_name_file_and_line(tmp_path: Path) -> None:
    no_tab = write(tmp_path, "a.tsv", "one\tодин\n\nno tab here\n")
    with pytest.raises(UserError, match=r"a\.tsv line 3 has no tab.*'no tab here'"):
        read_tsv_pairs(no_tab)
    empty_target = write(tmp_path, "b.tsv", "one\tодин\ntwo\t  \n")
    with pytest.raises(UserError, match=r"b\.tsv line 2 has an empty target"):
        read_tsv_pairs(empty_target)
    empty_source = write(tmp_path, "c.tsv", "\tодин\n")
    with pytest.raises(UserError, match=r"c\.tsv line 1 has an empty source"):
        read_tsv_pairs(empty_source)


def test_tsv_pairs_file_errors_come_from_read_text(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="parallel file not found"):
        read_tsv_pairs(tmp_path / "missing.tsv")
    with pytest.raises(UserError, match="is empty"):
        read_tsv_pairs(write(tmp_path, "empty.tsv", "  \n"))
    cp1251 = tmp_path / "cp1251.tsv"
    cp1251.write_bytes("cat\tкошка\n".encode("cp1251"))
    with pytest.raises(UserError, match=r"not UTF-8.*line 1"):
        read_tsv_pairs(cp1251)


def test_write_tsv_pairs_round_trips(tmp_path: Path) -> None:
    pairs = [("a\tb", "в\nг"), ("x", "у")]
    write_tsv_pairs(tmp_path / "out.tsv", pairs)
    assert read_tsv_pairs(tmp_path / "out.tsv") == [("a b", "в г"), ("x", "у")]


# ---------------------------------------------------------------- aligned files


def test_aligned_files(tmp_path: Path) -> None:
    en = write(tmp_path, "corpus.en", "Hello.\n\nThe cat.  \n")
    ru = write(tmp_path, "corpus.ru", "Привет.\n\nКошка.\n")
    assert read_aligned(en, ru) == [("Hello.", "Привет."), ("The cat.", "Кошка.")]


def test_aligned_files_that_slipped(tmp_path: Path) -> None:
    en = write(tmp_path, "corpus.en", "a\nb\nc\n")
    ru = write(tmp_path, "corpus.ru", "а\nб\n")
    with pytest.raises(UserError, match=r"corpus\.en has 3 lines but .*corpus\.ru has 2"):
        read_aligned(en, ru)
    gap = write(tmp_path, "gap.ru", "а\n\nв\n")
    with pytest.raises(UserError, match=r"line 2 is blank in .*gap\.ru but not in .*corpus\.en"):
        read_aligned(en, gap)
    with pytest.raises(UserError, match="target file not found"):
        read_aligned(en, tmp_path / "nope.ru")


# ---------------------------------------------------------------- LibreOffice help pages

PAGE = """<!DOCTYPE html><html><head><title>{title}</title></head><body>
<div id="DisplayArea"><a name="bm_1"></a>
<h1 id="hd_id1" dir="auto">{heading}</h1>
<p id="par_id2" class="paragraph">{first}<br>{second}</p>
<table><tr><td><p id="par_id3">{cell}</p></td></tr></table>
<div class="embedded"><p id="par_id2">{again}</p></div>
<p id="other_id4">{ignored}</p>
<p id="par_id5">LibreOffice</p>
</div></body></html>
"""

ENGLISH = dict(
    title="Fields", heading="Fields", first="Inserts a <span class='avis'>field</span>.",
    second="Tom &amp; Jerry&nbsp;here.", cell="Choose <b>Insert - Field</b>.",
    again="Inserts a field.", ignored="not a paragraph",
)  # fmt: skip
RUSSIAN = dict(
    title="Поля", heading="Поля", first="Вставляет <span class='avis'>поле</span>.",
    second="Том &amp; Джерри&nbsp;здесь.", cell="Choose <b>Insert - Field</b>.",
    again="Вставляет поле.", ignored="не абзац",
)  # fmt: skip
EXPECTED = [
    ("Fields", "Поля"),
    ("Inserts a field. Tom & Jerry here.", "Вставляет поле. Том & Джерри здесь."),
    ("Inserts a field.", "Вставляет поле."),
]  # the untranslated table cell, the non-paragraph id and "LibreOffice" are dropped


def _help_tree(root: Path) -> Path:
    for language, fields in (("en-US", ENGLISH), ("ru", RUSSIAN)):
        write(root, f"{language}/text/swriter/01/fields.html", PAGE.format(**fields))
        write(root, f"{language}/text/shared/main.html", PAGE.format(**fields))  # duplicates
    write(root, "en-US/text/shared/only_english.html", PAGE.format(**ENGLISH))
    return root


def test_help_paragraphs_strip_tags_and_decode_entities(tmp_path: Path) -> None:
    path = write(tmp_path, "page.html", PAGE.format(**ENGLISH))
    paragraphs = help_paragraphs(path)
    assert paragraphs[("par_id2", 0)] == "Inserts a field. Tom & Jerry here."
    assert paragraphs[("par_id2", 1)] == "Inserts a field."  # the same id, embedded again
    assert paragraphs[("par_id3", 0)] == "Choose Insert - Field."
    assert ("other_id4", 0) not in paragraphs and len(paragraphs) == 5


def test_libreoffice_pairs_join_on_page_and_id_and_drop_duplicates(tmp_path: Path) -> None:
    assert libreoffice_pairs(_help_tree(tmp_path / "help")) == EXPECTED
    with pytest.raises(UserError, match="no help pages"):
        libreoffice_pairs(tmp_path / "nothing")


# ---------------------------------------------------------------- two-package prepare

NAME = "libreoffice-en-ru"


def _deb(folder: Path, package: str, files: dict[str, str]) -> Path:
    tree = folder / package
    for relative, text in files.items():
        write(tree, relative, text)
    control = (
        f"Package: {package}\nVersion: 4:7.4.7-1+deb12u14\nArchitecture: all\n"
        "Maintainer: seqlab tests <tests@example.invalid>\nDescription: test\n"
    )
    write(tree, "DEBIAN/control", control)
    deb = folder / f"{package}.deb"
    subprocess.run(["dpkg-deb", "--build", "-Zgzip", str(tree), str(deb)], check=True,
                   capture_output=True)  # fmt: skip
    return deb


@pytest.fixture
def fake_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``apt-get download NAME=VERSION`` copying a .deb built here."""
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not available")
    help_root = "usr/share/libreoffice/help"
    debs = tmp_path / "debs"
    debs.mkdir()
    ru = _deb(debs, "libreoffice-help-ru", {
        f"{help_root}/ru/text/swriter/01/fields.html": PAGE.format(**RUSSIAN),
        "usr/share/doc/libreoffice-help-ru/copyright": "MPL-2.0",
    })  # fmt: skip
    en = _deb(debs, "libreoffice-help-en-us", {
        f"{help_root}/en-US/text/swriter/01/fields.html": PAGE.format(**ENGLISH),
    })  # fmt: skip
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "apt-get"
    script.write_text(
        f'#!/bin/sh\nname="${{2%%=*}}"\ncp "{debs}/$name.deb" "./${{name}}_all.deb"\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path / "cache"))
    pinned = dataclasses.replace(
        DATASETS[NAME], sha256=sha256_of(ru), also=(("libreoffice-help-en-us", sha256_of(en)),)
    )
    monkeypatch.setitem(DATASETS, NAME, pinned)
    return script


def test_prepare_fetches_both_packages_and_extracts_pairs_once(
    fake_apt: Path, tmp_path: Path
) -> None:
    assert not DATASETS[NAME].is_available()
    folder = prepare_dataset(NAME)
    assert folder == tmp_path / "cache" / NAME
    assert (folder / "en-US" / "text" / "swriter" / "01" / "fields.html").is_file()
    assert (folder / "ru" / "text" / "swriter" / "01" / "fields.html").is_file()
    assert read_tsv_pairs(folder / "pairs.tsv") == EXPECTED
    assert DATASETS[NAME].is_available()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [NAME]  # no temp left over
    splits = load_libreoffice_en_ru()
    assert sorted(pair for split in splits.values() for pair in split) == sorted(EXPECTED)
    fake_apt.unlink()  # prepared already: no second fetch
    assert prepare_dataset(NAME) == folder


def test_a_wrong_checksum_on_the_second_package_leaves_nothing(
    fake_apt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = DATASETS[NAME]
    wrong = dataclasses.replace(info, also=(("libreoffice-help-en-us", "0" * 64),))
    monkeypatch.setitem(DATASETS, NAME, wrong)
    with pytest.raises(UserError, match=r"libreoffice-help-en-us_all\.deb.*expected 0000"):
        prepare_dataset(NAME)
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_folder_without_pairs_is_not_prepared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    write(tmp_path, f"{NAME}/ru/text/a.html", "<p id='par_1'>Привет</p>")
    assert not DATASETS[NAME].is_available()  # an older prepare without pairs.tsv
    with pytest.raises(UserError, match=r"pairs\.tsv is missing"):
        load_libreoffice_en_ru()
