"""What the matrix runs INSIDE each venv, on every interpreter (PyPy 3.9 included): Python 3.9 syntax.

- :func:`probe`: import each backend, check 25!, and say which compiled file was loaded (the abi3
  proof needs to know it was the ``.abi3.so``);
- :func:`subinterpreter_probe`: import one backend in a new subinterpreter and compute there.

Each prints one line of JSON, which the host reads (``python -c "from factlab.matrix.probe import
probe; probe([...])"``). The timings are :mod:`factlab.matrix.timer`'s, with pyperf.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from importlib import machinery
from typing import Any

# The answer every cell checks first.
F25 = 15511210043330985984000000

SUBINTERPRETER_CODE = """
import math, importlib
module = importlib.import_module({module!r})
assert module.factorial(25) == {f25}, "wrong 25!"
assert module.factorial(1000) == math.factorial(1000), "wrong 1000!"
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


def probe(names: list[str]) -> None:
    """Print, as JSON: for each backend, its load error, or its compiled file, abi3 flag and calls."""
    import factlab

    out: dict[str, Any] = {}
    for name in names:
        entry = factlab.spec(name)
        try:
            module = importlib.import_module(entry.module)
            value = module.factorial(25)
            if value != F25:
                raise AssertionError(f"factorial(25) returned {value!r}")
        except Exception as exc:  # the probe reports any failure, it does not stop
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        artifact = compiled_file(entry.extension) if entry.extension else ""
        calls = ["factorial"] + (["crossing"] if hasattr(module, "crossing") else [])
        out[name] = {"artifact": artifact, "abi3": ".abi3." in artifact, "calls": calls}
    print(json.dumps(out))


def subinterpreter_probe(module: str, gil: str) -> None:
    """Import ``module`` in a new subinterpreter (``own`` or ``shared`` GIL) and compute there.

    3.12: ``_xxsubinterpreters`` (``test.support.interpreters.create(isolated=...).run()``);
    3.13: ``_interpreters`` (``test.support.interpreters.create().exec()``, "legacy" config
    for a shared GIL). The private modules are the only ones that make both kinds.
    """
    code = SUBINTERPRETER_CODE.format(module=module, f25=F25)
    reason = ""
    if sys.version_info >= (3, 13):
        import _interpreters  # type: ignore[import-not-found]

        interp = _interpreters.create("isolated" if gil == "own" else "legacy")
        try:
            failure = _interpreters.exec(interp, code)
            if failure is not None:  # a snapshot of the exception raised in there
                reason = getattr(failure, "formatted", None) or str(failure)
        finally:
            _interpreters.destroy(interp)
    else:
        import _xxsubinterpreters as _interpreters  # type: ignore[import-not-found]

        interp = _interpreters.create(isolated=gil == "own")
        try:
            _interpreters.run_string(interp, code)
        except _interpreters.RunFailedError as exc:
            reason = str(exc)
        finally:
            _interpreters.destroy(interp)
    print(json.dumps({"status": "failed" if reason else "ok", "reason": reason}))
