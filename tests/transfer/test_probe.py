"""Per-layer probes: MiniLM's layer features equal HF transformers' ``hidden_states``; the
first-sub-token alignment equals HF's ``word_ids`` and a brute-force encode of each
sentence prefix; recurrent and pre-LN stacks give L + 1 layers ending in the encoder's
output; a probe reads a linear layer and not a noise layer."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from seqlab.data.batching import pad_sequences
from seqlab.errors import UserError
from seqlab.models.bert import BertEncoder, load_bert
from seqlab.nn.encoders import RecurrentConfig, RecurrentEncoder
from seqlab.nn.recurrent import Recurrent
from seqlab.nn.transformer import TransformerConfig, TransformerEncoder
from seqlab.text.tokenizers import PretrainedTokenizer
from seqlab.text.words import windows
from seqlab.transfer.probe import (
    layer_features,
    majority_baseline,
    probe_layers,
    word_features,
)

SENTENCES = [
    ["The", "jury", "said", "it", "did", "find", "that", "many", "voters", "were", "unaffable"],
    ["Tokenization", "isn't", "trivial", ":", "3.14", "Ünïcode", "naïveté", "!"],
    ["Hello"],
    ["Grand", "Jury", "commented", "on", "a", "number", "of", "other", "topics", ",", "among",
     "them", "the", "Atlanta", "and", "Fulton", "County", "purchasing", "departments"],
]  # fmt: skip


@pytest.fixture(scope="module")
def minilm(minilm_folder: Path) -> tuple[BertEncoder, PretrainedTokenizer, Path]:
    model, tokenizer = load_bert(minilm_folder)
    return model, tokenizer, minilm_folder


def test_minilm_layers_equal_hf_hidden_states(minilm, hf_offline) -> None:
    transformers = pytest.importorskip("transformers")
    model, tokenizer, folder = minilm
    texts = [" ".join(words) for words in SENTENCES]
    ids, lengths = pad_sequences([tokenizer.encode(t) for t in texts], tokenizer.pad_id, torch.long)
    valid = torch.arange(ids.shape[1])[None, :] < lengths[:, None]  # (B, T), padded rows
    assert not valid.all()
    ours = layer_features(model, ids, lengths)
    hf = transformers.AutoModel.from_pretrained(str(folder), output_hidden_states=True).eval()
    with torch.no_grad():
        theirs = hf(input_ids=ids, attention_mask=valid.long()).hidden_states
    assert len(ours) == len(theirs) == 7
    for layer, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
        assert mine.shape == (len(texts), ids.shape[1], 384)
        torch.testing.assert_close(mine[valid], reference[valid], atol=1e-4, rtol=0, msg=layer)
        assert mine[~valid].abs().max() == 0  # zeros on padded steps
    torch.testing.assert_close(ours[-1], model(ids, lengths))  # the last is the output
    assert not model.training


def test_word_features_batched_equal_one_window_at_a_time(minilm) -> None:
    model, tokenizer, _ = minilm
    tagged = [(words, ["X"] * len(words)) for words in SENTENCES]
    features = word_features(model, tokenizer, tagged, batch_size=3)
    assert len(features.layers) == 7 and features.words == [w for s in SENTENCES for w in s]
    row = 0
    for words in SENTENCES:
        ((ids, first),) = windows(words, tokenizer, context=256)
        states = layer_features(model, torch.tensor([ids]), torch.tensor([len(ids)]))
        for layer, state in enumerate(states):
            expected = state[0, first].numpy()
            np.testing.assert_allclose(
                features.layers[layer][row : row + len(words)], expected, atol=1e-5
            )
        row += len(words)


def _tokens(batch: int = 3, steps: int = 7) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(1, 50, (batch, steps))
    return ids, torch.tensor([steps, 4, 2][:batch])


def test_recurrent_stack_layers_one_at_a_time() -> None:
    config = RecurrentConfig(type="lstm", hidden_size=6, num_layers=3, bidirectional=True)
    encoder = RecurrentEncoder(config, 5).train()  # modes are restored afterwards
    model = SimpleNamespace(embedding=nn.Embedding(50, 5), encoder=encoder)
    ids, lengths = _tokens()
    rng = torch.random.get_rng_state()
    states = layer_features(model, ids, lengths)
    assert torch.equal(torch.random.get_rng_state(), rng)  # no draws leak to the caller
    assert encoder.training
    assert [s.shape for s in states] == [(3, 7, 5)] + [(3, 7, 12)] * 3
    with torch.no_grad():
        encoder.eval()
        embedded = model.embedding(ids)
        torch.testing.assert_close(states[-1], encoder(embedded, lengths)[0])
        first = Recurrent("lstm", 5, 6, 1, bidirectional=True)
        layer_0 = {k: v for k, v in encoder.rnn.state_dict().items() if k.split(".")[1] in "01"}
        first.load_state_dict(layer_0)
        torch.testing.assert_close(states[1], first(embedded, lengths)[0])
    torch.testing.assert_close(states[0][1, 4:], torch.zeros(3, 5))  # padding zeroed


def test_pre_norm_transformer_ends_with_its_final_norm() -> None:
    config = TransformerConfig(hidden_size=8, num_layers=2, num_heads=2, norm="pre")
    encoder = TransformerEncoder(config, 4).eval()
    model = SimpleNamespace(embedding=nn.Embedding(50, 4), encoder=encoder)
    ids, lengths = _tokens()
    states = layer_features(model, ids, lengths)
    assert len(states) == 3 and all(s.shape == (3, 7, 8) for s in states)
    with torch.no_grad():
        torch.testing.assert_close(states[-1], encoder(model.embedding(ids), lengths)[0])
        h = encoder.project(model.embedding(ids)) + encoder.sinusoids[:7]
        torch.testing.assert_close(states[0][0], h[0])


def test_an_encoder_without_layers_is_refused() -> None:
    with pytest.raises(UserError, match="cannot probe"):
        layer_features(SimpleNamespace(embedding=nn.Embedding(50, 2), encoder=nn.Linear(2, 2)),
                       *_tokens())  # fmt: skip


def test_probe_reads_the_linear_layer_not_the_noise() -> None:
    rng = np.random.default_rng(0)
    classes, size, n_train, n_test = 5, 16, 2000, 500
    labels = rng.integers(0, classes, n_train + n_test)
    directions = rng.normal(size=(classes, size)) * 3
    linear = directions[labels] + rng.normal(size=(len(labels), size))  # label + noise
    noise = rng.normal(size=(len(labels), size))
    tags = np.array([f"T{label}" for label in labels])
    words = [f"w{i % 7}" for i in range(len(labels))]
    result = probe_layers(
        [noise[:n_train], linear[:n_train]],
        tags[:n_train],
        [noise[n_train:], linear[n_train:]],
        tags[n_train:],
        words[:n_train],
        words[n_train:],
    )
    assert result.accuracies[1] > 0.95
    assert result.accuracies[0] < 1 / classes + 0.08  # chance
    assert result.best_layer() == 1 and result.tags == classes
    assert result.baseline is not None and result.baseline < 0.35  # words say nothing here
    with pytest.raises(UserError, match="one tag"):
        probe_layers([linear[:10]], ["A"] * 10, [linear[10:20]], ["A"] * 10)


def test_majority_baseline_by_hand() -> None:
    train = (["a", "a", "a", "b", "c"], ["X", "X", "Y", "Y", "Y"])
    # a -> X, b -> Y, unseen d -> Y (the most frequent overall)
    assert majority_baseline(*train, ["a", "b", "d", "a"], ["X", "Y", "Y", "Y"]) == 0.75
