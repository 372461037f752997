"""SequenceTagger: padding changes nothing, character features see only their word, only
tagged steps count (sub-token inputs), the CRF loss is the CRF's, entity F1 from
metric_sums equals the span scorer, and a tagger learns a task where transitions
matter."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from seqlab.models.tagger import CharFeatures, SequenceTagger, SequenceTaggerConfig, TaggingBatch
from seqlab.nn.encoders import RecurrentConfig
from seqlab.nn.transformer import TransformerConfig
from seqlab.text.tagging import entity_scores

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _model(**kw) -> SequenceTagger:
    torch.manual_seed(0)
    kw.setdefault("encoder", RecurrentConfig("gru", hidden_size=8, bidirectional=True))
    config = SequenceTaggerConfig(
        embedding_dim=6,
        char_embedding_dim=4,
        char_hidden_size=5,
        dropout=0.0,
        vocab_size=12,
        char_vocab_size=9,
        labels=LABELS,
        **kw,
    )
    return SequenceTagger(config).eval()


def _batch(words: list[list[int]], tags: list[list[int]] | None = None, width: int = 4):
    """Word ids with their spelling (a word's characters: 1 + its id's digits), the
    distinct spellings as the character table (row 0: the empty word)."""
    steps = max(map(len, words))
    inputs = torch.zeros(len(words), steps, dtype=torch.long)
    table: dict[tuple[int, ...], int] = {(): 0}
    rows = torch.zeros(len(words), steps, dtype=torch.long)
    for row, sentence in enumerate(words):
        inputs[row, : len(sentence)] = torch.tensor(sentence)
        for step, word in enumerate(sentence):
            spelled = tuple(1 + (word + k) % 8 for k in range(1 + word % 3))
            rows[row, step] = table.setdefault(spelled, len(table))
    chars = torch.tensor([[*w, *[0] * (width - len(w))] for w in table])
    targets = None
    if tags is not None:
        targets = torch.zeros(len(words), steps, dtype=torch.long)
        for row, sentence in enumerate(tags):
            targets[row, : len(sentence)] = torch.tensor(sentence)
    return TaggingBatch(inputs, torch.tensor([len(s) for s in words]), chars, rows, targets)


WORDS = [[3, 4, 5, 6, 7], [8, 9], [10, 11, 3]]
TAGS = [[0, 1, 2, 0, 3], [3, 4], [1, 0, 0]]
HEADS = [
    {"head": "crf", "char_features": "lstm"},
    {"head": "crf", "char_features": "cnn", "constrained": False},
    {"head": "softmax", "char_features": "none"},
    {
        "head": "crf",
        "char_features": "cnn",
        "encoder": TransformerConfig(hidden_size=8, num_layers=1, num_heads=2, max_positions=8),
    },
]


@pytest.mark.parametrize(
    "options", HEADS, ids=lambda o: f"{o['head']}-{o['char_features']}-{len(o)}"
)
def test_padding_changes_nothing(options: dict) -> None:
    model = _model(**options)
    with torch.no_grad():
        together = model(_batch(WORDS, TAGS))
        losses = []
        for row, (words, tags) in enumerate(zip(WORDS, TAGS, strict=True)):
            alone = model(_batch([words], [tags], width=3 + row))  # other char padding too
            n = len(words)
            torch.testing.assert_close(
                together.logits[row, :n], alone.logits[0], atol=1e-5, rtol=1e-5
            )
            assert together.extras["tags"][row, :n].tolist() == alone.extras["tags"][0].tolist()
            assert (together.extras["tags"][row, n:] == -1).all()
            losses.append(alone.loss * n)
    tokens = sum(map(len, WORDS))
    torch.testing.assert_close(together.loss, sum(losses) / tokens, atol=1e-5, rtol=1e-5)


def test_character_features_read_only_their_word() -> None:
    torch.manual_seed(0)
    for kind in ("lstm", "cnn"):
        features = CharFeatures(kind, 9, 4, 5, 3).eval()
        table = torch.tensor([[0, 0, 0, 0], [1, 2, 3, 0], [4, 0, 0, 0]])  # empty, 2 words
        words = torch.tensor([[1, 2, 0, 1]])  # word, word, padding, the first word again
        with torch.no_grad():
            a = features(table, words)
            b = features(torch.nn.functional.pad(table, (0, 5)), words)  # more padding
            torch.testing.assert_close(a, b)
            assert (a[0, 2] == 0).all()  # the empty word (padding) gets zeros
            torch.testing.assert_close(a[0, 0], a[0, 3])
            alone = features(torch.tensor([[0, 0, 0], [1, 2, 3]]), torch.tensor([[1]]))
        torch.testing.assert_close(a[0, 0], alone[0, 0], atol=1e-6, rtol=1e-5)
        if kind == "lstm":  # = the final states of torch's BiLSTM over the word's characters
            lstm = torch.nn.LSTM(4, 5, bidirectional=True, batch_first=True)
            lstm.load_state_dict(_torch_lstm_state(features))
            with torch.no_grad():
                _, (h, _) = lstm(features.embedding(table[1:2, :3]))
            torch.testing.assert_close(a[0, 0], torch.cat([h[0, 0], h[1, 0]]), atol=1e-6, rtol=1e-5)
        else:  # = max over the word's positions of the convolution of its characters alone
            with torch.no_grad():
                maps = features.conv(features.embedding(table[1:2, :3]).transpose(1, 2))
            torch.testing.assert_close(a[0, 0], maps[0, :, :3].amax(-1), atol=1e-6, rtol=1e-5)


def _torch_lstm_state(features: CharFeatures) -> dict[str, torch.Tensor]:
    """seqlab's Recurrent cells in torch.nn.LSTM's parameter names."""
    state = {}
    for direction, cell in enumerate(features.rnn.cells):
        suffix = "_reverse" if direction else ""
        for name, tensor in cell.state_dict().items():
            state[f"{name}_l0{suffix}"] = tensor
    return state


def test_only_tagged_steps_count() -> None:
    """Sub-token inputs: tags sit on each word's first piece, the rest is skipped."""
    model = _model(head="crf", char_features="none")
    batch = _batch([[3, 4, 5, 6, 7, 8]], [[1, 0, 2, 0, 0, 3]])
    batch.tag_mask = torch.tensor([[False, True, False, True, True, False]])  # a [CLS] first
    with torch.no_grad():
        output = model(batch)
        changed = dataclasses.replace(batch, targets=batch.targets.clone())
        changed.targets[0, [0, 2, 5]] = torch.tensor([4, 4, 1])  # untagged steps' targets
        assert model(changed).loss == output.loss
        tags = output.extras["tags"][0]
        assert tags[[0, 2, 5]].tolist() == [-1, -1, -1] and (tags[[1, 3, 4]] >= 0).all()
        kept = output.logits[:, [1, 3, 4]]
        expected = (
            model.crf(
                kept,
                batch.targets[:, [1, 3, 4]],
                torch.ones(1, 3, dtype=torch.bool),
                reduction="sum",
            )
            / 3
        )
    torch.testing.assert_close(output.loss, expected)


