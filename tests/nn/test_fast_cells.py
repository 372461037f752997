"""Oracle tests for seqlab.nn.fast_cells: every fast path against the reference loop.

The reference is ``Recurrent(..., fused=False)``: one ``cell(x_t, state)`` per step under
autograd (``recurrent._scan``), the cells' own equations (tests/nn/test_cells.py checks
those against the lecture notes). Letters: B batch, T time steps, I input size,
H hidden size, L layers.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor
from torch.func import functional_call

from seqlab.nn.cells import CELLS, FUSED_KINDS
from seqlab.nn.fast_cells import FAST_SCANS
from seqlab.nn.recurrent import Recurrent

I, H, L = 3, 4, 2
LENGTHS = torch.tensor([5, 2, 7, 1])  # variable lengths, unsorted, one full (T = 7)
FAST = sorted(name for name in CELLS if name not in FUSED_KINDS)


def _run(
    model: Recurrent,
    x: Tensor,
    lengths: Tensor | None,
    state: tuple[Tensor, ...],
    weights: list[Tensor],
) -> list[Tensor]:
    """Outputs, final state, and the gradients of a fixed random projection of both
    w.r.t. the inputs, the initial state and every parameter."""
    x = x.detach().requires_grad_()
    state = tuple(s.detach().requires_grad_() for s in state)
    model.zero_grad(set_to_none=True)
    outputs, final = model(x, lengths, state)
    loss = (outputs * weights[0]).sum() + sum(
        (f * w).sum() for f, w in zip(final, weights[1:], strict=True)
    )
    loss.backward()
    return [
        outputs.detach(),
        *(f.detach() for f in final),
        x.grad,
        *(s.grad for s in state),
        *(p.grad for p in model.parameters()),
    ]


def _compare_paths(
    model: Recurrent, x: Tensor, lengths: Tensor | None, atol: float, seed: int = 0
) -> None:
    generator = torch.Generator().manual_seed(seed)
    shape = (model.num_layers * model.num_directions, x.size(0), model.hidden_size)
    state = tuple(
        torch.randn(shape, generator=generator, dtype=x.dtype) for _ in range(model.state_size)
    )
    weights = [torch.randn(*x.shape[:2], model.output_size, generator=generator, dtype=x.dtype)]
    weights += [torch.randn(shape, generator=generator, dtype=x.dtype) for _ in state]
    model.fused = True
    assert model.uses_fast_path and not model.uses_fused_kernel
    fast = _run(model, x, lengths, state, weights)
    model.fused = False
    assert not model.uses_fast_path
    reference = _run(model, x, lengths, state, weights)
    assert len(fast) == len(reference) == 2 + 2 * model.state_size + len(list(model.parameters()))
    for a, b in zip(fast, reference, strict=True):
        assert a is not None and b is not None
        torch.testing.assert_close(a, b, atol=atol, rtol=atol)


def test_every_cell_has_a_fast_exact_path() -> None:
    assert {CELLS[name] for name in FAST} == set(FAST_SCANS)
    for name in CELLS:
        model = Recurrent(name, I, H)
        assert model.uses_fused_kernel != model.uses_fast_path  # fused=True: one of the two


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", FAST)
def test_fast_path_equals_reference_loop_with_gradients(
    cell: str, bidirectional: bool, padded: bool
) -> None:
    """float32, 2 layers (layer 2 reads D*H features; MUT1/2 project x when I != H)."""
    torch.manual_seed(0)
    model = Recurrent(cell, I, H, num_layers=L, bidirectional=bidirectional)
    x = torch.randn(len(LENGTHS), int(LENGTHS.max()), I)
    _compare_paths(model, x, LENGTHS if padded else None, atol=1e-5)


@pytest.mark.parametrize("cell", ["mut1", "mut2"])
def test_fast_path_without_input_projection(cell: str) -> None:
    """I == H: MUT1/2 add x_t itself (no projection parameter)."""
    torch.manual_seed(1)
    model = Recurrent(cell, H, H, num_layers=L)
    assert model.cells[0].input_projection is None
    x = torch.randn(len(LENGTHS), int(LENGTHS.max()), H)
    _compare_paths(model, x, LENGTHS, atol=1e-5)


@pytest.mark.parametrize("cell", FAST)
def test_fast_path_with_dropout_between_layers_in_training(cell: str) -> None:
    """Dropout sits between the layers, outside the scan: same seed, same masks."""
    torch.manual_seed(2)
    model = Recurrent(cell, I, H, num_layers=L, dropout=0.5, bidirectional=True).train()
    x = torch.randn(len(LENGTHS), int(LENGTHS.max()), I)
    results = []
    for fused in (True, False):
        model.fused = fused
        torch.manual_seed(3)
        outputs, final = model(x, LENGTHS)
        (outputs.sum() + final[0].sum()).backward()
        results.append([outputs, *final, *(p.grad.clone() for p in model.parameters())])
        model.zero_grad()
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", FAST)
def test_fast_path_passes_gradcheck_in_float64(cell: str) -> None:
    """The hand-written backward against finite differences, w.r.t. the inputs, the
    initial state and every parameter: tiny, padded, 2 layers, both directions."""
    torch.manual_seed(4)
    model = Recurrent(cell, 2, 2, num_layers=2, bidirectional=True).double()
    lengths = torch.tensor([3, 1, 2])
    names = [name for name, _ in model.named_parameters()]
    x = torch.randn(3, 3, 2, dtype=torch.float64, requires_grad=True)  # (B, T, I)
    state = tuple(
        torch.randn(4, 3, 2, dtype=torch.float64, requires_grad=True)  # (L*D, B, H)
        for _ in range(model.state_size)
    )
    parameters = tuple(p.detach().clone().requires_grad_() for p in model.parameters())

    def run(x: Tensor, *rest: Tensor) -> tuple[Tensor, ...]:
        state, params = rest[: model.state_size], rest[model.state_size :]
        outputs, final = functional_call(
            model,
            dict(zip(names, params, strict=True)),
            (x,),
            {
                "lengths": lengths,
                "state": state,
            },
        )
        return (outputs, *final)

    assert model.uses_fast_path
    assert torch.autograd.gradcheck(run, (x, *state, *parameters), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("cell", FAST)
def test_padded_junk_never_reaches_a_number(cell: str) -> None:
    """NaN / inf on padded steps: outputs, final state and every gradient are those of the
    same batch with zeros there; padded outputs are exactly zero."""
    torch.manual_seed(5)
    model = Recurrent(cell, I, H, num_layers=L, bidirectional=True)
    steps = int(LENGTHS.max())
    valid = torch.arange(steps)[None, :] < LENGTHS[:, None]  # (B, T)
    clean = torch.randn(len(LENGTHS), steps, I).masked_fill(~valid[..., None], 0.0)
    junk = clean.clone()
    junk[~valid] = torch.tensor([math.nan, math.inf, -math.inf])
    results = []
    for x in (clean, junk):
        x = x.clone().requires_grad_()
        model.zero_grad()
        outputs, final = model(x, LENGTHS)
        (outputs.square().sum() + final[0].sum() + final[-1].sum()).backward()
        assert not outputs[~valid].any()
        results.append([outputs, *final, x.grad, *(p.grad.clone() for p in model.parameters())])
    for a, b in zip(*results, strict=True):
        assert torch.isfinite(b).all()
        torch.testing.assert_close(a, b, atol=0, rtol=0)


@pytest.mark.parametrize("cell", FAST)
@settings(max_examples=8, deadline=None, database=None)
@given(
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    extra=st.integers(0, 2),
    bidirectional=st.booleans(),
    time_major=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_fast_path_equals_reference_on_random_batches(
    cell: str, lengths: list[int], extra: int, bidirectional: bool, time_major: bool, seed: int
) -> None:
    """Random batch sizes, lengths (some rows full or not), layouts: float64, 1e-10."""
    torch.manual_seed(seed)
    model = Recurrent(
        cell, I, H, num_layers=L, bidirectional=bidirectional, batch_first=not time_major
    ).double()
    x = torch.randn(len(lengths), max(lengths) + extra, I, dtype=torch.float64)
    lengths_tensor = torch.tensor(lengths)
    outputs = []
    for fused in (True, False):
        model.fused = fused
        with torch.no_grad():
            inputs = x.transpose(0, 1) if time_major else x
            out, final = model(inputs, lengths_tensor)
        outputs.append([out, *final])
    for a, b in zip(*outputs, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
    assert outputs[0][0].is_contiguous() or time_major  # like the reference's (B, T, D*H)
