"""Oracle tests for seqlab.nn.cells: torch's cells and the lecture equations, transcribed here.

Letters: B batch, I input size, H hidden size.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn

from seqlab.errors import UserError
from seqlab.nn.cells import CELLS, FUSED_KINDS, Cell, make_cell

B, I, H, STEPS = 3, 5, 4, 6
sigma, tanh = torch.sigmoid, torch.tanh


def _inputs(input_size: int = I) -> list[Tensor]:
    return [torch.randn(B, input_size, dtype=torch.float64) for _ in range(STEPS)]


def _random_state(cell: Cell) -> tuple[Tensor, ...]:
    return tuple(
        torch.randn(B, cell.hidden_size, dtype=torch.float64) for _ in range(cell.state_size)
    )


def _run_cell(cell: Cell, xs: list[Tensor], state: tuple[Tensor, ...]) -> list[tuple[Tensor, ...]]:
    states = []
    for x in xs:
        h, state = cell(x, state)
        assert torch.equal(h, state[0])
        states.append(state)
    return states


# ------------------------------------------------------------------ vs torch's cells
@pytest.mark.parametrize(
    ("name", "torch_cell"),
    [("rnn_tanh", nn.RNNCell), ("lstm", nn.LSTMCell), ("lstm_b", nn.LSTMCell), ("gru", nn.GRUCell)],
)
def test_standard_cells_equal_torch_cells(name: str, torch_cell: type[nn.Module]) -> None:
    cell = make_cell(name, I, H).double()
    reference = torch_cell(I, H).double()
    reference.load_state_dict(cell.state_dict())  # same names and gate layout as torch
    xs, state = _inputs(), _random_state(cell)
    expected = state if cell.state_size == 2 else state[0]
    for x, ours in zip(xs, _run_cell(cell, xs, state), strict=True):
        expected = reference(x, expected)
        theirs = expected if isinstance(expected, tuple) else (expected,)
        for a, b in zip(ours, theirs, strict=True):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


# ------------------------------------------------------------------ vs the lecture equations
def _lecture_lstm_weights(cell: Cell, gates: str) -> dict[str, tuple[Tensor, Tensor]]:
    """Per gate, the lecture's W (H, H+I) acting on [h_{t-1}, x_t] and its bias b."""
    H_ = cell.hidden_size
    out = {}
    for k, gate in enumerate(gates):
        rows = slice(k * H_, (k + 1) * H_)
        weight = torch.cat([cell.weight_hh[rows], cell.weight_ih[rows]], dim=1)
        out[gate] = (weight, cell.bias_ih[rows] + cell.bias_hh[rows])
    return out


def _lecture_lstm_step(cell: Cell, gates: str, x: Tensor, state: tuple[Tensor, Tensor]):
    """f_t = σ(W_f·[h_{t-1}, x_t] + b_f), i_t = σ(W_i·[..] + b_i), C̃_t = tanh(W_C·[..] + b_C),
    C_t = f_t*C_{t-1} + i_t*C̃_t, o_t = σ(W_o·[..] + b_o), h_t = o_t*tanh(C_t);
    a gate missing from ``gates`` is the constant 1 (Jozefowicz et al. 2015 ablations)."""
    h, c = state
    hx = torch.cat([h, x], dim=1)  # [h_{t-1}, x_t]
    W = _lecture_lstm_weights(cell, gates)
    f = sigma(hx @ W["f"][0].T + W["f"][1]) if "f" in W else 1.0
    i = sigma(hx @ W["i"][0].T + W["i"][1]) if "i" in W else 1.0
    c_tilde = tanh(hx @ W["g"][0].T + W["g"][1])
    o = sigma(hx @ W["o"][0].T + W["o"][1]) if "o" in W else 1.0
    c = f * c + i * c_tilde
    h = o * tanh(c)
    return h, c


def _lecture_rnn_step(cell: Cell, x: Tensor, state: tuple[Tensor]):
    """h_t = tanh(h_{t-1} W_1 + x_t W_2 + b)."""
    (h,) = state
    W_1, W_2 = cell.weight_hh.T, cell.weight_ih.T
    return (tanh(h @ W_1 + x @ W_2 + cell.bias_ih + cell.bias_hh),)


def _projected(cell: Cell, x: Tensor) -> Tensor:
    return x if cell.input_projection is None else x @ cell.input_projection.T


def _mut_step(cell: Cell, x: Tensor, state: tuple[Tensor]):
    """MUT1-3 from the notes (h_t previous state, h_{t+1} new state)."""
    (h,) = state
    c = cell
    if isinstance(cell, CELLS["mut1"]):
        z = sigma(x @ c.weight_xz.T + c.bias_z)
        r = sigma(x @ c.weight_xr.T + h @ c.weight_hr.T + c.bias_r)
        new = tanh((r * h) @ c.weight_hh.T + tanh(_projected(c, x)) + c.bias_h) * z + h * (1 - z)
    elif isinstance(cell, CELLS["mut2"]):
        z = sigma(x @ c.weight_xz.T + h @ c.weight_hz.T + c.bias_z)
        r = sigma(_projected(c, x) + h @ c.weight_hr.T + c.bias_r)
        new = tanh((r * h) @ c.weight_hh.T + x @ c.weight_xh.T + c.bias_h) * z + h * (1 - z)
    else:
        z = sigma(x @ c.weight_xz.T + tanh(h) @ c.weight_hz.T + c.bias_z)
        r = sigma(x @ c.weight_xr.T + h @ c.weight_hr.T + c.bias_r)
        new = tanh((r * h) @ c.weight_hh.T + x @ c.weight_xh.T + c.bias_h) * z + h * (1 - z)
    return (new,)


