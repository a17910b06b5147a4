"""``python -m factlab matrix``: the command line, and the order of the run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import factlab.matrix.discovery as discovery
import factlab.matrix.results as results
import factlab.matrix.timing as timing
import factlab.matrix.venvs as venvs
import factlab.matrix.workspace as workspace
from factlab._common import CommandError, scrub
from factlab.matrix.cells import Cell, run_interpreter
from factlab.matrix.scaling import scaling
from factlab.matrix.stable_abi import stable_abi
from factlab.matrix.subinterpreters import subinterpreters
from factlab.matrix.workspace import Progress


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m factlab matrix",
        description="Where each backend runs: every CPython >= 3.10 and PyPy found, and the free-threaded "
        f"CPython of `just python-ft` (the book expects {', '.join(discovery.EXPECTED)}), a virtualenv each "
        "(target/matrix/venvs/<id>), every backend built there with pip, the contract tests, pyperf "
        "timings and callgrind instruction counts, the stable-ABI artifacts, subinterpreters, and on a "
        "free-threaded CPython the GIL after each import and 1 thread against 2. Writes "
        "target/matrix/results.json, summary.md and figures.md. An interpreter missing here is "
        "reported, with the command that installs it.",
    )
    p.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PATH",
        help="add an interpreter (repeatable), e.g. python3.13t",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="ID",
        help="run only this interpreter id (repeatable), e.g. cpython-3.12",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="CI's run: the contract's quick subset, pyperf's short settings, no instruction counts",
    )
    check = p.add_mutually_exclusive_group()
    check.add_argument(
        "--check-committed",
        action="store_true",
        help="fail (exit 1) on a cell the committed results (docs/src/matrix/results.json) mark ok that "
        "is not ok now; interpreters missing here are reported, not counted",
    )
    check.add_argument("--compare", type=Path, metavar="JSON", help="the same, against these results")
    p.add_argument(
        "--merge-committed",
        action="store_true",
        help="write the committed results with this run's interpreters in place of theirs (the others "
        "kept), e.g. with --only cpython-3.13t --only cpython-3.13; then `just docs-matrix`",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        workspace.root()
    except CommandError as exc:
        print(f"matrix: {exc}", file=sys.stderr)
        return 2
    say = Progress()
    interps, problems = discovery.discover(args.python)
    if problems:  # a --python the matrix cannot use: say so before any work
        for problem in problems:
            print(f"matrix: {problem}", file=sys.stderr)
        return 2
    if args.only:
        interps = [i for i in interps if i.id in args.only]
    missing = discovery.missing([i.id for i in interps], args.only)
    found = ", ".join(f"{i.id} ({i.full_version})" for i in interps) or "none"
    say("interpreters", found)
    for m in missing:
        say("interpreters", f"MISSING {m}: the run goes on without it")
    counting = "counted under callgrind after each interpreter's timings, a backend per core"
    say("instructions", timing.not_counted(args.quick) or counting)
    if not interps:
        print("matrix: no interpreter to run", file=sys.stderr)
        return 1
    base = committed_to_merge(args.quick) if args.merge_committed else None
    if args.merge_committed and base is None:
        return 2
    run = everything(interps, missing, args.quick, say)
    folder = results.write(results.merge(base, run) if base is not None else run)
    counts = {s: sum(c["status"] == s for c in run["cells"]) for s in ("ok", "unsupported", "failed")}
    say("done", f"{counts} -> {scrub(str(folder))}/results.json, summary.md, figures.md")
    reference = args.compare or (workspace.committed() if args.check_committed else None)
    return check(reference, run, args.only) if reference else 0


def everything(
    interps: list[discovery.Interpreter], missing: list[discovery.Missing], quick: bool, say: Progress
) -> dict[str, Any]:
    """Every interpreter's cells, then the stable ABI and subinterpreters: the run's results."""
    # Each interpreter's virtualenv first: the C ABI library (no Python in it:
    # one py3-none wheel for every interpreter) is built with the first that works.
    ready = {interp.id: venvs.prepare_venv(interp, say) for interp in interps}
    clib_wheel = venvs.build_clib(interps, ready, say)
    cells: list[Cell] = []
    for interp in interps:
        cells += run_interpreter(interp, ready[interp.id], clib_wheel, quick, say)
    abi3 = stable_abi(interps, cells, quick, say)
    subs = subinterpreters(interps, cells, quick, say)
    threads = scaling(interps, cells, quick, say)
    return results.assemble(
        quick=quick,
        seconds=say.elapsed(),
        interps=interps,
        missing=missing,
        cells=cells,
        stable_abi=abi3,
        subinterpreters=subs,
        threads=threads,
    )


def committed_to_merge(quick: bool) -> dict[str, Any] | None:
    """The committed results a run of this mode is merged into; None (said why, before any work) if
    there are none, or if they were made in the other mode (quick and full figures do not mix)."""
    try:
        committed: dict[str, Any] = json.loads(workspace.committed().read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"matrix: --merge-committed: {scrub(str(exc))}", file=sys.stderr)
        return None
    if bool(committed.get("quick")) != quick:
        kind = "--quick" if committed.get("quick") else "full"
        print(f"matrix: --merge-committed: the committed run is a {kind} one: run that mode", file=sys.stderr)
        return None
    return committed


def check(reference: Path, run: dict[str, Any], only: list[str]) -> int:
    """Hold the run to ``reference``: exit 1 on a regression; interpreters not here are only reported."""
    if not reference.exists():
        print(f"matrix: {reference}: no such results to compare with", file=sys.stderr)
        return 2
    try:
        committed = json.loads(reference.read_text(encoding="utf-8"))
        lost, unchecked = results.check_committed(committed, run, only)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        print(f"matrix: {reference}: not matrix results ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2
    for line in unchecked:
        print(f"matrix: {line}", file=sys.stderr)
    for line in lost:
        print(f"matrix: REGRESSION {line}", file=sys.stderr)
    if not lost:
        print(f"matrix: every cell {reference.name} marks ok is ok on the interpreters found here")
    return 1 if lost else 0