def test_metric_f1_equals_the_span_scorer() -> None:
    model = _model(head="softmax", char_features="none")
    torch.manual_seed(1)
    words = [[int(w) for w in torch.randint(3, 12, (n,))] for n in (7, 5, 9, 4)]
    tags = [[int(t) for t in torch.randint(0, 5, (len(w),))] for w in words]
    batch = _batch(words, tags)
    with torch.no_grad():
        output = model(batch)
    total, count = model.metric_sums(output, batch)["f1"]
    predicted = [
        [LABELS[t] for t in row[: len(w)]]
        for row, w in zip(output.extras["tags"].tolist(), words, strict=True)
    ]
    gold = [[LABELS[t] for t in row] for row in tags]
    assert total / count == pytest.approx(entity_scores(gold, predicted)["micro"]["f1"])


def test_entity_f1_is_a_validation_metric_for_entity_tags_only() -> None:
    from seqlab.errors import UserError
    from seqlab.train.config import TrainConfig
    from seqlab.train.loop import fit

    assert "f1" in _model().METRICS
    pos = SequenceTagger(dataclasses.replace(_model().config, labels=["DET", "NOUN", "VERB"]))
    assert set(pos.METRICS) == {"loss", "accuracy"}
    batches = [_batch(WORDS, [[t % 3 for t in row] for row in TAGS])]
    with torch.no_grad():
        assert set(pos.metric_sums(pos.eval()(batches[0]), batches[0])) == set(pos.METRICS)
    with pytest.raises(UserError, match=r"train\.monitor 'f1' is not a validation metric"):
        fit(pos, batches, batches, TrainConfig(monitor="f1", epochs=1, progress=False))


def test_crf_tagger_learns_where_transitions_matter() -> None:
    """Word 3 is tagged B-PER after word 4 and I-PER after B-PER...: the tag of a word
    depends on the previous tag, which a CRF models and the constraint enforces."""
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    words, tags = [], []
    for _ in range(64):
        sentence = torch.randint(3, 12, (8,), generator=generator).tolist()
        labels, inside = [], False
        for word in sentence:
            if word == 3:
                labels.append(2 if inside else 1)
                inside = True
            else:
                labels.append(0)
                inside = False
        words.append(sentence)
        tags.append(labels)
    model = _model(head="crf", char_features="none").train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    batch = _batch(words, tags)
    for _ in range(60):
        optimizer.zero_grad()
        model(batch).loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        output = model(batch)
    accuracy = model.metric_sums(output, batch)["accuracy"]
    assert accuracy[0] / accuracy[1] > 0.98
