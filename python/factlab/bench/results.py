"""A run's ``results.json``: its format, the strict reader, and lookups into it.

The bench writes it (:mod:`factlab.bench.run`); ``--compare``, ``--publish``
and the book's figures read it. A file from elsewhere (an old run, a hand
edit) is checked field by field before anything uses it: the first bad field
is named with its value, in one line (exit code 2), never a traceback.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from factlab._runs import RunError
from factlab.bench.scenarios import CONTROLLED, MODES

FORMAT = "factlab-bench/2"
RESULTS = "results.json"
STATUSES = ("ok", "skipped", "failed", "wrong")
# A figure's field and what it must be: (the test, the words for it).
BOUNDS: dict[str, tuple[Callable[[float], bool], str]] = {
    "mean": (lambda v: v > 0, "seconds > 0"),
    "stdev": (lambda v: v >= 0, "seconds >= 0"),
    "instructions": (lambda v: v >= 0, "a count >= 0"),
    "median_ms": (lambda v: v >= 0, "milliseconds >= 0"),
    "with_s": (lambda v: v > 0, "seconds > 0"),
    "without_s": (lambda v: v > 0, "seconds > 0"),
}


def load_run(run: Path) -> dict[str, Any]:
    """The results of a complete run, every field checked (RunError names the first bad one)."""
    path = run / RESULTS
    if not path.is_file():
        raise RunError(f"{run} is not a complete run (interrupted or failed: it has no {RESULTS})")
    data = _read(path)
    _check_header(path, data)
    for name, rows in data["scenarios"].items():
        for i, row in enumerate(rows):
            _check_row(f"{path}: scenarios.{name}[{i}]", row)
    return data


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunError(f"cannot read {path}: {first}") from None


def _check_header(path: Path, data: Any) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RunError(f"{path} is not a factlab bench result of format {FORMAT}")
    mode = data.get("mode")
    if not isinstance(mode, str) or mode not in MODES:
        raise RunError(f"{path}: 'mode' must be one of {', '.join(MODES)}, not {mode!r}")
    if data.get("complete") is not True:
        raise RunError(
            f"{path}: 'complete' is {data.get('complete')!r}: a partial run (interrupted or failed)"
        )
    if not isinstance(data.get("created"), str):
        raise RunError(f"{path}: 'created' must be a date in words, not {data.get('created')!r}")
    scenarios = data.get("scenarios")
    if not isinstance(scenarios, dict) or not all(isinstance(v, list) for v in scenarios.values()):
        raise RunError(f"{path}: 'scenarios' must map each scenario to a list of rows")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_row(where: str, r: Any) -> None:
    if not isinstance(r, dict) or not isinstance(r.get("backend"), str) or not r["backend"]:
        raise RunError(f"{where}: a row must be an object with a 'backend' name")
    if "n" in r and not (isinstance(r["n"], int) and not isinstance(r["n"], bool) and r["n"] >= 0):
        raise RunError(f"{where}: 'n' must be a whole number >= 0, not {r['n']!r}")
    if r.get("status") not in STATUSES:
        raise RunError(f"{where}: 'status' must be one of {', '.join(STATUSES)}, not {r.get('status')!r}")
    if r["status"] != "ok" or "name" not in r:  # a row without figures, or measured outside the plan
        return
    needed: tuple[str, ...] = ("mean", "stdev")  # a timing
    if "instructions" in r:
        needed = ("instructions",)
    elif r.get("shape") in CONTROLLED:  # measured in a fresh process: what it has depends on what happened
        needed = ()
    for field in (*needed, *(f for f in BOUNDS if f in r and f not in needed)):
        test, words = BOUNDS[field]
        value = r.get(field)
        if not _is_number(value) or not test(value):  # type: ignore[arg-type]
            raise RunError(f"{where}: '{field}' must be {words}, not {value!r}")


TEXT_FIELDS = ("strategy", "shape")  # a row's fields that are text ("" when a row predates them)


class Results:
    """Lookups into one run's results (a dict as :func:`load_run` returns it)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.scenarios: dict[str, list[dict[str, Any]]] = data["scenarios"]

    def rows(self, scenario: str) -> list[dict[str, Any]]:
        return self.scenarios.get(scenario, [])

    def row(self, scenario: str, backend: str, n: int | None = None, **match: Any) -> dict[str, Any] | None:
        match.setdefault("strategy", "")  # a backend's own row, not one of its strategies
        for r in self.rows(scenario):
            mine = r["backend"] == backend and (n is None or r.get("n") == n)
            if mine and all(r.get(k, "" if k in TEXT_FIELDS else 0) == v for k, v in match.items()):
                return r
        return None

    def mean(self, scenario: str, backend: str, n: int | None = None, **match: Any) -> float | None:
        r = self.row(scenario, backend, n, **match)
        return r["mean"] if r is not None and r["status"] == "ok" else None

    def instructions(self, backend: str, n: int, call: str = "factorial") -> float | None:
        """Instructions per call of ``call(n)``, counted by callgrind in this run (None: not counted)."""
        r = self.row("instructions", backend, n, call=call)
        return r["instructions"] if r is not None and r["status"] == "ok" else None

    def counted(self) -> bool:
        """Whether this run counted instructions at all (its tables then carry the column)."""
        return any(r["status"] == "ok" for r in self.rows("instructions"))

    def faster(self, mine: float | None, other: float | None) -> float | None:
        """How many times faster ``mine`` is than ``other``."""
        return other / mine if mine and other else None

    def backends(self, scenario: str) -> list[str]:
        return list(dict.fromkeys(r["backend"] for r in self.rows(scenario)))
