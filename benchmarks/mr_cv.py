"""MR sentence polarity, 10-fold cross-validation (Kim 2014's protocol).

For each stratified fold: the BiLSTM of `recipes/mr-bilstm.toml` (validation = 10% of
the training folds, for early stopping) and TF-IDF + logistic regression on the same
folds. Prints per-fold and mean accuracy beside Kim 2014 (CNN 81.5%, NB-SVM 79.4%).
Exits 1 if the BiLSTM's mean is below the TF-IDF baseline minus `--margin`.

    .venv/bin/python benchmarks/mr_cv.py              # 10 folds (~15 min on 2 cores)
    .venv/bin/python benchmarks/mr_cv.py --folds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

from seqlab.data.datasets import load_dataset
from seqlab.recipe import load_recipe
from seqlab.train.loop import fit, seed_everything

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=10, help="run the first N of the 10 folds")
    parser.add_argument("--margin", type=float, default=0.02)
    args = parser.parse_args()
    mr = load_dataset("mr")
    recipe = load_recipe(ROOT / "recipes" / "mr-bilstm.toml", ["train.progress=false"])
    neural, tfidf = [], []
    for fold, ((train_x, train_y), test) in enumerate(mr.kfold(10, seed=0)):
        if fold >= args.folds:
            break
        order = np.random.default_rng(fold).permutation(len(train_y))
        cut = len(order) // 10  # 10% of the training folds for early stopping
        valid, train = order[:cut], order[cut:]
        splits = {
            "valid": ([train_x[i] for i in valid], [train_y[i] for i in valid]),
            "train": ([train_x[i] for i in train], [train_y[i] for i in train]),
            "test": test,
        }
        seed_everything(fold)
        family = recipe.family
        prepared = family.from_splits(recipe, splits, list(mr.label_names), "MR fold")
        model = family.new_model(recipe, prepared)
        fit(model, prepared.batches["train"], prepared.batches["valid"], recipe.train)
        metrics, _ = family.report(model, prepared, recipe)
        neural.append(metrics["test_accuracy"])
        tfidf.append(metrics["test_tfidf_logreg_accuracy"])
        print(f"fold {fold}: BiLSTM {neural[-1]:.4f}  TF-IDF+LR {tfidf[-1]:.4f}", flush=True)
    mean_n, mean_t = statistics.mean(neural), statistics.mean(tfidf)
    print(
        f"\nMR {len(neural)}-fold CV accuracy: BiLSTM {mean_n:.4f} | TF-IDF+LR {mean_t:.4f} | "
        f"ratio {mean_n / mean_t:.3f} | Kim 2014 CNN-rand 0.761, NB-SVM 0.794"
    )
    return 0 if mean_n >= mean_t - args.margin else 1


if __name__ == "__main__":
    sys.exit(main())
