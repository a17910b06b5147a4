"""The pyperf benchmark script of one run: ``python -m factlab.bench._suite RUN_DIR``.

It reads ``RUN_DIR/plan.json`` (written by :mod:`factlab.bench`) and is
pyperf's manager: for each planned benchmark it sets pyperf's settings (the
mode's, or for a heavy call one loop and as many values as the budget allows)
and calls :meth:`pyperf.Runner.bench_time_func`; pyperf spawns the worker
processes (this script again, with ``--worker``), which calibrate, warm up and
time. After each benchmark the manager adds factlab's metadata (how values
were checked, the GIL share, the idle cores) and rewrites ``RUN_DIR/pyperf.json``,
one pyperf suite for the whole run, and ``RUN_DIR/status.json`` (what was
skipped or failed, and why). The workers read ``status.json`` too: pyperf
tells a worker which benchmark to run by its rank among the manager's calls of
``bench_time_func``, so a worker registers exactly the entries the manager
timed before it, in order (pyperf's public API only, no counter of its own).
Started by the bench in a process group of its own, which dies with the bench
(:mod:`factlab._children`).

A worker checks the value of every timed loop against an independent n!
(``--expect``, the fingerprint the manager computed with math.factorial or
GMP); a wrong value ends the worker with a note in ``RUN_DIR/problems/``, so
that a figure for a wrong answer is never reported as a timing.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import threading
import time
from collections.abc import Callable
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import Any

import pyperf

from factlab._children import die_with_group
from factlab.bench.scenarios import COUNTED, GMPY2, MODES, Entry, Mode


def fingerprint(value: object) -> str:
    """hash (value mod 2**61 - 1, not randomised for ints) and bit length: cheap even for 10**6!."""
    return f"{hash(value)}:{value.bit_length()}" if isinstance(value, int) else repr(type(value))


@cache
def function(module: str, call: str, strategy: str) -> Callable[[int], object]:
    """What an entry calls: a backend's factorial, crossing or strategy, or gmpy2.fac."""
    if module == GMPY2:
        import gmpy2

        return gmpy2.fac
    backend = importlib.import_module(module)
    return backend.strategies[strategy] if strategy else getattr(backend, call)


def timer(e: Entry, expect: str, problems: Path) -> Callable[[int], float]:
    """pyperf's time_func for an entry: ``loops`` calls (or rounds of threads), then the check."""

    def check(value: object) -> None:
        if expect and fingerprint(value) != expect:
            problems.mkdir(exist_ok=True)
            note = f"WRONG VALUE: {e.name} gave fingerprint {fingerprint(value)}, expected {expect}"
            (problems / f"{e.name.replace('/', '_')}.txt").write_text(note)
            raise SystemExit(note)

    def loop(loops: int) -> float:
        f, n, as_int, clock = (
            function(e.module, e.call, e.strategy),
            e.n,
            e.module == GMPY2,
            time.perf_counter,
        )
        result: object = None
        if as_int:  # gmpy2 returns an mpz: the user pays int() too, in line as they would write it
            t0 = clock()
            for _ in repeat(None, loops):
                result = int(f(n))  # type: ignore[call-overload]  # an mpz
        else:
            t0 = clock()
            for _ in repeat(None, loops):
                result = f(n)
        elapsed = clock() - t0
        check(result)
        return elapsed

    def rounds(loops: int) -> float:
        f, total = function(e.module, e.call, e.strategy), 0.0
        for _ in range(loops):
            results: list[object] = [None] * e.threads
            put = results.__setitem__
            workers = [threading.Thread(target=lambda i=i, put=put: put(i, f(e.n))) for i in range(e.threads)]
            t0 = time.perf_counter()
            for t in workers:
                t.start()
            for t in workers:
                t.join()
            total += time.perf_counter() - t0
            for r in results:
                check(r)
        return total

    return rounds if e.threads else loop


