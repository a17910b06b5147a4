"""``python -m factlab bench``: time every backend with pyperf, count instructions with callgrind.

A run is one directory, ``target/bench/runs/<time>-<mode>/``: ``plan.json``
(what it measures), ``pyperf.json`` (every timing, pyperf's format and
metadata), ``control.json`` (Ctrl-C and the kernel's hook, each backend in a
fresh process), ``counts.json`` (callgrind's instructions per call), then, once
everything is measured, ``results.json`` (the figures the book and the tables
use, and the targets judged), ``summary.md`` and the charts.
``target/bench/latest`` points to the last complete run; an interrupted or
failed run leaves it where it was. Where each part lives:

- :mod:`factlab.bench.cli`: the arguments, ``--plan``, ``--compare``, ``--publish``;
- :mod:`factlab.bench.scenarios`: the modes and what each scenario measures;
- :mod:`factlab.bench.run`: one run, from its plan to ``latest``;
- :mod:`factlab.bench._suite` (with ``_objects``, the object scenario's
  loops), :mod:`factlab.bench._control` and :mod:`factlab.bench._count`: the
  child processes that time (pyperf), send SIGINTs and compare with and
  without the hook, and count (callgrind);
- :mod:`factlab.bench.results`: ``results.json``, read strictly;
- :mod:`factlab.bench.report` (with ``report_shapes``, ``report_control`` and ``report_object``),
  :mod:`factlab.bench.chart`, :mod:`factlab.bench.targets`: the tables, the
  charts, the speed targets.
"""

from __future__ import annotations

from factlab.bench.cli import main, plan
from factlab.bench.results import load_run
from factlab.bench.run import FILES

__all__ = ["FILES", "load_run", "main", "plan"]
