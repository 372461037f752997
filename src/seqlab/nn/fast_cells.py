"""Fast exact paths for the cells torch has no fused kernel for: LSTM-f/-i/-o and MUT1-3.

Letters used in shapes: T time steps, B batch size, I input size, H hidden size,
G number of gate blocks, K input-side features.

:func:`fast_scan` is a drop-in for the reference loop ``seqlab.nn.recurrent._scan`` (one
call of ``cell(x_t, state)`` per step under autograd) and gives the same numbers,
gradients and padding semantics. It splits every cell into two parts, as cuDNN does:

1. **Input side, with ordinary autograd over the whole sequence at once.** Every term that
   depends on x_t only is one GEMM for all T steps (``W_ih x_t + b`` with the blocks of
   all gates stacked), plus whole-sequence elementwise terms (MUT1's ``tanh(x_t)``,
   MUT2's raw ``x_t``). Its gradients (dx, dW_ih, db) are therefore big GEMMs too.
2. **The recurrence, a hand-written** ``torch.autograd.Function`` **per cell.** Forward
   runs the time loop with only the recurrent GEMM(s) and in-place gate arithmetic per
   step (no autograd graph), storing the gate activations. Backward runs BPTT by hand:
   per step the gate derivatives (the activation derivatives such as σ(1-σ) are computed
   for all steps at once before the loop) and one GEMM per recurrent matrix
   (``dh_{t-1} = dpre_t W_hh``); at the end every recurrent weight's gradient is one GEMM
   over all T*B rows, ``dW_hh = Σ_t dpre_tᵀ h_{t-1}``.

Padding, as in ``_scan``: state carried unchanged through padded steps, outputs zero there.
Padded inputs are set to zero first (junk, even NaN, there never reaches a number). The
LSTMs select ``where(valid, new, old)`` per step (and pass the gradient of a padded step
straight through). The MUTs need no mask in the loop: their update is
``h' = h + z ⊙ (candidate - h)``, and a pre-activation of -inf for z on padded steps makes
z = σ(-inf) = 0 exactly, so h' = h exactly and every gradient through that step but the
carried one is exactly zero.

Why this design — measured (``benchmarks/cells.py`` and one-off scripts; 2-core AMD EPYC,
AVX2, torch 2.13 CPU, one thread, B=20 H=200 2 layers, forward + backward, machine shared
with other jobs, so ±5%):

* (a) this module: MUT1 0.62-0.69x the fused LSTM's time (T=20 and 35), LSTM-f/-i/-o
  0.78-0.88x, MUT2 0.72-0.79x, MUT3 0.85-0.91x; 1.3-1.8x faster than the reference loop.
* (b) ``torch.compile`` of the cell's step (inductor, fullgraph), the loop and autograd
  around it: 65 s to compile, then MUT1 at 1.50x the LSTM (reference loop 1.26x, (a)
  0.77x in the same run): the compiled graph's call overhead exceeds the fused work.
* (c) TorchScript of MUT1's whole time loop (autograd through the scripted graph): 1.17x
  the LSTM (reference 1.30x, (a) 0.69x); of the no-grad forward loop alone: no gain at
  H=200 (5.25 vs 5.38 ms per layer).
* (d) the same two loops in C++ (``torch.utils.cpp_extension``, ATen calls): 1-5% faster
  than (a), for 2 minutes of g++ per build and a compiler at install time. The time is
  in the small GEMMs and ATen's per-op dispatch, not in Python, so (a) stays.

Smaller measured choices: the input-side copy is the buffer the activations are computed
in (each step's GEMM is an in-place ``addmm_``, no per-step copy of the bias term);
recurrent weights are transposed once per call into a contiguous (in, out) matrix (MKL's
``h @ W`` is faster with W row-major); gate blocks are ordered so one sigmoid activates
all sigmoid gates of a step; on the CPU the MUTs' tanh is 2σ(2u) - 1 (:func:`_prescale`).
MKL's packed GEMM (``torch.ops.mkl._mkl_linear``) and torch.inference_mode gave nothing.

The per-step loop is Python, so it runs unchanged on CUDA (no compile step, no build).
Double backward (``create_graph=True``) is not supported (``once_differentiable``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from seqlab.nn.cells import (
    Cell,
    LSTMFCell,
    LSTMICell,
    LSTMOCell,
    MUT1Cell,
    MUT2Cell,
    MUT3Cell,
    State,
)

# A scan runs one cell over a sequence: (cell, sequence, valid, state) -> (outputs, state).
Scan = Callable[[Cell, Tensor, Tensor | None, State], tuple[Tensor, State]]


def fast_scan(
    cell: Cell, sequence: Tensor, valid: Tensor | None, state: State
) -> tuple[Tensor, State]:
    """Run ``cell`` over ``sequence`` on its fast path; the same contract as ``_scan``.

    Args:
        cell: a cell whose class is in :data:`FAST_SCANS`.
        sequence: (B, T, I) inputs.
        valid: (B, T, 1) bool, True on real steps (a prefix of every row), or None.
        state: the initial state, S tensors (B, H).

    Returns:
        outputs (B, T, H), zero on padded steps, and the final state, S tensors (B, H):
        the state after each row's last valid step.
    """
    x = sequence.transpose(0, 1)  # (T, B, I): per-step slices of time-major buffers are dense
    valid_t = None if valid is None else valid.transpose(0, 1)  # (T, B, 1)
    if valid_t is not None:
        x = x.masked_fill(~valid_t, 0.0)
    outputs, final = _by_class(FAST_SCANS, cell)(cell, x, valid_t, state)  # (T, B, H)
    if valid_t is not None:
        outputs = outputs.masked_fill(~valid_t, 0.0)
    return outputs.transpose(0, 1), final  # (B, T, H)


def _by_class(registry: dict[type[Cell], Any], cell: Cell) -> Any:
    """The entry of ``cell``'s class or its nearest registered base class (a subclass, e.g.
    a LoRA-adapted cell of :mod:`seqlab.nn.lora`, runs its base's fast path)."""
    return next(registry[kind] for kind in type(cell).__mro__ if kind in registry)


