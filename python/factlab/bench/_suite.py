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
GMP; for a batch, of the whole list; for a string of digits, of the number it
writes); a wrong value ends the worker with a note in ``RUN_DIR/problems/``, so
that a figure for a wrong answer is never reported as a timing.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import threading
import time
from array import array
from collections.abc import Callable
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import Any

import pyperf

from factlab._children import die_with_group
from factlab._cli import EXTRA
from factlab.bench import _objects, scenarios
from factlab.bench.scenarios import FLOOR, GMPY2, LIST, LOOP, MODES, ONE, PYPERF, STR, Entry, Mode, batch_ns

HASH_MODULUS = sys.hash_info.modulus  # hash(k) of an int k >= 0 is k mod this prime (2**61 - 1)
CHUNK = 600  # digits that int() reads at once: below the lowest digit limit a user may set (640)
NO_GMPY2 = f"gmpy2 is not installed: pip install '{EXTRA}'"  # the note of its rows then


def fingerprint(value: object) -> str:
    """What a check compares, cheap even for 10**6! and for a list of 10**6 values.

    An int: its hash (value mod 2**61 - 1, not randomised for ints) and bit length; a string: the
    hash of the number its digits write, and its length; a list: its length, its items' types and
    the hash of their tuple.
    """
    if isinstance(value, int):
        return f"{hash(value)}:{value.bit_length()}"
    if isinstance(value, str):
        return f"digits:{decimal_hash(value)}:{len(value)}"
    if isinstance(value, list):
        kinds = ",".join(sorted({type(v).__name__ for v in value}))
        return f"list[{kinds}]:{len(value)}:{hash(tuple(value))}"
    return repr(type(value))


def decimal_hash(s: str) -> int | None:
    """hash(int(s)) for decimal digits, in linear time whatever the digit limit (None: not a number)."""
    if not (s.isascii() and s.isdigit()) or (s[0] == "0" and len(s) > 1):
        return None
    r = 0
    for i in range(0, len(s), CHUNK):
        part = s[i : i + CHUNK]
        r = (r * pow(10, len(part), HASH_MODULUS) + int(part)) % HASH_MODULUS
    return r


def digits_fingerprint(x: int) -> str:
    """The fingerprint of ``str(x)`` for an int x > 0, without making the string (see :func:`fingerprint`)."""
    log = math.log10(x)  # to a few ulps: off by one only next to a power of ten, settled exactly there
    k = math.floor(log)
    if log - k < 1e-6 or k + 1 - log < 1e-6:
        k = k - 1 if x < 10**k else k + (x >= 10 ** (k + 1))
    return f"digits:{hash(x)}:{k + 1}"


@cache
def function(module: str, call: str, strategy: str) -> Callable[[Any], object]:
    """What an entry calls: a backend's function or strategy, gmpy2.fac, or the floor's array.tolist."""
    if module == GMPY2:
        import gmpy2

        return gmpy2.fac
    if module == FLOOR:
        return array.tolist
    backend = importlib.import_module(module)
    return backend.strategies[strategy] if strategy else getattr(backend, call)


def noop(done: int, total: int) -> None:
    """The callback scenario's callback: nothing, so that what is timed is calling it."""


@cache
def prepared(e: Entry) -> tuple[Callable[[Any], object], object]:
    """(f, x): one timed call of ``e`` is ``f(x)``, made here once per process, before any timing."""
    f = function(e.module, e.call, e.strategy)
    if e.shape == ONE or e.calls_back or e.makes_objects:  # f(n, noop) is written out in the timing loop
        return f, e.n
    if e.shape == STR:  # what a Python user writes: lift the interpreter's limit (this process only)
        if hasattr(sys, "set_int_max_str_digits"):  # 3.11 on (and security backports before)
            sys.set_int_max_str_digits(0)
        return (lambda n: str(f(n))), e.n
    ns = batch_ns(e.n)
    if e.shape == LOOP:  # the Python loop of single calls, as a user writes it inside a function
        return (lambda ns: [f(k) for k in ns]), ns
    if e.module == FLOOR:  # the floor's input: the n! themselves, as 64-bit values
        ns = [math.factorial(k) for k in ns]
    return f, (ns if e.shape == LIST else array("Q", ns))


def timer(e: Entry, expect: str, problems: Path) -> Callable[[int], float]:
    """pyperf's time_func for an entry: ``loops`` calls (or rounds of threads), then the check."""

    def check(value: object) -> None:
        if expect and fingerprint(value) != expect:
            problems.mkdir(exist_ok=True)
            note = f"WRONG VALUE: {e.name} gave fingerprint {fingerprint(value)}, expected {expect}"
            (problems / f"{e.name.replace('/', '_')}.txt").write_text(note)
            raise SystemExit(note)

    def loop(loops: int) -> float:
        (f, x), as_int, clock = prepared(e), e.module == GMPY2 and e.shape == ONE, time.perf_counter
        result: object = None
        if e.makes_objects:  # Factorials objects: their own loops
            elapsed, result = _objects.loop(e, f, loops)
            check(result)
            return elapsed
        if as_int:  # gmpy2 returns an mpz: the user pays int() too, in line as they would write it
            t0 = clock()
            for _ in repeat(None, loops):
                result = int(f(x))  # type: ignore[call-overload]  # an mpz
        elif e.calls_back:  # no lambda around it: the loop calls factorial_progress itself
            t0 = clock()
            for _ in repeat(None, loops):
                result = f(x, noop)  # type: ignore[call-arg]
        else:
            t0 = clock()
            for _ in repeat(None, loops):
                result = f(x)
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


