"""seqlab.serve."""
