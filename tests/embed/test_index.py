"""EmbeddingIndex: exact search equals brute-force sorted cosine (dense and sparse, with a
row left out); "more like this" and outliers equal their brute-force definitions; the
folder round-trips and is written atomically; a long query is chunked, or refused in one
line when the index does not chunk; bad ids, folders and collections are one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from seqlab.embed.index import EmbeddingIndex, nearest, unit_rows
from seqlab.errors import UserError
from seqlab.transfer.embedder import load_embedder

TEXTS = [
    "Oil prices rose sharply after OPEC cut production.",
    "Crude oil futures climbed to a record high on supply fears.",
    "Petrol prices at the pump hit a new high this week.",
    "The striker scored twice as United won the cup final.",
    "The goalkeeper saved a penalty in the last minute.",
    "The team was relegated after losing the derby.",
    "The new smartphone has a faster chip and a better camera.",
    "A laptop with a longer battery life went on sale.",
    "My grandmother's recipe for plum jam needs three kilos of plums.",
]
LABELS = ["business"] * 3 + ["sport"] * 3 + ["tech"] * 2 + ["food"]


def _brute_force(queries: np.ndarray, vectors: np.ndarray, k: int, exclude=None):
    """Every score, sorted by (-score, row): the definition of exact top-k."""
    rows, scores = [], []
    for q, query in enumerate(queries):
        pairs = [
            (-float(np.dot(query, vector)), n)
            for n, vector in enumerate(vectors)
            if exclude is None or n != exclude[q]
        ]
        pairs.sort()
        rows.append([n for _, n in pairs[:k]])
        scores.append([-s for s, _ in pairs[:k]])
    return np.array(rows), np.array(scores)


@pytest.mark.parametrize("sparse", [False, True])
def test_nearest_equals_brute_force_sorted_cosine(sparse: bool) -> None:
    rng = np.random.default_rng(0)
    vectors = unit_rows(rng.standard_normal((300, 16)))
    queries = unit_rows(rng.standard_normal((7, 16)))
    if sparse:  # TF-IDF-like: mostly zeros
        vectors = unit_rows(vectors * (rng.random(vectors.shape) < 0.3))
    found, scores = nearest(sp.csr_matrix(queries) if sparse else queries,
                            sp.csr_matrix(vectors) if sparse else vectors, 10)  # fmt: skip
    rows, expected = _brute_force(queries, vectors, 10)
    np.testing.assert_array_equal(found, rows)
    np.testing.assert_allclose(scores, expected, atol=1e-6)


def test_nearest_leaves_the_query_row_out_and_caps_k() -> None:
    rng = np.random.default_rng(1)
    vectors = unit_rows(rng.standard_normal((40, 8)))
    exclude = np.arange(40)
    found, _ = nearest(vectors, vectors, 5, exclude=exclude)
    np.testing.assert_array_equal(found, _brute_force(vectors, vectors, 5, exclude)[0])
    assert (found != exclude[:, None]).all()
    assert nearest(vectors[:2], vectors[:3], 10, np.array([0, 1]))[0].shape == (2, 2)
    with pytest.raises(UserError, match="not enough items"):
        nearest(vectors[:1], vectors[:1], 3, np.array([0]))


@pytest.fixture(scope="module")
def embedder(minilm_folder):
    return load_embedder(minilm_folder)


@pytest.fixture(scope="module")
def index(embedder) -> EmbeddingIndex:
    ids = [f"doc-{n}" for n in range(len(TEXTS))]
    return EmbeddingIndex.build(embedder, TEXTS, ids, LABELS, [{"n": n} for n in range(9)])


def test_search_ranks_by_cosine_and_finds_the_topic(index: EmbeddingIndex) -> None:
    hits = index.search("oil prices rise", k=4)
    query = index.embed_queries(["oil prices rise"])
    rows, scores = _brute_force(query, index.vectors, 4)
    assert [hit.id for hit in hits] == [index.items[r]["id"] for r in rows[0]]
    np.testing.assert_allclose([hit.score for hit in hits], scores[0], atol=1e-6)
    assert [hit.label for hit in hits[:3]] == ["business"] * 3
    assert hits[0].to_dict()["rank"] == 1 and hits[0].metadata["n"] in (0, 1, 2)


def test_similar_excludes_the_item_itself(index: EmbeddingIndex) -> None:
    hits = index.similar("doc-3", k=2)
    assert "doc-3" not in [hit.id for hit in hits]
    assert {hit.label for hit in hits} == {"sport"}
    rows, _ = _brute_force(index.vectors[3:4], index.vectors, 2, exclude=[3])
    assert [hit.id for hit in hits] == [f"doc-{r}" for r in rows[0]]


def test_an_unknown_item_id_is_one_line_with_a_suggestion(index: EmbeddingIndex) -> None:
    with pytest.raises(UserError, match="did you mean 'doc-3'") as error:
        index.similar("doc3")
    assert "\n" not in str(error.value)
    with pytest.raises(UserError, match=r"e\.g\. 'doc-0'"):
        index.similar("zzzzzzzz")


def test_outliers_are_the_lowest_mean_cosine_to_the_k_nearest(index: EmbeddingIndex) -> None:
    k = 3
    similarity = index.vectors @ index.vectors.T
    np.fill_diagonal(similarity, -np.inf)
    density = np.sort(similarity, axis=1)[:, ::-1][:, :k].mean(axis=1)  # brute force
    np.testing.assert_allclose(index.neighbour_scores(k), density, atol=1e-6)
    hits = index.outliers(top=2, k=k)
    assert [hit.id for hit in hits] == [f"doc-{r}" for r in np.argsort(density)[:2]]
    assert hits[0].label == "food"  # the jam recipe among news


def test_save_and_load_round_trip(index: EmbeddingIndex, tmp_path: Path) -> None:
    folder = index.save(tmp_path / "idx")
    assert sorted(p.name for p in folder.iterdir()) == ["index.json", "items.jsonl", "vectors.npy"]
    loaded = EmbeddingIndex.load(folder)
    assert loaded.vectors.dtype == np.float32
    np.testing.assert_array_equal(loaded.vectors, index.vectors)
    assert loaded.items == index.items
    info = json.loads((folder / "index.json").read_text())
    assert info["embedder"]["pooling"] == "mean" and info["count"] == 9 and info["dim"] == 384
    # Queries reload the model from index.json and give the same answer.
    assert [h.id for h in loaded.search("goal", 3)] == [h.id for h in index.search("goal", 3)]


def test_a_failed_save_leaves_the_old_index(
    index: EmbeddingIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = index.save(tmp_path / "idx")
    before = (folder / "items.jsonl").read_text()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        index.save(folder)
    assert (folder / "items.jsonl").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no temporary folder left


def test_a_long_query_is_chunked_or_refused(embedder, index: EmbeddingIndex, tmp_path) -> None:
    long_query = " ".join(["Oil and petrol prices keep rising across Europe."] * 80)
    assert not embedder.fits(long_query)
    assert index.search(long_query, 3)[0].label == "business"
    truncating = load_embedder(embedder.path, chunk=False)
    plain = EmbeddingIndex.build(truncating, TEXTS[:3])
    assert plain.info["truncated"] == 0
    with pytest.raises(UserError, match="more than the model reads") as error:
        plain.search(long_query)
    assert "\n" not in str(error.value)


def test_bad_collections_and_folders_are_one_line(embedder, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="empty"):
        EmbeddingIndex.build(embedder, [])
    with pytest.raises(UserError, match="used twice"):
        EmbeddingIndex.build(embedder, ["a", "b"], ids=["x", "x"])
    with pytest.raises(UserError, match="2 labels for 3 texts"):
        EmbeddingIndex.build(embedder, ["a", "b", "c"], labels=["x", "y"])
    with pytest.raises(UserError, match="not an embedding index"):
        EmbeddingIndex.load(tmp_path)
    (tmp_path / "index.json").write_text('{"format": "other"}')
    with pytest.raises(UserError, match="damaged"):
        EmbeddingIndex.load(tmp_path)
