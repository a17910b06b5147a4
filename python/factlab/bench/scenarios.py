"""The five scenarios: which jobs run, with which pyperf settings, and the figures derived.

Every timing is one *job*: a ``python -m factlab.bench._worker`` process that is
pyperf's manager for one benchmark (see :mod:`factlab.bench._worker`). One
process per job keeps a crash in one backend from taking the others down, and
lets each job have its own settings: small n get calibrated loops and several
worker processes; big n (milliseconds to seconds a call) get a loop of one and
as many values as the mode's time budget allows.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from factlab.bench._worker import RESULT_PREFIX, WRONG_PREFIX, fingerprint

SCENARIOS = ("article", "crossing", "sweep", "big", "threads")

ARTICLE_N = 25
ARTICLE_CALLS = 1_000_000
SWEEP_NS = (0, 5, 20, 21, 25, 34, 35, 100, 1000)
BIG_NS = (10**4, 10**5, 10**6)
THREADS_N = 300_000
GMPY2 = "gmpy2"

# The seed article's own figures, quoted for comparison (its loop of
# factorial(25), 1,000,000 times). Its CFFI version returned a C long, which
# overflows past 20!, so 25! came back wrong; its pure-Python loop gave 0! = 0.
ARTICLE_FIGURES: dict[str, Any] = {
    "n": ARTICLE_N,
    "calls": ARTICLE_CALLS,
    "pure_python_seconds": 1.91,
    "cffi_seconds": 0.13,
    "claimed_speedup": 14,
    "cffi_exact": False,
    "notes": [
        "its CFFI function returned a C long, which overflows at 21!: its 25! was wrong",
        "its pure-Python loop returned 0 for 0! (0! is 1)",
    ],
}

TITLES = {
    "article": "The seed article's loop: factorial(25), 1,000,000 calls",
    "crossing": "The bare crossing: crossing(25), no checks, no big int",
    "sweep": "Per-call time across n",
    "big": "Big n: where the kernel's algorithm matters, not the binding",
    "threads": "Threads: two factorials at once, does the binding release the GIL?",
}


@dataclass(frozen=True)
class Settings:
    """pyperf options of one job."""

    processes: int
    values: int
    warmups: int
    min_time: float
    loops: int = 0  # 0: pyperf calibrates the loop count
    # --quick: the manager calibrates the loops itself instead of spawning
    # pyperf's calibration worker (one process less per figure).
    calibrate_here: bool = False

    def argv(self) -> list[str]:
        return [
            f"--processes={self.processes}",
            f"--values={self.values}",
            f"--warmups={self.warmups}",
            f"--min-time={self.min_time}",
            f"--loops={self.loops}",
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "processes": self.processes,
            "values": self.values,
            "warmups": self.warmups,
            "min_time": self.min_time,
            "loops": self.loops or ("calibrated by the manager" if self.calibrate_here else "calibrated"),
        }


@dataclass(frozen=True)
class Mode:
    """How long to spend: --quick (a smoke test), default, --rigorous (publication)."""

    name: str
    micro: Settings  # article, crossing
    sweep: Settings
    sweep_ns: tuple[int, ...]
    big_ns: tuple[int, ...]
    threads_n: int
    heavy_processes: int  # big and threads jobs
    job_budget: float  # seconds of timed calls a big or threads job aims at
    max_values: int  # per big or threads job
    skip_above: float  # big: skip a job estimated slower than this per call (s)
    threads_skip_above: float  # threads: the same, for one factorial(threads_n)
    timeout: float  # seconds before a job is given up

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "micro": self.micro.as_dict(),
            "sweep": self.sweep.as_dict(),
            "sweep_ns": list(self.sweep_ns),
            "big_ns": list(self.big_ns),
            "threads_n": self.threads_n,
            "heavy_processes": self.heavy_processes,
            "job_budget_seconds": self.job_budget,
            "max_values": self.max_values,
            "skip_above_seconds": self.skip_above,
            "threads_skip_above_seconds": self.threads_skip_above,
        }


MODES: dict[str, Mode] = {
    # Seconds: one process, two values, tiny calibration target; fewer n.
    "quick": Mode(
        name="quick",
        micro=Settings(processes=1, values=2, warmups=1, min_time=0.005, calibrate_here=True),
        sweep=Settings(processes=1, values=2, warmups=1, min_time=0.005, calibrate_here=True),
        sweep_ns=(0, 25, 1000),
        big_ns=(10**4,),
        threads_n=100_000,
        heavy_processes=1,
        job_budget=0.2,
        max_values=2,
        skip_above=0.5,
        threads_skip_above=0.5,
        timeout=120,
    ),
    # About three minutes for all ten backends on two cores: fewer processes
    # than pyperf's default (20), and a shorter value (20 ms instead of 100 ms).
    "default": Mode(
        name="default",
        micro=Settings(processes=3, values=3, warmups=1, min_time=0.02),
        sweep=Settings(processes=2, values=3, warmups=1, min_time=0.02),
        sweep_ns=SWEEP_NS,
        big_ns=BIG_NS,
        threads_n=THREADS_N,
        heavy_processes=1,
        job_budget=2.0,
        max_values=3,
        skip_above=30.0,
        threads_skip_above=5.0,
        timeout=900,
    ),
    # pyperf's own defaults (20 processes x 3 values of 100 ms) for every job.
    "rigorous": Mode(
        name="rigorous",
        micro=Settings(processes=20, values=3, warmups=1, min_time=0.1),
        sweep=Settings(processes=20, values=3, warmups=1, min_time=0.1),
        sweep_ns=SWEEP_NS,
        big_ns=BIG_NS,
        threads_n=THREADS_N,
        heavy_processes=3,
        job_budget=20.0,
        max_values=10,
        skip_above=600.0,
        threads_skip_above=120.0,
        timeout=7200,
    ),
}


class Progress(Protocol):
    """Where the session reports what it is doing (rich bar, or plain lines)."""

    def start(self, label: str) -> None: ...

    def done(self, label: str, outcome: str, advance: bool = True) -> None: ...


def fmt_seconds(seconds: float) -> str:
    """A duration with a unit a human reads at once: 53.2 ns, 1.07 us, 4.10 ms, 6.6 s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def estimate(points: Iterable[tuple[int, float]], n: int) -> float | None:
    """Seconds per call at ``n``, extrapolated on a log-log line from measured points.

    With one point the exponent is 2 (a schoolbook loop's growth: an upper
    bound for every backend here); with two or more, the slope of the two
    nearest, kept within [1, 2.5].
    """
    pts = sorted(points)
    if not pts:
        return None
    for m, t in pts:
        if m == n:
            return t
    if len(pts) == 1:
        m, t = pts[0]
        return t * (n / m) ** 2
    nearest = sorted(pts, key=lambda p: abs(math.log(p[0] / n)))[:2]
    (m1, t1), (m2, t2) = sorted(nearest)
    slope = math.log(t2 / t1) / math.log(m2 / m1)
    slope = min(max(slope, 1.0), 2.5)
    return t2 * (n / m2) ** slope