def estimate(points: list[tuple[int, float]], n: int, slope: float | None = None) -> float | None:
    """Seconds per call at ``n`` on a log-log line through the two nearest measured points.

    One point: exponent 2 (a schoolbook loop's growth, an upper bound for every
    backend here); two or more: their slope, kept within [1, 2.5]. A known
    ``slope`` (1 for a batch of n values): from the nearest point.
    """
    points = [(m, t) for m, t in points if m > 1]  # 0! and 1! tell nothing about growth
    if not points:
        return None
    if slope is not None:
        m, t = min(points, key=lambda p: abs(math.log(p[0] / n)))
        return t * (n / m) ** slope
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
    mode = MODES[plan["mode"]]
    entries = [e for e in (Entry(**d) for d in plan["entries"]) if e.step == PYPERF]
    problems = args.run_dir / "problems"
    if args.worker:
        # pyperf numbers benchmarks by the order of bench_time_func calls and runs, in a worker, the
        # one of --worker-task. The manager's count skips what it skipped or what failed: so does this.
        passed = json.loads((args.run_dir / "status.json").read_text())
        for e in entries:
            if passed.get(e.name, {"status": "ok"})["status"] == "ok":
                runner.bench_time_func(e.name, timer(e, args.expect, problems), inner_loops=e.steps or None)
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
        self.factorials: dict[int, int] = {}  # n -> n!, the reference
        self.references: dict[tuple[str, int], str] = {}  # (what, n) -> its fingerprint
        self.measured: dict[str, list[tuple[int, float]]] = {}  # Entry.series -> (n, seconds a call)
        self.benchmarks: list[pyperf.Benchmark] = []
        self.status: dict[str, dict[str, Any]] = {}

    def run(self, entries: list[Entry]) -> None:
        self.record()
        t0 = time.perf_counter()
        for i, e in enumerate(entries, 1):
            print(
                f"[{i:>3}/{len(entries)}] {time.perf_counter() - t0:6.1f} s  {e.name}: ", end="", flush=True
            )
            points = self.measured.get(e.series, [])
            est = estimate(points, e.n, 1.0 if e.linear else None) if e.heavy else None
            slow = (
                est is not None and est * (6 if e.threads else 1) > self.mode.skip_above
            )  # threads: 2 + probe
            if e.module == GMPY2 and not self.gmpy2:
                self.record(e, {"status": "skipped", "note": NO_GMPY2})
            elif slow:
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
        """The fingerprint of n!, of its digits, or of a batch's list, or "" for an unchecked call."""
        if not e.checked:
            return ""
        what = "batch" if e.linear else "digits" if e.digits else "int"
        n = e.last  # a batch's size, or the n of the last value the timed loop returns
        if (what, n) in self.references:
            return self.references[what, n]
        if what == "batch":
            ref = fingerprint([math.factorial(k) for k in batch_ns(n)])
        elif what == "digits":
            ref = digits_fingerprint(self.factorial(n))
        else:
            ref = fingerprint(self.factorial(n))
        self.references[what, n] = ref
        return ref

    def factorial(self, n: int) -> int:
        """n!, from GMP for big n when gmpy2 is there (math.factorial takes seconds at 10**6)."""
        if n not in self.factorials:
            big = n > 10**5 and self.gmpy2
            self.factorials[n] = int(__import__("gmpy2").fac(n)) if big else math.factorial(n)
        return self.factorials[n]

    def time(self, e: Entry, est: float | None) -> dict[str, Any]:
        """One pyperf benchmark of ``e``, with factlab's metadata; its outcome for status.json."""
        missing = scenarios.lacks(e)
        if missing:
            return missing
        self.args.expect = self.expect(e)
        settings(self.args, self.mode, e, est)
        meta: dict[str, Any] = {"factlab_scenario": e.scenario, "factlab_backend": e.backend}
        meta["factlab_checked"] = "every value, against an independent n!" if e.checked else "no (bare call)"
        if e.threads == 2:
            meta["factlab_idle_cores"] = round(idle_cores(), 2)
        problems = self.run_dir / "problems"
        try:
            bench = self.runner.bench_time_func(
                e.name, timer(e, self.args.expect, problems), inner_loops=e.steps or None
            )
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
            self.measured.setdefault(e.series, []).append((e.n, bench.mean()))
        return {"status": "ok"}


if __name__ == "__main__":
    main()
