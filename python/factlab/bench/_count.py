"""The instruction counts of one run: ``python -m factlab.bench._count RUN_DIR``.

It reads the entries of the counted scenarios (``instructions``) from
``RUN_DIR/plan.json`` and counts each with :func:`factlab.instructions.per_call`
(callgrind: two runs of K and 2K calls, so that start-up cancels out), two
counts at once: a count is instructions, not time, so running them side by
side on a busy machine changes nothing but the wall time. It writes
``RUN_DIR/counts.json``, ``{name: {"status": ..., "instructions": ...}}``, as
each count ends. Started by the bench like pyperf's suite, in a process group
of its own that dies with the bench.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from factlab import instructions
from factlab._children import die_with_group
from factlab._common import run
from factlab.bench.scenarios import CALLGRIND, MODES, Entry, calls, lacks

PARALLEL = 2  # counts at once: each is one valgrind process


# A count is the difference of two runs: neither may compile a module the other finds compiled.
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def warm(backends: list[str]) -> None:
    """Compile every module the counted runs import, once, before any count (see :data:`ENV`)."""
    load = "import factlab, sys\nfor name in sys.argv[1:]: factlab.load(name)"
    run([sys.executable, "-c", load, *backends]).check("importing the counted backends")


def count(e: Entry, k: int) -> dict[str, Any]:
    """One entry's outcome: the instructions of one call (and its turn of the loop), or why none."""
    if e.newer and (missing := lacks(e)):  # a backend without it yet: skipped, as pyperf's suite says
        return missing
    try:
        per_call = instructions.per_call(sys.executable, e.backend, e.call, e.n, calls=k, env=ENV)
    except instructions.CallgrindError as exc:
        return {"status": "failed", "note": str(exc)}
    return {"status": "ok", "instructions": per_call, "calls": k}


def main(run_dir: Path) -> int:
    die_with_group()  # the bench died or stopped us: valgrind goes too
    plan = json.loads((run_dir / "plan.json").read_text())
    mode = MODES[plan["mode"]]
    entries = [e for e in (Entry(**d) for d in plan["entries"]) if e.step == CALLGRIND]
    done: dict[str, dict[str, Any]] = {}
    if not instructions.available():
        note = "not counted: valgrind is not installed (Debian: apt-get install valgrind)"
        done = {e.name: {"status": "skipped", "note": note} for e in entries}
        entries = []
    print(f"counting instructions per call with callgrind: {len(entries)} counts, {PARALLEL} at once")
    warm(list(dict.fromkeys(e.backend for e in entries)))
    pool = ThreadPoolExecutor(PARALLEL)
    futures = {e.name: pool.submit(count, e, calls(mode, e)) for e in entries}
    try:
        for i, (name, future) in enumerate(futures.items(), 1):
            done[name] = future.result()
            shown = (
                f"{done[name]['instructions']:,.0f}" if done[name]["status"] == "ok" else done[name]["note"]
            )
            print(f"[{i:>3}/{len(entries)}] {name}: {shown}", flush=True)
            (run_dir / "counts.json").write_text(json.dumps(done, indent=1))
    except KeyboardInterrupt:  # the bench passed Ctrl-C on; it kills our valgrind runs when we are gone
        print("interrupted", flush=True)
        os._exit(1)  # not sys.exit: that would wait for the counts under way
    pool.shutdown()
    (run_dir / "counts.json").write_text(json.dumps(done, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
