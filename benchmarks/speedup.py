"""The verdict line of the batched-vs-one-by-one benchmarks (beam.py, tagger.py)."""

from __future__ import annotations


def report(title: str, rates: dict[str, float], same: bool, what: str, goal: float) -> int:
    """Print sentences/s of ``rates["batched"]`` and ``rates["one by one"]``, their ratio
    and whether both gave the same ``what``; 1 (failure) if not, or below ``goal``."""
    ratio = rates["batched"] / rates["one by one"]
    width = max(map(len, rates))
    print(title)
    for name, rate in rates.items():
        print(f"  {name:{width}s}  {rate:8.1f} sentences/s")
    print(f"  {'speed-up':{width}s}  {ratio:8.2f}x   same {what}: {'yes' if same else 'NO'}")
    if not same:
        print(f"FAIL: batched {what} differ from one sentence at a time")
        return 1
    if ratio < goal:
        print(f"FAIL: speed-up {ratio:.2f}x < {goal}x")
        return 1
    return 0
