"""Results into tables and figures (DESIGN §4, MODEL §7, §10).

Modules by role: :mod:`~sim.analysis.runs` (a sweep's runs table and the keys it varies),
:mod:`~sim.analysis.stats` (intervals), :mod:`~sim.analysis.curves` (capability and delay versus
spend), :mod:`~sim.analysis.frontier` (the defender's cost frontier),
:mod:`~sim.analysis.breakeven` (where the campaign stops paying), :mod:`~sim.analysis.report`
(a sweep's summary.md and figures from its files alone), :mod:`~sim.analysis.html_report`
(a run's, sweep's or study's self-contained report.html, and comparisons),
:mod:`~sim.analysis.run_figures` (one run's figures), :mod:`~sim.analysis.stackelberg` (the
defender's choice study's tables and figures). Analysis reads what :mod:`sim.experiments`
produced; it never runs a world.
"""
