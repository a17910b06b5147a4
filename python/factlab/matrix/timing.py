"""How the matrix times a call and counts its instructions, from the host.

Time: pyperf, as the bench, through :mod:`factlab.matrix.timer` run by the venv's python; the figure
published is pyperf's mean per call (loop included), with its standard deviation in results.json.
Instructions: callgrind, :func:`factlab.instructions.per_call` run with the venv's python (about 6 s
a count, start-up included, the backends of one interpreter counted in parallel): the figure that
does not move with the machine's load, counted in a full run only.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from factlab import instructions
from factlab._render import X
from factlab.matrix.discovery import Interpreter
from factlab.matrix.venvs import child_env, python_json

N = 25  # the seed article's call: every published per-call figure of the matrix is of n = 25
# K, the calls of callgrind's shorter run (the longer has 2K): 5,000 gives the count of 20,000 (the
# bench's) to a tenth of an instruction, in half the time, since a count is mostly start-up.
COUNTED_CALLS = 5_000


@dataclass(frozen=True)
class Settings:
    """pyperf's settings for the matrix's timings (those of the bench's quick and default modes)."""

    processes: int
    values: int
    warmups: int
    min_time: float
    jit_warmups: int
    """Values skipped on a JIT (PyPy), so that its figures are of the compiled loop."""

    def options(self, jit: bool) -> list[str]:
        """pyperf's own command-line options (documented: ``python -m pyperf timeit --help``)."""
        warmups = self.jit_warmups if jit else self.warmups
        return [
            *("--processes", str(self.processes), "--values", str(self.values)),
            *("--warmups", str(warmups), "--min-time", str(self.min_time), "--quiet"),
        ]

    def describe(self) -> str:
        values = f"{self.processes} process(es) {X} {self.values} values of {self.min_time * 1000:g} ms"
        warmups = f"{self.warmups} warm-up value(s) ({self.jit_warmups} on PyPy)"
        return f"pyperf mean, {values} after {warmups}, loop included"


SETTINGS = {False: Settings(2, 3, 1, 0.02, 5), True: Settings(1, 2, 1, 0.005, 3)}


def settings(quick: bool) -> Settings:
    return SETTINGS[quick]


def timing_record(quick: bool) -> dict[str, Any]:
    """What results.json says about its timings (the rendering reads ``describe``)."""
    chosen = settings(quick)
    return {"method": "pyperf", "statistic": "mean", "n": N, **asdict(chosen), "describe": chosen.describe()}


def time_backend(
    interp: Interpreter,
    backend: str,
    calls: list[str],
    quick: bool,
    log: Path,
    suite: Path,
    pythonpath: Path | None = None,
) -> dict[str, dict[str, float | None]] | str:
    """``{"factorial(25)": {"mean_ns", "stdev_ns", "values"}, ...}`` for one backend, or why it failed.

    One pyperf run per backend, so that a backend that breaks while timed loses only its own
    figures; each appends its benchmarks to ``suite`` (``python -m pyperf show`` reads it).
    """
    args = ["-m", "factlab.matrix.timer", "--backend", backend]
    args += [option for call in calls for option in ("--call", call)]
    args += [*settings(quick).options(jit=interp.implementation == "pypy"), "--append", str(suite)]
    got = python_json(interp, args, log, pythonpath=pythonpath)
    if "error" in got:
        return f"pyperf: {got['error']}"
    return got  # type: ignore[no-any-return]


def not_counted(quick: bool) -> str:
    """Why this run counts no instructions ("" when it does)."""
    if quick:
        return "not counted in a --quick run (callgrind takes about 6 s a count)"
    if not instructions.available():
        return "not counted: valgrind is not installed (apt-get install valgrind)"
    return ""


def count_instructions(interp: Interpreter, backends: list[str]) -> dict[str, float | str]:
    """Instructions per call of ``factorial(25)`` in the venv, per backend, or why one could not be counted.

    A count does not depend on the load, unlike a time: the backends are counted in parallel, one
    callgrind per core (each count is mostly callgrind's start-up: 2 runs of the interpreter).
    """

    def one(backend: str) -> float | str:
        try:
            return instructions.per_call(
                interp.python, backend, "factorial", N, COUNTED_CALLS, child_env(interp)
            )
        except instructions.CallgrindError as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(zip(backends, pool.map(one, backends), strict=True))
