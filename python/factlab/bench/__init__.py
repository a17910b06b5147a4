"""``python -m factlab bench``: time every backend with pyperf; tables, results, charts, targets.

A run is one pyperf suite (:mod:`factlab.bench._suite` is its benchmark
script) in a directory of its own, ``target/bench/runs/<time>-<mode>/``:
``plan.json`` (what it times), ``pyperf.json`` (every value, pyperf's format
and metadata), then, once every benchmark has run, ``results.json`` (the
figures the book and the tables use, and the targets judged), ``summary.md``
and the charts. ``target/bench/latest`` points to the last complete run; an
interrupted run leaves it where it was. Every argument and every file read is
checked before anything runs; a problem is one line and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

from factlab._render import to_rich
from factlab.bench.scenarios import DEFAULT_SCENARIOS, MODES, OPT_IN, SCENARIOS, plan

__all__ = ["main", "plan"]
FORMAT = "factlab-bench/2"
PROG = "python -m factlab bench"
MACHINE = ("cpu_model_name", "cpu_count", "cpu_freq", "platform", "python_implementation", "python_version",
           "python_compiler", "timer", "perf_version")  # fmt: skip
PACKAGES = ("pyperf", "cffi", "Cython", "maturin", "gmpy2")
FILES = ("results.json", "summary.md", "chart.png", "chart-detail.png")  # what the book takes from a run
SHIP_FILES = ("ship.json", "chart-ship.png")  # and from a run of --scenario ship


class BenchError(Exception):
    """A bad argument or file: one line for the user, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise BenchError(message)


def _names(kind: str, known: list[str]) -> Any:
    def parse(text: str) -> list[str]:
        names = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [n for n in names if n not in known]
        if not names or unknown:
            what = f"unknown {kind} {', '.join(unknown)}" if unknown else f"no {kind} named"
            raise argparse.ArgumentTypeError(f"{what}; known: {', '.join(known)}")
        return names

    return parse


def _parser() -> argparse.ArgumentParser:
    import factlab

    p = _Parser(
        prog=PROG,
        description="Time every factlab backend with pyperf: tables, charts, speed targets.",
        epilog="Each run goes to DIR/runs/<time>-<mode>/ (pyperf.json: the run's pyperf suite; results.json, "
        "summary.md, chart.png, chart-detail.png); DIR/latest points to the last complete run. "
        "`just docs-bench` is --publish latest.",
    )
    speed = p.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="seconds; rough figures, never published")
    speed.add_argument("--rigorous", action="store_true", help="pyperf's default settings (about an hour)")
    backends, scenarios = _names("backend", factlab.backend_names()), _names("scenario", list(SCENARIOS))
    p.add_argument("--backends", type=backends, metavar="A,B", help="default: every registered one built")
    p.add_argument("--scenario", "--scenarios", dest="scenarios", type=scenarios, metavar="X,Y",
                   help=f"default: {', '.join(DEFAULT_SCENARIOS)}; also: {', '.join(OPT_IN)} (build, "
                   "ship and import costs: builds every backend from a copy of the sources, about 8 "
                   "minutes on two cores, so only when named; with --quick, incremental builds only, "
                   "about 3 minutes: CI's variant)")  # fmt: skip
    p.add_argument("--out", type=Path, metavar="DIR", help="where runs go (default: target/bench)")
    p.add_argument("--compare", metavar="RUN", help="then compare with RUN (pyperf compare_to): a run's "
                   "directory or a file in it, 'latest', or 'previous' (the last complete run)")  # fmt: skip
    p.add_argument("--against", metavar="RUN", help="with --compare: compare with RUN, run nothing")
    p.add_argument("--plan", action="store_true", help="print the benchmarks a run would time, and exit")
    p.add_argument("--publish", metavar="RUN", help="copy RUN, a complete full run, into the book")
    return p


