"""Recurrent: stacked, optionally bidirectional recurrent layers over padded batches.

Letters used in shapes: B batch size, T time steps, I input size, H hidden size,
L number of layers, D number of directions (1 or 2), S state size (1, or 2 for LSTMs).

The parameters live in the cells (``self.cells[layer * D + direction]``, the same order as
torch's ``h_0``), and ``Recurrent`` owns the time loop, the padding masks, the directions
and the stacking (docs/architecture.md, "Conventions"). ``fused=True`` (the default) runs
the fastest exact path of the cell, ``fused=False`` the reference loop:

* **torch kernel** (cells in :data:`~seqlab.nn.cells.FUSED_KINDS`: ``rnn_tanh``, ``lstm``,
  ``lstm_b``, ``gru``): the cells' own tensors are handed, in torch's flat order
  ``[W_ih, W_hh, b_ih, b_hh]`` per layer and direction, to torch's fused kernels
  ``torch.lstm`` / ``torch.gru`` / ``torch.rnn_tanh`` — the functions ``torch.nn.LSTM``
  calls. Variable lengths go through ``pack_padded_sequence(enforce_sorted=False)`` and the
  packed overload of the kernel. On CUDA the weights are not in one contiguous chunk, so
  cuDNN copies them per call.
* **fast path** (every other cell: LSTM-f/-i/-o, MUT1-3; :mod:`seqlab.nn.fast_cells`):
  per layer and direction, one GEMM computes the input projections of all T steps, then a
  hand-written ``torch.autograd.Function`` runs the recurrence (per step only the
  recurrent GEMM(s) and in-place gate arithmetic) and its BPTT backward (per step one GEMM
  per recurrent matrix; the weight gradients as one GEMM over all steps), as cuDNN does.
  Training time per token at B=20, T=20-35, H=200, 2 layers is 1.05-1.3x the fused LSTM's
  per GEMM FLOP (``benchmarks/cells.py``); the reference loop is 1.3-1.8x slower still.
* **reference loop** (``fused=False``, any cell): a python loop over time per layer and
  direction calling ``cell(x_t, state)`` under autograd — the cells' equations as written,
  the oracle the other two paths are tested against.

Padding is the same on every path. The loops keep the old state on padded steps
(``state = where(valid, new, old)``, i.e. ``mask*new + (1-mask)*old``) and output zeros
there; the backward direction reverses every sequence within its own length with a
gather, so its first step is the last *valid* token and padding stays at the end.

All paths give the same numbers (to float rounding), gradients and state dict
(tests/nn/test_recurrent.py, tests/nn/test_fast_cells.py), and ``fused`` is a plain
attribute that may be switched at any time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from seqlab.errors import UserError
from seqlab.nn.cells import CELLS, FUSED_KINDS, Cell, State, check_cell_name, make_cell
from seqlab.nn.fast_cells import FAST_SCANS, Scan, fast_scan

# Fused kernel name (FUSED_KINDS values) -> torch function, same signatures as _VF.*.
_KERNELS = {"lstm": torch.lstm, "gru": torch.gru, "rnn_tanh": torch.rnn_tanh}


class Recurrent(nn.Module):
    """A stack of recurrent layers built from the cell named ``cell`` (see ``CELLS``).

    Args:
        cell: cell name, e.g. ``"lstm"``, ``"gru"``, ``"mut2"``.
        input_size: I, features per time step.
        hidden_size: H, per direction.
        num_layers: L stacked layers; layer l > 0 reads the D*H outputs of layer l-1.
        bidirectional: add a second direction reading every sequence backwards.
        dropout: dropout on the outputs of every layer except the last, in training only.
        batch_first: inputs/outputs are (B, T, ·) if True, else (T, B, ·).
        fused: run the fastest exact path — torch's fused kernel or the cell's fast path
            (see module docstring); False runs the reference ``cell(x_t, state)`` loop.

    ``forward(x, lengths=None, state=None, mask=None) -> (outputs, final_state)``:
        x: (B, T, I) (or (T, B, I)); lengths: (B,) integer steps that are valid, on CPU or
        x's device (or ``mask`` (B, T) bool, a valid prefix per row); state: optional
        initial state, a tuple of S tensors each (L*D, B, H) like ``torch.nn.LSTM``'s
        ``(h_0, c_0)`` (``(h_0,)`` for single-state cells).
        Returns outputs (B, T, D*H) (or (T, B, D*H)), exactly zero on padded steps, and
        final_state, S tensors each (L*D, B, H): the state after each sequence's last
        valid step (for the backward direction: after reading step 0).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        batch_first: bool = True,
        fused: bool = True,
    ) -> None:
        super().__init__()
        check_cell_name(cell)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise UserError(
                f"num_layers must be a positive integer, got {num_layers!r}",
                "set num_layers to 1 or more",
            )
        if not 0.0 <= float(dropout) < 1.0:
            raise UserError(
                f"dropout must be in [0, 1), got {dropout!r}",
                "use a probability such as 0.2, or 0 for none",
            )
        self.cell_name = cell
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.dropout = float(dropout)
        self.batch_first = batch_first
        self.fused = fused
        self.state_size = CELLS[cell].state_size
        layer_inputs = [input_size] + [self.num_directions * hidden_size] * (num_layers - 1)
        # Index layer * D + direction: the same order as torch's h_0 and _flat_weights.
        self.cells: nn.ModuleList = nn.ModuleList(
            make_cell(cell, size, hidden_size)
            for size in layer_inputs
            for _ in range(self.num_directions)
        )

    @property
    def output_size(self) -> int:
        """D*H, the feature size of the outputs."""
        return self.num_directions * self.hidden_size

    @property
    def uses_fused_kernel(self) -> bool:
        """True when ``forward`` will run torch's fused kernel."""
        return self.fused and self.cell_name in FUSED_KINDS

    @property
    def uses_fast_path(self) -> bool:
        """True when ``forward`` will run the cell's fast path (``seqlab.nn.fast_cells``)."""
        return self.fused and not self.uses_fused_kernel and CELLS[self.cell_name] in FAST_SCANS

    def extra_repr(self) -> str:
        return (
            f"{self.cell_name!r}, {self.input_size}, {self.hidden_size}, "
            f"num_layers={self.num_layers}, bidirectional={self.bidirectional}, "
            f"dropout={self.dropout}, batch_first={self.batch_first}, fused={self.fused}"
        )

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        state: State | Tensor | None = None,
        mask: Tensor | None = None,
    ) -> tuple[Tensor, State]:
        """Run the stack: outputs (B, T, D*H) and final state, S x (L*D, B, H) (class doc)."""
        if x.dim() != 3:
            raise ValueError(
                f"Recurrent expects a 3-D input (B, T, I) or (T, B, I), got {tuple(x.shape)}"
            )
        if not self.batch_first:
            x = x.transpose(0, 1)  # (B, T, I)
        batch_size, steps, features = x.shape
        if features != self.input_size:
            raise ValueError(
                f"Recurrent built for input_size={self.input_size}, "
                f"got inputs with {features} features"
            )
        weight = next(self.parameters())
        if x.dtype != weight.dtype:
            raise ValueError(
                f"input dtype {x.dtype} differs from the parameters' {weight.dtype}; "
                f"convert one with .to(dtype)"
            )
        lengths = self._check_lengths(lengths, mask, batch_size, steps, x.device)
        state = self._check_state(state, batch_size, x)
        if self.uses_fused_kernel:
            outputs, final_state = self._forward_fused(x, lengths, state)
        elif self.uses_fast_path:
            outputs, final_state = self._forward_unfused(x, lengths, state, fast_scan)
        else:
            outputs, final_state = self._forward_unfused(x, lengths, state, _scan)
        if not self.batch_first:
            outputs = outputs.transpose(0, 1)  # (T, B, D*H)
        return outputs, final_state

    # ---------------------------------------------------------------- input checks
    def _check_lengths(
        self,
        lengths: Tensor | None,
        mask: Tensor | None,
        batch_size: int,
        steps: int,
        device: torch.device,
    ) -> Tensor | None:
        """Validated lengths (B,) long on ``device``, or None when every step is valid."""
        if mask is not None:
            if lengths is not None:
                raise ValueError("pass either lengths or mask to Recurrent, not both")
            if mask.shape != (batch_size, steps):
                raise ValueError(
                    f"mask must be (B, T) = {(batch_size, steps)}, got {tuple(mask.shape)}"
                )
            mask = mask.to(device=device, dtype=torch.bool)
            lengths = mask.sum(dim=1)
            prefix = torch.arange(steps, device=device)[None, :] < lengths[:, None]
            if not torch.equal(prefix, mask):
                raise ValueError(
                    "mask must mark a contiguous valid prefix of every row (padding at the end)"
                )
        if lengths is None:
            return None
        lengths = torch.as_tensor(lengths)
        if lengths.dim() != 1 or lengths.numel() != batch_size:
            raise ValueError(
                f"lengths must be a 1-D tensor of {batch_size} values, "
                f"got shape {tuple(lengths.shape)}"
            )
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
            raise ValueError(f"lengths must hold integers, got dtype {lengths.dtype}")
        lengths = lengths.to(device=device, dtype=torch.long)
        shortest, longest = int(lengths.min()), int(lengths.max())
        if shortest < 1 or longest > steps:
            raise ValueError(
                f"lengths must be in [1, T={steps}], got values from {shortest} to {longest}"
            )
        return None if shortest == steps else lengths

    def _check_state(self, state: State | Tensor | None, batch_size: int, x: Tensor) -> State:
        """The initial state as S tensors (L*D, B, H); zeros when not given."""
        shape = (self.num_layers * self.num_directions, batch_size, self.hidden_size)
        if state is None:
            return tuple(x.new_zeros(shape) for _ in range(self.state_size))
        if isinstance(state, Tensor):
            state = (state,)
        state = tuple(state)
        if len(state) != self.state_size:
            raise ValueError(
                f"cell {self.cell_name!r} needs {self.state_size} state tensor(s), got {len(state)}"
            )
        for tensor in state:
            if tuple(tensor.shape) != shape:
                raise ValueError(
                    f"initial state tensors must be (L*D, B, H) = {shape}, "
                    f"got {tuple(tensor.shape)}"
                )
        return state

    # ---------------------------------------------------------------- fused path
    def _flat_weights(self) -> list[Tensor]:
        """Cells' parameters in nn.LSTM's ``_flat_weights`` order."""
        return [
            p
            for cell in self.cells
            for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        ]

    def _forward_fused(
        self, x: Tensor, lengths: Tensor | None, state: State
    ) -> tuple[Tensor, State]:
        kernel = _KERNELS[FUSED_KINDS[self.cell_name]]
        # torch.lstm takes (h_0, c_0); torch.gru / torch.rnn_tanh take h_0 alone.
        hidden = state if self.state_size == 2 else state[0]
        options = (True, self.num_layers, self.dropout, self.training, self.bidirectional)
        if lengths is None:
            outputs, *final = kernel(x, hidden, self._flat_weights(), *options, True)
            return outputs, tuple(final)
        steps = x.size(1)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        # The packed kernel sees the batch sorted by length: permute the state in and out.
        order, inverse = packed.sorted_indices, packed.unsorted_indices
        if self.state_size == 2:
            hidden = tuple(tensor.index_select(1, order) for tensor in state)
        else:
            hidden = state[0].index_select(1, order)
        data, *final = kernel(
            packed.data, packed.batch_sizes, hidden, self._flat_weights(), *options
        )
        outputs, _ = pad_packed_sequence(
            PackedSequence(data, packed.batch_sizes, order, inverse),
            batch_first=True,
            total_length=steps,
        )  # (B, T, D*H), zeros on padded steps
        return outputs, tuple(tensor.index_select(1, inverse) for tensor in final)

    # ---------------------------------------------------------------- loops over time
    def _forward_unfused(
        self, x: Tensor, lengths: Tensor | None, state: State, scan: Scan
    ) -> tuple[Tensor, State]:
        """Layers, directions and padding around ``scan``: the reference ``_scan`` or
        ``fast_cells.fast_scan`` (the same contract). Returns (B, T, D*H), S x (L*D, B, H)."""
        steps = x.size(1)
        valid: Tensor | None = None
        reverse_index: Tensor | None = None
        if lengths is not None:
            steps_run = int(lengths.max())  # nothing to compute past the longest sequence
            x = x[:, :steps_run]
            time = torch.arange(steps_run, device=x.device)[None, :]  # (1, T')
            valid = (time < lengths[:, None])[..., None]  # (B, T', 1)
            # Step t of the reversed sequence b is step len_b - 1 - t; padding stays put.
            backwards = lengths[:, None] - 1 - time  # (B, T')
            reverse_index = torch.where(backwards >= 0, backwards, time)

        layer_input = x
        finals: list[State] = []
        for layer in range(self.num_layers):
            directions = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                initial = tuple(tensor[index] for tensor in state)  # S x (B, H)
                sequence = layer_input if direction == 0 else _reverse(layer_input, reverse_index)
                outputs, final = scan(self.cells[index], sequence, valid, initial)
                directions.append(outputs if direction == 0 else _reverse(outputs, reverse_index))
                finals.append(final)
            layer_input = torch.cat(directions, dim=-1)  # (B, T', D*H)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)

        outputs = layer_input
        if outputs.size(1) < steps:
            outputs = F.pad(outputs, (0, 0, 0, steps - outputs.size(1)))  # (B, T, D*H)
        outputs = outputs.contiguous()  # fast_scan's outputs are time-major views
        final_state = tuple(
            torch.stack([final[k] for final in finals]) for k in range(self.state_size)
        )  # S x (L*D, B, H)
        return outputs, final_state


def _scan(cell: Cell, sequence: Tensor, valid: Tensor | None, state: State) -> tuple[Tensor, State]:
    """The reference loop: ``cell(x_t, state)`` per step of (B, T, F) ``sequence`` under
    autograd; ``valid`` (B, T, 1) bool or None (all valid). -> (B, T, H), final state."""
    outputs = []
    for t in range(sequence.size(1)):
        h, new_state = cell(sequence[:, t], state)
        if valid is None:
            state = new_state
        else:
            keep = valid[:, t]  # (B, 1)
            # mask*new + (1-mask)*old, as a select so a non-finite padded step cannot leak.
            state = tuple(
                torch.where(keep, new, old) for new, old in zip(new_state, state, strict=True)
            )
            h = h.masked_fill(~keep, 0.0)
        outputs.append(h)
    return torch.stack(outputs, dim=1), state  # (B, T, H)


def _reverse(sequence: Tensor, reverse_index: Tensor | None) -> Tensor:
    """Reverse each (B, T, F) sequence within its own length (an involution)."""
    if reverse_index is None:
        return sequence.flip(1)
    return sequence.gather(1, reverse_index[..., None].expand(-1, -1, sequence.size(-1)))
