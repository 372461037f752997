"""Parallel text (source → target pairs) for seq2seq and translation.

Readers of files a user brings, in the style of :mod:`seqlab.data.readers` (every
mistake is a :class:`~seqlab.errors.UserError` naming the file and the line):

- :func:`read_tsv_pairs`: ``source<TAB>target`` a line, which also reads the
  Tatoeba / manythings.org ``rus.txt`` files (``English<TAB>Russian<TAB>attribution``:
  columns after the second are ignored);
- :func:`read_aligned`: two files, line *i* of one translating line *i* of the other
  (the Moses / OPUS ``corpus.en`` + ``corpus.ru`` layout).

And the extraction behind the ``libreoffice-en-ru`` data set:
:func:`libreoffice_pairs` joins the English and Russian LibreOffice help pages on
(page, paragraph id); :func:`write_libreoffice_pairs` stores them once as ``pairs.tsv``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

from seqlab.data.readers import read_text
from seqlab.errors import UserError

Pairs = list[tuple[str, str]]

_FORMAT_HINT = "write `source<TAB>target` on every line (blank lines are skipped)"


def read_tsv_pairs(path: str | Path) -> Pairs:
    """``(source, target)`` pairs of a tab-separated file, one pair a line.

    Blank lines are skipped; columns after the second (the attribution of Tatoeba's
    ``rus.txt``) are ignored; both sides are stripped of surrounding spaces. A non-blank
    line without a tab, or with an empty source or target, raises :class:`UserError`
    naming the file and the line number.
    """
    path = Path(path)
    pairs: Pairs = []
    for number, line in enumerate(read_text(path, "parallel file").splitlines(), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise UserError(
                f"{path} line {number} has no tab between source and target: {line[:60]!r}",
                _FORMAT_HINT,
            )
        source, target = (field.strip() for field in line.split("\t")[:2])
        if not source or not target:
            side = "source" if not source else "target"
            raise UserError(f"{path} line {number} has an empty {side}", _FORMAT_HINT)
        pairs.append((source, target))
    return pairs


def read_aligned(source_path: str | Path, target_path: str | Path) -> Pairs:
    """Pairs from two line-aligned files: line *i* of ``source_path`` with line *i* of
    ``target_path`` (trailing spaces stripped).

    Lines blank on both sides are skipped. Different line counts, or a line blank on
    one side only, raise :class:`UserError` (the files have slipped out of alignment).
    """
    source_path, target_path = Path(source_path), Path(target_path)
    sources = read_text(source_path, "source file").splitlines()
    targets = read_text(target_path, "target file").splitlines()
    if len(sources) != len(targets):
        raise UserError(
            f"{source_path} has {len(sources)} lines but {target_path} has {len(targets)}",
            "the files must be line-aligned: line i of one translates line i of the other",
        )
    pairs: Pairs = []
    for number, (source, target) in enumerate(zip(sources, targets, strict=True), start=1):
        source, target = source.strip(), target.strip()
        if not source and not target:
            continue
        if not source or not target:
            blank, other = (source_path, target_path) if not source else (target_path, source_path)
            raise UserError(
                f"line {number} is blank in {blank} but not in {other}",
                "remove the line from both files or fill it in (the files may be misaligned)",
            )
        pairs.append((source, target))
    return pairs


def write_tsv_pairs(path: str | Path, pairs: Iterable[tuple[str, str]]) -> None:
    """Write pairs as ``source<TAB>target`` lines (UTF-8), readable by :func:`read_tsv_pairs`.

    Tabs and line breaks inside a text become spaces, so every pair stays one line.
    """
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for source, target in pairs:
            handle.write(f"{' '.join(source.split())}\t{' '.join(target.split())}\n")


# ---------------------------------------------------------------- LibreOffice help

LIBREOFFICE_PAIRS = "pairs.tsv"
_PARAGRAPH_ID = re.compile(r"(?:par|hd)_")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
}  # fmt: skip


class _Paragraphs(HTMLParser):
    """The text of every element whose id starts with ``par_`` or ``hd_``, in page order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities (&amp; &nbsp; …) become text
        self.open: list[tuple[str, str | None, list[str]]] = []  # (tag, id if kept, text)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag == "br":
                self.handle_data(" ")
            return
        element_id = dict(attrs).get("id") or ""
        self.open.append((tag, element_id if _PARAGRAPH_ID.match(element_id) else None, []))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                break
        else:
            return  # a stray end tag
        while len(self.open) > depth:  # closes elements left open inside it, too
            _, element_id, parts = self.open.pop()
            if element_id is not None:
                self.found.append((element_id, " ".join("".join(parts).split())))

    def handle_data(self, data: str) -> None:
        for _, element_id, parts in self.open:
            if element_id is not None:
                parts.append(data)


def help_paragraphs(path: Path) -> dict[tuple[str, int], str]:
    """``(id, k) -> text`` of one help page: the k-th element with that ``par_``/``hd_`` id.

    Tags are dropped, entities decoded, white space collapsed. A page that embeds the
    same paragraph twice repeats its id, hence the occurrence number ``k``.
    """
    parser = _Paragraphs()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    seen: Counter[str] = Counter()
    paragraphs: dict[tuple[str, int], str] = {}
    for element_id, text in parser.found:
        paragraphs[(element_id, seen[element_id])] = text
        seen[element_id] += 1
    return paragraphs


def libreoffice_pairs(help_folder: Path, source: str = "en-US", target: str = "ru") -> Pairs:
    """Unique (English, Russian) paragraph pairs of the LibreOffice help in ``help_folder``.

    ``help_folder`` holds ``en-US/text/**/*.html`` and ``ru/text/**/*.html`` (Debian's
    ``/usr/share/libreoffice/help``). Paragraphs are joined on (page path, paragraph id,
    occurrence); a pair is kept when the Russian contains Cyrillic and differs from the
    English (untranslated strings, menu names and code are dropped). Exact duplicate
    pairs are dropped; the order is that of the sorted pages and of the paragraphs in them.
    """
    source_root, target_root = help_folder / source, help_folder / target
    pages = sorted(source_root.glob("text/**/*.html"))
    if not pages:
        raise UserError(
            f"no help pages in {source_root / 'text'}",
            "run `seqlab datasets prepare libreoffice-en-ru --force`",
        )
    pairs: dict[tuple[str, str], None] = {}
    for page in pages:
        translated = target_root / page.relative_to(source_root)
        if not translated.is_file():
            continue
        english, russian = help_paragraphs(page), help_paragraphs(translated)
        for key, text in english.items():
            other = russian.get(key, "")
            if text and other and other != text and _CYRILLIC.search(other):
                pairs.setdefault((text, other), None)
    return list(pairs)


def write_libreoffice_pairs(help_folder: Path) -> None:
    """``seqlab datasets prepare`` step: extract the pairs once into ``help_folder/pairs.tsv``."""
    write_tsv_pairs(help_folder / LIBREOFFICE_PAIRS, libreoffice_pairs(help_folder))