def repo_root(start: Path | None = None) -> Path | None:
    """The factlab repository containing ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    found = [
        d for d in (here, *here.parents) if (d / "Cargo.toml").is_file() and (d / "python/factlab").is_dir()
    ]
    return found[0] if found else None


def _complete_runs(out: Path) -> list[Path]:
    return sorted(d for d in (out / "runs").glob("*") if (d / "results.json").is_file())


def resolve(text: str, out: Path, running: bool) -> Path:
    """A run's directory from 'latest', 'previous', a run's directory or a file in it."""
    if text in ("latest", "previous"):
        latest = (out / "latest").resolve() if (out / "latest").exists() else None
        if latest is None:
            raise BenchError(f"no complete run in {out} yet: `just bench` makes one")
        if text == "latest" or running:
            return latest  # during a run, 'previous' is the last complete run before it
        before = [d for d in _complete_runs(out) if d.name < latest.name]
        if not before:
            raise BenchError(f"only one complete run in {out}: nothing before {latest.name}")
        return before[-1]
    path = Path(text)
    run = path.parent if path.is_file() else path
    if not run.is_dir():
        raise BenchError(f"{text}: no such run (a run's directory, a file in it, 'previous' or 'latest')")
    return run


def _number(value: object, positive: bool) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 if positive else value >= 0)
    )


def load_run(run: Path) -> dict[str, Any]:
    """The results of a complete run, every field checked (BenchError names the first bad one)."""
    path = run / "results.json"
    if not path.is_file():
        raise BenchError(f"{run} is not a complete run (interrupted or failed: it has no results.json)")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError) as exc:
        raise BenchError(
            f"cannot read {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BenchError(f"{path} is not a factlab bench result of format {FORMAT}")
    if data.get("mode") not in MODES or data.get("complete") is not True:
        raise BenchError(f"{path}: 'mode' must be one of {', '.join(MODES)} and 'complete' true")
    scenarios = data.get("scenarios")
    if not isinstance(scenarios, dict) or not all(isinstance(v, list) for v in scenarios.values()):
        raise BenchError(f"{path}: 'scenarios' must map each scenario to a list of rows")
    for name, rows in scenarios.items():
        for i, r in enumerate(rows):
            where = f"{path}: scenarios.{name}[{i}]"
            if not isinstance(r, dict) or not isinstance(r.get("backend"), str) or not r["backend"]:
                raise BenchError(f"{where}: a row must be an object with a 'backend' name")
            if "n" in r and not (isinstance(r["n"], int) and not isinstance(r["n"], bool) and r["n"] >= 0):
                raise BenchError(f"{where}: 'n' must be a whole number >= 0, not {r['n']!r}")
            if r.get("status") not in ("ok", "skipped", "failed", "wrong"):
                raise BenchError(f"{where}: 'status' must be ok, skipped, failed or wrong")
            timed = "name" in r  # a pyperf benchmark's row (ship's rows are measured outside pyperf)
            ok = _number(r.get("mean"), True) and _number(r.get("stdev"), False)
            if r["status"] == "ok" and timed and not ok:
                raise BenchError(
                    f"{where}: 'mean' must be seconds > 0 and 'stdev' >= 0, not {r.get('mean')!r}"
                )
    return data


def comparable(run: Path) -> dict[str, Any]:
    """A complete run whose pyperf suite loads: what --compare needs."""
    import pyperf

    data = load_run(run)
    try:
        pyperf.BenchmarkSuite.load(str(run / "pyperf.json"))
    except Exception as exc:  # pyperf raises what json and its own checks raise
        raise BenchError(f"{run / 'pyperf.json'}: not a pyperf suite ({type(exc).__name__}: {exc})") from None
    return data


def _out_dir(args: argparse.Namespace) -> Path:
    out = (args.out or (repo_root() or Path.cwd()) / "target" / "bench").resolve()
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out / "runs"):
            pass
    except OSError as exc:
        raise BenchError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    return out


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
        out = subprocess.run([sys.executable, "-m", "pyperf", "compare_to", "--table", *map(str, files)],
                             capture_output=True, text=True)  # fmt: skip
    console.print(f"Change from {old.name} to {new.name} (pyperf compare_to):", highlight=False)
    print(out.stdout + out.stderr, end="")


def publish(run: Path, root: Path | None) -> int:
    """Copy a complete full run into the book, after checking that the book can show it."""
    data = load_run(run)
    if data["mode"] == "quick":
        raise BenchError(f"{run.name} is a quick run: rough figures stay out of the book; run `just bench`")
    if root is None:
        raise BenchError("not inside the factlab repository: no book to publish into")
    figures = root / "docs" / "figures.py"
    shipped = [name for name in SHIP_FILES if (run / name).is_file()]
    if set(data["scenarios"]) == {"ship"}:  # a run of --scenario ship alone: its own files only
        for name in shipped:
            shutil.copyfile(run / name, root / "docs" / "src" / "bench" / name)
        subprocess.run([sys.executable, str(figures)], check=True)
        print(f"{run.name} (ship, {data['mode']} mode) copied into docs/src/bench: commit it")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, str(figures), "--results", str(run / "results.json"), "--out", f"{tmp}/f.md"]
        check = subprocess.run(cmd, capture_output=True, text=True)
    if check.returncode:
        raise BenchError(f"the book cannot show {run.name}: {check.stderr.strip().splitlines()[-1]}")
    for name in (*FILES, *shipped):
        shutil.copyfile(run / name, root / "docs" / "src" / "bench" / name)
    subprocess.run([sys.executable, str(figures)], check=True)
    print(f"{run.name} ({data['mode']} mode, {data['created']}) copied into docs/src/bench: commit it")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BenchError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    from rich.console import Console

    args = _parser().parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=150)
    mode = "quick" if args.quick else "rigorous" if args.rigorous else "default"
    scenarios = args.scenarios or DEFAULT_SCENARIOS
    if args.plan:
        print("\n".join(plan(args.backends, scenarios, mode)))
        return 0
    out = _out_dir(args)
    if args.publish:
        return publish(resolve(args.publish, out, running=False), repo_root())
    if args.against and not args.compare:
        raise BenchError("--against needs --compare RUN")
    old = resolve(args.compare, out, running=not args.against) if args.compare else None
    if old is not None:
        comparable(old)  # now, not after minutes of timing
    if args.against:
        compare(old, resolve(args.against, out, running=False), console)  # type: ignore[arg-type]
        return 0
    return _run(args, mode, scenarios, out, old, console)


def _machine(root: Path | None) -> dict[str, Any]:
    """What pyperf's metadata lacks: rustc, the commit measured (taken when the run starts), packages."""
    from importlib import metadata

    def command(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=20).stdout.strip()
        except OSError:
            return ""

    m: dict[str, Any] = {}
    m["rustc"] = command("rustc", "--version") or "not found"
    commit = command("git", "rev-parse", "--short=12", "HEAD")
    dirty = command("git", "status", "--porcelain", "--untracked-files=no")
    m["commit"] = (commit or "unknown") + (" (with local changes)" if dirty else "")
    m["packages"] = {}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            m["packages"][name] = metadata.version(name)
    return m


