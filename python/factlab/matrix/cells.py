"""One interpreter's column: every registered backend built, loaded, held to the contract, timed and
(in a full run) counted, each a :class:`Cell`.

A cell is **ok** (it builds, imports and passes the contract), **unsupported** (it fails where its
tool's documentation says it does not go: the registry's ``reach``) or **failed** (it fails where
the tool says it should work). Which backends, which projects and which reach: the registry's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import factlab
from factlab._common import scrub
from factlab.matrix.contract import contract
from factlab.matrix.discovery import Interpreter
from factlab.matrix.timing import N, count_instructions, not_counted, time_backend
from factlab.matrix.venvs import Build, build_all, python_json
from factlab.matrix.workspace import Progress, logs

CALLS = ("factorial", "crossing")  # what a cell times; instructions: factorial(25) only


@dataclass
class Cell:
    interpreter: str
    backend: str
    status: str  # ok, unsupported, failed
    reason: str = ""
    abi3: bool = False
    ns: dict[str, float | None] = field(default_factory=dict)
    """pyperf's mean per call, ns: ``{"factorial(25)": ..., "crossing(25)": ...}`` (None: no such call)."""
    stdev_ns: dict[str, float | None] = field(default_factory=dict)
    instructions: dict[str, float | None] = field(default_factory=dict)
    """callgrind's instructions per call (full runs; None: not counted, ``instructions_note`` says why)."""
    instructions_note: str = ""
    artifact: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Planned:
    """What the matrix does for one backend on one interpreter."""

    backend: str
    project: str | None
    """The PEP 517 project pip builds for it (None: nothing to build)."""
    documented: bool
    """Its tool says it runs there: a failure is "failed"; outside that reach, "unsupported"."""

    def failure(self, interpreter: str, reason: str) -> Cell:
        return Cell(interpreter, self.backend, "failed" if self.documented else "unsupported", scrub(reason))


def plan(interp: Interpreter) -> list[Planned]:
    """Every registered backend's plan on ``interp``, in the registry's order."""
    return [
        Planned(
            s.name, s.project, s.reach.covers(interp.implementation, interp.version, interp.free_threaded)
        )
        for s in factlab.specs()
    ]


def call_name(call: str) -> str:
    return f"{call}({N})"


def probe(interp: Interpreter, names: list[str], log: Path, pythonpath: Path | None = None) -> dict[str, Any]:
    """:func:`factlab.matrix.probe.probe` in the venv: backend -> its load error, or what it loaded."""
    code = f"from factlab.matrix.probe import probe; probe({names!r})"
    result = python_json(interp, ["-c", code], log, pythonpath=pythonpath)
    if "error" in result:
        return {name: {"error": result["error"]} for name in names}
    return {name: result.get(name, {"error": "the probe did not report it"}) for name in names}


def run_interpreter(
    interp: Interpreter, problem: str | None, clib_wheel: Path | None, quick: bool, say: Progress
) -> list[Cell]:
    """Every backend's cell on one interpreter (``problem``: why its venv is not ready)."""
    planned = plan(interp)
    if problem:
        say(interp.id, f"FAILED: {problem[:120]}")
        return [Cell(interp.id, p.backend, "failed", problem) for p in planned]
    builds = build_all(interp, clib_wheel, say)
    cells: dict[str, Cell] = {}
    for p in planned:
        built = builds.get(p.project, Build(False, "not built")) if p.project else Build(True)
        if not built.ok:
            cells[p.backend] = p.failure(interp.id, built.reason)
    loaded = load(interp, [p for p in planned if p.backend not in cells], cells, say)
    if loaded:
        say(interp.id, f"contract tests ({'quick subset' if quick else 'tests/test_contract.py'})")
        for name, why in contract(
            interp, list(loaded), logs(interp.id) / "contract.log", quick=quick
        ).items():
            if why:
                cells[name].status, cells[name].reason = "failed", f"contract: {why}"
    measure(interp, {n: calls for n, calls in loaded.items() if cells[n].status == "ok"}, cells, quick, say)
    line = ", ".join(f"{c.backend} {c.status}" for c in cells.values() if c.status != "ok") or "all ok"
    say(interp.id, f"done: {line}")
    return [cells[p.backend] for p in planned]


def load(
    interp: Interpreter, planned: list[Planned], cells: dict[str, Cell], say: Progress
) -> dict[str, list[str]]:
    """Probe the built backends, a cell each; returns backend -> its calls, for those that load."""
    say(interp.id, f"load {len(planned)} backends")
    probed = probe(interp, [p.backend for p in planned], logs(interp.id) / "probe.log")
    loaded: dict[str, list[str]] = {}
    for p in planned:
        row = probed[p.backend]
        if "error" in row:
            cells[p.backend] = p.failure(interp.id, row["error"])
        else:
            cells[p.backend] = Cell(interp.id, p.backend, "ok", abi3=row["abi3"], artifact=row["artifact"])
            loaded[p.backend] = row["calls"]
    return loaded


def measure(
    interp: Interpreter, loaded: dict[str, list[str]], cells: dict[str, Cell], quick: bool, say: Progress
) -> None:
    """Time each ok backend with pyperf and, in a full run, count its instructions per call."""
    if not loaded:
        return
    say(interp.id, f"time {len(loaded)} backends with pyperf ({'quick' if quick else 'full'} settings)")
    suite = logs(interp.id) / "pyperf.json"
    suite.unlink(missing_ok=True)
    for name, calls in loaded.items():
        timed = time_backend(interp, name, calls, quick, logs(interp.id) / f"time-{name}.log", suite)
        cell = cells[name]
        if isinstance(timed, str):
            cell.status, cell.reason = "failed", timed
            continue
        for call in CALLS:
            figures = timed.get(call_name(call)) or {}
            cell.ns[call_name(call)] = figures.get("mean_ns")
            cell.stdev_ns[call_name(call)] = figures.get("stdev_ns")
    count(interp, [n for n in loaded if cells[n].status == "ok"], cells, quick, say)


def count(interp: Interpreter, names: list[str], cells: dict[str, Cell], quick: bool, say: Progress) -> None:
    """Instructions per call of factorial(25), by callgrind (a full run only: seconds a count)."""
    why = not_counted(quick)
    if why:
        for name in names:
            cells[name].instructions[call_name("factorial")] = None
            cells[name].instructions_note = why
        return
    say(interp.id, f"count instructions per call of factorial({N}) under callgrind ({len(names)} backends)")
    for name, counted in count_instructions(interp, names).items():
        cells[name].instructions[call_name("factorial")] = counted if isinstance(counted, float) else None
        cells[name].instructions_note = "" if isinstance(counted, float) else scrub(counted)
