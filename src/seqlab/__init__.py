"""seqlab: neural networks over sequences — text and time series."""

from seqlab.errors import UserError

__version__ = "0.1.0"
__all__ = ["UserError", "__version__"]