LECTURE_STEPS = {
    "rnn_tanh": _lecture_rnn_step,
    "lstm": lambda cell, x, s: _lecture_lstm_step(cell, "ifgo", x, s),
    "lstm_b": lambda cell, x, s: _lecture_lstm_step(cell, "ifgo", x, s),
    "lstm_f": lambda cell, x, s: _lecture_lstm_step(cell, "igo", x, s),
    "lstm_i": lambda cell, x, s: _lecture_lstm_step(cell, "fgo", x, s),
    "lstm_o": lambda cell, x, s: _lecture_lstm_step(cell, "ifg", x, s),
    "mut1": _mut_step,
    "mut2": _mut_step,
    "mut3": _mut_step,
}


@pytest.mark.parametrize("input_size", [I, H])  # I != H uses MUT1/2's input projection
@pytest.mark.parametrize("name", sorted(LECTURE_STEPS))
def test_cells_follow_lecture_equations(name: str, input_size: int) -> None:
    cell = make_cell(name, input_size, H).double()
    xs, state = _inputs(input_size), _random_state(cell)
    expected = state
    with torch.no_grad():
        for x, ours in zip(xs, _run_cell(cell, xs, state), strict=True):
            expected = LECTURE_STEPS[name](cell, x, expected)
            for a, b in zip(ours, expected, strict=True):
                torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


@pytest.mark.parametrize(("name", "removed"), [("lstm_f", 1), ("lstm_i", 0), ("lstm_o", 3)])
def test_ablations_equal_torch_lstm_with_the_gate_saturated_open(name: str, removed: int) -> None:
    """LSTM-f/-i/-o are LSTMs whose removed gate is 1: a torch LSTMCell with that gate's
    weights zero and bias 1e4 (σ = 1.0 exactly in float64) is an independent oracle."""
    cell = make_cell(name, I, H).double()
    reference = nn.LSTMCell(I, H).double()
    kept = [k for k in range(4) if k != removed]  # torch order i, f, g, o
    with torch.no_grad():
        for parameter in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            target = getattr(reference, parameter)
            target.zero_()
            for ours, theirs in enumerate(kept):
                target[theirs * H : (theirs + 1) * H] = getattr(cell, parameter)[
                    ours * H : (ours + 1) * H
                ]
        reference.bias_ih[removed * H : (removed + 1) * H] = 1e4
    xs, state = _inputs(), _random_state(cell)
    expected = state
    with torch.no_grad():
        for x, ours in zip(xs, _run_cell(cell, xs, state), strict=True):
            expected = reference(x, expected)
            for a, b in zip(ours, expected, strict=True):
                torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_mut_with_matching_sizes_uses_x_directly() -> None:
    for name in ("mut1", "mut2"):
        assert make_cell(name, H, H).input_projection is None
        assert make_cell(name, I, H).input_projection.shape == (H, I)
    assert make_cell("mut3", I, H).input_projection is None


# ------------------------------------------------------------------ initialisation, contract
def test_lstm_b_forget_bias_is_one_at_init() -> None:
    cell = make_cell("lstm_b", I, H)
    forget = slice(H, 2 * H)
    assert torch.equal(cell.bias_ih[forget] + cell.bias_hh[forget], torch.ones(H))
    lstm = make_cell("lstm", I, H)
    assert (lstm.bias_ih[forget] + lstm.bias_hh[forget]).abs().max() <= 2 / math.sqrt(H)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_init_is_uniform_in_torch_bound_and_state_contract(name: str) -> None:
    cell = make_cell(name, I, H)
    bound = 1 / math.sqrt(H)
    for parameter_name, parameter in cell.named_parameters():
        if name == "lstm_b" and parameter_name == "bias_ih":
            parameter = torch.cat([parameter[:H], parameter[2 * H :]])
        assert parameter.abs().max() <= bound, parameter_name
        assert parameter.std() > 0.2 * bound, parameter_name  # really random, not constant
    expected_size = 2 if name.startswith("lstm") else 1
    assert cell.state_size == expected_size
    assert (cell.input_size, cell.hidden_size) == (I, H)
    state = cell.init_state(B, dtype=torch.float64)
    assert len(state) == expected_size
    assert all(s.shape == (B, H) and s.dtype == torch.float64 and not s.any() for s in state)
    h, new_state = cell(torch.randn(B, I), cell.init_state(B))
    assert h.shape == (B, H) and len(new_state) == expected_size


def test_registries() -> None:
    assert set(CELLS) == {
        "rnn_tanh",
        "lstm",
        "lstm_f",
        "lstm_i",
        "lstm_o",
        "lstm_b",
        "gru",
        "mut1",
        "mut2",
        "mut3",
    }
    assert FUSED_KINDS == {"rnn_tanh": "rnn_tanh", "lstm": "lstm", "lstm_b": "lstm", "gru": "gru"}
    for name in FUSED_KINDS:  # fused kernels need torch's parameter names
        names = {n for n, _ in make_cell(name, I, H).named_parameters()}
        assert names == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}


def test_unknown_cell_name_is_a_user_error_with_a_suggestion() -> None:
    with pytest.raises(UserError, match=r"unknown recurrent cell 'lsmt' — did you mean 'lstm'\?"):
        make_cell("lsmt", I, H)
    with pytest.raises(UserError, match="unknown recurrent cell 'zzz'") as info:
        make_cell("zzz", I, H)
    assert info.value.fix == f"use one of {', '.join(CELLS)}" and "mut3" in info.value.fix
    with pytest.raises(UserError, match="positive integer"):
        make_cell("gru", 0, H)
