"""``python -m factlab bench``: its arguments, and what it does besides a run (plan, compare, publish).

Every argument and every file read is checked before anything runs; a
problem is one line and exit code 2 (:func:`factlab._cli.command`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import factlab
from factlab import _cli, _common
from factlab._runs import RunError, out_dir, resolve
from factlab.bench import report
from factlab.bench.results import RESULTS, load_run
from factlab.bench.run import FILES, Plan, start
from factlab.bench.scenarios import DEFAULT_SCENARIOS, MODES, SCENARIOS, entries, has_gmpy2, load

PROG = "python -m factlab bench"
LIBRARIES = ("pyperf", "rich", "matplotlib", "psutil", "gmpy2")  # the [bench] extra's, for a run


def parser() -> argparse.ArgumentParser:
    p = _cli.Parser(
        prog=PROG,
        description="Time every factlab backend with pyperf, count its instructions with callgrind: "
        "tables, charts, speed targets.",
        epilog="Each run goes to DIR/runs/<time>-<mode>/ (pyperf.json: the run's pyperf suite; results.json, "
        "summary.md, chart.png, chart-detail.png); DIR/latest points to the last complete run. "
        "`just docs-bench` is --publish latest. Build and ship costs: python -m factlab ship.",
    )
    speed = p.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="seconds; rough figures, never published")
    speed.add_argument("--rigorous", action="store_true", help="pyperf's default settings (about an hour)")
    backends = _cli.names("backend", factlab.backend_names())
    p.add_argument("--backends", type=backends, metavar="A,B", help="default: every registered one built")
    scenarios = _cli.names("scenario", list(SCENARIOS))
    p.add_argument("--scenario", "--scenarios", dest="scenarios", type=scenarios, metavar="X,Y",
                   help=f"default: all ({', '.join(DEFAULT_SCENARIOS)}); instructions: callgrind's "
                   "counts, about 2 minutes of a default run (--quick: factorial(25) and crossing(25) "
                   "only); callback: under a minute (SIGINTs, and calls with and without the kernel's "
                   "hook, in a fresh process per backend); object: Factorials made, stepped and dropped, "
                   "and next() per step (with instructions: their counts too)")  # fmt: skip
    p.add_argument("--out", type=Path, metavar="DIR", help="where runs go (default: target/bench)")
    p.add_argument("--compare", metavar="RUN", help="then compare with RUN (pyperf compare_to): a run's "
                   "directory or a file in it, 'latest', or 'previous' (the last complete run)")  # fmt: skip
    p.add_argument("--against", metavar="RUN", help="with --compare: compare with RUN, run nothing")
    p.add_argument("--plan", action="store_true", help="print what a run would time and count, and exit")
    p.add_argument("--publish", metavar="RUN", help="copy RUN, a complete full run, into the book")
    return p


def plan(
    backends: list[str] | None = None, scenarios: list[str] | None = None, mode: str = "default"
) -> list[str]:
    """The names of what a run would measure, in order (backends that do not load are left out).

    Every list comes from the registry at call time: a backend added with
    :func:`factlab.register` is in the plan. A run may still skip a heavy
    benchmark estimated slower than the mode allows (it says so in its tables).
    """
    modules, _ = load(backends)
    return [e.name for e in entries(MODES[mode], modules, scenarios or DEFAULT_SCENARIOS, has_gmpy2())]


def main(argv: list[str] | None = None) -> int:
    return _cli.command(PROG, _main, argv)


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    mode = "quick" if args.quick else "rigorous" if args.rigorous else "default"
    scenarios = args.scenarios or DEFAULT_SCENARIOS
    if args.plan:
        print("\n".join(plan(args.backends, scenarios, mode)))
        return 0
    out = out_dir("bench", args.out)
    if args.publish:  # the standard library is enough to publish a run
        return publish(resolve(args.publish, out, RESULTS))
    _cli.require(LIBRARIES)
    if args.against and not args.compare:
        raise RunError("--against needs --compare RUN")
    old = resolve(args.compare, out, RESULTS, running=not args.against) if args.compare else None
    if old is not None:
        comparable(old)  # now, not after minutes of timing
    console = _cli.console()
    if args.against:
        compare(old, resolve(args.against, out, RESULTS), console)  # type: ignore[arg-type]
        return 0
    return measure(args.backends, mode, scenarios, out, old, console)


def measure(backends: list[str] | None, mode: str, scenarios: list[str], out: Path, old: Path | None,
            console: Any) -> int:  # fmt: skip
    """A run, its tables in the terminal, the comparison asked for; 1 if a benchmark failed."""
    code, run_dir = start(Plan.make(mode, scenarios, backends), out, console)
    if run_dir is None:
        return code
    data = load_run(run_dir)
    for table in report.terminal_tables(data):
        _cli.show(console, table)
    console.print(f"\n{len(data['scenarios'])} scenarios in {data['wall_seconds']:.0f} s; wrote {run_dir} "
                  "(now latest; every table in full in its summary.md)", highlight=False)  # fmt: skip
    if old is not None:
        compare(old, run_dir, console)
    bad = [r["name"] for rs in data["scenarios"].values() for r in rs if r["status"] in ("failed", "wrong")]
    if bad:
        console.print(f"[bold red]{len(bad)} benchmark(s) failed or gave a wrong value:[/] {', '.join(bad)}")
    return 1 if bad else 0


def comparable(run_dir: Path) -> dict[str, Any]:
    """A complete run whose pyperf suite loads: what --compare needs."""
    import pyperf

    data = load_run(run_dir)
    try:
        pyperf.BenchmarkSuite.load(str(run_dir / "pyperf.json"))
    except Exception as exc:  # pyperf raises what json and its own checks raise
        raise RunError(
            f"{run_dir / 'pyperf.json'}: not a pyperf suite ({type(exc).__name__}: {exc})"
        ) from None
    return data


def compare(old: Path, new: Path, console: Any) -> None:
    """pyperf compare_to between two runs' suites, with a warning when their modes differ."""
    modes = [comparable(d)["mode"] for d in (old, new)]
    if modes[0] != modes[1]:
        console.print(
            f"[bold yellow]warning:[/] comparing a {modes[0]} run with a {modes[1]} run: settings differ"
        )
    with tempfile.TemporaryDirectory() as tmp:  # pyperf names the columns after the files: name them by run
        files = [Path(tmp) / f"{old.name}.json", Path(tmp) / f"{new.name}{'-again' * (new == old)}.json"]
        for f, d in zip(files, (old, new), strict=True):
            f.symlink_to((d / "pyperf.json").resolve())
        shown = _common.run([sys.executable, "-m", "pyperf", "compare_to", "--table", *files])
    console.print(f"Change from {old.name} to {new.name} (pyperf compare_to):", highlight=False)
    print(shown.out, end="")


def publish(run_dir: Path) -> int:
    """Copy a complete full run into the book, after checking that the book can show it."""
    data = load_run(run_dir)
    if data["mode"] == "quick":
        raise RunError(f"{run_dir.name} is a quick run: rough figures stay out of the book; run `just bench`")
    root = _common.repo_root()
    if root is None:
        raise RunError("not inside the factlab repository: no book to publish into")
    with tempfile.TemporaryDirectory() as tmp:
        results, rendered = str(run_dir / RESULTS), f"{tmp}/figures.md"
        figures = [sys.executable, str(root / "docs" / "figures.py"), "--results", results, "--out", rendered]
        check = _common.run(figures)
    if not check.ok:
        raise RunError(f"the book cannot show {run_dir.name}: {check.out.strip().splitlines()[-1]}")
    _cli.publish(run_dir, FILES, "bench")
    print(f"{run_dir.name} ({data['mode']} mode, {data['created']}) copied into docs/src/bench: commit it")
    return 0
