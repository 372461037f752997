"""Gradient flow through time and gate saturation: oracles, the property, refusals."""

from __future__ import annotations

import pytest
import torch
from torch.overrides import TorchFunctionMode

from seqlab.compare.diagnose import (
    GATES,
    Diagnosis,
    _Trace,
    diagnose_model,
    traced,
    write_diagnoses,
)
from seqlab.data.batching import Batch
from seqlab.errors import UserError
from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.models.lm import LanguageModel, LanguageModelConfig
from seqlab.nn.cells import CELLS, make_cell
from seqlab.nn.encoders import RecurrentConfig, TransformerConfig
from seqlab.nn.recurrent import Recurrent


class _Sigmoids(TorchFunctionMode):
    """Records every sigmoid a cell computes: the oracle for the recomputed gates."""

    def __init__(self) -> None:
        super().__init__()
        self.outputs: list[torch.Tensor] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if func in (torch.sigmoid, torch.Tensor.sigmoid, torch.nn.functional.sigmoid):
            self.outputs.append(result.detach())
        return result


@pytest.mark.parametrize("name", sorted(CELLS))
def test_gates_are_the_sigmoids_the_cell_computes(name: str) -> None:
    hidden = 5
    cell = make_cell(name, 3, hidden)  # I != H: the mutants' input projection too
    x = torch.randn(4, 3)
    state = tuple(torch.randn(4, hidden) for _ in range(cell.state_size))
    with _Sigmoids() as recorded:
        cell(x, state)
    gates = GATES[name](cell, x, state)
    blocks = [
        out[:, k * hidden : (k + 1) * hidden]
        for out in recorded.outputs
        for k in range(out.shape[1] // hidden)
    ]
    assert len(gates) == len(blocks)  # every sigmoid of the cell is a gate we report
    for gate, values in gates.items():
        assert values.shape == (4, hidden)
        assert any(torch.allclose(values, block, atol=1e-6) for block in blocks), gate


@pytest.mark.parametrize("name", sorted(CELLS))
def test_traced_forward_equals_recurrent(name: str) -> None:
    """The step-by-step loop gives Recurrent's outputs and final state, padding included."""
    rnn = Recurrent(name, 3, 4, num_layers=2)
    x = torch.randn(3, 6, 3)
    lengths = torch.tensor([6, 2, 4])
    expected, expected_state = rnn(x, lengths=lengths)
    trace = _Trace(GATES[name])
    with traced(rnn, trace):
        got, got_state = rnn(x, lengths=lengths)
    assert "forward" not in vars(rnn)  # restored
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)
    for a, b in zip(got_state, expected_state, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    assert len(trace.hidden) == 6  # the top layer's h_t, t = 0..T-1
    assert sum(trace.total.values()) == sum(lengths.tolist()) * 4 * len(trace.total)


def _lm(cell: str, vocab: int = 9, hidden: int = 32) -> LanguageModel:
    encoder = RecurrentConfig(type=cell, hidden_size=hidden)
    config = LanguageModelConfig(
        encoder=encoder, embedding_dim=16, vocab_size=vocab, tie_weights=False, init_range=None
    )
    return LanguageModel(config)


def _delayed_copy(generator: torch.Generator, batch: int = 32, steps: int = 30, delay: int = 6):
    """Predict the token seen ``delay`` steps ago (targets before that are padding)."""
    inputs = torch.randint(1, 9, (batch, steps), generator=generator)
    targets = torch.zeros_like(inputs)
    targets[:, delay:] = inputs[:, :-delay]
    return Batch(inputs, torch.full((batch,), steps), targets)


def test_tanh_gradient_vanishes_faster_than_the_lstms() -> None:
    """The lecture's picture on a trained toy memory task: beyond the delay the task
    needs, ‖∂L_T/∂h_t‖ of a tanh RNN decays faster with T − t than an LSTM's."""
    diagnoses = {}
    for cell in ("rnn_tanh", "lstm"):
        torch.manual_seed(0)
        model = _lm(cell)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        data = torch.Generator().manual_seed(10)
        for _ in range(400):
            loss = model(_delayed_copy(data)).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        assert loss.item() < 1.0  # both learned the task (chance: ln 8 = 2.08)
        held_out = torch.Generator().manual_seed(99)
        diagnoses[cell] = diagnose_model(model, [_delayed_copy(held_out) for _ in range(2)], 2)
    tanh, lstm = diagnoses["rnn_tanh"], diagnoses["lstm"]
    assert len(tanh.norms) == len(lstm.norms) == 30 and tanh.counts == [64] * 30
    assert tanh.ratio(29) * 5 < lstm.ratio(29)
    assert tanh.decay_per_step() < lstm.decay_per_step()
    assert set(lstm.saturation) == {"i", "f", "o"} and tanh.saturation == {}


def test_without_recurrent_weights_only_the_last_state_gets_a_gradient() -> None:
    """W_hh = 0: h_t reaches L_T only when t = T (the oracle of the norm bookkeeping)."""
    model = _lm("rnn_tanh", hidden=6)
    with torch.no_grad():
        model.encoder.rnn.cells[0].weight_hh.zero_()
    batch = Batch(torch.randint(1, 9, (3, 5)), torch.tensor([5, 3, 4]), torch.randint(1, 9, (3, 5)))
    diagnosis = diagnose_model(model, [batch], 1)
    assert diagnosis.counts == [3, 3, 3, 2, 1]  # distances measured per example length
    assert diagnosis.norms[0] > 0 and diagnosis.norms[1:] == [0.0] * 4


def test_diagnose_leaves_the_model_as_it_was() -> None:
    model = _lm("gru")
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batch = _delayed_copy(torch.Generator().manual_seed(0), batch=4, steps=8)
    diagnosis = diagnose_model(model, [batch, batch], 5)
    assert model.training and all(p.grad is None for p in model.parameters())
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])
    assert set(diagnosis.saturation) == {"r", "z"}
    for fractions in diagnosis.histograms.values():
        assert sum(fractions) == pytest.approx(1.0)
    assert Diagnosis.from_dict(diagnosis.to_dict()) == diagnosis