def _transposed(weight: Tensor, scale: float = 1.0) -> Tensor:
    """``scale * weight.t()`` as a contiguous (in, out) matrix: MKL's ``h @ W`` with W
    row-major is ~10-25% faster than through a transposed view at B=20, H=200."""
    transposed = weight.t().contiguous()
    return transposed if scale == 1.0 else transposed.mul_(scale)


def _prescale(tensor: Tensor) -> float:
    """2.0 where tanh is computed as 2σ(2u) - 1 (CPU), else 1.0.

    tanh(u) = 2σ(2u) - 1 exactly; torch's CPU tanh is ~3x slower than its sigmoid at
    these sizes (15.8 vs 5.6 us on (20, 200), AVX2), so with the 2 folded into the
    pre-activation's inputs and weights, σ then ``*2 - 1`` saves ~1/3 of every per-step
    tanh. Results differ from torch.tanh by <= 2.4e-7 (float32 rounding).
    """
    return 2.0 if tensor.device.type == "cpu" else 1.0


class _Tanh(torch.autograd.Function):
    """``torch.tanh`` of a whole sequence, as 2σ(2u) - 1 on the CPU (see :func:`_prescale`:
    ~0.5 ms less per (35, 20, 200) tensor); the backward is torch's own tanh_backward."""

    @staticmethod
    def forward(ctx: Any, inputs: Tensor) -> Tensor:
        if _prescale(inputs) == 1.0:
            outputs = torch.tanh(inputs)
        else:
            outputs = torch.mul(inputs, 2.0).sigmoid_().mul_(2.0).sub_(1.0)
        ctx.save_for_backward(outputs)
        return outputs

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (outputs,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, outputs)  # grad * (1 - tanh²)


