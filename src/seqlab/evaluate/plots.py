"""PNG plots of training runs (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from seqlab import atomic


def figure_png(fig: Any, dpi: float | None = None) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def save_figure(fig: Any, path: str | Path) -> None:
    """Write the figure as a PNG file atomically (never half-written); it is closed."""
    atomic.write_bytes(path, figure_png(fig))


def plot_history(history: list[dict[str, Any]], path: str | Path) -> None:
    """Train and validation loss per epoch (and the validation metric, if any)."""
    if not history:
        return
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(epochs, [h["train_loss"] for h in history], "o-", label="train loss")
    ax.plot(epochs, [h["valid_loss"] for h in history], "s-", label="valid loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (nats)")
    ax.grid(alpha=0.3)
    extra = next((k for k in ("valid_accuracy", "valid_ppl") if k in history[0]), None)
    if extra:
        twin = ax.twinx()
        twin.plot(epochs, [h[extra] for h in history], "^--", color="tab:green", label=extra)
        twin.set_ylabel(extra)
        lines = ax.get_lines() + twin.get_lines()
        ax.legend(lines, [line.get_label() for line in lines], loc="best")
    else:
        ax.legend(loc="best")
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    save_figure(fig, path)


def plot_attention(
    weights: list[list[float]], source: list[str], target: list[str], path: str | Path
) -> None:
    """A (target x source) attention heatmap as a PNG file (:func:`attention_png`)."""
    atomic.write_bytes(path, attention_png(weights, source, target))


def attention_png(weights: list[list[float]], source: list[str], target: list[str]) -> bytes:
    """A (target x source) attention heatmap: row t = where the decoder looked when it
    wrote target token t."""
    rows, columns = len(target), len(source)
    size = (max(3.0, 0.45 * columns + 1.5), max(2.5, 0.4 * rows + 1.2))
    fig, ax = plt.subplots(figsize=size, layout="constrained")  # room for long token labels
    image = ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(columns), source, rotation=90 if columns > 12 else 0)
    ax.set_yticks(range(rows), target)
    ax.set_xlabel("source")
    ax.set_ylabel("target")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return figure_png(fig, dpi=100)


def forecast_png(
    history: Any,
    truth: Any,
    forecast: Any,
    band: tuple[Any, Any] | None = None,
    title: str = "",
) -> bytes:
    """History (S,), then the horizon's truth (None: the future, unknown) and forecast
    (H,), and the forecast's interval (two (H,) arrays) as a shaded band."""
    import numpy as np

    seen, horizon = len(history), len(forecast)
    before, after = np.arange(seen), np.arange(seen, seen + horizon)
    fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
    ax.plot(before, history, color="0.35", linewidth=1, label="history")
    if truth is not None:
        ax.plot(after, truth, color="black", linewidth=1.5, label="actual")
    ax.plot(after, forecast, color="tab:blue", linewidth=1.5, label="forecast")
    if band is not None:
        ax.fill_between(after, band[0], band[1], color="tab:blue", alpha=0.2, label="interval")
    ax.axvline(seen - 0.5, color="0.6", linestyle=":", linewidth=1)
    ax.set_xlabel("step")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8, ncols=4)
    return figure_png(fig, dpi=100)