def _metadata(suite: Any, run: Path) -> dict[str, Any]:
    """The machine, as pyperf describes it: the suite's metadata, or (a run with no pyperf
    benchmark, ship alone) what ``pyperf collect_metadata`` says."""
    if suite is not None:
        return dict(suite.get_metadata())
    out = run / "metadata.json"
    cmd = [sys.executable, "-m", "pyperf", "collect_metadata", "--output", str(out)]
    if subprocess.run(cmd, capture_output=True, check=False).returncode != 0 or not out.is_file():
        return {}
    return dict(json.loads(out.read_text(encoding="utf-8")).get("metadata", {}))


def _run(
    args: argparse.Namespace, mode: str, scenarios: list[str], out: Path, old: Path | None, console: Any
) -> int:
    import pyperf

    from factlab.bench import chart, report, targets
    from factlab.bench.scenarios import OTHER_ROWS, Context, entries, has_gmpy2, load

    modules, missing = load(args.backends)
    if args.backends and missing:
        raise BenchError(f"backend {', '.join(missing)} is not built: `just setup` builds every backend")
    gmpy2 = has_gmpy2()
    todo = entries(MODES[mode], modules, scenarios, gmpy2)
    start = datetime.datetime.now(datetime.timezone.utc)
    run = out / "runs" / f"{start:%Y%m%d-%H%M%S}-{mode}"
    run.mkdir()
    (run / "plan.json").write_text(
        json.dumps({"mode": mode, "gmpy2": gmpy2, "entries": [e.as_dict() for e in todo]})
    )
    console.print(
        f"[bold]factlab bench[/] ({mode} mode): {len(todo)} pyperf benchmarks over {', '.join(modules)}"
        + (f"; not built, skipped: {', '.join(missing)}" if missing else "")
        + f"\nrun directory: {run}",
        highlight=False,
    )
    extra, t0 = _machine(repo_root()), time.perf_counter()
    # pyperf's manager in a session of its own: Ctrl-C reaches us only, and we pass it on to the
    # manager, which stops its worker (a worker interrupted while it imports would print a traceback).
    cmd = [sys.executable, "-m", "factlab.bench._suite", str(run), "--quiet"]
    suite_proc = subprocess.Popen(cmd, start_new_session=True)
    try:
        code = suite_proc.wait()
    except KeyboardInterrupt:
        suite_proc.send_signal(signal.SIGINT)
        suite_proc.wait()
        code = -2
    if code:
        why = "interrupted" if code == -2 else f"stopped (exit code {code})"
        console.print(
            f"[bold red]run {why}[/]: the partial run stays in {run}; latest is unchanged.", highlight=False
        )
        return 130 if code == -2 else 1
    timed = (run / "pyperf.json").exists()  # not when nothing was timed (OTHER_ROWS scenarios only)
    suite = pyperf.BenchmarkSuite.load(str(run / "pyperf.json")) if timed else None
    status = json.loads((run / "status.json").read_text())
    rows: dict[str, list[dict[str, Any]]] = {s: [] for s in scenarios}
    for e in todo:
        row = {"name": e.name, **e.as_dict(), **status[e.name]}
        if row["status"] == "ok":
            b = suite.get_benchmark(e.name)  # type: ignore[union-attr]
            meta = b.get_metadata()
            row.update(mean=b.mean(), stdev=b.stdev() if b.get_nvalue() > 1 else 0.0, values=b.get_nvalue())
            row.update(
                {k[8:]: v for k, v in meta.items() if k in ("factlab_gil_share", "factlab_idle_cores")}
            )
            row["exact"] = e.checked or None
            if "gil_share" in row:
                row["releases_gil"] = report.releases_gil(e.backend, row["gil_share"])
        del row["module"]
        rows[e.scenario].append(row)
    for s in scenarios:
        rows[s] += [{"backend": b, "status": "skipped", "note": "not built (`just setup`)"} for b in missing]
        if s in OTHER_ROWS:  # measured outside pyperf's loops
            rows[s] += OTHER_ROWS[s](run, Context(MODES[mode], modules, gmpy2))
    m = MODES[mode]
    data: dict[str, Any] = {
        "format": FORMAT,
        "created": f"{start:%Y-%m-%d %H:%M} UTC",
        "mode": mode,
        "complete": True,
        "wall_seconds": time.perf_counter() - t0,
        "settings": {k: getattr(m, k) for k in ("processes", "values", "warmups", "min_time", "budget")},
        "machine": {k: v for k, v in _metadata(suite, run).items() if k in MACHINE} | extra,
        "scenarios": rows,
    }  # fmt: skip
    data["targets"] = targets.evaluate(data) if todo else []  # a run of ship alone judges no speed
    (run / "results.json").write_text(json.dumps(data, indent=1) + "\n")
    (run / "summary.md").write_text(report.summary_markdown(data))
    chart.draw(data, run)
    link = out / "latest.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(Path("runs") / run.name)
    os.replace(link, out / "latest")  # atomic: latest is never half-written
    for table in report.tables(data):
        console.print(to_rich(table))
    console.print(
        f"\n{len(todo)} benchmarks in {data['wall_seconds']:.0f} s; wrote {run} (now latest)", highlight=False
    )
    if old is not None:
        compare(old, run, console)
    bad = [r["name"] for rs in rows.values() for r in rs if r["status"] in ("failed", "wrong")]
    if bad:
        console.print(f"[bold red]{len(bad)} benchmark(s) failed or gave a wrong value:[/] {', '.join(bad)}")
    return 1 if bad else 0


if __name__ == "__main__":  # pragma: no cover - `python -m factlab bench` is the entry point
    sys.exit(main())
