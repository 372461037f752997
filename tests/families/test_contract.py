"""The family contract: causal LMs only, documented initialisation, stateless predict."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
import torch

from seqlab.bundle import load_bundle
from seqlab.data.batching import Batch
from seqlab.errors import UserError
from seqlab.families import FAMILIES
from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.models.lm import LanguageModel, LanguageModelConfig
from seqlab.nn.cells import CELLS
from seqlab.nn.encoders import CNNConfig, RecurrentConfig, TransformerConfig
from seqlab.recipe import recipe_from_dict
from seqlab.run import train_recipe

# Every encoder configuration the text-generation family accepts, in small sizes.
CAUSAL = {
    **{f"{cell}-2x": RecurrentConfig(cell, hidden_size=6, num_layers=2) for cell in CELLS},
    "lstm-unfused": RecurrentConfig("lstm", hidden_size=6, fused=False),
    "cnn-k2": CNNConfig(hidden_size=6, kernel_size=2, causal=True),
    "cnn-k3x3": CNNConfig(hidden_size=6, num_layers=3, kernel_size=3, causal=True),
    "cnn-k4x2": CNNConfig(hidden_size=6, num_layers=2, kernel_size=4, causal=True),
    "transformer-1": TransformerConfig(hidden_size=8, num_heads=2, causal=True),
    "transformer-2": TransformerConfig(hidden_size=8, num_layers=2, num_heads=4, causal=True),
}
NON_CAUSAL = {
    "bilstm": RecurrentConfig("lstm", hidden_size=6, bidirectional=True),
    "bigru-2x": RecurrentConfig("gru", hidden_size=6, num_layers=2, bidirectional=True),
    "cnn": CNNConfig(hidden_size=6),
    "transformer": TransformerConfig(hidden_size=8, num_heads=2),
}


def _lm(encoder, **kw) -> LanguageModel:
    config = LanguageModelConfig(vocab_size=11, embedding_dim=6, encoder=encoder, **kw)
    return LanguageModel(config).eval()


@pytest.mark.parametrize("name", CAUSAL)
def test_logits_before_t_do_not_see_tokens_from_t_on(name: str) -> None:
    model = _lm(CAUSAL[name])
    steps = 9
    ids = torch.randint(1, 11, (3, steps))
    lengths = torch.full((3,), steps)
    with torch.no_grad():
        base = model(Batch(ids, lengths)).logits  # (B, T, V)
        for t in range(1, steps):
            changed = ids.clone()
            changed[:, t:] = torch.randint(1, 11, (3, steps - t))
            logits = model(Batch(changed, lengths)).logits
            assert torch.allclose(logits[:, :t], base[:, :t], atol=1e-6, rtol=0), t
            assert not torch.allclose(logits[:, t:], base[:, t:])  # the change is seen later


@pytest.mark.parametrize("name", NON_CAUSAL)
def test_non_causal_encoders_are_refused(name: str) -> None:
    with pytest.raises(UserError, match="needs a causal encoder"):
        _lm(NON_CAUSAL[name])
    raw = {"task": "text-generation", "model": {"encoder": dataclasses.asdict(NON_CAUSAL[name])}}
    with pytest.raises(UserError, match="needs a causal encoder"):
        recipe_from_dict(raw)


def _forget_biases(model: torch.nn.Module) -> list[torch.Tensor]:
    cells = model.encoder.rnn.cells
    return [
        cell.bias_ih[cell.hidden_size : 2 * cell.hidden_size]
        + cell.bias_hh[cell.hidden_size : 2 * cell.hidden_size]
        for cell in cells
    ]


@pytest.mark.parametrize("init_range", [None, 0.1])
def test_lstm_b_keeps_its_forget_bias_of_one_in_every_family(init_range: float | None) -> None:
    encoder = RecurrentConfig("lstm_b", hidden_size=5, num_layers=2, init_range=init_range)
    lm = _lm(encoder, init_range=0.1)
    bi = dataclasses.replace(encoder, bidirectional=True)
    for config in (
        SequenceClassifierConfig(vocab_size=11, embedding_dim=4, encoder=bi),
        SequenceClassifierConfig(vocab_size=0, input_size=3, encoder=encoder),
    ):
        classifier = SequenceClassifier(config)
        assert len(_forget_biases(classifier)) == (4 if config.vocab_size else 2)
        for bias in _forget_biases(classifier):
            assert torch.equal(bias, torch.ones_like(bias))
    for bias in _forget_biases(lm):
        assert torch.equal(bias, torch.ones_like(bias))


def test_language_model_initialisation_is_as_documented() -> None:
    r = 0.05
    lm = _lm(RecurrentConfig("lstm", hidden_size=16, num_layers=2), init_range=r, tie_weights=True)
    assert lm.decoder.weight is lm.embedding.weight
    for module in (lm.embedding, lm.decoder):
        for parameter in module.parameters(recurse=False):
            assert parameter.abs().max() <= r and parameter.abs().max() > 0.8 * r
    bound = 1 / 16**0.5  # the encoder keeps the cells' own ±1/sqrt(H)
    weights = torch.cat([p.flatten() for p in lm.encoder.parameters()])
    assert weights.abs().max() <= bound and weights.abs().max() > 0.9 * bound
    zaremba = _lm(RecurrentConfig("lstm", hidden_size=16, init_range=0.1), init_range=0.1)
    weights = torch.cat([p.flatten() for p in zaremba.encoder.parameters()])
    assert 0.09 < weights.abs().max() <= 0.1


def test_classifier_initialisation_is_as_documented() -> None:
    config = SequenceClassifierConfig(vocab_size=500, embedding_dim=64, pad_id=0)
    model = SequenceClassifier(config)
    embedding = model.embedding.weight
    assert torch.count_nonzero(embedding[0]) == 0  # the padding row
    assert 0.9 < embedding[1:].std() < 1.1  # torch's N(0, 1)
    bound = 1 / config.encoder.hidden_size**0.5
    assert max(p.abs().max() for p in model.encoder.parameters()) <= bound


def test_models_keep_no_tensors_between_calls() -> None:
    config = SequenceClassifierConfig(vocab_size=11, embedding_dim=4, pooling="attention")
    classifier = SequenceClassifier(config).eval()
    lm = _lm(RecurrentConfig("lstm", hidden_size=4))
    batch = Batch(torch.randint(1, 11, (2, 5)), torch.tensor([5, 3]))
    for model in (classifier, lm):
        before = {name: value for name, value in vars(model).items() if name != "_modules"}
        model(batch)
        after = {name: value for name, value in vars(model).items() if name != "_modules"}
        assert before.keys() == after.keys()
        for module in model.modules():
            assert not any(isinstance(v, torch.Tensor) for v in vars(module).values())
    output = classifier(batch)
    assert output.extras["attention"].shape == (2, 5) and output.state is None


# ---------------------------------------------------------------- concurrent predict
@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("contract")
    rows = ["label,text"] + [
        f"{label},{text}"
        for i in range(40)
        for label, text in (
            ("pos", f"great fun film {i % 7}"),
            ("neg", f"dull boring plot {i % 5}"),
        )
    ]
    (root / "data.csv").write_text("\n".join(rows) + "\n")
    (root / "corpus.txt").write_text("the cat sat on the mat\nthe dog ate the bone\n" * 50)
    common = {"train": {"epochs": 2, "lr": 0.02, "progress": False}}
    recipes = {
        "text-classification": {
            "data": {"dataset": "file", "path": str(root / "data.csv"), "batch_size": 8},
            "model": {"embedding_dim": 8, "pooling": "attention", "encoder": {"hidden_size": 8}},
        },
        "text-generation": {
            "data": {
                "dataset": "file",
                "path": str(root / "corpus.txt"),
                "bptt": 6,
                "batch_size": 4,
                "eval_batch_size": 2,
            },
            "model": {"embedding_dim": 8, "encoder": {"type": "gru", "hidden_size": 8}},
        },
        "fill-mask": {
            "data": {
                "dataset": "file",
                "path": str(root / "corpus.txt"),
                "tokenizer": "whitespace",
                "block_size": 8,
                "batch_size": 4,
                "eval_batch_size": 2,
            },
            "model": {
                "embedding_dim": 8,
                "encoder": {"type": "gru", "hidden_size": 8, "bidirectional": True},
            },
        },
    }
    out = {}
    for task, raw in recipes.items():
        recipe = recipe_from_dict({"task": task, "name": task, **raw, **common})
        out[task] = train_recipe(recipe, root / task).bundle
    return out


INPUTS = {
    "text-classification": ["great fun film 3", "dull boring plot", "a film", "fun", "boring"],
    "text-generation": ["the cat", "the dog ate", "the", "on the", "sat on the mat"],
    "fill-mask": ["the [MASK] sat", "[MASK] dog ate the [MASK]", "[MASK]", "on the [MASK]"],
}


def _tops(response) -> list[list]:
    """The ranked lists of a response: one (classes, next tokens) or one per [MASK]."""
    return response.masks if hasattr(response, "masks") else [response.top]


@pytest.mark.parametrize("task", INPUTS)
def test_two_threads_predict_like_sequential_calls(bundles: dict[str, Path], task: str) -> None:
    bundle = load_bundle(bundles[task])
    family = FAMILIES[task]
    requests = [family.request_from_text(text, top_k=3) for text in INPUTS[task]]
    alone = [bundle.predict([r])[0] for r in requests]
    expected = bundle.predict(requests)  # one padded batch answers like one by one
    for a, b in zip(alone, expected, strict=True):
        assert len(_tops(a)) == len(_tops(b)) >= 1
        for top_a, top_b in zip(_tops(a), _tops(b), strict=True):
            assert [next(iter(t.model_dump().values())) for t in top_a] == [
                next(iter(t.model_dump().values())) for t in top_b
            ]
            assert [t.score for t in top_a] == pytest.approx([t.score for t in top_b], abs=1e-6)
    results: dict[int, list] = {0: [], 1: []}

    def work(worker: int) -> None:
        for _ in range(30):
            results[worker].append(bundle.predict(requests))

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in (0, 1):
        assert all(answers == expected for answers in results[worker])
