"""The object scenario's timed loops (pyperf's ``time_func`` bodies): a native object per call, and steps.

- NEW, ``next(Factorials(n))`` ``loops`` times: the object created, stepped once and dropped, all in
  the clock, as a user's ``next(Factorials(5))`` pays them;
- STEP: ``loops`` iterators made and stepped once, to (n-1)!, before the clock (at 10**4 that first
  value is a whole factorial, not a step), then ``steps`` next() calls on each in the clock. pyperf
  divides by ``loops`` and by its inner loops, ``steps``: the figure is one step. Fresh iterators keep
  every loop on the same n, whatever the calibration; they are dropped after the clock.

Each returns (seconds, the last value), and the caller checks the value.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import repeat
from typing import Any

from factlab.bench.scenarios import NEW, Entry


def loop(e: Entry, cls: Callable[[int], Any], loops: int) -> tuple[float, object]:
    """``loops`` rounds of ``e`` (NEW or STEP) with the backend's class ``cls``: (seconds, last value)."""
    return new(cls, e.n, loops) if e.shape == NEW else steps(cls, e.n, e.steps, loops)


def new(cls: Callable[[int], Any], n: int, loops: int) -> tuple[float, object]:
    clock, result = time.perf_counter, None
    t0 = clock()
    for _ in repeat(None, loops):
        result = next(cls(n))
    return clock() - t0, result


def steps(cls: Callable[[int], Any], n: int, k: int, loops: int) -> tuple[float, object]:
    iterators = [cls(n - 1) for _ in repeat(None, loops)]
    for it in iterators:
        next(it)  # (n-1)!: not timed
    clock, result = time.perf_counter, None
    t0 = clock()
    for it in iterators:
        for _ in repeat(None, k):
            result = next(it)
    return clock() - t0, result
