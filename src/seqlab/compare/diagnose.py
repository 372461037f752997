"""Gradient flow through time and gate saturation of a recurrent model.

Letters: B batch, T time steps, H hidden size, L layers, S state size.

**Gradient flow.** The vanishing-gradient picture of the lecture notes (BPTT: the
gradient reaching h_t is a product of T − t Jacobians ∂h_i/∂h_{i-1}): take the loss of
the *last* step only, L_T, and measure ‖∂L_T/∂h_t‖ for every hidden state h_t of the
top layer, against the distance T − t. Models that predict at every step (logits
(B, T, V)) use the cross-entropy of the last valid step; models that predict once per
sequence (logits (B, C)) their cross-entropy. Each example contributes its own
gradient norm (the loss is summed over the batch, not averaged); the curve is the mean
over examples and over a few batches. ∂L_T/∂h_t is the total derivative — through
h_{t+1}, and for LSTMs through c_{t+1} too.

**Gate saturation.** The fraction of gate activations (sigmoids in (0, 1)) below 0.1 or
above 0.9, with histograms. The gates are recomputed, at every step, from the cell's
own parameters and its inputs (x_t, state) by a small function per cell in
:data:`GATES` — the cells keep no record of them.

Both come from one forward pass in which the model's :class:`~seqlab.nn.recurrent.
Recurrent` runs step by step through this module's loop (calling each cell as
``cell(x_t, state)``, the cell contract) instead of its own, so the hidden states of
the top layer can keep their gradients. The model is in eval mode (no dropout).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab import atomic
from seqlab.errors import UserError
from seqlab.nn.recurrent import Recurrent

BINS = 20  # histogram bins over [0, 1]
LOW, HIGH = 0.1, 0.9  # a gate activation below LOW or above HIGH is saturated
GATE_NAMES = {"i": "input", "f": "forget", "o": "output", "r": "reset", "z": "update"}

State = tuple[Tensor, ...]
GateFn = Callable[[nn.Module, Tensor, State], dict[str, Tensor]]


# ---------------------------------------------------------------- gates, per cell
def _torch_layout(blocks: str, gates: str) -> GateFn:
    """Cells in torch's layout: W_ih x + b_ih + W_hh h + b_hh cut into ``blocks``."""

    def compute(cell: nn.Module, x: Tensor, state: State) -> dict[str, Tensor]:
        total = F.linear(x, cell.weight_ih, cell.bias_ih) + F.linear(
            state[0], cell.weight_hh, cell.bias_hh
        )
        parts = dict(zip(blocks, total.chunk(len(blocks), dim=1), strict=True))
        return {name: torch.sigmoid(parts[name]) for name in gates}

    return compute


def _raw_input(cell: nn.Module, x: Tensor) -> Tensor:
    """MUT1/MUT2's x_t as a hidden-size vector: itself, or its learned projection."""
    projection = getattr(cell, "input_projection", None)
    return x if projection is None else F.linear(x, projection)


def _mut1(cell: nn.Module, x: Tensor, state: State) -> dict[str, Tensor]:
    (h,) = state
    return {
        "z": torch.sigmoid(F.linear(x, cell.weight_xz, cell.bias_z)),
        "r": torch.sigmoid(F.linear(x, cell.weight_xr, cell.bias_r) + F.linear(h, cell.weight_hr)),
    }


def _mut2(cell: nn.Module, x: Tensor, state: State) -> dict[str, Tensor]:
    (h,) = state
    return {
        "z": torch.sigmoid(F.linear(x, cell.weight_xz, cell.bias_z) + F.linear(h, cell.weight_hz)),
        "r": torch.sigmoid(_raw_input(cell, x) + F.linear(h, cell.weight_hr, cell.bias_r)),
    }


def _mut3(cell: nn.Module, x: Tensor, state: State) -> dict[str, Tensor]:
    (h,) = state
    return {
        "z": torch.sigmoid(
            F.linear(x, cell.weight_xz, cell.bias_z) + F.linear(torch.tanh(h), cell.weight_hz)
        ),
        "r": torch.sigmoid(F.linear(x, cell.weight_xr, cell.bias_r) + F.linear(h, cell.weight_hr)),
    }


