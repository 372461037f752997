"""``time-series-anomaly``: which series (and which steps of them) are unlike the normal ones.

Data: a labelled series set — ``ucr`` (``data.options = {name = "ECG5000"}``) or
``file`` (one series a row, see :func:`read_series_rows`). The classes named in
``data.normal_classes`` are normal, every other class anomalous. Splits (ucr):

* train: the *normal* series of the archive's TRAIN split, minus a validation slice;
* valid: a seeded slice (``data.valid``, stratified normal / anomalous) of TRAIN with
  both kinds — the early stopping's normal-only loss, and the threshold;
* test: the archive's TEST split (a file: a seeded stratified ``data.test`` share).

Series are z-normalised one by one (``data.normalize = "series"``, mean 0 and sample
standard deviation 1, as the UCR archive ships them: a no-op on ECG5000 up to float
rounding; a constant series becomes zeros), so a raw series in a request is scored on
the same scale. ``"none"`` keeps the values.

Model: :class:`~seqlab.models.autoencoder.SeriesAutoencoder` (a recurrent autoencoder,
or ``mode = "forecast"``: one-step forecast residuals), trained on normal series only.
A series' score is its mean per-step squared error; it is anomalous when the score is
above the threshold that maximises F1 on the validation slice
(:func:`seqlab.evaluate.anomaly.best_threshold`), stored in the bundle.

Report: ROC-AUC, PR-AUC (average precision), and precision / recall / F1 at the
validation threshold, for the model and for a PCA reconstruction baseline fitted on the
same normal training series in the same run (``data.pca_components``: a number of
components, or a share of the variance to explain).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from seqlab.config import PositiveInt
from seqlab.data.batching import Batch, ClassificationBatches, pad_sequences
from seqlab.data.config import DataConfig
from seqlab.data.datasets import load_dataset, split_indices
from seqlab.errors import UserError
from seqlab.evaluate import anomaly as scores
from seqlab.families.base import Family, Prepared, validated
from seqlab.families.classification import SeriesClassification
from seqlab.models.autoencoder import SeriesAutoencoder, SeriesAutoencoderConfig

Fraction = Annotated[float, Field(gt=0, lt=1)]
Splits = dict[str, tuple[list[np.ndarray], list[int]]]  # split -> (series, 1 = anomalous)
DETECTOR_METRICS = ("roc_auc", "pr_auc", "f1", "precision", "recall")
# A plausible heartbeat-length input for `seqlab predict` (140 steps, as ECG5000's).
EXAMPLE = " ".join(f"{math.sin(2 * math.pi * t / 140) * (1 + (t < 20)):.2f}" for t in range(140))


# ---------------------------------------------------------------- configs and schemas
@dataclass
class AnomalyData(DataConfig):
    """The recipe's ``[data]`` for anomaly detection."""

    dataset: str = "ucr"
    normal_classes: list[str] = field(default_factory=lambda: ["1"])
    valid: Fraction = 0.2  # the share of the training series held out (both kinds)
    test: Fraction = 0.2  # a file: the share held out for the test
    normalize: Literal["series", "none"] = "series"
    pca_components: PositiveInt | Fraction = 0.95  # the baseline: K, or a variance share


@dataclass
class AnomalyPreprocessing:
    """Stored in a bundle: the validation threshold, the scaling, the normal classes and
    the training series' lengths (a request outside them is refused)."""

    threshold: float
    normal_classes: list[str]
    normalize: str
    min_length: int
    max_length: int


class AnomalyRequest(BaseModel):
    """One series, oldest step first."""

    model_config = ConfigDict(extra="forbid")

    values: list[float] = Field(min_length=1)


class AnomalyResponse(BaseModel):
    """``score``: the series' mean per-step error; ``anomalous``: score > ``threshold``
    (the bundle's, chosen on validation); ``step_scores`` (T,) the per-step errors;
    ``series`` and ``reconstruction`` (T,): the input as the model read it (normalised)
    and its reconstruction (the one-step forecasts, for a forecast scorer)."""

    score: float
    anomalous: bool
    threshold: float
    step_scores: list[float]
    series: list[float]
    reconstruction: list[float]