def test_a_classifier_uses_its_sequence_loss() -> None:
    config = SequenceClassifierConfig(
        encoder=RecurrentConfig(type="mut1", hidden_size=6), embedding_dim=4, vocab_size=9
    )
    model = SequenceClassifier(config)
    batch = Batch(torch.randint(1, 9, (3, 7)), torch.tensor([7, 5, 2]), torch.tensor([0, 1, 1]))
    diagnosis = diagnose_model(model, [batch], 1)
    assert diagnosis.counts == [3, 3, 2, 2, 2, 1, 1] and diagnosis.cell == "mut1"


def test_non_recurrent_and_bidirectional_encoders_are_refused() -> None:
    batch = Batch(torch.randint(1, 9, (2, 4)), torch.tensor([4, 4]), torch.tensor([0, 1]))
    cnn = SequenceClassifier(
        SequenceClassifierConfig(encoder=TransformerConfig(hidden_size=8), vocab_size=9)
    )
    with pytest.raises(UserError, match="needs a recurrent encoder"):
        diagnose_model(cnn, [batch])
    both = SequenceClassifier(
        SequenceClassifierConfig(encoder=RecurrentConfig(bidirectional=True), vocab_size=9)
    )
    with pytest.raises(UserError, match="bidirectional"):
        diagnose_model(both, [batch])


def test_plots_and_json_are_written(tmp_path) -> None:
    model = _lm("lstm_b", hidden=8)
    batch = _delayed_copy(torch.Generator().manual_seed(0), batch=4, steps=10)
    diagnoses = [diagnose_model(model, [batch], 1, label=f"lstm_b {i}") for i in range(3)]
    diagnoses.append(diagnose_model(_lm("rnn_tanh", hidden=8), [batch], 1))
    paths = write_diagnoses(diagnoses, tmp_path / "d")
    for key in ("gradient_flow", "gate_saturation", "json"):
        assert paths[key].stat().st_size > 500