# Cell name (seqlab.nn.cells.CELLS) -> its sigmoid gates at one step, each (B, H).
# The equations are the cells' own (cells.py); tests check them against the sigmoids
# the cells compute. A cell missing here is diagnosed without gates.
GATES: dict[str, GateFn] = {
    "rnn_tanh": lambda cell, x, state: {},
    "lstm": _torch_layout("ifgo", "ifo"),  # torch's block order i, f, g, o
    "lstm_b": _torch_layout("ifgo", "ifo"),
    "lstm_f": _torch_layout("igo", "io"),
    "lstm_i": _torch_layout("fgo", "fo"),
    "lstm_o": _torch_layout("ifg", "if"),
    "gru": _torch_layout("rzn", "rz"),  # r, z = σ(W_i x + b_i + W_h h + b_h); n is tanh
    "mut1": _mut1,
    "mut2": _mut2,
    "mut3": _mut3,
}


# ---------------------------------------------------------------- the result
@dataclass
class Diagnosis:
    """Gradient flow and gate statistics of one model.

    ``norms[d]``: mean ‖∂L_T/∂h_{T-d}‖ over ``counts[d]`` examples, d = 0 .. T-1;
    ``histograms[g]``: the fraction of gate ``g``'s activations in each of BINS bins
    over [0, 1]; ``saturation[g]``: the fraction below LOW or above HIGH.
    """

    label: str
    cell: str
    norms: list[float]
    counts: list[int]
    histograms: dict[str, list[float]] = field(default_factory=dict)
    saturation: dict[str, float] = field(default_factory=dict)

    def ratio(self, distance: int) -> float:
        """‖∂L_T/∂h_{T-d}‖ / ‖∂L_T/∂h_T‖ (nan beyond the measured distances)."""
        if distance >= len(self.norms) or not self.norms[0]:
            return math.nan
        return self.norms[distance] / self.norms[0]

    def decay_per_step(self) -> float:
        """The mean factor by which the gradient norm shrinks per step back in time."""
        last = len(self.norms) - 1
        ratio = self.ratio(last)
        return ratio ** (1 / last) if last > 0 and ratio > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Diagnosis:
        return cls(**raw)


# ---------------------------------------------------------------- the traced forward
class _Trace:
    """What the traced forward records: the top layer's h_t and gate statistics."""

    def __init__(self, gates: GateFn | None) -> None:
        self.gates = gates
        self.hidden: list[Tensor] = []  # T x (B, H), each retaining its gradient
        self.histograms: dict[str, Tensor] = {}
        self.saturated: dict[str, float] = {}
        self.total: dict[str, float] = {}

    def record_gates(self, cell: nn.Module, x: Tensor, state: State, keep: Tensor | None) -> None:
        if self.gates is None:
            return
        with torch.no_grad():
            for name, values in self.gates(cell, x, state).items():
                values = (values if keep is None else values[keep]).float().flatten()
                histogram = torch.histc(values, bins=BINS, min=0.0, max=1.0)
                self.histograms[name] = self.histograms.get(name, 0) + histogram
                saturated = ((values < LOW) | (values > HIGH)).sum().item()
                self.saturated[name] = self.saturated.get(name, 0.0) + saturated
                self.total[name] = self.total.get(name, 0.0) + values.numel()


def find_recurrent(model: nn.Module) -> Recurrent:
    """The model's unidirectional recurrent stack; a UserError if it has none."""
    stacks = [m for m in model.modules() if isinstance(m, Recurrent)]
    if not stacks:
        raise UserError(
            "diagnose needs a recurrent encoder; this model has none",
            "use a model whose [model.encoder] type is a cell (lstm, gru, ...)",
        )
    if stacks[0].bidirectional:
        raise UserError(
            "diagnose measures gradients through time of a unidirectional stack; "
            "this encoder is bidirectional",
            "set model.encoder.bidirectional = false",
        )
    return stacks[0]