@dataclass
class SeriesSplits:
    """What ``prepare`` keeps beside the batches: each split's normalised series and
    0 / 1 (anomalous) labels, and the recipe's data settings (the PCA's components)."""

    splits: Splits
    settings: AnomalyData


# ---------------------------------------------------------------- reading series
def normalise(series: np.ndarray, how: str) -> np.ndarray:
    """(T,) -> (T,) float32: z-normalised with the sample standard deviation ("series";
    a constant series -> zeros) or unchanged ("none")."""
    x = np.asarray(series, dtype=np.float64)
    if how == "series":
        std = x.std(ddof=1) if x.size > 1 else 0.0
        x = (x - x.mean()) / std if std > 0 else x - x.mean()
    return x.astype(np.float32)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_series_rows(
    path: str | Path, length: int | None = None
) -> tuple[list[np.ndarray], list[str] | None]:
    """One series a row of a CSV / TSV / whitespace-separated file -> (series, labels).

    The separator is a tab, a comma or spaces (the first line's). A first line whose first
    field is not a number is a header; a header whose first field is ``label`` or
    ``class`` says the first column holds each row's class. Without a
    header, the first column is a class when every row has exactly ``length + 1`` values
    (the UCR archive's ``NAME_TRAIN.tsv`` layout, ``length`` being the model's fixed
    series length); otherwise rows are unlabelled. Trailing empty or NaN values are
    padding (UCR's variable-length sets); any other value that is not a number is one
    error naming its line and column.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"file not found: {path}", "pass a CSV/TSV with one series a row")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    numbered = [(i, line) for i, line in enumerate(lines, 1) if line.strip()]
    if not numbered:
        raise UserError(f"{path} is empty", "one series a row, values separated by commas")
    first = numbered[0][1]
    separator = "\t" if "\t" in first else "," if "," in first else None

    def fields(line: str) -> list[str]:
        return [f.strip() for f in (line.split(separator) if separator else line.split())]

    labelled: bool | None = None
    head = fields(first)
    if not _is_number(head[0]):  # a data row starts with a number (a value or a class)
        labelled = head[0].lower() in ("label", "class")
        numbered = numbered[1:]
    rows = [(number, fields(line)) for number, line in numbered]
    if not rows:
        raise UserError(f"{path} has a header but no series", "one series a row below it")
    while all(row and row[-1].lower() in ("", "nan") for _, row in rows):
        rows = [(n, row[:-1]) for n, row in rows]  # a column of padding
    if labelled is None:
        labelled = length is not None and all(len(row) == length + 1 for _, row in rows)
    series, labels = [], []
    for number, row in rows:
        label, values = (row[0], row[1:]) if labelled else (None, row)
        while values and values[-1].lower() in ("", "nan"):
            values = values[:-1]  # right padding of a shorter series
        for column, value in enumerate(values, 2 if labelled else 1):
            if not _is_number(value) or not math.isfinite(float(value)):
                raise UserError(
                    f"{path} line {number}, column {column}: {value[:20]!r} is not a number",
                    "one series a row, numbers only (a class first with a 'label' header)",
                )
        if not values:
            raise UserError(f"{path} line {number} has no values", "one series a row")
        series.append(np.asarray([float(v) for v in values], dtype=np.float64))
        labels.append(str(label))
    return series, labels if labelled else None


def anomaly_labels(classes: list[str], normal: list[str]) -> list[int]:
    """1 for every class not in ``normal`` ("1" and "1.0" are the same class)."""

    def key(name: str) -> Any:
        return float(name) if _is_number(name) else name

    normal_keys = {key(n) for n in normal}
    return [int(key(c) not in normal_keys) for c in classes]


# ---------------------------------------------------------------- the family
class TimeSeriesAnomaly(Family):
    task = "time-series-anomaly"
    summary = "numeric series -> anomaly score per series and step; PCA baseline"
    data_config = AnomalyData
    model_config = SeriesAutoencoderConfig
    preprocessing = AnomalyPreprocessing
    Request = AnomalyRequest
    Response = AnomalyResponse
    example = "recipes/ecg5000-anomaly.toml"
    example_input = EXAMPLE
    uses_tokenizer = False
    ts_verbs = ("anomaly",)
    metrics: ClassVar[dict[str, str]] = {
        **SeriesAutoencoder.METRICS,
        **{m: "max" for m in DETECTOR_METRICS},
        **{f"pca_{m}": "max" for m in DETECTOR_METRICS},
    }

    def check_dataset(self, name: str, tasks: tuple[str, ...]) -> None:
        """Labelled series sets (registered for classification) serve detection too."""
        super().check_dataset(name, (*tasks, "time-series-classification"))

    def check_recipe(self, recipe: Any) -> None:
        model: SeriesAutoencoderConfig = recipe.model
        if model.mode == "forecast" and not model.encoder.causal:
            raise UserError(
                "model.mode = 'forecast' predicts each step from the ones before it: "
                "it needs a causal encoder",
                "set model.encoder.bidirectional = false (or causal = true)",
            )
        if model.decoder.bidirectional:
            raise UserError(
                "model.decoder.bidirectional: the decoder writes the series forwards",
                "set model.decoder.bidirectional = false",
            )
        if not recipe.data.normal_classes:
            raise UserError("data.normal_classes is empty", 'e.g. normal_classes = ["1"]')

    # -------------------------------------------------------------- data
    def load_splits(self, recipe: Any) -> tuple[Splits, str]:
        """Raw series and 0/1 labels of train (normal only), valid and test."""
        data: AnomalyData = recipe.data
        if data.dataset == "file":
            if not data.path:
                raise UserError(
                    "data.dataset = 'file' needs data.path", "set data.path = 'series.tsv'"
                )
            series, classes = read_series_rows(data.path)
            if classes is None:
                raise UserError(
                    f"{data.path} has no class column", "add a header line 'label,v1,v2,...'"
                )
            kinds = anomaly_labels(classes, data.normal_classes)
            rest, held = split_indices(
                len(series), (1 - data.test, data.test), data.seed, stratify=kinds
            )
            test_x, test_y = [series[i] for i in held], [kinds[i] for i in held]
            train_x, train_y = [series[i] for i in rest], [kinds[i] for i in rest]
            where = f"`{data.path}`"
        else:
            self.check_dataset(data.dataset, (self.task,))
            ts = load_dataset(data.dataset, **data.options)

            names = ts.label_names
            unknown = sorted(set(data.normal_classes) - set(names))
            if unknown:
                raise UserError(
                    f"data.normal_classes {unknown} are not classes of {ts.name}",
                    f"its classes are {names}",
                )
            train_x, test_x = ts.series("train"), ts.series("test")  # without NaN padding
            train_y = anomaly_labels([names[k] for k in ts.train_y], data.normal_classes)
            test_y = anomaly_labels([names[k] for k in ts.test_y], data.normal_classes)
            where = f"UCR `{ts.name}`"
        fit, held = split_indices(
            len(train_x), (1 - data.valid, data.valid), data.seed, stratify=train_y
        )
        normal = [train_x[i] for i in fit if not train_y[i]]
        splits: Splits = {
            "train": (normal, [0] * len(normal)),
            "valid": ([train_x[i] for i in held], [train_y[i] for i in held]),
            "test": (test_x, test_y),
        }
        limits = {"train": data.limit, "valid": data.eval_limit, "test": data.eval_limit}
        for name, limit in limits.items():
            if limit:  # a seeded random subset: files are often ordered by class
                x, y = splits[name]
                keep = np.sort(np.random.default_rng(data.seed).permutation(len(y))[:limit])
                splits[name] = ([x[i] for i in keep], [y[i] for i in keep])
        for name in ("valid", "test"):
            if len(set(splits[name][1])) < 2:
                raise UserError(
                    f"the {name} split needs normal and anomalous series, it has "
                    f"{len(splits[name][1])} of one kind",
                    "raise data.valid / data.eval_limit, or check data.normal_classes",
                )
        counts = {k: (len(y), sum(y)) for k, (_, y) in splits.items()}
        description = (
            f"{where}, normal = classes {', '.join(data.normal_classes)}: train "
            f"{counts['train'][0]} normal series; valid {counts['valid'][0]} "
            f"({counts['valid'][1]} anomalous, seed {data.seed}); test {counts['test'][0]} "
            f"({counts['test'][1]} anomalous)"
        )
        return splits, description

    def prepare(self, recipe: Any, preprocessing: Any = None, tokenizer: Any = None) -> Prepared:
        """Load, split and normalise; the lengths (and, after training, the threshold) go
        into the preprocessing."""
        data: AnomalyData = recipe.data
        raw, description = self.load_splits(recipe)
        how = preprocessing.normalize if preprocessing is not None else data.normalize
        splits = {k: ([normalise(s, how) for s in x], y) for k, (x, y) in raw.items()}
        if not splits["train"][0]:
            raise UserError("the training split has no normal series", "check data.normal_classes")
        if preprocessing is None:
            lengths = [len(s) for s in splits["train"][0]]
            preprocessing = AnomalyPreprocessing(
                threshold=math.inf,  # set by `train` on the validation slice
                normal_classes=list(data.normal_classes),
                normalize=data.normalize,
                min_length=max(2, min(lengths)),
                max_length=max(lengths),
            )
        batches = {
            name: ClassificationBatches(
                x,
                y,
                batch_size=data.batch_size if name == "train" else data.eval_batch_size,
                shuffle=name == "train",
                seed=data.seed,
                bucket=True,
            )
            for name, (x, y) in splits.items()
        }
        kept = SeriesSplits(splits, data)
        return Prepared(batches, preprocessing, None, description, data=kept)

    def build_model(self, config: SeriesAutoencoderConfig) -> SeriesAutoencoder:
        try:
            return SeriesAutoencoder(config)
        except ValueError as error:
            raise UserError(str(error), "see model.mode and model.encoder") from None

    def new_model(self, recipe: Any, prepared: Prepared) -> SeriesAutoencoder:
        return self.build_model(dataclasses.replace(recipe.model, input_size=1))

    def train(
        self, model: Any, prepared: Prepared, recipe: Any, out: Path, resume: bool, plan: Any = None
    ) -> Any:
        """The loop on normal series, then the F1-best threshold on the validation slice."""
        state = super().train(model, prepared, recipe, out, resume, plan)
        valid_x, valid_y = prepared.data.splits["valid"]
        found = self.score(model, valid_x)["score"]
        prepared.preprocessing.threshold = scores.best_threshold(found, valid_y)
        return state

    # -------------------------------------------------------------- scoring
    @torch.no_grad()
    def score(self, model: SeriesAutoencoder, series: list[np.ndarray], size: int = 256) -> dict:
        """Normalised series -> ``score`` (N,), and per series its ``errors`` (T_i,) and
        ``reconstruction`` (T_i,), in input order. Reads the model only."""
        device = next(model.parameters()).device
        found: dict[str, list] = {"score": [], "errors": [], "reconstruction": []}
        for start in range(0, len(series), size):
            chunk = series[start : start + size]
            padded, lengths = pad_sequences(chunk, dtype=torch.float32)
            output = model(Batch(padded, lengths).to(device))
            errors = output.logits.float().cpu().numpy()
            recon = output.extras["reconstruction"][..., 0].float().cpu().numpy()
            found["score"].extend(output.extras["score"].float().cpu().numpy().tolist())
            for row, n in enumerate(lengths.tolist()):
                found["errors"].append(errors[row, :n])
                found["reconstruction"].append(recon[row, :n])
        found["score"] = np.asarray(found["score"], dtype=np.float64)
        return found

    @staticmethod
    def detector_scores(found: np.ndarray, labels: list[int], threshold: float) -> dict[str, float]:
        at = scores.threshold_scores(found, labels, threshold)
        return {
            "roc_auc": scores.roc_auc(found, labels),
            "pr_auc": scores.pr_auc(found, labels),
            **{k: at[k] for k in ("f1", "precision", "recall")},
        }

    def pca(self, prepared: Prepared) -> tuple[scores.PCABaseline, int]:
        """The baseline fitted on the normal training series (zero-padded to the longest
        series of every split) and that width."""
        kept: SeriesSplits = prepared.data
        width = max(len(s) for x, _ in kept.splits.values() for s in x)
        train = _padded(kept.splits["train"][0], width)
        return scores.PCABaseline.fit(train, kept.settings.pca_components), width

    def evaluate_split(
        self, model: SeriesAutoencoder, prepared: Prepared, recipe: Any
    ) -> dict[str, Any]:
        """Scores of the model and (``eval.baseline``) the PCA on valid and the split."""
        split = recipe.eval.split
        result: dict[str, Any] = {}
        for name in dict.fromkeys(("valid", split)):
            x, y = prepared.data.splits[name]
            result[name] = {"labels": y, "model": self.score(model, x)["score"]}
        if recipe.eval.baseline:
            fitted, width = self.pca(prepared)
            for name in result:
                result[name]["pca"] = fitted.scores(_padded(prepared.data.splits[name][0], width))
            result["pca_components"] = fitted.components.shape[0]
        return result

    def report(
        self, model: SeriesAutoencoder, prepared: Prepared, recipe: Any
    ) -> tuple[dict[str, Any], list[str]]:
        """ROC-AUC, PR-AUC and F1 at the validation threshold: model and PCA."""
        model.eval()
        split = recipe.eval.split
        if len(set(prepared.data.splits[split][1])) < 2:
            raise UserError(
                f"the {split} split holds normal series only: nothing to detect",
                "evaluate on valid or test",
            )
        threshold = prepared.preprocessing.threshold
        result = self.evaluate_split(model, prepared, recipe)
        labels = result[split]["labels"]
        metrics: dict[str, Any] = {
            f"{split}_{k}": v
            for k, v in self.detector_scores(result[split]["model"], labels, threshold).items()
        }
        metrics["valid_roc_auc"] = scores.roc_auc(
            result["valid"]["model"], result["valid"]["labels"]
        )
        metrics["threshold"] = threshold
        name = "autoencoder" if model.config.mode == "autoencoder" else "forecaster"
        if "pca_components" in result:
            valid = result["valid"]
            pca_threshold = scores.best_threshold(valid["pca"], valid["labels"])
            found = self.detector_scores(result[split]["pca"], labels, pca_threshold)
            metrics |= {f"{split}_pca_{k}": v for k, v in found.items()}
            metrics["valid_pca_roc_auc"] = scores.roc_auc(valid["pca"], valid["labels"])
            metrics["pca_threshold"] = pca_threshold
            metrics["pca_components"] = result["pca_components"]
        metrics[f"{split}_series"] = len(labels)
        metrics[f"{split}_anomalous"] = int(sum(labels))
        lines = [
            f"{split} ROC-AUC / PR-AUC / F1 at the validation threshold: {name} "
            f"{metrics[f'{split}_roc_auc']:.4f} / {metrics[f'{split}_pr_auc']:.4f} / "
            f"{metrics[f'{split}_f1']:.4f}"
            + (
                f"; PCA ({metrics['pca_components']} components) "
                f"{metrics[f'{split}_pca_roc_auc']:.4f} / {metrics[f'{split}_pca_pr_auc']:.4f} / "
                f"{metrics[f'{split}_pca_f1']:.4f}"
                if "pca_components" in metrics
                else ""
            )
        ]
        return metrics, lines

    def card_figures(
        self, model: SeriesAutoencoder, prepared: Prepared
    ) -> dict[str, tuple[str, bytes]]:
        """Test score histograms (normal vs anomalous, the threshold) and ROC curves."""
        x, y = prepared.data.splits["test"]
        if len(set(y)) < 2:
            return {}
        found = self.score(model, x)["score"]
        fitted, width = self.pca(prepared)
        pca = fitted.scores(_padded(x, width))
        threshold = prepared.preprocessing.threshold
        return {
            "scores.png": (
                "test scores of normal and anomalous series, and the validation threshold",
                _histogram_png(found, y, threshold),
            ),
            "roc.png": ("test ROC curves: the model and the PCA baseline", _roc_png(found, pca, y)),
        }

    # -------------------------------------------------------------- using a bundle
    def _series(self, processing: AnomalyPreprocessing, request: AnomalyRequest) -> np.ndarray:
        values = np.asarray(request.values, dtype=np.float64)
        if not np.isfinite(values).all():
            raise UserError("the series has a missing or infinite value", "fill it first")
        low, high = processing.min_length, processing.max_length
        if not low <= len(values) <= high:
            trained = f"{low}" if low == high else f"{low} to {high}"
            raise UserError(
                f"the series has {len(values)} steps; this model was trained on series of "
                f"{trained} steps",
                f"give {trained} values",
            )
        return normalise(values, processing.normalize)

    def predict(self, bundle: Any, requests: list[AnomalyRequest]) -> list[AnomalyResponse]:
        """Batched: every request's series is normalised, padded and scored together."""
        processing: AnomalyPreprocessing = bundle.preprocessing
        series = [self._series(processing, r) for r in requests]
        found = self.score(bundle.model, series)
        threshold = processing.threshold
        return [
            AnomalyResponse(
                score=float(score),
                anomalous=bool(score > threshold),
                threshold=threshold,
                step_scores=errors.tolist(),
                series=x.tolist(),
                reconstruction=recon.tolist(),
            )
            for x, score, errors, recon in zip(
                series, found["score"], found["errors"], found["reconstruction"], strict=True
            )
        ]

    def request_from_text(self, text: str, top_k: int = 1, **options: Any) -> BaseModel:
        """``"0.1, 0.5, 0.3"`` or ``"0.1 0.5 0.3"``: one series, read as the series
        classifier reads it (``top_k`` is ignored)."""
        values = SeriesClassification().request_from_text(text).values
        return validated(self.Request, values=values, **options)

    def requests_from_file(
        self, bundle: Any, path: Path, top_k: int = 1
    ) -> list[tuple[str, BaseModel]]:
        """One request a row of a CSV / TSV (:func:`read_series_rows`; a class column is
        read and ignored); shown as ``FILE:ROW``."""
        processing: AnomalyPreprocessing = bundle.preprocessing
        fixed = processing.max_length if processing.min_length == processing.max_length else None
        series, _ = read_series_rows(path, fixed)
        return [
            (f"{path}:{row}", AnomalyRequest(values=s.tolist())) for row, s in enumerate(series, 1)
        ]

    def requests_from_dataset(self, bundle: Any, dataset: str) -> list[tuple[str, BaseModel]]:
        """``seqlab ts anomaly --data ucr/ECG5000``: every series of the test split of a
        registered labelled set, shown with its position and class."""
        name, options = self.dataset_options(bundle.recipe, dataset)
        ts = load_dataset(name, **options)
        return [
            (shown, AnomalyRequest(values=row.tolist())) for shown, row in ts.shown_test_series()
        ]

    def rows(self, shown: str, response: Any) -> list[dict[str, Any]]:
        """One row a series: its score, the verdict, the threshold and its worst step."""
        worst = int(np.argmax(response.step_scores))
        return [
            {
                "input": shown,
                "score": response.score,
                "anomalous": response.anomalous,
                "threshold": response.threshold,
                "worst_step": worst,
                "worst_step_score": response.step_scores[worst],
            }
        ]

    def evaluate_file(self, bundle: Any, path: str) -> dict[str, Any]:
        """ROC-AUC, PR-AUC and F1 at the bundle's threshold on a labelled file."""
        processing: AnomalyPreprocessing = bundle.preprocessing
        fixed = processing.max_length if processing.min_length == processing.max_length else None
        series, classes = read_series_rows(path, fixed)
        if classes is None:
            raise UserError(
                f"{path} has no class column",
                "add a header line 'label,v1,v2,...' (or use the UCR layout: the class first)",
            )
        labels = anomaly_labels(classes, processing.normal_classes)
        if len(set(labels)) < 2:
            raise UserError(
                f"{path} needs normal (classes {processing.normal_classes}) and anomalous rows",
                "add series of both kinds",
            )
        requests = [AnomalyRequest(values=s.tolist()) for s in series]
        found = np.asarray([r.score for r in self.predict(bundle, requests)])
        metrics = self.detector_scores(found, labels, processing.threshold)
        return {**metrics, "threshold": processing.threshold, "series": len(labels),
                "anomalous": int(sum(labels))}  # fmt: skip

    def show(self, response: AnomalyResponse) -> str:
        kind = "anomalous" if response.anomalous else "normal"
        worst = int(np.argmax(response.step_scores))
        return (
            f"{kind} {response.score:.4g} (threshold {response.threshold:.4g}; "
            f"worst step {worst}: {response.step_scores[worst]:.4g})"
        )

    def plot(self, response: AnomalyResponse, path: str, request: Any = None) -> None:
        """The series and its reconstruction above the per-step scores, as a PNG."""
        from seqlab.evaluate.plots import save_figure

        save_figure(_series_figure(response), path)


