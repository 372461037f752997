"""Readers for user-brought files: what they return, and the one-line errors they give."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from seqlab.data.readers import (
    read_conll,
    read_conllu,
    read_lines,
    read_series_csv,
    read_tagged_lines,
    read_tagging,
    read_text,
    read_text_classification,
)
from seqlab.errors import UserError

FIXTURES = Path(__file__).parent / "fixtures"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# ---------------------------------------------------------------- text classification


def test_csv_with_quotes_bom_and_extra_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "reviews.csv",
        '\ufeffid,text,label\n1,"Good, really good",pos\n2,"He said ""no""",neg\n'
        "3, Фильм супер ,pos\n",
    )
    texts, labels = read_text_classification(path)
    assert texts == ["Good, really good", 'He said "no"', "Фильм супер"]
    assert labels == ["pos", "neg", "pos"]


def test_tsv_and_sniffed_txt_and_column_names(tmp_path: Path) -> None:
    tsv = write(tmp_path, "a.tsv", "label\ttext\n1\tfirst, with comma\n0\tsecond\n")
    assert read_text_classification(tsv) == (["first, with comma", "second"], ["1", "0"])
    txt = write(tmp_path, "b.txt", "Sentiment;Review\npos;nice one\nneg;bad one\n")
    texts, labels = read_text_classification(txt, text_column="review", label_column="sentiment")
    assert (texts, labels) == (["nice one", "bad one"], ["pos", "neg"])  # case-insensitive
    forced = write(tmp_path, "c.data", "text|label\nx|1\n")
    assert read_text_classification(forced, delimiter="|") == (["x"], ["1"])


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        read_text_classification(tmp_path / "nope.csv")
    with pytest.raises(UserError, match="is a folder"):
        read_text_classification(tmp_path)


def test_non_utf8_names_byte_offset_and_line(tmp_path: Path) -> None:
    content = b"text,label\nok,1\n" + "плохо,0\n".encode("cp1251")
    path = write(tmp_path, "cp1251.csv", content)
    offset = len(b"text,label\nok,1\n")
    with pytest.raises(UserError) as error:
        read_text_classification(path)
    message = str(error.value)
    assert f"offset {offset}" in message and "(line 3)" in message and "iconv" in message


def test_missing_column_lists_columns_found(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "review,sentiment\ngood,1\n")
    with pytest.raises(
        UserError, match=r"no text column 'text'; columns found: 'review', 'sentiment'"
    ):
        read_text_classification(path)
    with pytest.raises(UserError, match="label_column="):
        read_text_classification(path, text_column="review")


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("", "is empty"),
        ("   \n\n", "is empty"),
        ("text,label\n", "header but no rows"),
        ("text,label\nfine,1\n,0\n", "1 empty text.*row 3"),
        ("text,label\nfine,1\nno label,\n", "empty label.*row 3"),
        ("text,label\nfine,1\nshort\n", "row 3 has 1 fields"),
    ],
)
def test_bad_files_give_user_errors(tmp_path: Path, content: str, pattern: str) -> None:
    with pytest.raises(UserError, match=pattern):
        read_text_classification(write(tmp_path, "bad.csv", content))


# ---------------------------------------------------------------- plain text and CoNLL


def test_read_text_is_the_one_utf8_reader(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.txt", "\ufeffпривет\n".encode())
    assert read_text(path) == "привет\n"  # BOM dropped
    with pytest.raises(UserError, match=r"^corpus file not found: .*nope\.txt — check the path"):
        read_text(tmp_path / "nope.txt", "corpus file")
    with pytest.raises(UserError, match="is a folder, not a corpus file"):
        read_text(tmp_path, "corpus file")
    bad = write(tmp_path, "cp1251.txt", b"ok\n" + "да".encode("cp1251"))
    with pytest.raises(UserError, match=r"is not UTF-8: byte 0xe4 at offset 3 \(line 2\)"):
        read_text(bad)
    blank = write(tmp_path, "blank.txt", " \n\n")
    with pytest.raises(UserError, match=r"blank\.txt is empty"):
        read_text(blank)
    assert read_text(blank, allow_empty=True) == " \n\n"


def test_read_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "corpus.txt", "первая строка  \n\nsecond line\r\n")
    assert read_lines(path) == ["первая строка", "second line"]
    assert read_lines(path, keep_empty=True) == ["первая строка", "", "second line"]


