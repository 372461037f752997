"""seqlab.bundle."""
