"""seqlab.transfer."""
