"""What the matrix runs INSIDE each venv, on every interpreter (PyPy 3.9 included): Python 3.9 syntax.

- :func:`probe`: import ONE backend's module (the host starts a child per backend: a module that crashes
  the interpreter loses only its own cell), check 25!, say which compiled file was loaded (the abi3
  proof needs to know it was the ``.abi3.so``) and, on a free-threaded CPython, whether the import
  turned the GIL back on and what CPython warned;
- :func:`subinterpreter_probe`: import one backend in a new subinterpreter and compute there, then
  step its ``Factorials`` iterator there (a native object: its type must be the interpreter's own);
- :func:`threads_probe`: calls per second from one thread and from two, and one ``factorial(100_000)``
  against two in parallel.

Each prints JSON lines, the result last (``python -c "from factlab.matrix.probe import probe;
probe(...)"``); :func:`probe` first says each stage it enters, so that the host knows where a crash
happened. The timings are :mod:`factlab.matrix.timer`'s, with pyperf.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import sysconfig
import threading
import time
import warnings
from collections.abc import Callable
from importlib import machinery
from itertools import repeat
from typing import Any

# The answer every cell checks first.
F25 = 15511210043330985984000000
BIG = 100_000  # the long call of the threads probe: it releases the GIL in every native backend
BATCH = 100  # calls between two looks at the clock in the threads probe
ROUNDS = 10  # the most rounds of the threads probe's measures (each 1 thread, then 2)

SUBINTERPRETER_CODE = """
import math, importlib
module = importlib.import_module({module!r})
assert module.factorial(25) == {f25}, "wrong 25!"
assert module.factorial(1000) == math.factorial(1000), "wrong 1000!"
"""
# Then, in the same subinterpreter: an object of the module's class, three steps (issue 23). A static
# type shared by every interpreter, or state kept outside the module, breaks here and not at the import.
ITERATOR_CODE = """
import math, importlib
it = importlib.import_module({module!r}).Factorials(30)
got = [next(it), next(it), next(it)]
assert got == [math.factorial(n) for n in (30, 31, 32)], "wrong values: %r" % (got,)
assert it.n == 33, "n is %r after three steps from 30" % (it.n,)
"""


def compiled_file(extension: str) -> str:
    """The file name of the compiled module a backend loaded: the extension itself, or the one
    inside its package (maturin installs a Rust module as a package that re-exports it)."""
    importlib.import_module(extension)
    files = [
        getattr(m, "__file__", None) or ""
        for n, m in sorted(sys.modules.items())
        if n == extension or n.startswith(extension + ".")
    ]
    compiled = [f for f in files if f.endswith(tuple(machinery.EXTENSION_SUFFIXES))]
    return os.path.basename(compiled[0]) if compiled else ""


def gil_enabled() -> bool | None:
    """``sys._is_gil_enabled()`` on a free-threaded CPython (3.13t+); None on a build with a GIL."""
    check = getattr(sys, "_is_gil_enabled", None)
    if check is None or not sysconfig.get_config_var("Py_GIL_DISABLED"):
        return None
    return bool(check())


def say(**line: Any) -> None:
    print(json.dumps(line), flush=True)


def probe(module: str, extension: str = "") -> None:
    """Import ``module`` and compute 25!; print its load error, or its compiled file, abi3 flag, calls
    and (free-threaded CPython) the GIL's state before and after the import, with the warnings raised."""
    before = gil_enabled()
    say(stage="import")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = importlib.import_module(module)
        after = gil_enabled()
        say(stage="call")
        value = loaded.factorial(25)
        if value != F25:
            raise AssertionError(f"factorial(25) returned {value!r}")
    except Exception as exc:  # the probe reports any failure, it does not stop
        say(error=f"{type(exc).__name__}: {exc}")
        return
    artifact = compiled_file(extension) if extension else ""
    calls = ["factorial"] + (["crossing"] if hasattr(loaded, "crossing") else [])
    gil = None
    if before is not None:
        words = [f"{w.category.__name__}: {w.message}" for w in caught]
        gil = {"before": before, "after_import": after, "warnings": words}
    say(artifact=artifact, abi3=".abi3." in artifact, calls=calls, gil=gil)


