"""seqlab.tasks."""
