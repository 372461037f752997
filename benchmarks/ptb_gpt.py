"""A GPT beside the Zaremba-small LSTM on Penn Treebank: same parameters, same tokens.

Runs `recipes/ptb-gpt-small.toml` (4 pre-LN layers of 224 dims, 4.70M parameters vs the
LSTM's 4.65M, 13 epochs = the LSTM's training tokens) and prints its test perplexity
beside the LSTM's (from `benchmarks/ptb_lstm_small.py`'s run folder when it exists, else
the README figure). Exits 1 above the target perplexity (default 150).

    .venv/bin/python benchmarks/ptb_gpt.py            # full run (~2 h on 2 cores)
    .venv/bin/python benchmarks/ptb_gpt.py --resume   # continue an interrupted run
"""

from __future__ import annotations

import json
import sys

from ptb_lstm_small import ROOT, run_ptb

LSTM_README = 112.4  # README: recipes/ptb-lstm-small.toml, 13 epochs


def lstm_reference() -> float:
    metrics = ROOT / "runs" / "bench-ptb-lstm-small" / "bundle" / "metrics.json"
    if metrics.exists():
        return float(json.loads(metrics.read_text())["test_ppl"])
    return LSTM_README


def main() -> int:
    lstm = lstm_reference()
    m, code = run_ptb("ptb-gpt-small", f"Zaremba-small LSTM {lstm:.1f}", 150.0, __doc__)
    print(f"GPT / LSTM test perplexity: {m['test_ppl'] / lstm:.3f}")
    return code


if __name__ == "__main__":
    sys.exit(main())
