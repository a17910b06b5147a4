"""Count the machine instructions one call costs, per backend, with callgrind.

Timings move with the machine's load; instruction counts do not. For each
backend this runs a loop of calls under ``valgrind --tool=callgrind`` twice,
with K and 2K calls, and reports (total(2K) - total(K)) / K: the instructions
of one call and one turn of the loop, with start-up and import costs cancelled
out. ``PYTHONHASHSEED=0`` keeps the interpreter's own work identical between
the runs.

    .venv/bin/python python/tools/count_instructions.py [--n 20] [--calls 200000] [BACKEND ...]

Used by docs/src/targets.md to show where PyO3's per-call time goes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LOOP = """
import sys, factlab
def main(name, attr, n, k):
    f = getattr(factlab.load(name), attr)
    for _ in range(k):
        f(n)
main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
"""


def total_instructions(name: str, attr: str, n: int, calls: int, workdir: Path) -> int:
    out = workdir / "callgrind.out"
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-c",
            LOOP,
            name,
            attr,
            str(n),
            str(calls),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=False,
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not found:
        raise SystemExit(f"callgrind failed for {name}.{attr}:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def loads(name: str) -> bool:
    import factlab

    try:
        factlab.load(name)
    except factlab.BackendNotBuilt:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    import factlab

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backends", nargs="*", help="default: every registered backend that loads")
    parser.add_argument("--n", type=int, default=20, help="the argument of every call (default 20)")
    parser.add_argument("--calls", type=int, default=200_000, help="K, the calls of the shorter run")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    for name in args.backends:
        if name not in factlab.backend_names():
            raise SystemExit(f"unknown backend {name!r}; known: {', '.join(factlab.backend_names())}")
    names = args.backends or [s.name for s in factlab.specs() if loads(s.name)]
    print(f"instructions per call of f({args.n}), the loop included (callgrind, K = {args.calls:,})")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            # A native backend's bare crossing too (math's crossing is math.factorial itself).
            for attr in ["factorial"] + (["crossing"] if factlab.spec(name).native else []):
                k = args.calls
                one = total_instructions(name, attr, args.n, k, Path(tmp))
                two = total_instructions(name, attr, args.n, 2 * k, Path(tmp))
                print(f"  {name:<20} {attr:<10} {(two - one) / k:8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