@contextmanager
def traced(rnn: Recurrent, trace: _Trace) -> Iterator[None]:
    """Run ``rnn`` step by step through :func:`_scan_stack` while the block lasts."""

    def forward(
        x: Tensor,
        lengths: Tensor | None = None,
        state: State | Tensor | None = None,
        mask: Tensor | None = None,
    ) -> tuple[Tensor, State]:
        return _scan_stack(rnn, trace, x, lengths, state, mask)

    rnn.forward = forward  # an instance attribute: nn.Module.__call__ finds it first
    try:
        yield
    finally:
        del rnn.forward


def _scan_stack(
    rnn: Recurrent,
    trace: _Trace,
    x: Tensor,
    lengths: Tensor | None,
    state: State | Tensor | None,
    mask: Tensor | None,
) -> tuple[Tensor, State]:
    """Recurrent's unfused forward, unidirectional, keeping the top layer's h_t.

    x (B, T, I) (or (T, B, I)); returns outputs (B, T, H), zero on padded steps, and the
    final state, S x (L, B, H) — the same contract as ``Recurrent.forward``.
    """
    if not rnn.batch_first:
        x = x.transpose(0, 1)
    batch_size, steps, _ = x.shape
    if mask is not None:
        lengths = mask.sum(dim=1)
    valid = None
    if lengths is not None:
        lengths = torch.as_tensor(lengths, device=x.device)
        valid = torch.arange(steps, device=x.device)[None, :] < lengths[:, None]  # (B, T)
    if state is None:
        shape = (rnn.num_layers, batch_size, rnn.hidden_size)
        state = tuple(x.new_zeros(shape) for _ in range(rnn.state_size))
    elif isinstance(state, Tensor):
        state = (state,)
    layer_input, finals = x, []
    for layer, cell in enumerate(rnn.cells):
        top = layer == rnn.num_layers - 1
        carried = tuple(tensor[layer] for tensor in state)  # S x (B, H)
        outputs = []
        for t in range(steps):
            x_t = layer_input[:, t]
            keep = None if valid is None else valid[:, t]  # (B,)
            if top:
                trace.record_gates(cell, x_t, carried, keep)
            h, new = cell(x_t, carried)
            if top and new[0].requires_grad:
                new[0].retain_grad()  # the h_t the next step reads
                trace.hidden.append(new[0])
            if keep is None:
                carried = new
            else:
                carried = tuple(
                    torch.where(keep[:, None], n, o) for n, o in zip(new, carried, strict=True)
                )
                h = h.masked_fill(~keep[:, None], 0.0)
            outputs.append(h)
        layer_input = torch.stack(outputs, dim=1)  # (B, T, H)
        if rnn.dropout > 0 and rnn.training and not top:
            layer_input = F.dropout(layer_input, rnn.dropout, training=True)
        finals.append(carried)
    final = tuple(torch.stack([f[k] for f in finals]) for k in range(rnn.state_size))
    outputs = layer_input if rnn.batch_first else layer_input.transpose(0, 1)
    return outputs, final


def last_step_loss(logits: Tensor, batch: Any) -> Tensor:
    """L_T summed over the batch: the last valid step's cross-entropy (logits (B, T, V)),
    or the sequence's (logits (B, C))."""
    if batch.targets is None:
        raise UserError("diagnose needs batches with targets", "use the valid split")
    if logits.dim() == 3:
        rows = torch.arange(logits.size(0), device=logits.device)
        last = batch.lengths.to(logits.device) - 1
        return F.cross_entropy(
            logits[rows, last].float(), batch.targets[rows, last], reduction="sum"
        )
    return F.cross_entropy(logits.float(), batch.targets, reduction="sum")


