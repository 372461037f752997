"""seqlab.evaluate."""