def _tanh_(pre: Tensor, scale: float) -> Tensor:
    """tanh in place of a pre-activation that was scaled by :func:`_prescale`."""
    return pre.sigmoid_().mul_(2.0).sub_(1.0) if scale == 2.0 else pre.tanh_()


def _blocks(tensor: Tensor, order: list[int]) -> Tensor:
    """``tensor``'s G row blocks (of a (G*H, ·) weight or (G*H,) bias) in ``order``."""
    if order == sorted(order):
        return tensor
    chunks = tensor.chunk(len(order))
    return torch.cat([chunks[k] for k in order])


# ------------------------------------------------------------------ LSTM-f / -i / -o
# Each cell's gate blocks in its own parameter order (cells.py docstrings).
_LSTM_BLOCKS: dict[type[Cell], str] = {LSTMFCell: "igo", LSTMICell: "fgo", LSTMOCell: "ifg"}


def _lstm_family(cell: Cell, x: Tensor, valid: Tensor | None, state: State) -> tuple[Tensor, State]:
    """LSTM ablations; x (T, B, I) -> outputs (T, B, H), (h_T, c_T).

    The blocks are reordered o, i, f (those present: the sigmoid gates, activated by one
    in-place sigmoid), then g: the blocks after o are the ones whose gradient is
    ``dc`` times a factor, so the backward fills them with one broadcast product.
    """
    blocks = _by_class(_LSTM_BLOCKS, cell)
    gates = "".join(k for k in "oif" if k in blocks)
    order = [blocks.index(k) for k in gates + "g"]
    weight_ih = _blocks(cell.weight_ih, order)  # (G*H, I)
    weight_hh = _blocks(cell.weight_hh, order)  # (G*H, H)
    bias = _blocks(cell.bias_ih + cell.bias_hh, order)  # (G*H,)
    inputs = F.linear(x, weight_ih, bias)  # (T, B, G*H): the input GEMM for all steps
    h, c = state
    outputs, h_n, c_n = _LSTMRecurrence.apply(inputs, valid, h, c, weight_hh, gates)
    return outputs, (h_n, c_n)


def _blocks_of(tensor: Tensor, gates: str, hidden: int) -> dict[str, Tensor]:
    """Per gate of ``gates + "g"``, the view (T, B, H) of its block of (T, B, G*H)."""
    return {gate: tensor[..., k * hidden : (k + 1) * hidden] for k, gate in enumerate(gates + "g")}


