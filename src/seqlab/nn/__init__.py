"""seqlab.nn."""
