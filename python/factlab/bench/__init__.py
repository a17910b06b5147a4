"""``python -m factlab bench``: time every backend, the seed article's experiment and more.

Five scenarios (``--scenario``): *article* (factorial(25), 1,000,000 calls),
*crossing* (each mechanism's bare call), *sweep* (n from 0 to 1000), *big*
(n = 10**4 .. 10**6, with gmpy2 for scale) and *threads* (does the binding
release the GIL?). Timings come from pyperf: worker processes, calibrated
loops, warm-ups, mean and std dev (see :mod:`factlab.bench._worker`).

Writes ``results.json`` (every figure and the machine), ``summary.md`` (the
tables, for the docs), ``chart.png`` and pyperf's raw files under ``pyperf/``
to ``target/bench/`` of the repository (or ``--out DIR``). The previous
``results.json`` is kept as ``results.previous.json``, so that

    python -m factlab bench --compare target/bench/results.previous.json --against target/bench/results.json

shows what changed. This module is imported by every pyperf worker process:
it imports nothing heavy at the top.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    from factlab.bench.scenarios import SCENARIOS

    p = argparse.ArgumentParser(
        prog="python -m factlab bench",
        description="Time every factlab backend with pyperf; print tables, write JSON, Markdown and a chart.",
    )
    speed = p.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="a smoke run of a few seconds (rough figures)")
    speed.add_argument(
        "--rigorous",
        action="store_true",
        help="pyperf's full settings (20 processes per figure): for publication, much longer",
    )
    p.add_argument(
        "--backends",
        type=_csv,
        metavar="A,B",
        help="only these backends (default: every registered one; unbuilt ones show as skipped)",
    )
    p.add_argument(
        "--scenario",
        "--scenarios",
        dest="scenarios",
        type=_csv,
        metavar="X,Y",
        help=f"only these scenarios, of: {', '.join(SCENARIOS)}",
    )
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="output directory (default: target/bench/ of the repo)"
    )
    p.add_argument(
        "--compare",
        type=Path,
        metavar="OLD.json",
        help="after the run, print the change of every figure against OLD.json",
    )
    p.add_argument(
        "--against",
        type=Path,
        metavar="NEW.json",
        help="with --compare: compare OLD.json with NEW.json, without running anything",
    )
    return p


def repo_root(start: Path | None = None) -> Path | None:
    """The factlab repository containing ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "Cargo.toml").is_file() and (d / "python" / "factlab").is_dir():
            return d
    return None


class _Lines:
    """Progress as plain lines, for logs and pipes (no terminal to redraw)."""

    def __init__(self, console: Any, total: int) -> None:
        self.console, self.total, self.count, self.t0 = console, total, 0, time.perf_counter()

    def start(self, label: str) -> None:
        pass

    def done(self, label: str, outcome: str, advance: bool = True) -> None:
        self.count += advance
        elapsed = time.perf_counter() - self.t0
        step = (
            f"{self.count:>{len(str(self.total))}}/{self.total}" if advance else "  " * len(str(self.total))
        )
        self.console.print(f"[{step}] {elapsed:6.1f} s  {label}: {outcome}", highlight=False, markup=False)


class _Bar:
    """Progress as a rich bar with the current job's name."""

    def __init__(self, progress: Any, total: int) -> None:
        self.progress = progress
        self.task = progress.add_task("starting", total=total)

    def start(self, label: str) -> None:
        self.progress.update(self.task, description=label)

    def done(self, label: str, outcome: str, advance: bool = True) -> None:
        if advance:
            self.progress.advance(self.task)


def _resolve_backends(names: list[str] | None) -> tuple[list[str], dict[str, Any], str | None]:
    """(selected names, name -> module or None when not built, error message or None)."""
    import factlab

    known = factlab.backend_names()
    unknown = [n for n in names or () if n not in known]
    if unknown:
        return [], {}, f"unknown backend(s): {', '.join(unknown)}; known: {', '.join(known)}"
    selected = [n for n in known if not names or n in names]  # always in the registry's order
    modules: dict[str, Any] = {}
    for name in selected:
        try:
            modules[name] = factlab.load(name)
        except factlab.BackendNotBuilt as exc:
            if names:  # named on the command line: the user expects a figure
                return [], {}, f"backend {name!r} cannot be benchmarked: {exc}"
            modules[name] = None
    return selected, modules, None


def _gmpy2() -> bool:
    try:
        import gmpy2  # noqa: F401
    except ImportError:
        return False
    return True


