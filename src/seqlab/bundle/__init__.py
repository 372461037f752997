"""Bundles: save and load models with their tokenizer, recipe, metrics and card."""

from seqlab.bundle.io import Bundle, load_bundle, save_bundle

__all__ = ["Bundle", "load_bundle", "save_bundle"]