class _LSTMRecurrence(torch.autograd.Function):
    """The LSTM recurrence with sigmoid gates ``gates`` (a subset of "oif", that order)
    and g (tanh): c_t = f_t c_{t-1} + i_t g_t (a missing gate is 1), h_t = o_t tanh(c_t).

    Inputs: the input side ``W_ih x_t + b_ih + b_hh`` (T, B, G*H), ``valid`` (T, B, 1)
    bool or None, h_0 and c_0 (B, H), ``W_hh`` (G*H, H) in the same block order.
    Outputs: h_1..h_T (T, B, H) (carried, not yet zeroed on padded steps), h_T, c_T.
    """

    @staticmethod
    def forward(
        ctx: Any,
        inputs: Tensor,
        valid: Tensor | None,
        h_0: Tensor,
        c_0: Tensor,
        weight_hh: Tensor,
        gates: str,
    ) -> tuple[Tensor, Tensor, Tensor]:
        steps, batch, _ = inputs.shape
        hidden = h_0.size(1)
        sig = len(gates) * hidden  # columns of the sigmoid blocks; then g
        # The activations are computed in place over a copy of the input side, so each
        # step's GEMM accumulates into it (addmm_, no copy of the bias term per step).
        acts = inputs.clone(memory_format=torch.contiguous_format)  # (T, B, G*H)
        hs = inputs.new_empty(steps + 1, batch, hidden)  # h_0..h_T (carried)
        cs = inputs.new_empty(steps + 1, batch, hidden)  # c_0..c_T
        hs[0], cs[0] = h_0, c_0
        # tanh(c_t): with an output gate (or masks) its own buffer, else it is h_t itself.
        separate_tanh = "o" in gates or valid is not None
        tanh_cs = inputs.new_empty(steps, batch, hidden) if separate_tanh else hs[1:]
        scratch_c, scratch_h = h_0.new_empty(batch, hidden), h_0.new_empty(batch, hidden)
        a_all, a_sig, a_g = acts.unbind(0), acts[..., :sig].unbind(0), acts[..., sig:].unbind(0)
        a = {
            gate: block.unbind(0)
            for gate, block in _blocks_of(acts, gates, hidden).items()
            if gate != "g"
        }
        h_steps, c_steps, tanh_steps = hs.unbind(0), cs.unbind(0), tanh_cs.unbind(0)
        keep = None if valid is None else valid.unbind(0)
        weight_t = _transposed(weight_hh)  # (H, G*H)
        for t in range(steps):
            h_prev, c_prev = h_steps[t], c_steps[t]
            a_all[t].addmm_(h_prev, weight_t)  # the only GEMM of the step
            a_sig[t].sigmoid_()
            g = a_g[t].tanh_()
            c = c_steps[t + 1] if keep is None else scratch_c
            if "f" in gates:  # c = f c_prev (+ i g)
                if "i" in gates:
                    torch.mul(a["f"][t], c_prev, out=c).addcmul_(a["i"][t], g)
                else:
                    torch.addcmul(g, a["f"][t], c_prev, out=c)
            else:
                torch.addcmul(c_prev, a["i"][t], g, out=c)
            if keep is not None:
                torch.where(keep[t], c, c_prev, out=c_steps[t + 1])
            tanh_c = torch.tanh(c_steps[t + 1], out=tanh_steps[t])
            if keep is None:
                if "o" in gates:
                    torch.mul(a["o"][t], tanh_c, out=h_steps[t + 1])
            else:
                h = torch.mul(a["o"][t], tanh_c, out=scratch_h) if "o" in gates else tanh_c
                torch.where(keep[t], h, h_prev, out=h_steps[t + 1])
        ctx.gates = gates
        ctx.save_for_backward(acts, hs, cs, tanh_cs, weight_hh, valid)
        return hs[1:], hs[steps].clone(), cs[steps].clone()

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any, grad_outputs: Tensor, grad_h_n: Tensor, grad_c_n: Tensor
    ) -> tuple[Tensor | None, ...]:
        acts, hs, cs, tanh_cs, weight_hh, valid = ctx.saved_tensors
        gates: str = ctx.gates
        steps, batch, _ = acts.shape
        hidden = hs.size(2)
        # Whole-sequence factors, so a step is a few products (pre = pre-activation):
        #   dpre_o = dh * tanh(c) σ'(o)         dc += dh * o (1 - tanh(c)²)
        #   dpre_i = dc * g σ'(i)    dpre_f = dc * c_prev σ'(f)    dpre_g = dc * i (1 - g²)
        #   dc_prev = dc * f
        factors = torch.empty_like(acts)  # (T, B, G*H)
        parts, whole = _blocks_of(factors, gates, hidden), _blocks_of(acts, gates, hidden)
        g = whole["g"]
        torch.mul(g, g, out=parts["g"]).neg_().add_(1.0)
        if "i" in gates:
            parts["g"].mul_(whole["i"])
        for gate, other in (("o", tanh_cs), ("i", g), ("f", cs[:steps])):
            if gate in gates:
                s = whole[gate]
                torch.mul(s, 1.0 - s, out=parts[gate]).mul_(other)
        to_c = tanh_cs * tanh_cs
        to_c.neg_().add_(1.0)
        if "o" in gates:
            to_c.mul_(whole["o"])
        forget = whole["f"] if "f" in gates else None
        drop = None
        if valid is not None:
            # Padded rows: no gate gradient, dc and dh pass straight to step t-1.
            keep = valid.to(acts.dtype)  # (T, B, 1)
            factors.mul_(keep)
            to_c.mul_(keep)
            if forget is not None:
                forget = torch.where(valid, forget, 1.0)
            drop = (1.0 - keep).unbind(0)
        first = hidden if "o" in gates else 0  # the blocks after o take dc
        count = len(gates) + 1 - (1 if "o" in gates else 0)
        grads = torch.empty_like(acts)  # (T, B, G*H): dL/d pre-activations
        by_dc = factors[..., first:].view(steps, batch, count, hidden).unbind(0)
        grads_by_dc = grads[..., first:].view(steps, batch, count, hidden).unbind(0)
        if "o" in gates:
            o_factor, grads_o = factors[..., :hidden].unbind(0), grads[..., :hidden].unbind(0)
        to_c_steps, grads_steps = to_c.unbind(0), grads.unbind(0)
        forget_steps = None if forget is None else forget.unbind(0)
        earlier = _shifted(grad_outputs)
        dh, dc = grad_h_n + grad_outputs[steps - 1], grad_c_n
        for t in range(steps - 1, -1, -1):
            if "o" in gates:
                torch.mul(dh, o_factor[t], out=grads_o[t])
            dc = torch.addcmul(dc, dh, to_c_steps[t])
            torch.mul(dc.unsqueeze(1), by_dc[t], out=grads_by_dc[t])
            if forget_steps is not None:
                dc = dc * forget_steps[t]
            if drop is None:
                dh = torch.addmm(earlier[t], grads_steps[t], weight_hh)  # (B, H)
            else:
                dh = torch.addcmul(earlier[t], dh, drop[t]).addmm_(grads_steps[t], weight_hh)
        grad_weight = _gram(grads, hs[:steps])  # (G*H, H)
        return grads, None, dh, dc, grad_weight, None