def test_read_conll_on_real_excerpt() -> None:
    sentences = read_conll(FIXTURES / "wnut16_excerpt.conll")
    assert len(sentences) == 3  # separators are lines holding a single tab
    tokens, tags = sentences[0]
    assert tokens[:3] == ["@paulwalk", "It", "'s"]
    assert tokens[14:17] == ["Empire", "State", "Building"]
    assert tags[14:17] == ["B-facility", "I-facility", "I-facility"]
    assert sentences[2][0][0] == "Pxleyes" and sentences[2][1][0] == "B-company"
    raw_lines = (FIXTURES / "wnut16_excerpt.conll").read_text().splitlines()
    assert sum(len(t) for t, _ in sentences) == sum(1 for line in raw_lines if line.strip())


def test_read_conll_2003_style_spaces_and_docstart(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.txt",
        "-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n\nPeter NNP B-NP B-PER\n",
    )
    assert read_conll(path) == [(["EU", "rejects"], ["B-ORG", "O"]), (["Peter"], ["B-PER"])]


def test_read_conll_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="line 2 has no tag"):
        read_conll(write(tmp_path, "a.conll", "word\tO\nlonely\n"))
    with pytest.raises(UserError, match="no tagged tokens"):
        read_conll(write(tmp_path, "b.conll", "-DOCSTART-\tO\n\n"))


# A UD-style excerpt: comments, a multiword token (1-2 "Del" = de + el), an empty node.
CONLLU = (
    "# sent_id = 1\n"
    "# text = Del mar.\n"
    "1-2\tDel\t_\t_\t_\t_\t_\t_\t_\t_\n"
    "1\tde\tde\tADP\tSPS00\t_\t3\tcase\t_\t_\n"
    "2\tel\tel\tDET\tDA0MS0\tDefinite=Def\t3\tdet\t_\t_\n"
    "2.1\tvisto\tver\tVERB\tVMP00SM\t_\t_\t_\t0:root\t_\n"
    "3\tmar\tmar\tNOUN\tNCMS000\t_\t0\troot\t_\tSpaceAfter=No\n"
    "4\t.\t.\tPUNCT\tFp\t_\t3\tpunct\t_\t_\n"
    "\n"
    "# sent_id = 2\n"
    "1\tSí\tsí\tINTJ\tI\t_\t0\troot\t_\t_\n"
)


def test_read_conllu_skips_comments_multiword_tokens_and_empty_nodes(tmp_path: Path) -> None:
    path = write(tmp_path, "es.conllu", CONLLU)
    assert read_conllu(path) == [
        (["de", "el", "mar", "."], ["ADP", "DET", "NOUN", "PUNCT"]),
        (["Sí"], ["INTJ"]),
    ]
    assert read_conllu(path, column="XPOS")[0][1] == ["SPS00", "DA0MS0", "NCMS000", "Fp"]
    assert read_tagging(path) == read_conllu(path)  # .conllu suffix
    assert read_tagging(path, column="xpos") == read_conllu(path, column="xpos")


def test_read_conllu_errors(tmp_path: Path) -> None:
    no_xpos = write(tmp_path, "a.conllu", CONLLU.replace("\tNCMS000\t", "\t_\t"))
    with pytest.raises(UserError, match=r"a\.conllu line 7 has no XPOS tag \('_'\) — .*'upos'"):
        read_conllu(no_xpos, column="xpos")
    short = write(tmp_path, "b.conllu", "# c\n1\tword\tNOUN\n")
    with pytest.raises(UserError, match="line 2 has 3 tab-separated columns, CoNLL-U has 10"):
        read_conllu(short)
    with pytest.raises(UserError, match="unknown CoNLL-U tag column 'form' — use one of upos"):
        read_conllu(no_xpos, column="form")
    with pytest.raises(UserError, match="no CoNLL-U word lines"):
        read_conllu(write(tmp_path, "c.conllu", "# only a comment\n\n"))


def test_read_tagged_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path, "t.txt", "# comment\nThe cat sat\tDT NN VBD\n\n  Hi  there \t UH  RB\n#win\tHT\n"
    )
    assert read_tagged_lines(path) == [
        (["The", "cat", "sat"], ["DT", "NN", "VBD"]),
        (["Hi", "there"], ["UH", "RB"]),
        (["#win"], ["HT"]),  # a line with a tab is a sentence, even after a "#"
    ]


