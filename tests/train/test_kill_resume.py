"""Exact resume: a run SIGKILLed at three moments mid-epoch and resumed each time ends with
the losses (metrics.jsonl) and the weights of a run that was never interrupted."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

CLASSIFIER = """
task = "text-classification"
name = "kill-clf"
[data]
dataset = "file"
path = "{root}/data.csv"
batch_size = 8
[model]
embedding_dim = 16
embedding_dropout = 0.3
head_dropout = 0.3
pooling = "mean"
[model.encoder]
type = "gru"
hidden_size = 24
num_layers = 2
dropout = 0.3
[train]
epochs = 3
lr = 0.01
early_stopping = 5
monitor = "accuracy"
checkpoint_every = 7
log_every = 1
progress = false
[eval]
samples = 0
baseline = false
"""

LANGUAGE_MODEL = """
task = "text-generation"
name = "kill-lm"
[data]
dataset = "file"
path = "{root}/corpus.txt"
batch_size = 4
eval_batch_size = 4
bptt = 6
[model]
embedding_dim = 16
embedding_dropout = 0.3
[model.encoder]
type = "lstm_b"
hidden_size = 24
[train]
epochs = 3
lr = 0.01
schedule = "cosine"
checkpoint_every = 5
log_every = 1
progress = false
[eval]
samples = 0
baseline = false
"""


def _write_data(root: Path) -> None:
    rng = random.Random(0)
    words = ["great", "fun", "dull", "boring", "film", "plot", "cast", "the", "a", "and"]
    rows = ["label,text"]
    for _ in range(480):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        rows.append(f"{'pos' if ('great' in text or 'fun' in text) else 'neg'},{text}")
    (root / "data.csv").write_text("\n".join(rows) + "\n")
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) for _ in range(900)]
    (root / "corpus.txt").write_text("\n".join(lines) + "\n")


def _train(recipe: Path, out: Path, resume: bool = False) -> subprocess.Popen:
    command = [sys.executable, "-m", "seqlab.cli.main", "--threads", "1", "train", str(recipe)]
    command += ["--out", str(out)] + (["--resume"] if resume else [])
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _last_step(metrics: Path) -> int:
    steps = [0]
    if metrics.exists():
        for line in metrics.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError, KeyError):
                steps.append(json.loads(line)["step"])
    return max(steps)


@pytest.mark.e2e
@pytest.mark.parametrize("text", [CLASSIFIER, LANGUAGE_MODEL], ids=["classifier", "lm"])
def test_sigkill_at_three_moments_then_resume_equals_uninterrupted(
    tmp_path: Path, text: str
) -> None:
    _write_data(tmp_path)
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(text.format(root=tmp_path))
    straight = _train(recipe, tmp_path / "straight")
    assert straight.wait(timeout=300) == 0, straight.stderr.read().decode()
    expected_rows = (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()
    total = max(json.loads(row)["step"] for row in expected_rows)
    per_epoch = total // 3

    rng = random.Random(1)
    # Three moments, one in each third of the run (after the first step checkpoint), never
    # on an epoch boundary.
    targets = [
        rng.randrange(max(k * total // 3, 8) + 2, (k + 1) * total // 3 - 2) for k in range(3)
    ]
    targets = [t + 1 if t % per_epoch == 0 else t for t in targets]
    out = tmp_path / "killed"
    kills = 0
    for index, target in enumerate(targets):
        process = _train(recipe, out, resume=index > 0)
        while process.poll() is None and _last_step(out / "metrics.jsonl") < target:
            time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
    assert kills == 3, "every kill must land while the run is training"
    final = _train(recipe, out, resume=True)
    assert final.wait(timeout=300) == 0, final.stderr.read().decode()

    got_rows = (out / "metrics.jsonl").read_text().splitlines()
    assert got_rows == expected_rows  # every step logged once, with the same loss
    a = load_file(tmp_path / "straight" / "bundle" / "model.safetensors")
    b = load_file(out / "bundle" / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