# ------------------------------------------------------------------ MUT1-3
# The input side of each MUT: one GEMM whose output blocks are ``layout`` (z, r, c: the
# pre-activations of z, r and the candidate), and the block computed otherwise. The
# recurrence returns its gradient in the same layout, so nothing is split or re-joined.
def _mut1(cell: Cell, x: Tensor, valid: Tensor | None, state: State) -> tuple[Tensor, State]:
    """MUT1; x (T, B, I) -> outputs (T, B, H), (h_T,). z needs no h."""
    weight = torch.cat([cell.weight_xz, cell.weight_xr])  # (2H, I)
    projected = F.linear(x, weight, torch.cat([cell.bias_z, cell.bias_r]))  # (T, B, 2H)
    candidate = _Tanh.apply(cell._raw_input(x)) + cell.bias_h  # (T, B, H): tanh(x_t) + b_h
    (h,) = state
    outputs, h_n = _MUTRecurrence.apply(
        1, projected, candidate, valid, h, cell.weight_hr, cell.weight_hh
    )
    return outputs, (h_n,)


def _mut2(cell: Cell, x: Tensor, valid: Tensor | None, state: State) -> tuple[Tensor, State]:
    """MUT2; z and r both read h_t, so their recurrent GEMM is one (2H, H) matrix."""
    weight = torch.cat([cell.weight_xz, cell.weight_xh])  # (2H, I)
    projected = F.linear(x, weight, torch.cat([cell.bias_z, cell.bias_h]))  # (T, B, 2H)
    r = cell._raw_input(x) + cell.bias_r  # (T, B, H): x_t + b_r
    weight_gates = torch.cat([cell.weight_hz, cell.weight_hr])  # (2H, H)
    (h,) = state
    outputs, h_n = _MUTRecurrence.apply(2, projected, r, valid, h, weight_gates, cell.weight_hh)
    return outputs, (h_n,)


