"""LanguageModel: tying, state carry = one long pass, generation, learning."""

from __future__ import annotations

import pytest
import torch

from seqlab.data.batching import Batch
from seqlab.errors import UserError
from seqlab.models.lm import LanguageModel, LanguageModelConfig
from seqlab.nn.encoders import RecurrentConfig
from seqlab.nn.transformer import TransformerConfig


def _lm(hidden_size: int = 8, **kw) -> LanguageModel:
    encoder = RecurrentConfig(hidden_size=hidden_size, num_layers=2)
    base = dict(vocab_size=12, embedding_dim=8, encoder=encoder)
    return LanguageModel(LanguageModelConfig(**(base | kw)))


def test_weight_tying_and_projection() -> None:
    tied = _lm(hidden_size=16)
    assert tied.decoder.weight is tied.embedding.weight
    assert tied.projection is not None  # 16 -> 8 so the tied decoder fits
    untied = _lm(tie_weights=False)
    assert untied.decoder.weight is not untied.embedding.weight
    logits = tied(Batch(torch.randint(0, 12, (2, 5)), torch.tensor([5, 5]))).logits
    assert logits.shape == (2, 5, 12)


def test_passing_the_state_back_equals_one_long_pass() -> None:
    model = _lm().eval()
    ids = torch.randint(0, 12, (3, 10))
    full = model(Batch(ids, torch.full((3,), 10))).logits
    first = model(Batch(ids[:, :4], torch.full((3,), 4)))
    second = model(Batch(ids[:, 4:], torch.full((3,), 6)), first.state)
    assert torch.allclose(torch.cat([first.logits, second.logits], 1), full, atol=1e-5)
    again = model(Batch(ids[:, 4:], torch.full((3,), 6)))  # no state kept on the module
    assert not torch.allclose(again.logits, second.logits)


def test_loss_ignores_padding_and_metric_sums_count_tokens() -> None:
    model = _lm().eval()
    ids = torch.tensor([[1, 2, 3, 4], [5, 6, 0, 0]])
    targets = torch.tensor([[2, 3, 4, 5], [6, 7, 0, 0]])
    batch = Batch(ids, torch.tensor([4, 2]), targets)
    output = model(batch)
    sums = model.metric_sums(output, batch)
    assert sums["loss"][1] == 6
    assert torch.isclose(output.loss, torch.tensor(sums["loss"][0] / 6), atol=1e-5)
    assert model.summarize({"loss": 0.0})["ppl"] == 1.0


def test_learns_a_cycle_and_generates_it_greedily() -> None:
    torch.manual_seed(0)
    model = _lm(init_range=None)
    stream = torch.arange(1, 7).repeat(20)  # 1 2 3 4 5 6 1 2 ...
    x, y = stream[:-1].view(1, -1), stream[1:].view(1, -1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(80):
        loss = model(Batch(x, torch.tensor([x.shape[1]]), y)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    out = model.generate([1, 2, 3], max_new_tokens=6, temperature=0)
    assert out == [4, 5, 6, 1, 2, 3]
    assert model.generate([1], 5, temperature=0, stop_id=4) == [2, 3]
    assert model.generate([1, 2, 3], 5, temperature=0, stop_id=4) == []  # next is the stop
    held = model.generate([1, 2, 3], 3, temperature=0, stop_id=4, min_new_tokens=2)
    assert len(held) >= 2 and 4 not in held[:2]
    again = model.generate([1], 8, temperature=1.0, seed=5)
    assert again == model.generate([1], 8, temperature=1.0, seed=5)


def test_init_std_is_gpt2_normal_and_wins_over_init_range() -> None:
    torch.manual_seed(0)
    model = LanguageModel(
        LanguageModelConfig(vocab_size=5000, embedding_dim=64, init_std=0.02, init_range=0.1)
    )
    assert abs(model.embedding.weight.std().item() - 0.02) < 0.001
    assert model.decoder.bias.abs().sum() == 0


def test_a_prompt_longer_than_the_context_is_a_user_error() -> None:
    encoder = TransformerConfig(hidden_size=8, num_heads=2, causal=True, max_positions=6)
    model = LanguageModel(LanguageModelConfig(vocab_size=12, embedding_dim=8, encoder=encoder))
    assert model.context_size == 6 and _lm().context_size is None
    with pytest.raises(UserError, match="more than the model's context of 6"):
        model.eval().generate(list(range(7)), 3)


# ---------------------------------------------------------------- beam search
BEAM_ENCODERS = {
    "lstm": RecurrentConfig(hidden_size=16, num_layers=2),
    "gpt": TransformerConfig(
        hidden_size=16,
        num_layers=2,
        num_heads=2,
        causal=True,
        positions="learned",
        max_positions=24,
    ),
}


@pytest.mark.parametrize("name", BEAM_ENCODERS)
def test_beam_of_width_one_is_greedy_and_the_cache_changes_nothing(name: str) -> None:
    torch.manual_seed(0)
    model = _lm(encoder=BEAM_ENCODERS[name], embedding_dim=16).eval()
    prompt = [4, 5, 6]
    greedy = model.generate(prompt, 10, temperature=0.0)
    [one] = model.beam_generate(prompt, 10, beam_size=1)
    assert one.tokens == greedy and len(one.tokens) == 10
    cached = model.beam_generate(prompt, 10, beam_size=4, num_return=3, stop_id=3)
    recomputed = model.beam_generate(
        prompt, 10, beam_size=4, num_return=3, stop_id=3, use_cache=False
    )
    assert [h.tokens for h in cached] == [h.tokens for h in recomputed]
    for a, b in zip(cached, recomputed, strict=True):
        assert a.log_prob == pytest.approx(b.log_prob, abs=1e-5)
    # the reported log-probability is the model's own along the tokens
    best = cached[0]
    ids = torch.tensor([prompt + best.tokens + ([3] if best.finished else [])])
    with torch.no_grad():
        logits = model(Batch(ids[:, :-1], torch.tensor([ids.shape[1] - 1]))).logits[0]
    log_probs = torch.log_softmax(logits.float(), -1)
    steps = range(len(prompt) - 1, ids.shape[1] - 1)
    expected = sum(float(log_probs[t, ids[0, t + 1]]) for t in steps)
    assert best.log_prob == pytest.approx(expected, abs=1e-4)
    assert all(h.tokens and h.tokens[0] != 3 for h in cached)  # stop id never first


def test_beam_past_the_context_re_reads_the_cropped_window() -> None:
    torch.manual_seed(0)
    model = _lm(encoder=BEAM_ENCODERS["gpt"], embedding_dim=16).eval()
    [one] = model.beam_generate([4, 5, 6], 30, beam_size=1)  # 33 tokens > context 24
    assert one.tokens == model.generate([4, 5, 6], 30, temperature=0.0)
    with pytest.raises(UserError, match="more than the model's context of 24"):
        model.beam_generate(list(range(4, 12)) * 4, 5)
