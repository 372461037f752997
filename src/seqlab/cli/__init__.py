"""seqlab.cli."""
