"""Oracle tests for seqlab.nn.recurrent.Recurrent: fused vs unfused, vs torch.nn.LSTM/GRU/RNN,
per-sequence runs vs padded batches (hypothesis), reversal within length.

Letters: B batch, T time steps, I input size, H hidden size, L layers, D directions.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.errors import UserError
from seqlab.nn.cells import CELLS, FUSED_KINDS
from seqlab.nn.recurrent import Recurrent

I, H, L = 3, 4, 2
LENGTHS = torch.tensor([5, 2, 7, 1])  # variable lengths, unsorted, one full (T = 7)
TORCH_MODULES = {"lstm": nn.LSTM, "lstm_b": nn.LSTM, "gru": nn.GRU, "rnn_tanh": nn.RNN}


def _batch(lengths: Tensor = LENGTHS, steps: int | None = None, dtype=torch.float32) -> Tensor:
    return torch.randn(len(lengths), steps or int(lengths.max()), I, dtype=dtype)


def _random_state(model: Recurrent, batch_size: int, dtype=torch.float32) -> tuple[Tensor, ...]:
    shape = (model.num_layers * model.num_directions, batch_size, model.hidden_size)
    return tuple(torch.randn(shape, dtype=dtype) for _ in range(model.state_size))


def _run_with_grads(model: Recurrent, x: Tensor, state: tuple[Tensor, ...], weights: list[Tensor]):
    """Outputs, final state, and gradients of a fixed random projection of both."""
    x = x.detach().requires_grad_()
    state = tuple(s.detach().requires_grad_() for s in state)
    model.zero_grad()
    outputs, final = model(x, LENGTHS, state)
    loss = (outputs * weights[0]).sum() + sum(
        (f * w).sum() for f, w in zip(final, weights[1:], strict=True)
    )
    loss.backward()
    grads = [x.grad, *(s.grad for s in state), *(p.grad.clone() for p in model.parameters())]
    return outputs.detach(), tuple(f.detach() for f in final), grads


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", sorted(FUSED_KINDS))
def test_fused_and_unfused_agree_with_gradients(cell: str, bidirectional: bool) -> None:
    model = Recurrent(cell, I, H, num_layers=L, bidirectional=bidirectional)
    x, state = _batch(), _random_state(model, len(LENGTHS))
    weights = [torch.randn(len(LENGTHS), 7, model.output_size)]
    weights += [torch.randn_like(s) for s in state]
    model.fused = True
    assert model.uses_fused_kernel
    fused = _run_with_grads(model, x, state, weights)
    model.fused = False
    unfused = _run_with_grads(model, x, state, weights)
    torch.testing.assert_close(fused[0], unfused[0], atol=1e-5, rtol=0)
    for a, b in zip(fused[1], unfused[1], strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    assert len(fused[2]) == len(unfused[2]) == 1 + model.state_size + 4 * L * model.num_directions
    for a, b in zip(fused[2], unfused[2], strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def _torch_copy(model: Recurrent) -> nn.RNNBase:
    reference = TORCH_MODULES[model.cell_name](
        I, H, num_layers=model.num_layers, bidirectional=model.bidirectional, batch_first=True
    )
    weights = {}
    for index, cell in enumerate(model.cells):
        layer, direction = divmod(index, model.num_directions)
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        for name, parameter in cell.named_parameters():
            weights[name + suffix] = parameter
    reference.load_state_dict(weights)
    return reference


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", sorted(FUSED_KINDS))
def test_equals_torch_module_with_copied_weights_and_initial_state(
    cell: str, bidirectional: bool, fused: bool
) -> None:
    model = Recurrent(cell, I, H, num_layers=L, bidirectional=bidirectional, fused=fused).double()
    reference = _torch_copy(model).double()
    x, state = _batch(dtype=torch.float64), _random_state(model, len(LENGTHS), torch.float64)
    with torch.no_grad():
        outputs, final = model(x, LENGTHS, state)
        packed = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
        expected, expected_final = reference(packed, state if len(state) == 2 else state[0])
        expected, _ = pad_packed_sequence(expected, batch_first=True, total_length=x.size(1))
        if not isinstance(expected_final, tuple):
            expected_final = (expected_final,)
        torch.testing.assert_close(outputs, expected, atol=1e-10, rtol=0)
        for a, b in zip(final, expected_final, strict=True):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
        # Full-length batch, no lengths: the unpacked kernel / no masks.
        full, full_final = model(x, state=state)
        expected, expected_final = reference(x, state if len(state) == 2 else state[0])
        torch.testing.assert_close(full, expected, atol=1e-10, rtol=0)
        if not isinstance(expected_final, tuple):
            expected_final = (expected_final,)
        for a, b in zip(full_final, expected_final, strict=True):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


# ------------------------------------------------------------------ padding invariance
_MODELS: dict[tuple[str, bool], Recurrent] = {}


def _model(cell: str, bidirectional: bool) -> Recurrent:
    key = (cell, bidirectional)
    if key not in _MODELS:
        with torch.random.fork_rng():
            torch.manual_seed(len(_MODELS))
            _MODELS[key] = Recurrent(cell, I, H, num_layers=L, bidirectional=bidirectional).double()
    return _MODELS[key]


@pytest.mark.parametrize("cell", sorted(CELLS))
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lengths=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    extra=st.integers(0, 2),
    bidirectional=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_padding_changes_nothing_on_real_steps(
    cell: str, lengths: list[int], extra: int, bidirectional: bool, seed: int
) -> None:
    """Each sequence run alone (no padding) == its row of a padded batch, whose padding is
    random junk; padded outputs are exactly zero. Both directions, fused and unfused."""
    model = _model(cell, bidirectional)
    generator = torch.Generator().manual_seed(seed)
    steps = max(lengths) + extra
    x = torch.randn(len(lengths), steps, I, generator=generator, dtype=torch.float64)
    for fused in (True, False):
        model.fused = fused
        with torch.no_grad():
            outputs, final = model(x, torch.tensor(lengths))
            for row, length in enumerate(lengths):
                alone, alone_final = model(x[row : row + 1, :length])
                torch.testing.assert_close(outputs[row, :length], alone[0], atol=1e-12, rtol=0)
                assert not outputs[row, length:].any()
                for a, b in zip(final, alone_final, strict=True):
                    torch.testing.assert_close(a[:, row], b[:, 0], atol=1e-12, rtol=0)


# ------------------------------------------------------------------ directions, layouts, masks
@pytest.mark.parametrize("fused", [True, False])  # fast path / reference loop
@pytest.mark.parametrize("cell", ["mut2", "lstm_o"])
def test_backward_direction_reads_each_sequence_reversed_within_its_length(
    cell: str, fused: bool
) -> None:
    model = Recurrent(cell, I, H, bidirectional=True, fused=fused).double()
    backward = Recurrent(cell, I, H, fused=not fused).double()
    backward.cells[0].load_state_dict(model.cells[1].state_dict())
    x = _batch(dtype=torch.float64)
    with torch.no_grad():
        outputs, final = model(x, LENGTHS)
        for row, length in enumerate(LENGTHS.tolist()):
            reversed_alone, reversed_final = backward(x[row : row + 1, :length].flip(1))
            torch.testing.assert_close(outputs[row, :length, H:], reversed_alone[0].flip(0))
            for a, b in zip(final, reversed_final, strict=True):
                torch.testing.assert_close(a[1, row], b[0, 0])


@pytest.mark.parametrize("fused", [True, False])
def test_time_major_layout_and_mask_argument(fused: bool) -> None:
    model = Recurrent("gru", I, H, num_layers=L, bidirectional=True, fused=fused)
    x = _batch()
    outputs, final = model(x, LENGTHS)
    time_major = Recurrent(
        "gru", I, H, num_layers=L, bidirectional=True, batch_first=False, fused=fused
    )
    time_major.load_state_dict(model.state_dict())
    outputs_t, final_t = time_major(x.transpose(0, 1), LENGTHS)
    torch.testing.assert_close(outputs_t.transpose(0, 1), outputs)
    torch.testing.assert_close(final_t[0], final[0])
    mask = torch.arange(x.size(1))[None, :] < LENGTHS[:, None]
    outputs_m, final_m = model(x, mask=mask)
    torch.testing.assert_close(outputs_m, outputs)
    torch.testing.assert_close(final_m[0], final[0])
    assert outputs.shape == (len(LENGTHS), x.size(1), model.output_size) == (4, 7, 2 * H)
    assert final[0].shape == (L * 2, len(LENGTHS), H)


def test_state_dict_is_the_same_fused_or_not() -> None:
    fused = Recurrent("lstm_b", I, H, num_layers=L, bidirectional=True, fused=True)
    unfused = Recurrent("lstm_b", I, H, num_layers=L, bidirectional=True, fused=False)
    assert list(fused.state_dict()) == list(unfused.state_dict())
    assert "cells.3.bias_ih" in fused.state_dict()
    unfused.load_state_dict(fused.state_dict())
    x = _batch()
    torch.testing.assert_close(fused(x, LENGTHS)[0], unfused(x, LENGTHS)[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("fused", [True, False])
def test_dropout_between_layers_only_in_training(fused: bool) -> None:
    model = Recurrent("lstm", I, H, num_layers=L, dropout=0.5, fused=fused)
    x = _batch()
    model.eval()
    evaluated = model(x, LENGTHS)[0]
    model.train()
    trained = model(x, LENGTHS)[0]
    assert not torch.allclose(trained, evaluated)
    valid = torch.arange(x.size(1))[None, :] < LENGTHS[:, None]
    assert trained[valid].ne(0).all()  # no dropout mask on the last layer's outputs
    single = Recurrent("lstm", I, H, num_layers=1, dropout=0.5, fused=fused).train()
    torch.testing.assert_close(single(x, LENGTHS)[0], single.eval()(x, LENGTHS)[0])


def test_bad_inputs_raise_clear_errors() -> None:
    model = Recurrent("lstm", I, H, fused=False)
    x = _batch()
    with pytest.raises(ValueError, match="3-D input"):
        model(x[0])
    with pytest.raises(ValueError, match="input_size=3"):
        model(torch.randn(2, 5, I + 1))
    with pytest.raises(ValueError, match=r"lengths must be in \[1, T=7\]"):
        model(x, torch.tensor([8, 1, 1, 1]))
    with pytest.raises(ValueError, match=r"lengths must be in \[1, T=7\]"):
        model(x, torch.tensor([0, 1, 1, 1]))
    with pytest.raises(ValueError, match="4 values"):
        model(x, torch.tensor([1, 1]))
    with pytest.raises(ValueError, match="integers"):
        model(x, LENGTHS.float())
    with pytest.raises(ValueError, match="contiguous valid prefix"):
        model(x, mask=torch.tensor([[True, False, True, False, False, False, False]] * 4))
    with pytest.raises(ValueError, match="needs 2 state"):
        model(x, LENGTHS, (torch.zeros(1, 4, H),))
    with pytest.raises(ValueError, match="dtype"):
        model(x.double())
    with pytest.raises(UserError, match="did you mean 'gru'"):
        Recurrent("gur", I, H)
    with pytest.raises(UserError, match="dropout"):
        Recurrent("gru", I, H, dropout=1.5)