def _print_compare(console: Any, old_path: Path, new: dict[str, Any], new_name: str) -> None:
    from factlab.bench import report

    old = report.load_results(old_path)
    changes = report.compare(old, new)
    console.print(report.to_rich(report.compare_table(changes, str(old_path), new_name)))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from rich.console import Console

    from factlab.bench import report
    from factlab.bench.scenarios import MODES, SCENARIOS

    console = Console()
    if not console.is_terminal:  # a log or a pipe: no terminal width to follow, keep tables readable
        console = Console(width=120)
    err = Console(stderr=True)
    if args.against and not args.compare:
        err.print("--against needs --compare OLD.json")
        return 2
    if args.compare and args.against:
        new = report.load_results(args.against)
        _print_compare(console, args.compare, new, str(args.against))
        return 0
    if args.compare:
        report.load_results(args.compare)  # fail now, not after minutes of timing

    scenarios = args.scenarios or list(SCENARIOS)
    bad = [s for s in scenarios if s not in SCENARIOS]
    if bad:
        err.print(f"unknown scenario(s): {', '.join(bad)}; known: {', '.join(SCENARIOS)}")
        return 2
    backends, modules, problem = _resolve_backends(args.backends)
    if problem:
        err.print(problem, markup=False)
        return 2

    root = repo_root()
    out_dir = (args.out or (root or Path.cwd()) / "target" / "bench").resolve()
    mode = MODES["quick" if args.quick else "rigorous" if args.rigorous else "default"]
    return _run(console, mode, backends, modules, scenarios, out_dir, root, args.compare)


def _run(
    console: Any,
    mode: Any,
    backends: list[str],
    modules: dict[str, Any],
    scenarios: list[str],
    out_dir: Path,
    root: Path | None,
    compare_with: Path | None,
) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from factlab.bench import chart, machine, report, targets
    from factlab.bench import scenarios as sc

    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / "results.json"
    if results_path.exists():
        shutil.copyfile(results_path, out_dir / "results.previous.json")
    shutil.rmtree(out_dir / "pyperf", ignore_errors=True)  # pyperf --append would merge old runs

    info = machine.describe(root or Path.cwd())
    session = sc.Session(
        mode=mode,
        backends=backends,
        modules=modules,
        out_dir=out_dir,
        progress=_Lines(console, 0),
        gmpy2=_gmpy2(),
    )
    total = sc.count_jobs(session, scenarios)
    built = session.built()
    missing = [b for b in backends if b not in built]
    console.print(
        f"[bold]factlab bench[/] ({mode.name} mode): {len(built)} backend(s) built: "
        f"{', '.join(built) or 'none'}" + (f"; not built: {', '.join(missing)}" if missing else "")
    )
    console.print(
        f"{machine.one_line(info)}; {total} timings to take; results go to {out_dir}", highlight=False
    )

    t0 = time.perf_counter()

    def show(name: str, result: dict[str, Any]) -> None:
        for table in report.scenario_tables(name, result):
            console.print(report.to_rich(table))

    if console.is_terminal:
        columns = (
            TextColumn("{task.description:<58}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            session.progress = _Bar(bar, total)
            results = sc.run(session, scenarios, show)
    else:
        session.progress = _Lines(console, total)
        results = sc.run(session, scenarios, show)
    wall = time.perf_counter() - t0

    data = {
        "format": report.FORMAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": wall,
        "mode": mode.as_dict(),
        "backends": {b: ("built" if modules.get(b) is not None else "not built") for b in backends},
        "gmpy2": session.gmpy2,
        "machine": info,
        "scenarios": results,
    }
    data["targets"] = targets.evaluate(data)
    console.print(report.to_rich(report.targets_table(data["targets"])))
    results_path.write_text(json.dumps(data, indent=1) + "\n")
    png = chart.draw(results, machine.one_line(info), out_dir / "chart.png")
    summary = out_dir / "summary.md"
    summary.write_text(report.summary_markdown(data, png.name if png else None))

    console.print(f"\n{len(scenarios)} scenario(s) in {wall:.0f} s. Wrote:", highlight=False)
    for path in (results_path, summary, png, out_dir / "pyperf"):
        if path is not None and path.exists():
            console.print(f"  {path}", highlight=False)
    if compare_with is not None:
        _print_compare(console, compare_with, data, "this run")
    failures = [
        (name, r["backend"])
        for name, res in results.items()
        for r in res["rows"]
        if r["status"] in ("failed", "wrong") or r.get("exact") is False
    ]
    if failures:
        console.print(
            f"[bold red]{len(failures)} figure(s) failed or were wrong:[/] "
            + ", ".join(f"{s}/{b}" for s, b in failures)
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - `python -m factlab bench` is the entry point
    sys.exit(main())
