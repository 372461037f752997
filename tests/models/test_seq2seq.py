"""Seq2Seq: the attention scores by their formulas, teacher-forced logits == step-by-step
decoding (recurrent and Transformer: the KV cache == recomputation), padding changes
nothing, the bridge carries the source without attention, and a reversal task is
learnt — better with attention than without, in the same run."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from seqlab.errors import UserError
from seqlab.models.seq2seq import RNNDecoderConfig, Seq2Seq, Seq2SeqBatch, Seq2SeqConfig
from seqlab.nn.attention import GlobalAttention
from seqlab.nn.encoders import RecurrentConfig
from seqlab.nn.transformer import TransformerConfig

VOCAB, PAD, BOS, EOS = 14, 0, 2, 3  # ids 4..13 are "words"

BIGRU = RecurrentConfig("gru", hidden_size=8, bidirectional=True)
DECODERS = {
    "lstm-general": RNNDecoderConfig("lstm", hidden_size=12, attention="general"),
    "gru-additive": RNNDecoderConfig("gru", hidden_size=12, attention="additive"),
    "lstm-dot-2-layers": RNNDecoderConfig("lstm", hidden_size=16, num_layers=2, attention="dot"),
    "mut2-no-feeding": RNNDecoderConfig("mut2", hidden_size=12, input_feeding=False),
    # without input feeding the teacher-forced pass runs the stack in one call (unroll)
    "gru-additive-no-feeding": RNNDecoderConfig(
        "gru", hidden_size=12, attention="additive", input_feeding=False
    ),
    "lstm-dot-2-layers-no-feeding": RNNDecoderConfig(
        "lstm", hidden_size=16, num_layers=2, attention="dot", input_feeding=False
    ),
    "lstm-none": RNNDecoderConfig("lstm", hidden_size=12, attention="none"),
    "transformer": TransformerConfig(
        hidden_size=16,
        num_layers=2,
        num_heads=2,
        causal=True,
        positions="learned",
        max_positions=32,
    ),
}


def _model(decoder, encoder=BIGRU, **kw) -> Seq2Seq:
    torch.manual_seed(0)
    config = Seq2SeqConfig(
        encoder=encoder,
        decoder=decoder,
        embedding_dim=16,
        source_vocab_size=VOCAB,
        target_vocab_size=VOCAB,
        pad_id=PAD,
        bos_id=BOS,
        eos_id=EOS,
        **kw,
    )
    return Seq2Seq(config).eval()


def _batch(sources: list[list[int]], targets: list[list[int]]) -> Seq2SeqBatch:
    def pad(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(map(len, rows))
        ids = torch.tensor([r + [PAD] * (width - len(r)) for r in rows])
        return ids, torch.tensor([len(r) for r in rows])

    source, lengths = pad(sources)
    target, target_lengths = pad([[BOS, *t, EOS] for t in targets])
    return Seq2SeqBatch(source, lengths, target, target_lengths)


SOURCES = [[4, 5, 6, 7, 8], [9, 10], [11, 12, 13, 4]]
TARGETS = [[5, 6, 7], [8, 9, 10, 11, 12], [13]]


# ---------------------------------------------------------------- attention
def test_global_attention_scores_follow_their_formulas() -> None:
    torch.manual_seed(0)
    query, memory = torch.randn(3, 6), torch.randn(3, 5, 6)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2, [True] + [False] * 4])
    for score in ("dot", "general", "additive"):
        attention = GlobalAttention(score, 6, 6)
        context, weights = attention(query, attention.prepare(memory), memory, mask)
        if score == "dot":
            raw = torch.einsum("bm,bsm->bs", query, memory)
        elif score == "general":  # s^T W h with W (H, M): nn.Linear(H -> M) holds W^T
            raw = torch.einsum("bh,mh,bsm->bs", query, attention.weight.weight, memory)
        else:  # v^T tanh(W1 s + b + W2 h)
            w1, b = attention.query_weight.weight, attention.query_weight.bias
            w2, v = attention.memory_weight.weight, attention.vector.weight[0]
            hidden = torch.tanh((query @ w1.T + b)[:, None] + memory @ w2.T)
            raw = hidden @ v
        expected = torch.softmax(raw.masked_fill(~mask, float("-inf")), dim=-1)
        torch.testing.assert_close(weights, expected, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(context, torch.einsum("bs,bsm->bm", expected, memory))
        assert (weights[~mask] == 0).all()


def test_dot_attention_needs_equal_sizes() -> None:
    with pytest.raises(UserError, match="dot attention needs query size 12 == memory size 16"):
        _model(RNNDecoderConfig("lstm", hidden_size=12, attention="dot"))


# ---------------------------------------------------------------- decoding == training
@pytest.mark.parametrize("name", DECODERS)
def test_step_by_step_decoding_equals_the_teacher_forced_pass(name: str) -> None:
    model = _model(DECODERS[name])
    batch = _batch(SOURCES, TARGETS)
    with torch.no_grad():
        full = model(batch).logits  # (B, T, V)
        state = model.start(batch.inputs, batch.lengths)
        steps = []
        for t in range(batch.targets.shape[1] - 1):
            logits, state = model.step(batch.targets[:, t], state)
            steps.append(logits)
    stepped = torch.stack(steps, dim=1)
    valid = torch.arange(full.shape[1])[None] < (batch.target_lengths - 1)[:, None]
    torch.testing.assert_close(stepped[valid], full[valid], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", DECODERS)
def test_padding_changes_nothing(name: str) -> None:
    model = _model(DECODERS[name])
    with torch.no_grad():
        together = model(_batch(SOURCES, TARGETS))
        for row, (source, target) in enumerate(zip(SOURCES, TARGETS, strict=True)):
            alone = model(_batch([source], [target]))
            steps = len(target) + 1
            torch.testing.assert_close(
                together.logits[row, :steps], alone.logits[0, :steps], atol=1e-5, rtol=1e-5
            )


def test_loss_is_label_smoothed_cross_entropy_over_real_target_tokens() -> None:
    model = _model(DECODERS["lstm-general"], label_smoothing=0.1)
    batch = _batch(SOURCES, TARGETS)
    output = model(batch)
    labels = batch.targets[:, 1:]
    pieces = [
        (output.logits[row, : len(t) + 1], labels[row, : len(t) + 1])
        for row, t in enumerate(TARGETS)
    ]
    logits = torch.cat([p[0] for p in pieces])
    gold = torch.cat([p[1] for p in pieces])
    assert gold.numel() == sum(len(t) + 1 for t in TARGETS)  # each target + <eos>
    expected = F.cross_entropy(logits, gold, label_smoothing=0.1)
    torch.testing.assert_close(output.loss, expected)
    sums = model.metric_sums(output, batch)
    assert sums["loss"][1] == gold.numel()


def test_attention_weights_are_returned_per_target_step() -> None:
    output = _model(DECODERS["gru-additive"])(_batch(SOURCES, TARGETS))
    weights = output.extras["attention"]  # (B, T, S)
    assert weights.shape == (3, 6, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 6))
    assert (weights[1, :, 2:] == 0).all()  # the second source has 2 tokens
    assert "attention" not in _model(DECODERS["lstm-none"])(_batch(SOURCES, TARGETS)).extras


def test_transformer_cross_attention_weights_on_request() -> None:
    model = _model(DECODERS["transformer"])
    batch = _batch(SOURCES, TARGETS)
    assert "attention" not in model(batch).extras  # the fused kernel unless asked
    output = model(batch, need_weights=True)
    every = output.extras["cross_attention"]  # (B, L, h, T, S)
    assert every.shape == (3, 2, 2, 6, 5)
    torch.testing.assert_close(every.sum(-1), torch.ones(3, 2, 2, 6))
    assert (every[1, ..., 2:] == 0).all()  # the second source has 2 tokens
    torch.testing.assert_close(output.extras["attention"], every[:, -1].mean(1))
    torch.testing.assert_close(output.logits, model(batch).logits)  # same numbers either way
    # the weights are the block's own: softmax(q k^T / sqrt(d)) of its projections
    block = model.decoder.blocks[0].cross_attention
    memory, mask, _ = model.encode(batch.inputs, batch.lengths)
    keys, _ = block.project_memory(memory)
    captured = {}
    handle = block.register_forward_hook(lambda m, args, out: captured.update(x=args[0]))
    model(batch, need_weights=True)
    handle.remove()
    queries = block._heads(block.query(captured["x"]))
    raw = queries @ keys.transpose(-2, -1) / (block.head_size**0.5)
    expected = torch.softmax(raw.masked_fill(~mask[:, None, None, :], float("-inf")), -1)
    torch.testing.assert_close(every[:, 0], expected, atol=1e-6, rtol=1e-5)


def test_without_attention_the_source_reaches_the_decoder_through_the_bridge() -> None:
    model = _model(DECODERS["lstm-none"])
    with torch.no_grad():
        one = model(_batch([[4, 5, 6]], [[7, 8]])).logits
        other = model(_batch([[9, 10, 11]], [[7, 8]])).logits
    assert (one - other).abs().max() > 1e-4


def test_tied_embeddings_and_output() -> None:
    model = _model(DECODERS["lstm-general"], tie_embeddings=True, tie_output=True)
    assert model.source_embedding is model.target_embedding
    assert model.output.weight is model.target_embedding.weight
    assert model.projection is not None  # decoder 12 -> embedding 16
    assert model(_batch(SOURCES, TARGETS)).logits.shape == (3, 6, VOCAB)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tie_embeddings": True, "target_vocab_size": 20}, "one vocabulary for source and target"),
        ({"decoder": dataclasses.replace(DECODERS["transformer"], causal=False)}, "must be causal"),
        ({"decoder": DECODERS["transformer"], "teacher_forcing": 0.5}, "recurrent decoder"),
    ],
)
def test_impossible_settings_are_user_errors(changes: dict, message: str) -> None:
    base = dict(
        encoder=BIGRU,
        decoder=DECODERS["lstm-general"],
        embedding_dim=16,
        source_vocab_size=VOCAB,
        target_vocab_size=VOCAB,
    )
    with pytest.raises(UserError, match=message):
        Seq2Seq(Seq2SeqConfig(**(base | changes)))


# ---------------------------------------------------------------- learning
def _reversal(model: Seq2Seq, steps: int, length: int, seed: int = 0) -> float:
    """Train on reversing random word sequences; greedy token accuracy on held-out ones."""
    generator = torch.Generator().manual_seed(seed)

    def batch(count: int) -> Seq2SeqBatch:
        rows = torch.randint(4, VOCAB, (count, length), generator=generator).tolist()
        return _batch(rows, [row[::-1] for row in rows])

    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(steps):
        loss = model(batch(32)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    held_out = batch(128)
    with torch.no_grad():
        state = model.start(held_out.inputs, held_out.lengths)
        token = torch.full((128,), BOS)
        predicted = []
        for _ in range(length):
            logits, state = model.step(token, state)
            token = logits.argmax(-1)
            predicted.append(token)
    gold = held_out.targets[:, 1 : length + 1]
    return float((torch.stack(predicted, 1) == gold).double().mean())


def test_attention_learns_reversal_and_beats_the_context_vector_model() -> None:
    attention = _reversal(_model(DECODERS["lstm-general"]), steps=250, length=8)
    context_only = _reversal(_model(DECODERS["lstm-none"]), steps=250, length=8)
    assert attention > 0.9, attention
    assert attention > context_only + 0.1, (attention, context_only)


def test_scheduled_sampling_trains() -> None:
    accuracy = _reversal(_model(DECODERS["lstm-general"], teacher_forcing=0.7), 150, length=5)
    assert accuracy > 0.6, accuracy


# ---------------------------------------------------------------- ensembles
def _members() -> list[Seq2Seq]:
    """A recurrent and a Transformer member: different architectures, one vocabulary."""
    first = _model(DECODERS["lstm-general"])
    torch.manual_seed(1)
    second = Seq2Seq(dataclasses.replace(first.config, decoder=DECODERS["transformer"])).eval()
    return [first, second]


def test_an_ensemble_decodes_with_the_mean_of_its_members_probabilities() -> None:
    """Oracle: log((p_1 + p_2) / 2) of the members' own softmax, teacher-forced and step
    by step; its loss is the NLL of that mixture, its metrics the members' formulas."""
    from seqlab.models.seq2seq import Seq2SeqEnsemble

    members = _members()
    ensemble = Seq2SeqEnsemble(members).eval()
    batch = _batch(SOURCES, TARGETS)
    with torch.no_grad():
        probs = [F.softmax(m(batch).logits, dim=-1) for m in members]
        expected = torch.log((probs[0] + probs[1]) / 2)
        output = ensemble(batch)
        state = ensemble.start(batch.inputs, batch.lengths)
        steps = []
        for t in range(batch.targets.shape[1] - 1):
            log_probs, state = ensemble.step(batch.targets[:, t], state)
            steps.append(log_probs)
    valid = torch.arange(expected.shape[1])[None] < (batch.target_lengths - 1)[:, None]
    torch.testing.assert_close(output.logits[valid], expected[valid], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(torch.stack(steps, 1)[valid], expected[valid], atol=1e-5, rtol=1e-5)
    labels = batch.targets[:, 1:][valid]
    nll = -expected[valid].gather(1, labels[:, None]).mean()
    torch.testing.assert_close(output.loss, nll, atol=1e-5, rtol=1e-5)
    sums = ensemble.metric_sums(output, batch)
    assert sums["loss"][0] / sums["loss"][1] == pytest.approx(float(nll), abs=1e-5)
    assert "attention" in output.extras  # the first member's


def test_an_ensemble_of_one_model_twice_searches_exactly_like_the_model() -> None:
    """The mean of two equal distributions is that distribution: beam search finds the
    same hypotheses with the same scores, so the ensemble adds nothing but the mixing."""
    from seqlab.decoding.beam import beam_search
    from seqlab.models.seq2seq import Seq2SeqEnsemble

    model = _model(DECODERS["transformer"])
    ensemble = Seq2SeqEnsemble([model, model])
    batch = _batch(SOURCES, TARGETS)
    start = torch.full((len(SOURCES),), BOS)
    found = []
    with torch.no_grad():
        for decoder in (model, ensemble):
            state = decoder.start(batch.inputs, batch.lengths)
            found.append(beam_search(decoder.step, state, start, 3, 8, EOS, num_return=3))
    for alone, twice in zip(*found, strict=True):
        assert [h.tokens for h in alone] == [h.tokens for h in twice]
        assert [h.score for h in alone] == pytest.approx([h.score for h in twice], abs=1e-5)
    with pytest.raises(ValueError, match="at least two"):
        Seq2SeqEnsemble([model])