def test_read_tagged_lines_errors(tmp_path: Path) -> None:
    counts = write(tmp_path, "c.txt", "a b\tX Y\n\nThe cat sat\tDT NN\n")
    with pytest.raises(UserError, match=r"c\.txt line 3 has 3 tokens but 2 tags — "):
        read_tagged_lines(counts)
    no_tab = write(tmp_path, "n.txt", "a b\tX Y\nno tab here\n")
    with pytest.raises(UserError, match=r"n\.txt line 2 has no tab, expected one .*'no tab here'"):
        read_tagged_lines(no_tab)
    two = write(tmp_path, "2.txt", "a b\tX Y\textra\n")
    with pytest.raises(UserError, match="line 1 has 2 tabs"):
        read_tagged_lines(two)
    empty_side = write(tmp_path, "e.txt", "\tX\n")
    with pytest.raises(UserError, match="line 1 has 0 tokens but 1 tags"):
        read_tagged_lines(empty_side)


def test_read_tagging_detects_the_format(tmp_path: Path) -> None:
    lines = write(tmp_path, "l.txt", "# a comment\n\nThe cat\tDT NN\nHi\tUH\n")
    assert read_tagging(lines) == [(["The", "cat"], ["DT", "NN"]), (["Hi"], ["UH"])]
    conll = write(tmp_path, "c.txt", "The\tDT\ncat\tNN\n\nHi\tUH\n")
    assert (
        read_tagging(conll)
        == read_conll(conll)
        == [(["The", "cat"], ["DT", "NN"]), (["Hi"], ["UH"])]
    )
    # a one-token first sentence looks like CoNLL; format= overrides the guess
    one = write(tmp_path, "o.txt", "Hi\tUH\nThe cat\tDT NN\n")
    assert read_tagging(one, format="lines") == [(["Hi"], ["UH"]), (["The", "cat"], ["DT", "NN"])]
    spaced = write(tmp_path, "s.txt", "EU NNP B-ORG\nrejects VBZ O\n")  # CoNLL-2003 columns
    assert read_tagging(spaced) == [(["EU", "rejects"], ["B-ORG", "O"])]
    conllu_txt = write(tmp_path, "u.txt", CONLLU)
    assert read_tagging(conllu_txt, format="conllu")[1] == (["Sí"], ["INTJ"])
    with pytest.raises(UserError, match="unknown tagging file format 'conl' — did you mean"):
        read_tagging(conll, format="conl")
    with pytest.raises(UserError, match="file not found"):
        read_tagging(tmp_path / "missing.txt")


# ---------------------------------------------------------------- series


def test_series_csv_with_date_column_and_missing_values(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.csv", "date,value\n2020-01-01,1.5\n2020-01-02,\n2020-01-03,NA\n2020-01-04,-2\n"
    )
    values = read_series_csv(path)
    assert values.dtype == np.float64 and values.shape == (4,)
    assert values[0] == 1.5 and values[3] == -2.0
    assert math.isnan(values[1]) and math.isnan(values[2])


def test_series_csv_column_choice_and_bare_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "t\ta\tb\n0\t1\t10\n1\t2\t20\n")
    with pytest.raises(UserError, match="3 numeric columns"):
        read_series_csv(path)
    np.testing.assert_array_equal(read_series_csv(path, column="b"), [10.0, 20.0])
    bare = write(tmp_path, "bare.txt", "1\n2.5\n3e2\n")
    np.testing.assert_array_equal(read_series_csv(bare), [1.0, 2.5, 300.0])


def test_series_csv_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "date,value\n2020,1\n2021,2\n")
    with pytest.raises(
        UserError, match=r"columns found: .date., .value. — pass the right name with column="
    ):
        read_series_csv(path, column="price")
    bad = write(tmp_path, "bad.csv", "value\n1\n2\n" + "\n".join(["3"] * 120) + "\noops\n")
    with pytest.raises(UserError, match=r"line 124: 'oops'.*not a number"):
        read_series_csv(bad)
    with pytest.raises(UserError, match="header but no values"):
        read_series_csv(write(tmp_path, "h.csv", "value\n"))
