"""Comparing architectures: a grid of recipes under one stated budget, and a report.

* :mod:`seqlab.compare.grid` — the ``[compare]`` table of a recipe, the grid of runs
  (parameter counts matched by solving for a size), training and resuming them;
* :mod:`seqlab.compare.report` — the tables (mean ± 95% CI over seeds), the ranking
  against published numbers, the claims, the plots; ``report.md`` and ``report.html``;
* :mod:`seqlab.compare.diagnose` — gradient flow through time and gate saturation;
* :mod:`seqlab.compare.stats` — t-intervals, Welch intervals, Spearman's ρ.

See docs/architecture.md, "Comparing architectures".
"""
