"""The matrix's timings, taken INSIDE a venv with pyperf, as the bench takes its own (Python 3.9 syntax).

    python -m factlab.matrix.timer --backend NAME --call factorial --call crossing \\
        --processes 2 --values 3 --warmups 1 --min-time 0.02 --quiet --append pyperf.json

A :class:`pyperf.Runner` script: this process is pyperf's manager, and pyperf spawns the worker
processes (this module again, with ``--worker``: ``program_args`` and ``add_cmdline_args`` are the
documented way to pass our own options on), which calibrate the loops, warm up and time. Each
benchmark is ``for _ in repeat(None, loops): f(25)``, the loop of the bench's article scenario, and
its published figure is pyperf's mean per call, the bench's statistic. pyperf's own options
(``--processes``, ``--values``, ``--append FILE``, ...) pass through; the manager prints, last, one
line of JSON: ``{call: {"mean_ns": ..., "stdev_ns": ..., "values": ...}}``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from itertools import repeat
from typing import Any

N = 25  # the seed article's call


def time_func(backend: str, call: str) -> Callable[[int], float]:
    """pyperf's time_func: ``loops`` calls of ``backend.call(25)``, timed; the import is not timed."""

    def loop(loops: int) -> float:
        import factlab

        f, n, clock = getattr(factlab.load(backend), call), N, time.perf_counter
        t0 = clock()
        for _ in repeat(None, loops):
            f(n)
        return clock() - t0

    return loop


def pass_options(cmd: list[str], args: Any) -> None:
    """pyperf's ``add_cmdline_args``: a worker gets the backend and calls its manager was given."""
    cmd.extend(("--backend", args.backend))
    for call in args.call:
        cmd.extend(("--call", call))


def main() -> None:
    import pyperf

    runner = pyperf.Runner(program_args=("-m", "factlab.matrix.timer"), add_cmdline_args=pass_options)
    runner.argparser.add_argument("--backend", required=True, help="a registered backend's name")
    runner.argparser.add_argument("--call", action="append", default=[], help="factorial or crossing")
    args = runner.parse_args()
    summary = {}
    for call in args.call:
        bench = runner.bench_time_func(f"{args.backend}/{call}({N})", time_func(args.backend, call))
        if bench is not None and not args.worker:  # a worker returns only its own benchmark
            stdev = bench.stdev() if bench.get_nvalue() > 1 else None
            summary[f"{call}({N})"] = {
                "mean_ns": bench.mean() * 1e9,
                "stdev_ns": None if stdev is None else stdev * 1e9,
                "values": bench.get_nvalue(),
            }
    if not args.worker:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