def _mut3(cell: Cell, x: Tensor, valid: Tensor | None, state: State) -> tuple[Tensor, State]:
    """MUT3; z reads tanh(h_t) and r reads h_t: two recurrent GEMMs before the candidate."""
    weight = torch.cat([cell.weight_xz, cell.weight_xr, cell.weight_xh])  # (3H, I)
    bias = torch.cat([cell.bias_z, cell.bias_r, cell.bias_h])
    projected = F.linear(x, weight, bias)  # (T, B, 3H)
    weight_gates = torch.cat([cell.weight_hz, cell.weight_hr])  # (2H, H), two GEMMs
    (h,) = state
    outputs, h_n = _MUTRecurrence.apply(3, projected, None, valid, h, weight_gates, cell.weight_hh)
    return outputs, (h_n,)


# Variant -> (blocks of ``projected``, the block given apart or "").
_MUT_LAYOUTS = {1: ("zr", "c"), 2: ("zc", "r"), 3: ("zrc", "")}


def _shifted(grad_outputs: Tensor) -> tuple[Tensor, ...]:
    """Step views of the outputs' gradient one step earlier: [t] = dL/dh_t from the
    output h_t, i.e. ``grad_outputs[t - 1]``, and zeros for h_0 (not an output)."""
    steps = grad_outputs.unbind(0)
    return (torch.zeros_like(steps[0]), *steps[:-1])


def _gram(grads: Tensor, inputs: Tensor) -> Tensor:
    """Σ_t grads_tᵀ inputs_t as one GEMM: (T, B, N), (T, B, M) -> (N, M)."""
    rows = grads.size(0) * grads.size(1)
    return grads.reshape(rows, -1).t().mm(inputs.reshape(rows, -1))