def gil_share(f: Callable[[int], object], n: int, duration: float, tries: int = 3) -> float:
    """How freely this thread runs Python while another thread is inside ``f(n)``.

    The other thread starts the call; this one spins a Python loop from 10% to
    60% of the call's measured ``duration`` and compares its count with the
    same loop alone. A held GIL keeps it out for the whole window (0); a
    released one lets it run (near 1 on a free core, less on a busy machine,
    never 0). The best of ``tries`` counts, so a busy machine is not taken
    for a held GIL.
    """
    clock = time.perf_counter

    def spin(start: float, end: float) -> int:
        count = 0
        while (now := clock()) < end:
            count += now >= start
        return count

    solo = min(0.05, 0.5 * duration)
    t0 = clock()
    rate = spin(t0, t0 + solo) / solo

    def call(started: list[float], ready: threading.Event) -> None:
        started.append(clock())
        ready.set()
        f(n)

    best = 0.0
    for _ in range(tries):
        started: list[float] = []
        ready = threading.Event()
        thread = threading.Thread(target=call, args=(started, ready))
        thread.start()
        ready.wait()
        start, end = started[0] + 0.1 * duration, started[0] + 0.6 * duration
        best = max(best, spin(start, end) / (rate * (end - start)))
        thread.join()
    return best


def idle_cores() -> float:
    """Cores left idle by everything else on the machine, over a short sample."""
    import psutil

    return (psutil.cpu_count() or 1) * (100.0 - psutil.cpu_percent(interval=0.3)) / 100.0


def estimate(points: list[tuple[int, float]], n: int) -> float | None:
    """Seconds per call at ``n`` on a log-log line through the two nearest measured points.

    One point: exponent 2 (a schoolbook loop's growth, an upper bound for every
    backend here); two or more: their slope, kept within [1, 2.5].
    """
    points = [(m, t) for m, t in points if m > 1]  # 0! and 1! tell nothing about growth
    if not points:
        return None
    if len(points) == 1:
        (m, t) = points[0]
        return t * (n / m) ** 2
    (m1, t1), (m2, t2) = sorted(sorted(points, key=lambda p: abs(math.log(p[0] / n)))[:2])
    slope = min(max(math.log(t2 / t1) / math.log(m2 / m1), 1.0), 2.5) if t2 > t1 > 0 else 1.0
    return t2 * (n / m2) ** slope


def settings(args: Any, mode: Mode, e: Entry, est: float | None) -> None:
    """Set pyperf's options for the next benchmark (pyperf's manager reads them when it starts)."""
    args.min_time = mode.min_time
    if not e.heavy or (not e.threads and est is not None and est < mode.min_time):  # short: calibrated loops
        args.processes, args.values, args.warmups, args.loops = mode.processes, mode.values, mode.warmups, 0
        return
    runs = mode.budget / ((est or 0.0) * mode.heavy_processes + 1e-9)
    args.processes, args.loops, args.warmups = mode.heavy_processes, 1, int(runs >= 3)
    args.values = max(1, min(mode.heavy_values, int(runs) - args.warmups))


def main() -> None:
    runner = pyperf.Runner(
        show_name=False,
        program_args=("-m", "factlab.bench._suite", sys.argv[1]),  # the workers run this script on RUN_DIR
        add_cmdline_args=lambda cmd, a: cmd.extend(["--expect", a.expect]),  # and check this entry's value
    )
    runner.argparser.add_argument("run_dir", type=Path)
    runner.argparser.add_argument("--expect", default="", help="fingerprint of the right value")
    args = runner.parse_args()
    plan = json.loads((args.run_dir / "plan.json").read_text())
    mode, entries = MODES[plan["mode"]], [Entry(**e) for e in plan["entries"] if e["scenario"] not in COUNTED]
    problems = args.run_dir / "problems"
    if args.worker:
        # pyperf numbers benchmarks by the order of bench_time_func calls and runs, in a worker, the
        # one of --worker-task. The manager's count skips what it skipped or what failed: so does this.
        passed = json.loads((args.run_dir / "status.json").read_text())
        for e in entries:
            if passed.get(e.name, {"status": "ok"})["status"] == "ok":
                runner.bench_time_func(e.name, timer(e, args.expect, problems))
        return
    die_with_group()  # the bench died or stopped us: our workers go too
    try:
        Manager(runner, args, mode, plan["gmpy2"]).run(entries)
    except KeyboardInterrupt:  # pyperf's own handler covers a running benchmark; this, the rest
        print("interrupted", flush=True)
        sys.exit(1)


