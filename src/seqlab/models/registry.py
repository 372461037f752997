"""The model families, by name: one plain dict (DESIGN.md §4)."""

from __future__ import annotations

from torch import nn

from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.models.lm import LanguageModel, LanguageModelConfig

MODELS: dict[str, tuple[type, type[nn.Module]]] = {
    "classifier": (SequenceClassifierConfig, SequenceClassifier),
    "lm": (LanguageModelConfig, LanguageModel),
}