@dataclass
class Session:
    """One benchmark run: the selected backends, the mode, and the jobs run so far."""

    mode: Mode
    backends: list[str]
    modules: dict[str, ModuleType | None]  # None: not built
    out_dir: Path
    progress: Progress
    python: str = sys.executable
    gmpy2: bool = False
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    _references: dict[int, tuple[tuple[int, int], str]] = field(default_factory=dict)

    @property
    def raw_dir(self) -> Path:
        return self.out_dir / "pyperf"

    def built(self) -> list[str]:
        return [b for b in self.backends if self.modules.get(b) is not None]

    # -- one job -----------------------------------------------------------

    def job(
        self,
        scenario: str,
        backend: str,
        call: str,
        n: int,
        settings: Settings,
        kind: str = "timeit",
        threads: int = 0,
        expect: tuple[int, int] | None = None,
        label: str | None = None,
        counted: bool = True,
        gil_probe: bool = False,
    ) -> dict[str, Any]:
        """Run one job; return ``{"status": "ok", "timing": {...}}`` or a failure with a note."""
        name = f"{scenario}/{backend}/{call}({n})" + (f"/threads={threads}" if threads else "")
        job = {"name": name, "backend": backend, "call": call, "n": n, "kind": kind}
        if threads:
            job["threads"] = threads
        if settings.calibrate_here:
            job["calibrate_here"] = True
        if gil_probe:
            job["gil_probe"] = True
        if expect is not None:
            job["expect"] = list(expect)
        label = label or f"{scenario}: {backend} {call}({n})"
        self.progress.start(label)
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            self.python,
            "-m",
            "factlab.bench._worker",
            "--job",
            json.dumps(job),
            "--quiet",
            f"--append={self.raw_dir / (scenario + '.json')}",
            *settings.argv(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.mode.timeout)
        except subprocess.TimeoutExpired:
            outcome = {"status": "failed", "note": f"timed out after {self.mode.timeout:.0f} s"}
        else:
            outcome = _parse(proc)
        outcome["settings"] = settings.as_dict()
        shown = fmt_seconds(outcome["timing"]["mean"]) if outcome["status"] == "ok" else outcome["note"]
        self.progress.done(label, shown, advance=counted)
        return outcome

    def reference(self, n: int) -> tuple[tuple[int, int], str]:
        """The fingerprint of n! that big results are checked against, and its source.

        math.factorial up to 10**5; above, gmpy2 (GMP) when it imports, because
        math.factorial(10**6) alone takes seconds. Either way the reference is
        computed by code that is not factlab's.
        """
        if n not in self._references:
            if n > 10**5 and self.gmpy2:
                import gmpy2

                value, source = int(gmpy2.fac(n)), "gmpy2.fac"
            else:
                value, source = math.factorial(n), "math.factorial"
            self._references[n] = (fingerprint(value), source)
        return self._references[n]

    def heavy_settings(self, est: float | None) -> Settings:
        """Settings for a job whose call takes about ``est`` seconds (None: unknown, small)."""
        mode = self.mode
        if est is None or est < mode.micro.min_time:
            return Settings(
                mode.heavy_processes,
                mode.max_values,
                1,
                mode.micro.min_time,
                calibrate_here=mode.micro.calibrate_here,
            )
        runs = mode.job_budget / (est * mode.heavy_processes)
        warmups = 1 if runs >= 3 else 0
        values = max(1, min(mode.max_values, int(runs) - warmups))
        return Settings(mode.heavy_processes, values, warmups, mode.micro.min_time, loops=1)