class Manager:
    """pyperf's manager side: times every entry in order, recording each outcome as it comes."""

    def __init__(self, runner: pyperf.Runner, args: Any, mode: Mode, gmpy2: bool) -> None:
        self.runner, self.args, self.mode, self.gmpy2 = runner, args, mode, gmpy2
        self.run_dir: Path = args.run_dir
        self.references: dict[int, str] = {}  # n -> fingerprint of n!
        self.measured: dict[str, list[tuple[int, float]]] = {}  # backend[strategy] -> (n, seconds a call)
        self.benchmarks: list[pyperf.Benchmark] = []
        self.status: dict[str, dict[str, Any]] = {}

    def run(self, entries: list[Entry]) -> None:
        self.record()
        t0 = time.perf_counter()
        for i, e in enumerate(entries, 1):
            print(
                f"[{i:>3}/{len(entries)}] {time.perf_counter() - t0:6.1f} s  {e.name}: ", end="", flush=True
            )
            est = estimate(self.measured.get(e.backend + e.strategy, []), e.n) if e.heavy else None
            if est is not None and est * (6 if e.threads else 1) > self.mode.skip_above:  # threads: 2 + probe
                self.record(e, {"status": "skipped", "note": f"skipped: ~{est:.3g} s a call (extrapolated)"})
            else:
                self.record(e, self.time(e, est))

    def record(self, e: Entry | None = None, outcome: dict[str, Any] | None = None) -> None:
        """Write status.json (and the suite) now: the next entry's workers read it."""
        if e is not None and outcome is not None:
            self.status[e.name] = outcome
            if outcome["status"] != "ok":
                print(outcome["note"], flush=True)
        if self.benchmarks:
            pyperf.BenchmarkSuite(self.benchmarks).dump(str(self.run_dir / "pyperf.json"), replace=True)
        (self.run_dir / "status.json").write_text(json.dumps(self.status, indent=1))

    def expect(self, e: Entry) -> str:
        """The fingerprint of n! (GMP's for big n when gmpy2 is there), or "" for an unchecked call."""
        if not e.checked:
            return ""
        if e.n not in self.references:
            ref = int(__import__("gmpy2").fac(e.n)) if e.n > 10**5 and self.gmpy2 else math.factorial(e.n)
            self.references[e.n] = fingerprint(ref)
        return self.references[e.n]

    def time(self, e: Entry, est: float | None) -> dict[str, Any]:
        """One pyperf benchmark of ``e``, with factlab's metadata; its outcome for status.json."""
        self.args.expect = self.expect(e)
        settings(self.args, self.mode, e, est)
        meta: dict[str, Any] = {"factlab_scenario": e.scenario, "factlab_backend": e.backend}
        meta["factlab_checked"] = "every value, against an independent n!" if e.checked else "no (bare call)"
        if e.threads == 2:
            meta["factlab_idle_cores"] = round(idle_cores(), 2)
        problems = self.run_dir / "problems"
        try:
            bench = self.runner.bench_time_func(e.name, timer(e, self.args.expect, problems))
        except Exception as exc:  # a worker that crashed or found a wrong value (Ctrl-C ends the run)
            note = problems / f"{e.name.replace('/', '_')}.txt"
            if note.exists():
                return {"status": "wrong", "note": note.read_text()}
            return {"status": "failed", "note": str(exc)}
        assert bench is not None
        if e.threads == 1:
            f = function(e.module, e.call, e.strategy)
            meta["factlab_gil_share"] = round(gil_share(f, e.n, bench.mean()), 3)
        bench.update_metadata(meta)
        self.benchmarks.append(bench)
        if not e.threads:
            self.measured.setdefault(e.backend + e.strategy, []).append((e.n, bench.mean()))
        return {"status": "ok"}


if __name__ == "__main__":
    main()
