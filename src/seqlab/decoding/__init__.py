"""seqlab.decoding."""
