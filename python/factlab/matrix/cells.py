"""One interpreter's column: every registered backend built, loaded, held to the contract, timed and
(in a full run) counted, each a :class:`Cell`.

A cell is **ok** (it builds, imports and passes the contract), **unsupported** (it fails where its
tool's documentation says it does not go: the registry's ``reach``, whose source the cell keeps) or
**failed** (it fails where the tool says it should work). Which backends, which projects and which
reach: the registry's. A tool pip refuses in the venv (:mod:`.tools`) costs only the backends that
need it, each imported alone (:mod:`.loading`); on a free-threaded CPython a cell also records the
GIL's state after its import (:mod:`.freethreaded`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import factlab
from factlab._common import scrub
from factlab.matrix.contract import THREADS_TEST, contract, passed
from factlab.matrix.discovery import Interpreter
from factlab.matrix.freethreaded import contract_groups, gil_record
from factlab.matrix.loading import probe
from factlab.matrix.timing import N, count_instructions, not_counted, time_backend
from factlab.matrix.venvs import Build, Ready, build_all
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
    documented: str = ""
    """Where the backend's tool says where it runs (the registry's ``reach.source``), for a cell not ok."""
    gil: dict[str, Any] = field(default_factory=dict)
    """On a free-threaded CPython: the GIL before and after its import, CPython's warning, what the module
    declares, and its eight-thread contract test (:func:`factlab.matrix.freethreaded.gil_record`)."""

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
    source: str = ""
    """Where the tool says so (the registry's ``reach.source``)."""

    def failure(self, interpreter: str, reason: str) -> Cell:
        status = "failed" if self.documented else "unsupported"
        return Cell(interpreter, self.backend, status, scrub(reason), documented=self.source)


def plan(interp: Interpreter) -> list[Planned]:
    """Every registered backend's plan on ``interp``, in the registry's order."""
    return [
        Planned(
            s.name,
            s.project,
            s.reach.covers(interp.implementation, interp.version, interp.free_threaded),
            s.reach.source,
        )
        for s in factlab.specs()
    ]


def call_name(call: str) -> str:
    return f"{call}({N})"


def run_interpreter(
    interp: Interpreter, ready: Ready, clib_wheel: Path | None, quick: bool, say: Progress
) -> list[Cell]:
    """Every backend's cell on one interpreter (``ready.problem``: why its venv cannot serve)."""
    planned = plan(interp)
    if ready.problem:
        say(interp.id, f"FAILED: {ready.problem[:120]}")
        return [Cell(interp.id, p.backend, "failed", ready.problem) for p in planned]
    cells: dict[str, Cell] = {}
    for p in planned:  # a tool pip refused here: its own words, and no build
        why = ready.tools.blocking(factlab.spec(p.backend))
        if why:
            cells[p.backend] = p.failure(interp.id, why)
    # A project is not built when every backend it serves lost a tool it needs.
    serving = {p.project: [q for q in planned if q.project == p.project] for p in planned if p.project}
    skip = {
        project: cells[backends[0].backend].reason
        for project, backends in serving.items()
        if all(q.backend in cells for q in backends)
    }
    builds = build_all(interp, clib_wheel, say, skip)
    for p in planned:
        built = builds.get(p.project, Build(False, "not built")) if p.project else Build(True)
        if p.backend not in cells and not built.ok:
            cells[p.backend] = p.failure(interp.id, built.reason)
    loaded = load(interp, [p for p in planned if p.backend not in cells], cells, say)
    hold_to_contract(interp, list(loaded), cells, quick, say)
    measure(interp, {n: calls for n, calls in loaded.items() if cells[n].status == "ok"}, cells, quick, say)
    if interp.free_threaded:  # what each module declares, beside the GIL state (or why it did not load)
        for cell in cells.values():
            cell.gil.setdefault("declares", factlab.spec(cell.backend).gil_declaration)
    line = ", ".join(f"{c.backend} {c.status}" for c in cells.values() if c.status != "ok") or "all ok"
    say(interp.id, f"done: {line}")
    return [cells[p.backend] for p in planned]


def load(
    interp: Interpreter, planned: list[Planned], cells: dict[str, Cell], say: Progress
) -> dict[str, list[str]]:
    """Probe the built backends, each alone, a cell each: backend -> its calls, for those that load."""
    say(interp.id, f"load {len(planned)} backends, each in a child of its own")
    probed = probe(interp, [p.backend for p in planned], logs(interp.id) / "probe.log")
    loaded: dict[str, list[str]] = {}
    for p in planned:
        row = probed[p.backend]
        if "error" in row:
            cells[p.backend] = p.failure(interp.id, row["error"])
            continue
        cells[p.backend] = Cell(interp.id, p.backend, "ok", abi3=row["abi3"], artifact=row["artifact"])
        cells[p.backend].gil = gil_record(factlab.spec(p.backend), row)
        loaded[p.backend] = row["calls"]
    return loaded


def hold_to_contract(
    interp: Interpreter, names: list[str], cells: dict[str, Cell], quick: bool, say: Progress
) -> None:
    """tests/test_contract.py for the loaded backends; on a free-threaded CPython, those that keep the
    GIL off in a run of their own, where the GIL must stay off (:func:`.contract_groups`)."""
    gil = {name: cells[name].gil for name in names}
    for number, (group, errors) in enumerate(contract_groups(gil, names)):
        log = logs(interp.id) / f"contract{'-' + str(number) if number else ''}.log"
        kind = ("quick subset" if quick else "tests/test_contract.py") + (", the GIL off" if errors else "")
        say(interp.id, f"contract tests ({kind}): {len(group)} backends")
        for name, why in contract(interp, group, log, quick=quick, errors=errors).items():
            if why:
                cells[name].status, cells[name].reason = "failed", f"contract: {why}"
        if interp.free_threaded:  # the eight-thread test, named in the free-threading table
            for name in passed(log.with_suffix(".xml"), group, THREADS_TEST):
                cells[name].gil["eight_threads"] = "passed" + (", the GIL off" if errors else "")


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
