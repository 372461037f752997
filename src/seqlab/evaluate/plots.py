"""PNG plots of training runs (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from seqlab import atomic


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
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic.write_bytes(path, buffer.getvalue())
