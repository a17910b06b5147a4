"""What a free-threaded CPython (3.13t) adds to a column: the GIL's state after each import, and the
contract run so that the backends that keep the GIL off are tested without one.

A module that does not declare that it runs without the GIL (the ``Py_mod_gil`` slot, PyO3's
``gil_used = false``, Cython's ``freethreading_compatible``) turns the GIL back on, for the whole
process, as it loads; CPython says so with a RuntimeWarning. The probe imports each backend alone
(:mod:`.loading`), so its record here is that backend's: ``sys._is_gil_enabled()`` right after the
import, CPython's warning, and what the registry says the module declares.
"""

from __future__ import annotations

from typing import Any

import factlab

# The start of the RuntimeWarning CPython raises when an import turns the GIL back on (3.13t).
GIL_WARNING = "The global interpreter lock (GIL) has been enabled"


def gil_record(backend: factlab.BackendSpec, probed: dict[str, Any]) -> dict[str, Any]:
    """A cell's free-threading record from what the probe saw (``{}`` on a build with a GIL)."""
    seen = probed.get("gil")
    if not seen:
        return {}
    warned = [w for w in seen.get("warnings", []) if GIL_WARNING in w]
    return {
        "before_import": state(seen.get("before")),
        "after_import": state(seen.get("after_import")),
        "warning": warned[0] if warned else "",
        "declares": backend.gil_declaration,
        "eight_threads": "",
    }


def state(enabled: bool | None) -> str:
    return "unknown" if enabled is None else "on" if enabled else "off"


ContractRun = tuple[list[str], tuple[str, ...]]  # (backends, warnings the run makes errors)


def contract_groups(gil: dict[str, dict[str, Any]], names: list[str]) -> list[ContractRun]:
    """The contract runs of one interpreter: ``(backends, warnings made errors)`` each.

    On a build with a GIL, one run. On a free-threaded one, the backends that left the GIL off run
    together, with CPython's GIL warning an error (so that nothing in that run turns the GIL back
    on: their eight-thread test runs without a GIL), and those that turned it on run apart.
    """
    if not any(gil.get(name) for name in names):
        return [(names, ())] if names else []
    off = [n for n in names if gil.get(n, {}).get("after_import") == "off"]
    on = [n for n in names if n not in off]
    runs: list[ContractRun] = []
    if off:
        runs.append((off, (f"{GIL_WARNING}:RuntimeWarning",)))
    if on:
        runs.append((on, ()))
    return runs
