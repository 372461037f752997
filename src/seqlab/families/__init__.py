"""The families, by task name: one plain dict, the only place that lists tasks.

Task names are the Hugging Face Hub's where one exists. Adding a family = its module
here, a recipe, one line below, its tests (docs/architecture.md).
"""

from __future__ import annotations

from seqlab.errors import UserError, did_you_mean
from seqlab.families.anomaly import TimeSeriesAnomaly
from seqlab.families.base import Family, GenerateRequest, GenerateResponse, Prepared
from seqlab.families.classification import SeriesClassification, TextClassification
from seqlab.families.fill_mask import FillMask
from seqlab.families.forecasting import TimeSeriesForecasting
from seqlab.families.generation import TextGeneration
from seqlab.families.similarity import SentenceSimilarity
from seqlab.families.tagging import TokenClassification
from seqlab.families.translation import Translation

FAMILIES: dict[str, Family] = {
    "text-classification": TextClassification(),
    "time-series-classification": SeriesClassification(),
    "text-generation": TextGeneration(),
    "fill-mask": FillMask(),
    "translation": Translation(),
    "token-classification": TokenClassification(),
    "time-series-forecasting": TimeSeriesForecasting(),
    "time-series-anomaly": TimeSeriesAnomaly(),
    "sentence-similarity": SentenceSimilarity(),
}


def get_family(task: object) -> Family:
    """The family of a recipe's or bundle's ``task``; an unknown name is a UserError."""
    if task not in FAMILIES:
        raise UserError(f"unknown task '{task}'", did_you_mean(task, FAMILIES))
    return FAMILIES[task]  # type: ignore[index]


__all__ = ["FAMILIES", "Family", "GenerateRequest", "GenerateResponse", "Prepared", "get_family"]
