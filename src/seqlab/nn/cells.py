"""Recurrent cells: one time step of a recurrent network, each next to its equation.

Letters used in shapes: B batch size, I input size, H hidden size, G number of gate blocks.

Every cell follows the Keras cell contract (docs/architecture.md, "Conventions")::

    h_t, new_state = cell(x_t, state)      # x_t (B, I); state = (h,) or (h, c), each (B, H)

and has ``input_size``, ``hidden_size``, ``state_size`` (1, or 2 for the LSTM family) and
``init_state(batch_size)``. :class:`seqlab.nn.recurrent.Recurrent` owns the time loop,
masks, directions and stacking, so a new cell is only its equation.

Equations are quoted from the lecture notes (``shared/reference/000_*.txt`` "LSTM",
"GRU", "An Empirical Exploration of Recurrent Network Architectures"; ``004_*.txt``).
The ablations LSTM-f/-i/-o/-b and the three mutants MUT1-3 come from
Jozefowicz, Zaremba & Sutskever (2015), "An Empirical Exploration of Recurrent Network
Architectures", ICML — the paper found MUT1-3 by evolutionary search over ~10 000
architectures and showed that a forget-gate bias of 1 (LSTM-b) closes most of the gap
between LSTM and GRU.

The standard cells (``rnn_tanh``, ``lstm``, ``lstm_b``, ``gru``) keep their parameters in
torch's layout and names (``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), ``bias_ih``,
``bias_hh`` (G*H)), so ``Recurrent`` can hand them to torch's fused kernels unchanged
(see ``FUSED_KINDS``) and their state dicts load into ``torch.nn.LSTMCell`` & co.
The lecture writes ``W·[h_{t-1}, x_t] + b``; that is the same map as torch's
``W_ih x + b_ih + W_hh h + b_hh`` with ``W = [W_hh | W_ih]`` and ``b = b_ih + b_hh``.

The other cells (LSTM-f/-i/-o, MUT1-3) have a fast path in :mod:`seqlab.nn.fast_cells`
that reads these same parameters: the input side of every step in one GEMM, and a
hand-written recurrence + BPTT backward. A cell's ``forward`` here stays the definition
(and the reference loop, ``Recurrent(..., fused=False)``) that both paths are tested
against; a new cell needs only ``forward`` and runs on the reference loop until it has a
fast path.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.errors import UserError, did_you_mean

State = tuple[Tensor, ...]


class Cell(nn.Module):
    """Base class: one step ``(x_t (B, I), state) -> (h_t (B, H), new_state)``.

    Subclasses set ``state_size`` and create their parameters in ``__init__`` before
    calling :meth:`reset_parameters`.
    """

    state_size: int = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UserError(
                    f"{type(self).__name__}: {name} must be a positive integer, got {value!r}",
                    f"set {name} to a whole number >= 1",
                )
        self.input_size = input_size
        self.hidden_size = hidden_size

    def _parameter(self, *shape: int) -> nn.Parameter:
        return nn.Parameter(torch.empty(*shape))

    def reset_parameters(self, init_range: float | None = None) -> None:
        """uniform(-r, r) for every parameter, r = ``init_range`` or 1/sqrt(H) (torch's RNN
        cells' default). Subclasses apply their own documented choices after it."""
        bound = init_range if init_range is not None else 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.uniform_(-bound, bound)

    def init_state(
        self,
        batch_size: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> State:
        """Zero state: ``state_size`` tensors of shape (B, H) on the parameters' device/dtype."""
        reference = next(self.parameters())
        return tuple(
            torch.zeros(
                batch_size,
                self.hidden_size,
                device=reference.device if device is None else device,
                dtype=reference.dtype if dtype is None else dtype,
            )
            for _ in range(self.state_size)
        )

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class _TorchLayoutCell(Cell):
    """Cells whose parameters are ``num_gates`` blocks stacked in torch's layout."""

    num_gates: int = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        rows = self.num_gates * hidden_size
        self.weight_ih = self._parameter(rows, input_size)  # (G*H, I)
        self.weight_hh = self._parameter(rows, hidden_size)  # (G*H, H)
        self.bias_ih = self._parameter(rows)  # (G*H,)
        self.bias_hh = self._parameter(rows)  # (G*H,)
        self.reset_parameters()

    def _preactivations(self, x: Tensor, h: Tensor) -> tuple[Tensor, ...]:
        """``W_ih x + b_ih + W_hh h + b_hh`` split into the G gate blocks, each (B, H)."""
        total = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(
            h, self.weight_hh, self.bias_hh
        )
        return total.chunk(self.num_gates, dim=1)


class RNNTanhCell(_TorchLayoutCell):
    """Elman RNN (lecture: ``h_t = tanh(h_{t-1} W_1 + x_t W_2)``), as ``torch.nn.RNNCell``:

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    """

    num_gates = 1

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state
        (pre,) = self._preactivations(x, h)
        h = torch.tanh(pre)
        return h, (h,)


class LSTMCell(_TorchLayoutCell):
    """LSTM (lecture notes), gate blocks in torch's order i, f, g(=C̃), o:

    f_t = σ(W_f·[h_{t-1}, x_t] + b_f)          i_t = σ(W_i·[h_{t-1}, x_t] + b_i)
    C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)       o_t = σ(W_o·[h_{t-1}, x_t] + b_o)
    C_t = f_t * C_{t-1} + i_t * C̃_t             h_t = o_t * tanh(C_t)

    State is ``(h, c)``. Numerically identical to ``torch.nn.LSTMCell``.
    """

    num_gates = 4
    state_size = 2

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = state
        i, f, g, o = self._preactivations(x, h)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class LSTMBCell(LSTMCell):
    """LSTM-b (Jozefowicz et al. 2015): the LSTM above with forget-gate bias 1 at init.

    A forget gate that starts near σ(1) ≈ 0.73 instead of σ(0) = 0.5 keeps the cell state
    alive early in training, so gradients reach far back. The +1 goes in ``bias_ih``'s
    forget slice and ``bias_hh``'s forget slice is 0, so ``b_f = b_ih + b_hh = 1`` exactly;
    the layout is torch's, so this cell runs on the fused LSTM kernel.
    """

    def reset_parameters(self, init_range: float | None = None) -> None:
        super().reset_parameters(init_range)
        forget = slice(self.hidden_size, 2 * self.hidden_size)  # gate order i, f, g, o
        with torch.no_grad():
            self.bias_ih[forget] = 1.0
            self.bias_hh[forget] = 0.0


class LSTMFCell(_TorchLayoutCell):
    """LSTM-f (Jozefowicz et al. 2015): no forget gate, f_t = 1. Blocks i, g, o:

    C_t = C_{t-1} + i_t * C̃_t        h_t = o_t * tanh(C_t)
    """

    num_gates = 3
    state_size = 2

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = state
        i, g, o = self._preactivations(x, h)
        c = c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class LSTMICell(_TorchLayoutCell):
    """LSTM-i (Jozefowicz et al. 2015): no input gate, i_t = 1. Blocks f, g, o:

    C_t = f_t * C_{t-1} + C̃_t        h_t = o_t * tanh(C_t)
    """

    num_gates = 3
    state_size = 2

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = state
        f, g, o = self._preactivations(x, h)
        c = torch.sigmoid(f) * c + torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class LSTMOCell(_TorchLayoutCell):
    """LSTM-o (Jozefowicz et al. 2015): no output gate, o_t = 1. Blocks i, f, g:

    C_t = f_t * C_{t-1} + i_t * C̃_t  h_t = tanh(C_t)
    """

    num_gates = 3
    state_size = 2

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = state
        i, f, g = self._preactivations(x, h)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.tanh(c)
        return h, (h, c)


class GRUCell(_TorchLayoutCell):
    """GRU in torch's formulation (blocks r, z, n), numerically equal to ``torch.nn.GRUCell``:

    r_t = σ(W_ir x_t + b_ir + W_hr h + b_hr)     z_t = σ(W_iz x_t + b_iz + W_hz h + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    Two differences from the lecture GRU, ``h̃_t = tanh(W·[r_t ⊙ h_{t-1}, x_t] + b_h)``,
    ``h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t``: (1) torch applies r *after* the recurrent
    matmul, r ⊙ (W_hn h + b_hn) (the cuDNN variant; Cho et al. 2014 and the lecture put r
    inside) — a slightly different model; (2) torch's z keeps the old state where the
    lecture's z takes the new one (a relabelling z -> 1 - z, i.e. negated z weights).
    We follow torch so the fused kernel and ``torch.nn.GRUCell`` apply.
    """

    num_gates = 3

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state
        x_r, x_z, x_n = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, dim=1)
        h_r, h_z, h_n = F.linear(h, self.weight_hh, self.bias_hh).chunk(3, dim=1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        h = (1.0 - z) * n + z * h
        return h, (h,)


class _MutantCell(Cell):
    """MUT1-3 (Jozefowicz et al. 2015). Parameters are named after the paper's matrices.

    In the paper's notation h_t is the previous state and h_{t+1} the new one.
    MUT1 (tanh(x_t)) and MUT2 (x_t inside r) add x_t to a hidden-size vector, so they
    need I == H; when I != H we add ``input_projection`` (H, I), a learned linear map
    without bias, and use ``P x_t`` in place of ``x_t`` (identity when I == H, no parameter).
    """

    uses_raw_input = False

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.input_projection: nn.Parameter | None = None
        if self.uses_raw_input and input_size != hidden_size:
            self.input_projection = self._parameter(hidden_size, input_size)  # (H, I)

    def _raw_input(self, x: Tensor) -> Tensor:
        """x_t as a hidden-size vector (B, H): itself, or its bias-free projection."""
        return x if self.input_projection is None else F.linear(x, self.input_projection)


class MUT1Cell(_MutantCell):
    """MUT1 (Jozefowicz et al. 2015)::

          z = sigm(W_xz x_t + b_z)
          r = sigm(W_xr x_t + W_hr h_t + b_r)
    h_{t+1} = tanh(W_hh (r ⊙ h_t) + tanh(x_t) + b_h) ⊙ z + h_t ⊙ (1 - z)
    """

    uses_raw_input = True

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_xz = self._parameter(hidden_size, input_size)
        self.bias_z = self._parameter(hidden_size)
        self.weight_xr = self._parameter(hidden_size, input_size)
        self.weight_hr = self._parameter(hidden_size, hidden_size)
        self.bias_r = self._parameter(hidden_size)
        self.weight_hh = self._parameter(hidden_size, hidden_size)
        self.bias_h = self._parameter(hidden_size)
        self.reset_parameters()

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state
        z = torch.sigmoid(F.linear(x, self.weight_xz, self.bias_z))
        r = torch.sigmoid(F.linear(x, self.weight_xr, self.bias_r) + F.linear(h, self.weight_hr))
        candidate = torch.tanh(
            F.linear(r * h, self.weight_hh, self.bias_h) + torch.tanh(self._raw_input(x))
        )
        h = candidate * z + h * (1.0 - z)
        return h, (h,)


class MUT2Cell(_MutantCell):
    """MUT2 (Jozefowicz et al. 2015)::

          z = sigm(W_xz x_t + W_hz h_t + b_z)
          r = sigm(x_t + W_hr h_t + b_r)
    h_{t+1} = tanh(W_hh (r ⊙ h_t) + W_xh x_t + b_h) ⊙ z + h_t ⊙ (1 - z)
    """

    uses_raw_input = True

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_xz = self._parameter(hidden_size, input_size)
        self.weight_hz = self._parameter(hidden_size, hidden_size)
        self.bias_z = self._parameter(hidden_size)
        self.weight_hr = self._parameter(hidden_size, hidden_size)
        self.bias_r = self._parameter(hidden_size)
        self.weight_hh = self._parameter(hidden_size, hidden_size)
        self.weight_xh = self._parameter(hidden_size, input_size)
        self.bias_h = self._parameter(hidden_size)
        self.reset_parameters()

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state
        z = torch.sigmoid(F.linear(x, self.weight_xz, self.bias_z) + F.linear(h, self.weight_hz))
        r = torch.sigmoid(self._raw_input(x) + F.linear(h, self.weight_hr, self.bias_r))
        candidate = torch.tanh(
            F.linear(r * h, self.weight_hh, self.bias_h) + F.linear(x, self.weight_xh)
        )
        h = candidate * z + h * (1.0 - z)
        return h, (h,)


class MUT3Cell(_MutantCell):
    """MUT3 (Jozefowicz et al. 2015)::

          z = sigm(W_xz x_t + W_hz tanh(h_t) + b_z)
          r = sigm(W_xr x_t + W_hr h_t + b_r)
    h_{t+1} = tanh(W_hh (r ⊙ h_t) + W_xh x_t + b_h) ⊙ z + h_t ⊙ (1 - z)
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_xz = self._parameter(hidden_size, input_size)
        self.weight_hz = self._parameter(hidden_size, hidden_size)
        self.bias_z = self._parameter(hidden_size)
        self.weight_xr = self._parameter(hidden_size, input_size)
        self.weight_hr = self._parameter(hidden_size, hidden_size)
        self.bias_r = self._parameter(hidden_size)
        self.weight_hh = self._parameter(hidden_size, hidden_size)
        self.weight_xh = self._parameter(hidden_size, input_size)
        self.bias_h = self._parameter(hidden_size)
        self.reset_parameters()

    def forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state
        z = torch.sigmoid(
            F.linear(x, self.weight_xz, self.bias_z) + F.linear(torch.tanh(h), self.weight_hz)
        )
        r = torch.sigmoid(F.linear(x, self.weight_xr, self.bias_r) + F.linear(h, self.weight_hr))
        candidate = torch.tanh(
            F.linear(r * h, self.weight_hh, self.bias_h) + F.linear(x, self.weight_xh)
        )
        h = candidate * z + h * (1.0 - z)
        return h, (h,)


# The registry of cells, by the names used in configs and recipes (docs/architecture.md).
CELLS: dict[str, type[Cell]] = {
    "rnn_tanh": RNNTanhCell,
    "lstm": LSTMCell,
    "lstm_f": LSTMFCell,
    "lstm_i": LSTMICell,
    "lstm_o": LSTMOCell,
    "lstm_b": LSTMBCell,
    "gru": GRUCell,
    "mut1": MUT1Cell,
    "mut2": MUT2Cell,
    "mut3": MUT3Cell,
}

# Cell name -> torch fused kernel (torch.rnn_tanh / torch.lstm / torch.gru) that computes
# exactly that cell from its own parameters. LSTM-b differs from LSTM only at init. The
# other cells run on their fast paths (seqlab.nn.fast_cells.FAST_SCANS).
FUSED_KINDS: dict[str, str] = {
    "rnn_tanh": "rnn_tanh",
    "lstm": "lstm",
    "lstm_b": "lstm",
    "gru": "gru",
}


def check_cell_name(name: str) -> str:
    """Return ``name`` if it is in :data:`CELLS`, else raise a UserError with a hint."""
    if name in CELLS:
        return name
    raise UserError(f"unknown recurrent cell {name!r}", did_you_mean(name, CELLS))


def make_cell(name: str, input_size: int, hidden_size: int, **kwargs: object) -> Cell:
    """Build the cell registered as ``name`` in :data:`CELLS`."""
    return CELLS[check_cell_name(name)](input_size, hidden_size, **kwargs)
