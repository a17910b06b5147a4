"""Each backend imported ALONE, in a child process of its own, by :func:`factlab.matrix.probe.probe`.

Two reasons for a child per backend. A module may crash the interpreter as it loads (one built for
the GIL's ABI may, with SIGSEGV, on a free-threaded 3.13): in a child of its own it loses only its own cell,
reported as "crashed at import (SIGSEGV)". And on a free-threaded CPython, whether the GIL is on
after an import is a property of that import alone: a module that turns it back on turns it on for
the whole process.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import factlab
from factlab._common import quote_error, run, scrub
from factlab.matrix.discovery import Interpreter
from factlab.matrix.venvs import child_env
from factlab.matrix.workspace import root

TIMEOUT = 120  # seconds an import and 25! may take: a module that hangs as it loads is a failure too


def probe(interp: Interpreter, names: list[str], log: Path, pythonpath: Path | None = None) -> dict[str, Any]:
    """backend -> its load error (``{"error": ...}``), or what :func:`~factlab.matrix.probe.probe` saw."""
    env = child_env(interp, pythonpath)
    return {
        name: probe_one(interp.python, factlab.spec(name), env, log.with_name(f"{log.stem}-{name}.log"))
        for name in names
    }


def probe_one(python: Path, backend: factlab.BackendSpec, env: dict[str, str], log: Path) -> dict[str, Any]:
    """Import one backend with ``python`` in a child; a crash or a hang is its error, in its words."""
    code = f"from factlab.matrix.probe import probe; probe({backend.module!r}, {backend.extension or ''!r})"
    # -X faulthandler: a crash leaves the Python stack of the import in the log.
    ran = run([python, "-X", "faulthandler", "-c", code], cwd=root(), env=env, timeout=TIMEOUT, log=log)
    lines = [read(line) for line in ran.out.splitlines()]
    said = [line for line in lines if line is not None]
    stages = [line["stage"] for line in said if "stage" in line]
    result = said[-1] if said and "stage" not in said[-1] else None
    if ran.ok and result is not None:
        return result
    where = "exit" if result is not None else stages[-1] if stages else "start-up"
    if ran.code < -1:  # killed by a signal: the interpreter itself crashed
        return {"error": f"crashed at {where} ({signal_name(-ran.code)})", "crashed": True}
    if ran.code == -1 and "timed out after" in ran.out:
        return {"error": f"no answer within {TIMEOUT} s at {where} (hangs)"}
    return {"error": scrub(quote_error(ran.out)) or f"exit {ran.code} at {where}"}


def read(line: str) -> dict[str, Any] | None:
    """One JSON line the probe printed (None for anything else the child wrote: warnings, crashes)."""
    if not line.startswith("{"):
        return None
    try:
        said = json.loads(line)
    except ValueError:
        return None
    return said if isinstance(said, dict) else None


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
