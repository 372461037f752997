"""A tiny compare grid on a synthetic corpus: trains in seconds, no data set needed."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog met"]

BASE = """task = "text-generation"
name = "tiny"

[data]
dataset = "file"
path = "{corpus}"
tokenizer = "whitespace"
batch_size = 4
eval_batch_size = 2
bptt = 8

[model]
embedding_dim = 8
tie_weights = false

[model.encoder]
type = "lstm"
hidden_size = 8

[train]
lr = 0.03
epochs = 1
progress = false
log_every = 2
checkpoint_every = 3

[eval]
samples = 0
baseline = false
"""

COMPARE = """
[compare]
grid = {{ "model.encoder.type" = ["rnn_tanh", "gru"], "train.seed" = [1, 2] }}
budget_tokens = 320
metrics = ["valid_ppl", "test_ppl", "test_loss"]
rank_by = "test_loss"
published = {{ test_loss = {{ rnn_tanh = 4.811, gru = 4.684 }} }}
published_source = "Jozefowicz et al. 2015, 5M, test log-perplexity"
scale_note = "a unit test"
diagnose_batches = 1
{extra}
[[compare.claims]]
text = "GRU beats tanh"
kind = "better"
rows = ["gru", "rnn_tanh"]
"""


def write_tiny(folder: Path, extra: str = "", compare: bool = True) -> Path:
    """A compare recipe (or, ``compare=False``, a plain one) over a 120-line corpus."""
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(CORPUS * 40) + "\n", encoding="utf-8")
    text = BASE.format(corpus=corpus) + (COMPARE.format(extra=extra) if compare else "")
    path = folder / ("tiny-compare.toml" if compare else "tiny.toml")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny(tmp_path)
