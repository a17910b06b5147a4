"""``python -m factlab``: list the backends; compute one big factorial; measure them: bench, ship, matrix."""

from __future__ import annotations

import argparse
import math
import sys

from factlab._registry import BackendNotBuilt, build_projects, load, specs


def cmd_list() -> int:
    """Print every backend and whether it loads; exit 1 if one does not.

    Every backend gets its line, whatever the others do: a backend that is
    not built, broken, or crashes in an unforeseen way is reported, not
    allowed to end the listing.
    """
    entries = specs()
    width = max(len(s.name) for s in entries)
    failed = 0
    for entry in entries:
        try:
            backend = load(entry.name)
            value = backend.factorial(25)
            status = "ok" if value == math.factorial(25) else f"WRONG: 25! gave {value}"
        except BackendNotBuilt as exc:
            status = f"not built: {exc}"
        except Exception as exc:
            status = f"BROKEN: {type(exc).__name__}: {exc}"
        failed += status != "ok"
        print(f"{entry.name:<{width}}  {status:<4}  {entry.summary}", flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m factlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the backends and whether each loads")
    sub.add_parser("projects", help="print the backends' build projects, one a line (for `just setup`)")
    commands = {
        "factorial": "compute N! with a progress bar; Ctrl-C stops it",
        "bench": "time every backend, count its instructions per call",
        "ship": "what each backend costs to build, ship and import",
        "matrix": "where each backend runs: every CPython and PyPy found",
    }
    for name, text in commands.items():  # each parses its own arguments (`python -m factlab NAME --help`)
        sub.add_parser(name, help=text, add_help=False).add_argument("args", nargs=argparse.REMAINDER)
    args, rest = parser.parse_known_args(argv)
    if args.command == "list":
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        return cmd_list()
    if args.command == "projects":
        print("\n".join(build_projects()))
        return 0
    if args.command == "factorial":
        from factlab._compute import main as compute_main

        return compute_main(rest + args.args)
    if args.command == "matrix":
        from factlab.matrix import main as matrix_main

        return matrix_main(rest + args.args)
    if args.command == "ship":
        from factlab.ship import main as ship_main

        return ship_main(rest + args.args)
    from factlab.bench import main as bench_main

    return bench_main(rest + args.args)


if __name__ == "__main__":
    sys.exit(main())
