"""``python -m factlab ship``: its arguments, one run from its plan to ``latest``, publishing.

A run is a directory, ``target/ship/runs/<time>-<mode>/``: ``plan.json``, the
measurements (``rows.json``, from a child process that dies with this one),
then ``ship.json`` (format :data:`FORMAT`), ``summary.md`` (the full table) and
``chart-ship.png``, marked complete last; ``target/ship/latest`` moves only
then (:mod:`factlab._runs`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
from pathlib import Path
from typing import Any

import factlab
from factlab import _cli, _common
from factlab._children import spawn, wait
from factlab._runs import RunError, finish, new_run, out_dir, resolve
from factlab.ship import chart, report
from factlab.ship.rows import IMPORT_RUNS, Plan

PROG = "python -m factlab ship"
FORMAT = "factlab-ship/2"
RESULTS = "ship.json"
FILES = (RESULTS, "chart-ship.png")  # what the book takes from a run (docs/src/ship/)
LIBRARIES = (
    "rich",
    "matplotlib",
    "pygments",
    "packaging",
    *(("tomli",) if sys.version_info < (3, 11) else ()),
)


def parser() -> argparse.ArgumentParser:
    p = _cli.Parser(
        prog=PROG,
        description="What each factlab backend costs to build, ship and import: build times in a copy of the "
        "sources, artifact and wheel sizes, what the machine needs, import times, lines of binding code.",
        epilog="Each run goes to DIR/runs/<time>-<mode>/ (ship.json, summary.md, chart-ship.png); DIR/latest "
        "points to the last complete run. The default run builds every backend cold: about 8 minutes on two "
        "cores; --quick (CI) times the incremental builds only, about 3 minutes.",
    )
    speed = p.add_mutually_exclusive_group()
    speed.add_argument(
        "--quick", action="store_true", help="no cold builds, 5 imports a figure; never published"
    )
    speed.add_argument("--rigorous", action="store_true", help=f"{IMPORT_RUNS['rigorous']} imports a figure")
    backends = _cli.names("backend", factlab.backend_names())
    p.add_argument("--backends", type=backends, metavar="A,B", help="default: every registered one built")
    p.add_argument("--out", type=Path, metavar="DIR", help="where runs go (default: target/ship)")
    p.add_argument("--plan", action="store_true", help="print what a run would build and measure, and exit")
    p.add_argument("--publish", metavar="RUN", help="copy RUN, a complete full run, into the book")
    return p


def main(argv: list[str] | None = None) -> int:
    return _cli.command(PROG, _main, argv)


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    mode = "quick" if args.quick else "rigorous" if args.rigorous else "default"
    if args.plan:
        print("\n".join(Plan.make(mode, args.backends).lines()))
        return 0
    out = out_dir("ship", args.out)
    if args.publish:  # the standard library is enough to publish a run
        return publish(resolve(args.publish, out, RESULTS))
    _cli.require(LIBRARIES)
    _common.require_repo(PROG)
    plan = Plan.make(mode, args.backends)
    missing = [b for b in args.backends or [] if b not in plan.backends]
    if missing:
        raise RunError(f"backend {', '.join(missing)} is not built: `just setup` builds every backend")
    console = _cli.console()
    code, run_dir = start(plan, out, console)
    if run_dir is None:
        return code
    doc = load_run(run_dir)
    _cli.show(console, report.terminal(doc["rows"]))
    console.print(f"\n{len(doc['rows'])} rows in {doc['seconds']:.0f} s; wrote {run_dir} (now latest; "
                  "the full table in its summary.md)", highlight=False)  # fmt: skip
    failed = [r["backend"] for r in doc["rows"] if r["status"] != "ok"]
    if doc["build_problem"] or failed:
        console.print(
            f"[bold red]builds failed or rows failed:[/] {doc['build_problem'] or ', '.join(failed)}"
        )
    return 1 if doc["build_problem"] or failed else 0


def start(plan: Plan, out: Path, console: Any) -> tuple[int, Path | None]:
    """Measure ``plan`` in a new run directory; (exit code, the run if it completed)."""
    begun = datetime.datetime.now(datetime.timezone.utc)
    run_dir = new_run(out, plan.mode, begun)
    (run_dir / "plan.json").write_text(json.dumps({"mode": plan.mode, "backends": plan.backends}))
    console.print(f"[bold]factlab ship[/] ({plan.mode} mode) over {', '.join(plan.backends)}\n"
                  f"run directory: {run_dir}", highlight=False)  # fmt: skip
    code = wait(spawn([sys.executable, "-m", "factlab.ship._measure", str(run_dir)]))
    if code != 0:
        why = "interrupted" if code is None else f"stopped (exit code {code})"
        console.print(f"[bold red]run {why}[/]: the partial run stays in {run_dir}; latest is unchanged.",
                      highlight=False)  # fmt: skip
        return (130 if code is None else 1), None
    measured = json.loads((run_dir / "rows.json").read_text())
    doc = {"format": FORMAT, "created": f"{begun:%Y-%m-%d %H:%M} UTC", "mode": plan.mode,
           "import_runs": IMPORT_RUNS[plan.mode], "machine": machine(), **measured}  # fmt: skip
    finish(out, run_dir, RESULTS, doc, [
        ("summary.md", lambda path: path.write_text(report.summary_markdown(doc), encoding="utf-8")),
        ("chart-ship.png", lambda path: chart.draw(doc, path)),
    ])  # fmt: skip
    return 0, run_dir


def machine() -> dict[str, str]:
    """The machine in a few words: Python, the platform, rustc, the commit measured."""
    root = _common.repo_root()
    rustc = _common.run(["rustc", "--version"])
    commit = _common.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root)
    return {
        "interpreter": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(terse=True),
        "rustc": rustc.out.strip() if rustc.ok else "not found",
        "commit": commit.out.strip() if commit.ok else "unknown",
    }


def load_run(run_dir: Path) -> dict[str, Any]:
    """The results of a complete ship run, checked (RunError names the first bad field)."""
    path = run_dir / RESULTS
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise RunError(f"{run_dir} is not a complete ship run ({path.name}: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RunError(f"{path} is not a factlab ship result of format {FORMAT}")
    if doc.get("complete") is not True:
        raise RunError(
            f"{path}: 'complete' is {doc.get('complete')!r}: a partial run (interrupted or failed)"
        )
    if doc.get("mode") not in IMPORT_RUNS or not isinstance(doc.get("mode"), str):
        raise RunError(f"{path}: 'mode' must be one of {', '.join(IMPORT_RUNS)}, not {doc.get('mode')!r}")
    rows = doc.get("rows")
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and isinstance(r.get("backend"), str) for r in rows
    ):
        raise RunError(f"{path}: 'rows' must be a list of rows, each with a 'backend' name")
    return doc


def publish(run_dir: Path) -> int:
    """Copy a complete full run into the book (docs/src/ship/), then render the book's figures."""
    doc = load_run(run_dir)
    if doc["mode"] == "quick":
        raise RunError(
            f"{run_dir.name} is a quick run: no cold builds, it stays out of the book; run `just ship`"
        )
    _cli.publish(run_dir, FILES, "ship")
    print(f"{run_dir.name} ({doc['mode']} mode, {doc['created']}) copied into docs/src/ship: commit it")
    return 0
