"""seqlab.data."""
