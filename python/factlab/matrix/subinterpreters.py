"""Subinterpreters (CPython 3.12+): each backend imported in an isolated subinterpreter (its own GIL)
and in a legacy one (the shared GIL), each in a child process with a timeout, since a module that
does not expect a subinterpreter may hang as well as fail. Where the import works, the backend's
``Factorials`` iterator is made and stepped in there too: a row's ``iterator``."""

from __future__ import annotations

import re
from typing import Any

import factlab
from factlab._common import scrub
from factlab._facts import Version
from factlab.matrix.cells import Cell
from factlab.matrix.discovery import Interpreter
from factlab.matrix.venvs import python_json
from factlab.matrix.workspace import Progress, logs

OLDEST: Version = (3, 12)  # PEP 684: a GIL per interpreter
GILS = ("own", "shared")
TIMEOUT = {False: 60, True: 20}  # seconds a probe may take, by --quick


def applies(interp: Interpreter) -> bool:
    return interp.gil_cpython and interp.version >= OLDEST and interp.python.exists()


def one(interp: Interpreter, module: str, backend: str, gil: str, quick: bool) -> dict[str, Any]:
    """Import ``module`` in a subinterpreter of the ``gil`` kind, then step its iterator there:
    ``{"status", "reason", "iterator": {"status", "reason"} or None}`` (None: not tried)."""
    code = f"from factlab.matrix.probe import subinterpreter_probe; subinterpreter_probe({module!r}, {gil!r})"
    log = logs(interp.id) / f"subinterp-{backend}-{gil}.log"
    got = python_json(interp, ["-c", code], log, timeout=TIMEOUT[quick])
    if got.get("timed_out"):  # the import or the iterator: the child's log says which
        hangs = f"no answer within {TIMEOUT[quick]} s (hangs)"
        return {"status": "failed", "reason": hangs, "iterator": None}
    if "error" in got:
        return {"status": "failed", "reason": got["error"], "iterator": None}
    return {"status": got["status"], "reason": got["reason"], "iterator": got.get("iterator")}


def plain(reason: str) -> str:
    """A reason without this machine's paths; 3.12's RunFailedError writes "<class 'ImportError'>": the
    name is enough."""
    return re.sub(r"<class '(\w+)'>", r"\1", scrub(reason))


def subinterpreters(
    interps: list[Interpreter], cells: list[Cell], quick: bool, say: Progress
) -> list[dict[str, Any]]:
    """Each backend in an own-GIL and a shared-GIL subinterpreter, on every CPython 3.12+ found."""
    rows: list[dict[str, Any]] = []
    status = {(c.interpreter, c.backend): c.status for c in cells}
    for interp in filter(applies, interps):
        say("subinterp", f"{interp.id}: each backend in an own-GIL and a shared-GIL subinterpreter")
        for s in factlab.specs():
            for gil in GILS:
                row: dict[str, Any] = {"interpreter": interp.id, "backend": s.name, "gil": gil}
                if status.get((interp.id, s.name)) != "ok":
                    row.update(status="unsupported", reason=f"not built on {interp.id}", iterator=None)
                else:
                    row.update(one(interp, s.module, s.name, gil, quick))
                row["reason"] = plain(row["reason"])
                if row["iterator"]:
                    row["iterator"]["reason"] = plain(row["iterator"]["reason"])
                rows.append(row)
        mine = [r for r in rows if r["interpreter"] == interp.id]
        bad = [f"{r['backend']}/{r['gil']}" for r in mine if r["status"] == "failed"]
        bad += [
            f"{r['backend']}/{r['gil']} (Factorials)"
            for r in mine
            if (r["iterator"] or {}).get("status") == "failed"
        ]
        say("subinterp", f"{interp.id}: failed: {', '.join(bad) or 'none'}")
    return rows