class _MUTRecurrence(torch.autograd.Function):
    """The recurrence of MUT ``variant`` (1, 2 or 3; Jozefowicz et al. 2015, cells.py)::

        MUT1: z = σ(a_z)                 r = σ(a_r + W_hr h)
        MUT2: z = σ(a_z + W_hz h)        r = σ(a_r + W_hr h)      (one GEMM for both)
        MUT3: z = σ(a_z + W_hz tanh(h))  r = σ(a_r + W_hr h)
        all:  c = tanh(W_hh (r ⊙ h) + a_c)      h' = c ⊙ z + h ⊙ (1 - z) = h + z (c - h)

    Inputs: ``variant``; ``projected`` (T, B, 2H or 3H), the input-side GEMM's blocks
    in the order of :data:`_MUT_LAYOUTS`, and ``apart`` (T, B, H), the remaining block
    (None for MUT3); ``valid`` (T, B, 1) bool or None (a_z becomes -inf on padded steps,
    so z = 0 there); h_0 (B, H); [W_hz; W_hr] (2H, H) (MUT1: W_hr (H, H)); W_hh (H, H).
    Outputs: h_1..h_T (T, B, H), h_T.
    """

    @staticmethod
    def forward(
        ctx: Any,
        variant: int,
        projected: Tensor,
        apart: Tensor | None,
        valid: Tensor | None,
        h_0: Tensor,
        weight_gates: Tensor,
        weight_hh: Tensor,
    ) -> tuple[Tensor, Tensor]:
        (steps, batch), hidden = projected.shape[:2], h_0.size(1)
        # The activations are computed in place over a copy of the input sides: [z, r, c]
        # (T, B, 3H), so each step's GEMMs accumulate into it (addmm_, no copy per step).
        acts = projected.new_empty(steps, batch, 3 * hidden)
        blocks, apart_block = _MUT_LAYOUTS[variant]
        # On the CPU the candidate's tanh is 2σ(2u) - 1 (see _prescale): its block starts x2.
        scale = _prescale(acts)
        sources = [
            (block, projected[..., k * hidden : (k + 1) * hidden]) for k, block in enumerate(blocks)
        ]
        if apart is not None:
            sources.append((apart_block, apart))
        for block, source in sources:
            column = "zrc".index(block) * hidden
            torch.mul(
                source, scale if block == "c" else 1.0, out=acts[..., column : column + hidden]
            )
        zrs, zs, rs = acts[..., : 2 * hidden], acts[..., :hidden], acts[..., hidden : 2 * hidden]
        candidates = acts[..., 2 * hidden :]
        if valid is not None:
            zs.masked_fill_(~valid, -math.inf)
        if variant == 1:
            zs.sigmoid_()  # z needs no h: the whole sequence at once
        rhs = h_0.new_empty(steps, batch, hidden)  # r ⊙ h
        hs = h_0.new_empty(steps + 1, batch, hidden)  # h_0..h_T
        hs[0] = h_0
        tanh_hs = h_0.new_empty(steps, batch, hidden) if variant == 3 else None
        # Per-step views, made once (each unbind is one call for all T steps).
        z_steps, r_steps = zs.unbind(0), rs.unbind(0)
        zr_steps = zrs.unbind(0) if variant != 1 else ()
        h_steps, rh_steps, c_steps = hs.unbind(0), rhs.unbind(0), candidates.unbind(0)
        tanh_steps = None if tanh_hs is None else tanh_hs.unbind(0)
        weight_gates_t, weight_hh_t = _transposed(weight_gates), _transposed(weight_hh, scale)
        weight_hz_t, weight_hr_t = weight_gates_t[:, :hidden], weight_gates_t[:, hidden:]
        for t in range(steps):
            h_prev = h_steps[t]
            if variant == 1:
                r = r_steps[t].addmm_(h_prev, weight_gates_t).sigmoid_()
            elif variant == 2:
                zr_steps[t].addmm_(h_prev, weight_gates_t).sigmoid_()
                r = r_steps[t]
            else:
                tanh_h = torch.tanh(h_prev, out=tanh_steps[t])
                z_steps[t].addmm_(tanh_h, weight_hz_t)
                r_steps[t].addmm_(h_prev, weight_hr_t)
                zr_steps[t].sigmoid_()
                r = r_steps[t]
            rh = torch.mul(r, h_prev, out=rh_steps[t])
            candidate = _tanh_(c_steps[t].addmm_(rh, weight_hh_t), scale)
            # h' = c z + h (1 - z) as h + z (c - h): z = 0 (padding) gives h exactly.
            torch.lerp(h_prev, candidate, z_steps[t], out=h_steps[t + 1])
        ctx.variant = variant
        ctx.save_for_backward(acts, rhs, hs, tanh_hs, weight_gates, weight_hh)
        return hs[1:], hs[steps].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_outputs: Tensor, grad_h_n: Tensor) -> tuple[Tensor | None, ...]:
        acts, rhs, hs, tanh_hs, weight_gates, weight_hh = ctx.saved_tensors
        variant: int = ctx.variant
        steps, _, hidden = rhs.shape
        zs, rs = acts[..., :hidden], acts[..., hidden : 2 * hidden]
        candidates, h_prevs = acts[..., 2 * hidden :], hs[:steps]
        # Whole-sequence factors, so a step is a few products (pre = pre-activation):
        #   dpre_c = dh' z (1 - c²)    dpre_z = dh' (c - h) σ'(z)    d(rh) = dpre_c W_hh
        #   dpre_r = d(rh) h σ'(r)     dh = dh' (1 - z) + d(rh) r + dpre_r W_hr (+ z's term)
        to_h = 1.0 - zs
        factors = torch.empty_like(acts)  # (T, B, 3H): [to z, to r, to c]
        to_z, to_r = factors[..., :hidden], factors[..., hidden : 2 * hidden]
        to_c = factors[..., 2 * hidden :]
        torch.sub(candidates, h_prevs, out=to_z).mul_(zs).mul_(to_h)
        torch.mul(rs, 1.0 - rs, out=to_r).mul_(h_prevs)
        torch.mul(candidates, candidates, out=to_c).neg_().add_(1.0).mul_(zs)
        grads = torch.empty_like(acts)  # (T, B, 3H): dL/d pre-activations [z, r, c]
        gz, gr, gc = (grads[..., k * hidden : (k + 1) * hidden] for k in range(3))
        gr_steps, gc_steps, fr, fc = gr.unbind(0), gc.unbind(0), to_r.unbind(0), to_c.unbind(0)
        gz_steps, fz = (gz.unbind(0), to_z.unbind(0)) if variant != 1 else ((), ())
        gzr_steps = grads[..., : 2 * hidden].unbind(0) if variant == 2 else ()
        to_h_steps, r_steps = to_h.unbind(0), rs.unbind(0)
        earlier = _shifted(grad_outputs)
        # MUT1's z does not feed the recurrence: dpre_z = dh' (...) for all steps after the
        # loop, from the dh' of every step, kept in ``dhs``.
        dhs = torch.empty_like(rhs) if variant == 1 else None
        dh_steps = None if dhs is None else dhs.unbind(0)
        if variant == 3:
            weight_hz, weight_hr = weight_gates[:hidden], weight_gates[hidden:]
            tanh_deriv = tanh_hs * tanh_hs
            tanh_deriv_steps = tanh_deriv.neg_().add_(1.0).unbind(0)  # 1 - tanh(h)²
        dh = grad_h_n + grad_outputs[steps - 1]
        if dh_steps is not None:
            dh_steps[steps - 1].copy_(dh)
        for t in range(steps - 1, -1, -1):
            d_candidate = torch.mul(dh, fc[t], out=gc_steps[t])
            if variant != 1:
                torch.mul(dh, fz[t], out=gz_steps[t])
            d_rh = torch.mm(d_candidate, weight_hh)  # (B, H)
            torch.mul(d_rh, fr[t], out=gr_steps[t])
            if dh_steps is not None and t > 0:
                dh = torch.addcmul(earlier[t], dh, to_h_steps[t], out=dh_steps[t - 1])
            else:
                dh = torch.addcmul(earlier[t], dh, to_h_steps[t])
            dh.addcmul_(d_rh, r_steps[t])
            if variant == 1:
                dh.addmm_(gr_steps[t], weight_gates)
            elif variant == 2:
                dh.addmm_(gzr_steps[t], weight_gates)
            else:
                dh.addmm_(gr_steps[t], weight_hr)
                dh.addcmul_(torch.mm(gz_steps[t], weight_hz), tanh_deriv_steps[t])
        if dhs is not None:
            torch.mul(dhs, to_z, out=gz)
        if variant == 1:
            grad_gates = _gram(gr, h_prevs)
        elif variant == 2:
            grad_gates = _gram(grads[..., : 2 * hidden], h_prevs)
        else:
            grad_gates = torch.cat([_gram(gz, tanh_hs), _gram(gr, h_prevs)])
        grad_hh = _gram(gc, rhs)
        blocks = _MUT_LAYOUTS[variant][0]
        if blocks == "zrc":
            grad_projected, grad_apart = grads, None
        elif blocks == "zr":
            grad_projected, grad_apart = grads[..., : 2 * hidden], gc
        else:  # "zc": the one copy, MUT2's r is not a GEMM output
            grad_projected, grad_apart = torch.cat([gz, gc], dim=-1), gr
        return None, grad_projected, grad_apart, None, dh, grad_gates, grad_hh


# Cell class -> its fast path: x (T, B, I), valid (T, B, 1) or None, state ->
# outputs (T, B, H) (not yet zeroed on padded steps), final state. ``fast_scan`` wraps it.
FAST_SCANS: dict[type[Cell], Scan] = {
    LSTMFCell: _lstm_family,
    LSTMICell: _lstm_family,
    LSTMOCell: _lstm_family,
    MUT1Cell: _mut1,
    MUT2Cell: _mut2,
    MUT3Cell: _mut3,
}
