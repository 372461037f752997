"""Transfer learning: pretrained encoders as a recipe choice, freezing, gradual
unfreezing, discriminative learning rates (``seqlab.transfer.tuning``), text embedders
(``seqlab.transfer.embedder``) and per-layer probes (``seqlab.transfer.probe``)."""