def diagnose_model(
    model: nn.Module, batches: Any, max_batches: int = 4, label: str = ""
) -> Diagnosis:
    """Gradient flow and gate saturation of ``model`` over the first ``max_batches`` batches.

    ``model(batch)`` must return an output with ``logits``; ``batches`` yield batches with
    ``inputs``, ``lengths`` (B,) and ``targets``. The weights are not changed.
    """
    rnn = find_recurrent(model)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    sums = torch.zeros(0, dtype=torch.float64)
    counts = torch.zeros(0, dtype=torch.float64)
    trace = _Trace(GATES.get(rnn.cell_name))
    used = 0
    try:
        for batch in batches:
            if used == max_batches:
                break
            used += 1
            batch = batch.to(device)
            trace.hidden = []
            with torch.enable_grad(), traced(rnn, trace):
                output = model(batch)
                if not trace.hidden:
                    raise UserError("the recurrent weights do not require gradients")
                last_step_loss(output.logits, batch).backward()
            grads = [h.grad if h.grad is not None else torch.zeros_like(h) for h in trace.hidden]
            norms = torch.stack(grads, dim=1).double().norm(dim=-1).cpu()  # (B, T)
            steps = norms.size(1)
            last = batch.lengths.cpu()[:, None] - 1  # (B, 1)
            distance = last - torch.arange(steps)[None, :]  # (B, T): T - t per example
            ok = distance >= 0
            sums = _add(sums, torch.bincount(distance[ok], weights=norms[ok], minlength=steps))
            counts = _add(counts, torch.bincount(distance[ok], minlength=steps).double())
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    if used == 0:
        raise UserError("diagnose got no batches", "use a split with data")
    measured = counts > 0
    norms = (sums[measured] / counts[measured]).tolist()
    histograms = {
        name: (values / max(float(values.sum()), 1.0)).tolist()
        for name, values in trace.histograms.items()
    }
    saturation = {name: trace.saturated[name] / trace.total[name] for name in trace.total}
    return Diagnosis(
        label or rnn.cell_name,
        rnn.cell_name,
        norms,
        [int(c) for c in counts[measured].tolist()],
        histograms,
        saturation,
    )


def _add(total: Tensor, new: Tensor) -> Tensor:
    size = max(total.numel(), new.numel())
    return F.pad(total, (0, size - total.numel())) + F.pad(new.double(), (0, size - new.numel()))


# ---------------------------------------------------------------- bundles and recipes
def with_overrides(recipe: Any, overrides: list[str]) -> Any:
    """``recipe`` with ``--set``-style overrides applied (validated again)."""
    if not overrides:
        return recipe
    from seqlab.recipe import apply_overrides, recipe_from_dict, recipe_to_dict

    return recipe_from_dict(apply_overrides(recipe_to_dict(recipe), overrides))


def diagnose_bundle(
    bundle: Any,
    batches: int = 4,
    overrides: list[str] | None = None,
    label: str = "",
    prepared: Any = None,
) -> Diagnosis:
    """Diagnose a trained model on its recipe's valid split (``overrides`` e.g. a longer
    ``data.bptt``). ``bundle``: a loaded bundle or its folder; ``prepared``: the data,
    when the caller has it already (the same recipe prepares the same encoding)."""
    from seqlab.bundle import load_bundle

    if not hasattr(bundle, "model"):
        bundle = load_bundle(bundle)
    if bundle.recipe is None:
        raise UserError(f"bundle {bundle.path} has no recipe", "re-create it with seqlab train")
    if prepared is None:
        recipe = with_overrides(bundle.recipe, overrides or [])
        prepared = bundle.family.prepare(recipe, bundle.preprocessing, bundle.tokenizer)
    return diagnose_model(
        bundle.model, prepared.batches["valid"], batches, label or bundle.recipe.name
    )


def diagnose_recipe(
    recipe: Any, batches: int = 4, overrides: list[str] | None = None, label: str = ""
) -> Diagnosis:
    """Diagnose the model a recipe builds, untrained (at its initialisation)."""
    from seqlab.train.loop import seed_everything

    recipe = with_overrides(recipe, overrides or [])
    seed_everything(recipe.train.seed)
    prepared = recipe.family.prepare(recipe)
    model = recipe.family.new_model(recipe, prepared)
    return diagnose_model(model, prepared.batches["valid"], batches, label or recipe.name)


