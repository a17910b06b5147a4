"""One run of the bench, from its plan to ``latest``.

1. The plan: the entries of the chosen scenarios over the backends that load,
   written to ``plan.json`` in a new run directory (:mod:`factlab._runs`).
2. The measurements, each a child process that dies with the bench
   (:mod:`factlab._children`): pyperf's suite (:mod:`factlab.bench._suite`,
   ``pyperf.json`` and ``status.json``), then Ctrl-C and the kernel's hook
   measured in fresh processes (:mod:`factlab.bench._control`,
   ``control.json``), then the instruction counts
   (:mod:`factlab.bench._count`, ``counts.json``).
3. The results: one row per entry, the targets judged, then ``results.json``,
   ``summary.md`` and the charts, the run marked complete and ``latest``
   moved last.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from factlab import _common
from factlab._children import spawn, wait
from factlab._runs import RunError, finish, new_run
from factlab.bench import chart, report, targets
from factlab.bench.results import FORMAT, RESULTS
from factlab.bench.scenarios import CALLGRIND, CONTROL, MODES, PYPERF, Entry, entries, has_gmpy2, load

MACHINE = ("cpu_model_name", "cpu_count", "cpu_freq", "platform", "python_implementation", "python_version",
           "python_compiler", "timer", "perf_version")  # fmt: skip
PACKAGES = ("pyperf", "cffi", "Cython", "maturin", "gmpy2")
FILES = (RESULTS, "summary.md", "chart.png", "chart-detail.png")  # what the book takes from a run
INTERRUPTED = 130  # the exit code of a run stopped by Ctrl-C or SIGTERM


@dataclass
class Plan:
    """What a run measures: mode, scenarios, entries, the backends that load and those that do not."""

    mode: str
    scenarios: list[str]
    todo: list[Entry]
    backends: list[str]
    missing: list[str]
    gmpy2: bool

    @classmethod
    def make(cls, mode: str, scenarios: list[str], names: list[str] | None) -> Plan:
        modules, missing = load(names)
        if names and missing:
            raise RunError(f"backend {', '.join(missing)} is not built: `just setup` builds every backend")
        gmpy2 = has_gmpy2()
        todo = entries(MODES[mode], modules, scenarios, gmpy2)
        return cls(mode, scenarios, todo, list(modules), missing, gmpy2)

    def steps(self) -> list[list[str]]:
        """The child processes that measure: pyperf's suite, the fresh processes (Ctrl-C), callgrind."""
        commands = {
            PYPERF: ["-m", "factlab.bench._suite", "--quiet"],
            CONTROL: ["-m", "factlab.bench._control"],
            CALLGRIND: ["-m", "factlab.bench._count"],
        }
        return [cmd for step, cmd in commands.items() if any(e.step == step for e in self.todo)]


def start(plan: Plan, out: Path, console: Any) -> tuple[int, Path | None]:
    """Measure ``plan`` in a new run directory; (exit code, the run if it completed)."""
    t0, begun = time.perf_counter(), datetime.datetime.now(datetime.timezone.utc)
    run_dir = new_run(out, plan.mode, begun)
    entries = [e.as_dict() for e in plan.todo]
    (run_dir / "plan.json").write_text(
        json.dumps({"mode": plan.mode, "gmpy2": plan.gmpy2, "entries": entries})
    )
    steps = [e.step for e in plan.todo]
    console.print(
        f"[bold]factlab bench[/] ({plan.mode} mode): {steps.count(PYPERF)} pyperf benchmarks, "
        + (f"{steps.count(CONTROL)} in fresh processes, " if CONTROL in steps else "")
        + f"{steps.count(CALLGRIND)} instruction counts over {', '.join(plan.backends)}"
        + (f"; not built, skipped: {', '.join(plan.missing)}" if plan.missing else "")
        + f"\nrun directory: {run_dir}",
        highlight=False,
    )
    machine = _machine(_common.repo_root())
    for step in plan.steps():
        code = wait(spawn([sys.executable, step[0], step[1], str(run_dir), *step[2:]]))
        if code != 0:
            why = "interrupted" if code is None else f"stopped (exit code {code})"
            console.print(f"[bold red]run {why}[/]: the partial run stays in {run_dir}; latest is unchanged.",
                          highlight=False)  # fmt: skip
            return (INTERRUPTED if code is None else 1), None
    data = results(plan, run_dir, begun, time.perf_counter() - t0, machine)
    finish(out, run_dir, RESULTS, data, [
        ("summary.md", lambda path: path.write_text(report.summary_markdown(data), encoding="utf-8")),
        ("chart.png", lambda path: chart.slide(data, path)),
        ("chart-detail.png", lambda path: chart.detail(data, path)),
    ])  # fmt: skip
    return 0, run_dir