def _parse(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The outcome of a job from its output."""
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX) and proc.returncode == 0:
            return {"status": "ok", "timing": json.loads(line[len(RESULT_PREFIX) :])}
    text = proc.stderr + proc.stdout
    for line in text.splitlines():
        if line.startswith(WRONG_PREFIX):
            return {"status": "wrong", "note": line[len(WRONG_PREFIX) :]}
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # The first exception line is the worker's own error; pyperf's manager then
    # only adds "... failed with exit code N".
    errors = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception|Exit)\b", ln)]
    reason = errors[0] if errors else (lines[-1] if lines else "no output")
    return {"status": "failed", "note": f"exit code {proc.returncode}: {reason}"}


def _skipped(backend: str, note: str, **extra: Any) -> dict[str, Any]:
    return {"backend": backend, **extra, "status": "skipped", "note": note}


def _row(backend: str, outcome: dict[str, Any], key: str, **extra: Any) -> dict[str, Any]:
    """A result row: ok with its timing under ``key``, or the failure and its note."""
    row: dict[str, Any] = {"backend": backend, **extra, "status": outcome["status"]}
    if outcome["status"] == "ok":
        row["timings"] = {key: outcome["timing"]}
        row["settings"] = outcome["settings"]
    else:
        row["note"] = outcome["note"]
    return row


def _mean(row: dict[str, Any] | None, key: str) -> float | None:
    if row is None or row.get("status") != "ok" or key not in row.get("timings", {}):
        return None
    return float(row["timings"][key]["mean"])


NOT_BUILT = "skipped: not built (`just setup` builds every backend)"


# -- the scenarios --------------------------------------------------------------


def article(s: Session) -> dict[str, Any]:
    """factorial(25) per backend: the seed article's loop, with exactness checked."""
    rows: list[dict[str, Any]] = []
    for b in s.backends:
        if s.modules.get(b) is None:
            rows.append(_skipped(b, NOT_BUILT))
            continue
        outcome = s.job("article", b, "factorial", ARTICLE_N, s.mode.micro)
        row = _row(b, outcome, "factorial")
        if outcome["status"] == "ok":
            row["exact"] = bool(outcome["timing"]["exact"])
        rows.append(row)
    by = {r["backend"]: r for r in rows}
    python_s, math_s = _mean(by.get("python"), "factorial"), _mean(by.get("math"), "factorial")
    for row in rows:
        mean = _mean(row, "factorial")
        if mean is None:
            continue
        row["ns_per_call"] = mean * 1e9
        row["stdev_ns"] = row["timings"]["factorial"]["stdev"] * 1e9
        row["seconds_per_million"] = mean * ARTICLE_CALLS
        row["speedup_vs_python"] = python_s / mean if python_s else None
        row["ratio_to_math"] = mean / math_s if math_s else None
    return {
        "title": TITLES["article"],
        "n": ARTICLE_N,
        "calls": ARTICLE_CALLS,
        "rows": rows,
        "article_figures": ARTICLE_FIGURES,
    }


def crossing(s: Session, article_result: dict[str, Any] | None) -> dict[str, Any]:
    """crossing(25): the mechanism's bare cost; factorial(25) minus it: the cost of exactness."""
    known = {r["backend"]: r for r in (article_result or {}).get("rows", [])}
    rows: list[dict[str, Any]] = []
    for b in s.backends:
        module = s.modules.get(b)
        if module is None:
            rows.append(_skipped(b, NOT_BUILT))
            continue
        if not hasattr(module, "crossing"):
            rows.append(_skipped(b, "no crossing(): nothing native to cross"))
            continue
        fact = known.get(b)
        if fact is None:  # the article scenario did not run: time factorial(25) here
            fact = _row(b, s.job("crossing", b, "factorial", ARTICLE_N, s.mode.micro), "factorial")
        if module.crossing is module.factorial:
            # math: the crossing is the function itself; one timing serves both.
            outcome = {"status": fact["status"], "note": fact.get("note", "")}
            if fact["status"] == "ok":
                outcome.update(timing=fact["timings"]["factorial"], settings=fact["settings"])
        else:
            outcome = s.job("crossing", b, "crossing", ARTICLE_N, s.mode.micro)
        row = _row(b, outcome, "crossing")
        if row["status"] == "ok" and fact["status"] == "ok":
            row["timings"]["factorial"] = fact["timings"]["factorial"]
        rows.append(row)
    for row in rows:
        cross, fact = _mean(row, "crossing"), _mean(row, "factorial")
        if cross is None:
            continue
        row["crossing_ns"] = cross * 1e9
        row["crossing_stdev_ns"] = row["timings"]["crossing"]["stdev"] * 1e9
        if fact is not None:
            row["factorial_ns"] = fact * 1e9
            row["exactness_ns"] = (fact - cross) * 1e9
            row["exactness_ratio"] = fact / cross
    return {"title": TITLES["crossing"], "n": ARTICLE_N, "rows": rows}


def sweep(s: Session) -> dict[str, Any]:
    """factorial(n) per backend for small to medium n: where each representation changes."""
    rows: list[dict[str, Any]] = []
    for b in s.backends:
        if s.modules.get(b) is None:
            rows.append(_skipped(b, NOT_BUILT))
            continue
        for n in s.mode.sweep_ns:
            outcome = s.job("sweep", b, "factorial", n, s.mode.sweep)
            row = _row(b, outcome, "factorial", n=n)
            if outcome["status"] == "ok":
                row["exact"] = bool(outcome["timing"]["exact"])
                row["ns_per_call"] = outcome["timing"]["mean"] * 1e9
                row["stdev_ns"] = outcome["timing"]["stdev"] * 1e9
            rows.append(row)
    return {"title": TITLES["sweep"], "ns": list(s.mode.sweep_ns), "rows": rows}


def big(s: Session) -> dict[str, Any]:
    """n = 10**4 .. 10**6: few, long calls; checked against an independent reference."""
    ns = list(s.mode.big_ns)
    names = [*s.backends, *([GMPY2] if s.gmpy2 else [])]
    references = {}
    rows: list[dict[str, Any]] = []
    for b in names:
        if b != GMPY2 and s.modules.get(b) is None:
            rows.append(_skipped(b, NOT_BUILT))
            continue
        measured: list[tuple[int, float]] = []
        for n in ns:
            est = estimate(measured, n)
            if est is not None and est > s.mode.skip_above:
                note = f"skipped: ~{fmt_seconds(est)} a call (extrapolated from smaller n)"
                if s.mode.name != "rigorous":
                    note += "; --rigorous times it"
                rows.append(_skipped(b, note, n=n, estimate_seconds=est))
                s.progress.done(f"big: {b} factorial({n})", "skipped (too slow)")
                continue
            expect, source = s.reference(n)
            references[str(n)] = source
            call = "fac" if b == GMPY2 else "factorial"
            outcome = s.job("big", b, call, n, s.heavy_settings(est), kind="call", expect=expect)
            row = _row(b, outcome, "factorial", n=n)
            if outcome["status"] == "ok":
                row["exact"] = True  # the worker checked every timed value
                row["seconds"] = outcome["timing"]["mean"]
                measured.append((n, row["seconds"]))
            elif outcome["status"] == "wrong":
                row["exact"] = False
            if b == GMPY2:
                row["reference"] = True
            rows.append(row)
    math_at = {r["n"]: r["seconds"] for r in rows if r["backend"] == "math" and "seconds" in r}
    for row in rows:
        if "seconds" in row and row.get("n") in math_at:
            row["speedup_vs_math"] = math_at[row["n"]] / row["seconds"]
    return {"title": TITLES["big"], "ns": ns, "references": references, "rows": rows}


def threads(s: Session, big_result: dict[str, Any] | None) -> dict[str, Any]:
    """One factorial(n) in one thread vs two at once in two threads: 2*t1/t2."""
    n = s.mode.threads_n
    expect, source = s.reference(n)
    cores = _usable_cores()
    load = _load_average()
    rows: list[dict[str, Any]] = []
    big_rows = (big_result or {}).get("rows", [])
    for b in s.backends:
        if s.modules.get(b) is None:
            rows.append(_skipped(b, NOT_BUILT, n=n))
            continue
        points = [(r["n"], r["seconds"]) for r in big_rows if r["backend"] == b and "seconds" in r]
        if not points:  # no big scenario in this run: one untimed-budget probe at n/10
            probe_n = max(n // 10, 1)
            probe_settings = Settings(1, 1, 0, s.mode.micro.min_time, loops=1)
            probe = s.job(
                "threads",
                b,
                "factorial",
                probe_n,
                probe_settings,
                kind="call",
                expect=s.reference(probe_n)[0],
                label=f"threads: {b} probe at n={probe_n}",
                counted=False,
            )
            if probe["status"] == "ok":
                points = [(probe_n, probe["timing"]["mean"])]
        est = estimate(points, n)
        if est is not None and est > s.mode.threads_skip_above:
            note = f"skipped: ~{fmt_seconds(est)} a call (extrapolated)"
            if b == "python":
                note += "; Python code takes turns anyway"
            rows.append(_skipped(b, note, n=n, estimate_seconds=est))
            s.progress.done(f"threads: {b} 1 thread", "skipped (too slow)")
            s.progress.done(f"threads: {b} 2 threads", "skipped (too slow)")
            continue
        one = s.job(
            "threads",
            b,
            "factorial",
            n,
            s.heavy_settings(est),
            kind="threads",
            threads=1,
            expect=expect,
            label=f"threads: {b} factorial({n}) in 1 thread",
            gil_probe=True,
        )
        two_est = None if est is None else 2 * est
        two = s.job(
            "threads",
            b,
            "factorial",
            n,
            s.heavy_settings(two_est),
            kind="threads",
            threads=2,
            expect=expect,
            label=f"threads: {b} factorial({n}) in 2 threads at once",
        )
        row: dict[str, Any] = {"backend": b, "n": n}
        bad = next((o for o in (one, two) if o["status"] != "ok"), None)
        if bad is not None:
            row.update(status=bad["status"], note=bad["note"])
            if bad["status"] == "wrong":
                row["exact"] = False
            rows.append(row)
            continue
        t1, t2 = one["timing"]["mean"], two["timing"]["mean"]
        share = float(one["timing"].get("gil_share", 0.0))
        row.update(
            status="ok",
            exact=True,
            timings={"1 thread": one["timing"], "2 threads": two["timing"]},
            settings={"1 thread": one["settings"], "2 threads": two["settings"]},
            t1=t1,
            t2=t2,
            speedup=2 * t1 / t2,
            gil_share=share,
            releases_gil=_verdict(b, share),
        )
        rows.append(row)
    return {
        "title": TITLES["threads"],
        "n": n,
        "reference": source,
        "usable_cores": cores,
        "load_average": load,
        "rows": rows,
    }


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _load_average() -> float | None:
    """The system's 1-minute load average: other work competing for the cores."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


# Below this share of its solo speed, the other thread was shut out of the call:
# the GIL was held (a held GIL gives exactly 0; a busy machine still gives > 0.1).
GIL_SHARE_THRESHOLD = 0.05


def _verdict(backend: str, share: float) -> str:
    """'yes' when another thread could run Python during the call, 'no' when it was shut out."""
    if backend == "python":
        return "no: bytecode takes turns"  # the interpreter switches threads every 5 ms: no parallelism
    return "yes" if share >= GIL_SHARE_THRESHOLD else "no"


def run(
    s: Session,
    scenarios: list[str],
    on_scenario: Callable[[str, dict[str, Any]], None],
) -> dict[str, dict[str, Any]]:
    """Run the selected scenarios in the canonical order, reporting each as it ends."""
    done: dict[str, dict[str, Any]] = {}
    for name in SCENARIOS:
        if name not in scenarios:
            continue
        if name == "article":
            result = article(s)
        elif name == "crossing":
            result = crossing(s, done.get("article"))
        elif name == "sweep":
            result = sweep(s)
        elif name == "big":
            result = big(s)
        else:
            result = threads(s, done.get("big"))
        done[name] = result
        on_scenario(name, result)
    return done


def count_jobs(s: Session, scenarios: list[str]) -> int:
    """How many jobs (progress steps) a run will report, skipped ones included."""
    built = s.built()
    crossings = [b for b in built if hasattr(s.modules[b], "crossing")]
    total = 0
    if "article" in scenarios:
        total += len(built)
    if "crossing" in scenarios:
        own = [b for b in crossings if s.modules[b].crossing is not s.modules[b].factorial]
        total += len(own) + (0 if "article" in scenarios else len(crossings))
    if "sweep" in scenarios:
        total += len(built) * len(s.mode.sweep_ns)
    if "big" in scenarios:
        total += (len(built) + (1 if s.gmpy2 else 0)) * len(s.mode.big_ns)
    if "threads" in scenarios:
        total += len(built) * 2
    return total