def diagnose_path(
    path: str | Path, batches: int = 4, overrides: list[str] | None = None
) -> list[Diagnosis]:
    """A bundle folder (trained), a recipe (at init) or a compare recipe (each row at init,
    sizes solved as ``seqlab compare`` would)."""
    from seqlab.recipe import load_recipe_dict, recipe_from_dict

    path = Path(path)
    if path.is_dir():
        return [diagnose_bundle(path, batches, overrides)]
    raw = load_recipe_dict(path)
    if "compare" not in raw:
        return [diagnose_recipe(recipe_from_dict(raw), batches, overrides)]
    from seqlab.compare.grid import plan_compare

    plan = plan_compare(path)
    extra = [*plan.config.diagnose_set, *(overrides or [])]
    return [
        diagnose_recipe(point.recipe, batches, extra, label=point.row)
        for point in plan.points
        if point.first
    ]


# ---------------------------------------------------------------- plots
def _save(fig: Any, path: str | Path) -> None:
    from seqlab.evaluate.plots import save_figure

    save_figure(fig, path)


def plot_gradient_flow(diagnoses: list[Diagnosis], path: str | Path) -> None:
    """‖∂L_T/∂h_t‖ / ‖∂L_T/∂h_T‖ against T − t, one line per model, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for diagnosis in diagnoses:
        ratios = [diagnosis.ratio(d) for d in range(len(diagnosis.norms))]
        ax.plot(range(len(ratios)), ratios, label=diagnosis.label, linewidth=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("distance T − t (steps back from the loss)")
    ax.set_ylabel("‖∂L_T/∂h_t‖ / ‖∂L_T/∂h_T‖")
    ax.set_title("gradient flow through time (top layer)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    _save(fig, path)


def plot_gate_saturation(diagnoses: list[Diagnosis], path: str | Path) -> None:
    """Per model: the histogram of each gate's activations, with its saturated fraction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(5, len(diagnoses))
    rows = math.ceil(len(diagnoses) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), dpi=100)
    axes = [axes] if len(diagnoses) == 1 else list(getattr(axes, "flat", axes))
    edges = [i / BINS for i in range(BINS + 1)]
    for ax, diagnosis in zip(axes, diagnoses, strict=False):
        ax.set_title(diagnosis.label, fontsize=9)
        if not diagnosis.histograms:
            ax.text(0.5, 0.5, "no gates", ha="center", va="center", transform=ax.transAxes)
        for name, fractions in diagnosis.histograms.items():
            share = diagnosis.saturation[name]
            label = f"{name} ({GATE_NAMES.get(name, name)}) {share:.0%} sat."
            ax.stairs(fractions, edges, label=label, linewidth=1.3)
        ax.axvspan(0, LOW, color="grey", alpha=0.15)
        ax.axvspan(HIGH, 1, color="grey", alpha=0.15)
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=7)
        if diagnosis.histograms:
            ax.legend(fontsize=6)
    for ax in axes[len(diagnoses) :]:
        ax.axis("off")
    fig.suptitle(f"gate activations (shaded: < {LOW} or > {HIGH}, saturated)", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def write_diagnoses(diagnoses: list[Diagnosis], out: str | Path) -> dict[str, Path]:
    """``gradient_flow.png``, ``gate_saturation.png`` and ``diagnose.json`` in ``out``."""
    import json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "gradient_flow": out / "gradient_flow.png",
        "gate_saturation": out / "gate_saturation.png",
        "json": out / "diagnose.json",
    }
    plot_gradient_flow(diagnoses, paths["gradient_flow"])
    plot_gate_saturation(diagnoses, paths["gate_saturation"])
    atomic.write_text(paths["json"], json.dumps([d.to_dict() for d in diagnoses], indent=1))
    return paths
