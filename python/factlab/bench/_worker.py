"""One benchmark job, run under pyperf.

Usage (the orchestrator in :mod:`factlab.bench.scenarios` starts it once per job)::

    python -m factlab.bench._worker --job '{"backend": "pyo3", ...}' --processes 3 --values 3 ...

Started that way this module is pyperf's *manager*: it spawns worker processes
(this same module again, with pyperf's ``--worker`` options appended and our
``--job`` carried along), which calibrate the number of loops, warm up and take
the timings. pyperf gathers the values and the manager prints one line,
``FACTLAB-RESULT {json}``, with mean, std dev and every value, in seconds per call.

Three kinds of job:

``timeit``
    ``factorial(25)`` in the standard library's :class:`timeit.Timer` loop, the
    very loop ``python -m timeit -s "from ... import factorial" "factorial(25)"``
    runs, so that the two agree. The manager checks the value once, untimed.
``call``
    one call per loop iteration for big ``n`` (ms to seconds); the result of the
    last timed call is checked against the expected fingerprint.
``threads``
    ``k`` threads each computing ``factorial(n)`` at once; the time is the wall
    time until both are done. Every result is checked. With ``gil_probe`` the
    manager then measures directly whether another thread can run Python while
    one is inside the call (:func:`gil_share`).

A wrong result makes the worker exit with ``FACTLAB-WRONG ...`` on stderr: a
figure for a wrong answer is never reported as a timing.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
import timeit
from collections.abc import Callable
from itertools import repeat
from typing import Any

import pyperf

RESULT_PREFIX = "FACTLAB-RESULT "
WRONG_PREFIX = "FACTLAB-WRONG "

# Above this n the manager does not compute math.factorial(n) to check the value
# of a timeit job (timeit jobs are small n; big ones check a fingerprint instead).
_CHECK_LIMIT = 10_000


def fingerprint(value: int) -> tuple[int, int]:
    """A cheap, deterministic summary of a big int: its hash and its bit length.

    ``hash`` of an int is its value modulo 2**61 - 1 (not randomised, unlike
    str), linear in the size of the number: milliseconds for 10**6!.
    """
    return hash(value), value.bit_length()


def function(job: dict[str, Any]) -> Callable[[int], object]:
    """The callable a job times: a backend's factorial/crossing, or gmpy2's."""
    if job["backend"] == "gmpy2":
        import gmpy2

        fac = gmpy2.fac
        return lambda n: int(fac(n))
    from factlab import load

    return getattr(load(job["backend"]), job["call"])


def timeit_source(job: dict[str, Any]) -> tuple[str, str]:
    """(stmt, setup) of a timeit job, with n as a literal as on a command line."""
    n = int(job["n"])
    if job["backend"] == "gmpy2":
        return f"int(fac({n}))", "from gmpy2 import fac"
    call = job["call"]
    return f"{call}({n})", f"from factlab import load; {call} = load({job['backend']!r}).{call}"


def _checker(job: dict[str, Any]) -> Callable[[object], None]:
    expected = job.get("expect")

    def check(value: object) -> None:
        if expected is None:
            return
        got = fingerprint(value) if isinstance(value, int) else None
        if got is None or list(got) != list(expected):
            print(
                f"{WRONG_PREFIX}{job['backend']}.{job['call']}({job['n']}) gave a wrong value "
                f"(fingerprint {got}, expected {tuple(expected)})",
                file=sys.stderr,
                flush=True,
            )
            sys.exit(3)

    return check


def call_timer(job: dict[str, Any]) -> Callable[[int], float]:
    """time_func for pyperf: ``loops`` calls of f(n), then a check of the last value."""
    f, n, check = function(job), int(job["n"]), _checker(job)

    def time_calls(loops: int) -> float:
        result: object = None
        clock = time.perf_counter
        t0 = clock()
        for _ in repeat(None, loops):
            result = f(n)
        elapsed = clock() - t0
        check(result)
        return elapsed

    return time_calls


def threads_timer(job: dict[str, Any]) -> Callable[[int], float]:
    """time_func for pyperf: ``loops`` rounds of k threads computing f(n) at once."""
    f, n, k, check = function(job), int(job["n"]), int(job["threads"]), _checker(job)

    def time_rounds(loops: int) -> float:
        total = 0.0

        def work(i: int, results: list[object]) -> None:
            results[i] = f(n)

        for _ in range(loops):
            results: list[object] = [None] * k
            threads = [threading.Thread(target=work, args=(i, results)) for i in range(k)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            total += time.perf_counter() - t0
            for r in results:
                check(r)
        return total

    return time_rounds


def calibrate(time_func: Callable[[int], float], min_time: float) -> int:
    """The smallest power of two of loops whose time reaches ``min_time``."""
    loops = 1
    while time_func(loops) < min_time and loops < 2**32:
        loops *= 2
    return loops


def gil_share(f: Callable[[int], object], n: int, duration: float, tries: int = 3) -> float:
    """How freely this thread runs Python while another thread is inside ``f(n)``.

    Another thread starts ``f(n)`` and notes the time; this thread then spins a
    Python loop and counts its iterations in the middle of the call (from 10%
    to 60% of ``duration``, the call's measured time), compared with the same
    loop alone. A binding that holds the GIL keeps this thread out until the
    call returns, after the window: 0. One that releases it lets this thread
    run: near 1 with a free core, less on a busy machine, never 0. The best of
    ``tries`` is kept, so that a busy machine does not pass for a held GIL.
    """
    clock = time.perf_counter

    def spin(start: float, end: float) -> int:
        count = 0
        while (now := clock()) < end:
            if now >= start:
                count += 1
        return count

    solo_time = min(0.05, 0.5 * duration)
    t0 = clock()
    solo_rate = spin(t0, t0 + solo_time) / solo_time

    def work(started: list[float], ready: threading.Event) -> None:
        started.append(clock())
        ready.set()
        f(n)

    best = 0.0
    for _ in range(tries):
        started: list[float] = []
        ready = threading.Event()
        thread = threading.Thread(target=work, args=(started, ready))
        thread.start()
        ready.wait()
        start, end = started[0] + 0.1 * duration, started[0] + 0.6 * duration
        count = spin(start, end)
        thread.join()
        best = max(best, count / (solo_rate * (end - start)))
    return best


def _carry_job(cmd: list[str], args: Any) -> None:
    """pyperf hook: pass our --job on to the worker processes it spawns."""
    cmd.extend(("--job", args.job))


def main() -> None:
    runner = pyperf.Runner(program_args=("-m", "factlab.bench._worker"), add_cmdline_args=_carry_job)
    runner.argparser.add_argument("--job", required=True, help="the job, as JSON")
    args = runner.parse_args()
    job = json.loads(args.job)
    name = job["name"]

    exact: bool | None = None
    if not args.worker and job["kind"] == "timeit" and job["call"] == "factorial":
        n = int(job["n"])
        if n <= _CHECK_LIMIT:
            exact = function(job)(n) == math.factorial(n)

    if job["kind"] == "timeit":
        stmt, setup = timeit_source(job)
        # The standard library's Timer: the loop of `python -m timeit`, with the
        # garbage collector off while timing, as there.
        time_func = timeit.Timer(stmt, setup).timeit
    elif job["kind"] == "call":
        time_func = call_timer(job)
    elif job["kind"] == "threads":
        time_func = threads_timer(job)
    else:
        raise SystemExit(f"unknown job kind {job['kind']!r}")

    if job.get("calibrate_here") and not args.worker and not args.loops:
        # --quick: calibrate the loop count here, as pyperf's calibration worker
        # would (double until one value lasts --min-time), and spare a process.
        args.loops = calibrate(time_func, args.min_time)
    bench = runner.bench_time_func(name, time_func)

    if args.worker or bench is None:
        return
    values = bench.get_values()
    result = {
        "mean": bench.mean(),
        "stdev": bench.stdev() if len(values) > 1 else 0.0,
        "median": bench.median(),
        "min": min(values),
        "values": values,
        "processes": sum(1 for run in bench.get_runs() if run.values),  # calibration runs excluded
        "loops": bench.get_loops(),
        "duration": bench.get_total_duration(),
        # timeit jobs: checked above by the manager; call/threads jobs: by the
        # worker on every timed value (it exits before reporting a wrong one).
        "exact": True if job.get("expect") is not None else exact,
    }
    if job.get("gil_probe"):
        result["gil_share"] = gil_share(function(job), int(job["n"]), bench.mean())
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