def subinterpreter_probe(module: str, gil: str) -> None:
    """Import ``module`` in a new subinterpreter (``own`` or ``shared`` GIL) and compute there; then,
    if that worked, make a ``Factorials(30)`` there and take three steps.

    3.12: ``_xxsubinterpreters`` (``test.support.interpreters.create(isolated=...).run()``);
    3.13: ``_interpreters`` (``test.support.interpreters.create().exec()``, "legacy" config
    for a shared GIL). The private modules are the only ones that make both kinds. Prints
    ``{"status", "reason", "iterator": {"status", "reason"} or None (not tried)}``.
    """
    if sys.version_info >= (3, 13):
        import _interpreters  # type: ignore[import-not-found]

        interp, run_in = _interpreters.create("isolated" if gil == "own" else "legacy"), exec_in
    else:
        import _xxsubinterpreters as _interpreters  # type: ignore[import-not-found]

        interp, run_in = _interpreters.create(isolated=gil == "own"), run_string_in
    try:
        reason = run_in(_interpreters, interp, SUBINTERPRETER_CODE.format(module=module, f25=F25))
        stepped = None if reason else run_in(_interpreters, interp, ITERATOR_CODE.format(module=module))
    finally:
        _interpreters.destroy(interp)
    iterator = None if stepped is None else {"status": "failed" if stepped else "ok", "reason": stepped}
    print(json.dumps({"status": "failed" if reason else "ok", "reason": reason, "iterator": iterator}))


def exec_in(interpreters: Any, interp: Any, code: str) -> str:
    """3.13 on: run ``code`` in the subinterpreter ``interp``: "" if it ran, else the exception raised
    in there."""
    failure = interpreters.exec(interp, code)
    if failure is None:
        return ""
    return getattr(failure, "formatted", None) or str(failure)  # a snapshot of the exception


def run_string_in(interpreters: Any, interp: Any, code: str) -> str:
    """3.12: run ``code`` in the subinterpreter ``interp``: "" if it ran, else the exception raised in
    there."""
    try:
        interpreters.run_string(interp, code)
    except interpreters.RunFailedError as exc:
        return str(exc)
    return ""


def run_threads(count: int, work: Callable[[], int]) -> tuple[float, int]:
    """``count`` threads started together on ``work``: the wall time from the first start to the last
    end, and the sum of what ``work`` returned (the calls each made).

    Each thread reads the clock itself, around its own work: the main thread, waiting, may not get a
    core back before the work is done (two threads on two cores), and a thread may start late (on a
    build with a GIL it must first take the GIL): only the span of all of them is the time.
    """
    start = threading.Barrier(count)
    spans: list[tuple[float, float, int]] = []

    def thread() -> None:
        start.wait()
        began = time.perf_counter()
        done = work()
        spans.append((began, time.perf_counter(), done))

    threads = [threading.Thread(target=thread) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(spans) < count:
        raise RuntimeError("a thread's work raised: see the error above")
    wall = max(end for _, end, _ in spans) - min(began for began, _, _ in spans)
    return wall, sum(done for _, _, done in spans)


def calls_per_second(f: Callable[[int], int], count: int, seconds: float) -> float:
    """Calls of ``f(25)`` per second, all ``count`` threads together, each calling for ``seconds``."""

    def work() -> int:
        clock = time.perf_counter
        calls, t0 = 0, clock()
        while clock() - t0 < seconds:
            for _ in repeat(None, BATCH):
                f(25)
            calls += BATCH
        return calls

    wall, calls = run_threads(count, work)
    return calls / wall


def big_seconds(f: Callable[[int], int], count: int) -> float:
    """The wall time of ``count`` threads each computing ``f(100_000)``, started together."""

    def work() -> int:
        f(BIG)
        return 1

    return run_threads(count, work)[0]


def best(measure: Callable[[int], float], budget: float, pick: Callable[..., float]) -> dict[str, Any]:
    """``measure(1)`` and ``measure(2)`` in alternate rounds, as many as fit in ``budget`` seconds (1 to
    :data:`ROUNDS`); the ``pick`` (max, min) of each, and the number of rounds."""
    got: dict[str, list[float]] = {"1": [], "2": []}
    t0 = time.perf_counter()
    while not got["1"] or (time.perf_counter() - t0 < budget and len(got["1"]) < ROUNDS):
        for count in (1, 2):
            got[str(count)].append(measure(count))
    return {"1": pick(got["1"]), "2": pick(got["2"]), "rounds": len(got["1"])}


def threads_probe(module: str, seconds: float, budget: float) -> None:
    """One thread and two: ``factorial(25)`` calls per second (the best rounds that fit in ``budget``
    seconds), and the time of ``factorial(100_000)`` alone against two of them in parallel (the best
    rounds that fit in another ``budget``). Prints ``{"gil_enabled", "calls_per_s": {"1", "2"},
    "big_s": {"1", "2"}, "rounds": {"calls", "big"}}``."""
    f = importlib.import_module(module).factorial
    rates = best(lambda count: calls_per_second(f, count, seconds), budget, max)
    big = best(lambda count: big_seconds(f, count), budget, min)
    rounds = {"calls": rates.pop("rounds"), "big": big.pop("rounds")}
    say(gil_enabled=gil_enabled(), calls_per_s=rates, big_s=big, rounds=rounds)