# ---------------------------------------------------------------- helpers and plots
def _padded(series: list[np.ndarray], width: int) -> np.ndarray:
    """(N, width): series zero-padded on the right (PCA reads fixed-length rows)."""
    return np.stack([np.pad(np.asarray(s, np.float64), (0, width - len(s))) for s in series])


def _histogram_png(found: np.ndarray, labels: list[int], threshold: float) -> bytes:
    import matplotlib.pyplot as plt

    from seqlab.evaluate.plots import figure_png

    y = np.asarray(labels, dtype=bool)
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    bins = np.histogram_bin_edges(np.log10(found + 1e-12), bins=40)
    ax.hist(np.log10(found[~y] + 1e-12), bins=bins, alpha=0.6, label=f"normal ({(~y).sum()})")
    ax.hist(np.log10(found[y] + 1e-12), bins=bins, alpha=0.6, label=f"anomalous ({y.sum()})")
    ax.axvline(np.log10(threshold + 1e-12), color="black", linestyle="--", label="threshold")
    ax.set_xlabel("log10 score (mean squared error per step)")
    ax.set_ylabel("series")
    ax.legend(fontsize=8)
    return figure_png(fig, dpi=100)


def _roc_png(model: np.ndarray, pca: np.ndarray, labels: list[int]) -> bytes:
    import matplotlib.pyplot as plt

    from seqlab.evaluate.plots import figure_png

    fig, ax = plt.subplots(figsize=(4, 4), layout="constrained")
    for name, found in (("model", model), ("PCA", pca)):
        fpr, tpr = scores.roc_curve(found, labels)
        ax.plot(fpr, tpr, label=f"{name} (AUC {scores.roc_auc(found, labels):.3f})")
    ax.plot([0, 1], [0, 1], color="0.7", linestyle=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right", fontsize=8)
    return figure_png(fig, dpi=100)


def _series_figure(response: AnomalyResponse) -> Any:
    import matplotlib.pyplot as plt

    steps = np.arange(len(response.series))
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 4.5), sharex=True, layout="constrained", height_ratios=(2, 1)
    )
    top.plot(steps, response.series, color="black", linewidth=1.2, label="series")
    top.plot(
        steps, response.reconstruction, color="tab:blue", linewidth=1.2, label="reconstruction"
    )
    kind = "anomalous" if response.anomalous else "normal"
    top.set_title(
        f"{kind}: score {response.score:.4g} (threshold {response.threshold:.4g})", fontsize=10
    )
    top.legend(loc="upper right", fontsize=8)
    bottom.bar(steps, response.step_scores, color="tab:red", width=1.0)
    bottom.set_xlabel("step")
    bottom.set_ylabel("squared error")
    return fig


__all__ = ["AnomalyData", "AnomalyRequest", "AnomalyResponse", "TimeSeriesAnomaly"]