def results(
    plan: Plan, run_dir: Path, begun: datetime.datetime, wall: float, machine: dict[str, Any]
) -> dict[str, Any]:
    """What results.json holds: the run, its settings and machine, one row per entry, the targets."""
    suite = _suite(run_dir)
    m = MODES[plan.mode]
    data: dict[str, Any] = {
        "format": FORMAT,
        "created": f"{begun:%Y-%m-%d %H:%M} UTC",
        "mode": plan.mode,
        "wall_seconds": wall,
        "settings": {k: getattr(m, k) for k in ("processes", "values", "warmups", "min_time", "budget")},
        "machine": {k: v for k, v in _metadata(suite, run_dir).items() if k in MACHINE} | machine,
        "scenarios": rows(plan, run_dir, suite),
    }
    data["targets"] = targets.evaluate(data)
    return data


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}  # type: ignore[no-any-return]


def _suite(run_dir: Path) -> Any:
    """The run's pyperf suite (None when nothing was timed)."""
    import pyperf

    path = run_dir / "pyperf.json"
    return pyperf.BenchmarkSuite.load(str(path)) if path.is_file() else None


def rows(plan: Plan, run_dir: Path, suite: Any) -> dict[str, list[dict[str, Any]]]:
    """One row per entry, with its outcome (pyperf's figures, a fresh process's or callgrind's), then the
    backends not built."""
    outcomes: dict[str, Any] = {}
    for step in ("status", "control", "counts"):  # pyperf's suite, the fresh processes, callgrind
        outcomes |= _load(run_dir / f"{step}.json")
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in plan.scenarios}
    for e in plan.todo:
        row = {
            "name": e.name,
            **e.as_dict(),
            **outcomes.get(e.name, {"status": "failed", "note": "no outcome"}),
        }
        del row["module"]
        if row["status"] == "ok" and e.step == PYPERF:
            row |= _figures(suite.get_benchmark(e.name), e)
        out[e.scenario].append(row)
    for rs in out.values():
        rs += [{"backend": b, "status": "skipped", "note": "not built (`just setup`)"} for b in plan.missing]
    return out


def _figures(bench: Any, e: Entry) -> dict[str, Any]:
    """A timed entry's figures from its pyperf benchmark: mean, stdev, and factlab's metadata."""
    meta = bench.get_metadata()
    row: dict[str, Any] = {"mean": bench.mean(), "stdev": bench.stdev() if bench.get_nvalue() > 1 else 0.0}
    row["values"] = bench.get_nvalue()
    row |= {k[8:]: v for k, v in meta.items() if k in ("factlab_gil_share", "factlab_idle_cores")}
    row["exact"] = e.checked or None
    if "gil_share" in row:
        row["releases_gil"] = report.releases_gil(e.backend, row["gil_share"])
    return row


def _machine(root: Path | None) -> dict[str, Any]:
    """What pyperf's metadata lacks: rustc, the commit measured (taken when the run starts), packages."""

    def command(*cmd: str) -> str:
        done = _common.run(list(cmd), cwd=root, timeout=20)
        return done.out.strip() if done.ok else ""

    m: dict[str, Any] = {"rustc": command("rustc", "--version") or "not found"}
    commit = command("git", "rev-parse", "--short=12", "HEAD")
    dirty = command("git", "status", "--porcelain", "--untracked-files=no")
    m["commit"] = (commit or "unknown") + (" (with local changes)" if dirty else "")
    m["packages"] = {}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            m["packages"][name] = metadata.version(name)
    return m


def _metadata(suite: Any, run_dir: Path) -> dict[str, Any]:
    """The machine as pyperf describes it: the suite's metadata, or (nothing timed) collect_metadata's."""
    if suite is not None:
        return dict(suite.get_metadata())
    out = run_dir / "metadata.json"
    collect = [sys.executable, "-m", "pyperf", "collect_metadata", "--output", str(out)]
    if not _common.run(collect).ok or not out.is_file():
        return {}
    return dict(json.loads(out.read_text(encoding="utf-8")).get("metadata", {}))
