"""Instructions per call, counted by callgrind: the figure that does not move with the load.

A timing on a shared machine swings with whatever else runs; the machine
instructions a call executes do not. :func:`per_call` runs a loop of calls
under ``valgrind --tool=callgrind`` twice, with K and 2K calls, and returns
(total(2K) - total(K)) / K: the instructions of one call and one turn of the
loop, with start-up and import cancelled out. ``PYTHONHASHSEED=0`` keeps the
interpreter's own work the same in both runs. The same count on any x86-64
machine with the same builds: the bench and the matrix publish it beside
every per-call time.

    python -m factlab.instructions [--n 20] [--calls 20000] [BACKEND ...]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from factlab._common import run

# Runs in the interpreter measured (the matrix's PyPy 3.9 too): keep it to 3.9's syntax.
LOOP = """
import sys, factlab
def main(name, attr, n, k):
    f = getattr(factlab.load(name), attr)
    for _ in range(k):
        f(n)
main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
"""
DEFAULT_CALLS = 20_000  # enough for a count stable to the instruction; 2 runs take ~3 s per call shape


class CallgrindError(RuntimeError):
    """valgrind is missing, or a counted run failed (the message quotes its error)."""


def available() -> bool:
    return shutil.which("valgrind") is not None


def total(
    python: str | Path, name: str, attr: str, n: int, calls: int, env: Mapping[str, str] | None = None
) -> int:
    """The instructions of a whole run of ``calls`` calls of ``load(name).attr(n)``, start-up included."""
    if not available():
        raise CallgrindError("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", python, "-c", LOOP]
        ran = run([*cmd, name, attr, str(n), str(calls)], env={**(env or os.environ), "PYTHONHASHSEED": "0"})
    found = re.search(r"Collected : (\d+)", ran.out)
    if not ran.ok or not found:
        raise CallgrindError(f"callgrind failed for {name}.{attr}({n}): {ran.error()}")
    return int(found.group(1))


def per_call(
    python: str | Path,
    name: str,
    attr: str = "factorial",
    n: int = 25,
    calls: int = DEFAULT_CALLS,
    env: Mapping[str, str] | None = None,
) -> float:
    """Instructions of one call of ``load(name).attr(n)`` and one turn of its loop, in ``python``."""
    one = total(python, name, attr, n, calls, env)
    two = total(python, name, attr, n, 2 * calls, env)
    return (two - one) / calls


def main(argv: list[str] | None = None) -> int:
    import factlab

    parser = argparse.ArgumentParser("python -m factlab.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("backends", nargs="*", help="default: every registered backend that loads")
    parser.add_argument("--n", type=int, default=20, help="the argument of every call (default 20)")
    parser.add_argument("--calls", type=int, default=DEFAULT_CALLS, help="K, the calls of the shorter run")
    args = parser.parse_args(argv)
    unknown = [name for name in args.backends if name not in factlab.backend_names()]
    if unknown:
        parser.error(f"unknown backend {unknown[0]!r}; known: {', '.join(factlab.backend_names())}")
    if not available():
        parser.exit(1, "valgrind is not installed (Debian: apt-get install valgrind)\n")
    names = args.backends or [s.name for s in factlab.specs() if _loads(s.name)]
    print(f"instructions per call of f({args.n}), the loop included (callgrind, K = {args.calls:,})")
    for name in names:
        # A native backend's bare crossing too (math's crossing is math.factorial itself).
        for attr in ["factorial"] + (["crossing"] if factlab.spec(name).native else []):
            count = per_call(sys.executable, name, attr, args.n, args.calls)
            print(f"  {name:<20} {attr:<10} {count:8.0f}", flush=True)
    return 0


def _loads(name: str) -> bool:
    import factlab

    try:
        factlab.load(name)
    except factlab.BackendNotBuilt:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
