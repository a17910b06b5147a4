"""Threads without a GIL, measured: on each free-threaded CPython of the run and on the GIL build of
the same version beside it, per backend that is ok there, :func:`factlab.matrix.probe.threads_probe`
in the venv (``factorial(25)`` calls per second from one thread and from two; one
``factorial(100_000)`` against two in parallel).

Two threads can only run at once on two idle cores: while each backend is measured, the matrix
counts the CPU time the whole machine spent, less what its own child spent (psutil's ``cpu_times``
and ``getrusage``), which leaves the cores everything else kept busy; a ratio measured with fewer
than :data:`IDLE_NEEDED` cores left idle is published as "not judged: machine busy", never as a
figure about the binding (the bench samples the idle cores the same way, before its two threads).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any, TypeVar

import factlab
from factlab._common import scrub
from factlab.matrix.cells import Cell
from factlab.matrix.discovery import Interpreter
from factlab.matrix.probe import BIG, ROUNDS
from factlab.matrix.venvs import python_json
from factlab.matrix.workspace import Progress, logs

IDLE_NEEDED = 1.8  # the bench's threshold (bench/targets.py): two threads need two idle cores
# (seconds each thread calls factorial(25) for, the time each measure's rounds may take): by --quick.
SECONDS = {False: (0.3, 1.5), True: (0.1, 0.3)}
TIMEOUT = 180  # the pure-Python loop takes seconds per factorial(100_000)


def applies(interps: list[Interpreter]) -> list[Interpreter]:
    """The free-threaded CPythons of the run, and the GIL build of each one's version beside it."""
    free = {i.version for i in interps if i.implementation == "cpython" and i.free_threaded}
    return [i for i in interps if i.implementation == "cpython" and i.version in free and i.python.exists()]


T = TypeVar("T")


def while_measuring(child: Callable[[], T]) -> tuple[T, float | None]:
    """Run ``child`` (a child process), and the cores the rest of the machine left idle meanwhile:
    all cores, less the CPU time everything but that child spent per second (None: no psutil here)."""
    try:
        import psutil
    except ImportError:
        return child(), None

    def busy() -> float:
        times = psutil.cpu_times()
        return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))

    def ours() -> float:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime

    start, mine, began = busy(), ours(), time.monotonic()
    result = child()
    wall = time.monotonic() - began
    others = max(0.0, (busy() - start) - (ours() - mine))
    return result, (psutil.cpu_count() or 1) - others / wall


def describe(quick: bool) -> str:
    seconds, budget = SECONDS[quick]
    return (
        f"factorial(25) called in a loop for {seconds:g} s by 1 thread, then by 2 (calls per second, all "
        f"threads together); factorial({BIG:_}) in 1 thread, then in 2 started together (wall time, first "
        f"start to last end); each figure the best of the rounds (1 to {ROUNDS}) that fit in {budget:g} s"
    )


def one(interp: Interpreter, backend: factlab.BackendSpec, quick: bool) -> dict[str, Any]:
    """One backend's row on one interpreter: its figures, or why there are none."""
    seconds, budget = SECONDS[quick]
    call = f"threads_probe({backend.module!r}, {seconds}, {budget})"
    code = f"from factlab.matrix.probe import threads_probe; {call}"
    log = logs(interp.id) / f"threads-{backend.name}.log"
    got, idle = while_measuring(lambda: python_json(interp, ["-c", code], log, timeout=TIMEOUT))
    row: dict[str, Any] = {"interpreter": interp.id, "backend": backend.name}
    if "error" in got:
        return row | {"status": "failed", "reason": scrub(got["error"])}
    return row | {
        "status": "ok",
        "gil_enabled": got["gil_enabled"],
        "calls_per_s": got["calls_per_s"],
        "big_s": got["big_s"],
        "rounds": got["rounds"],
        "idle_cores": None if idle is None else round(idle, 2),
    }


def scaling(interps: list[Interpreter], cells: list[Cell], quick: bool, say: Progress) -> dict[str, Any]:
    """The threads section of results.json: how it was measured, and a row per ok backend."""
    ok = {(c.interpreter, c.backend) for c in cells if c.status == "ok"}
    rows: list[dict[str, Any]] = []
    for interp in applies(interps):
        names = [s for s in factlab.specs() if (interp.id, s.name) in ok]
        say("threads", f"{interp.id}: 1 thread against 2, {len(names)} backends")
        rows += [one(interp, s, quick) for s in names]
    return {"describe": describe(quick), "idle_needed": IDLE_NEEDED, "rows": rows} if rows else {}
