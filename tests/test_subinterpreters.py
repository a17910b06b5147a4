"""Every backend in a subinterpreter: it imports and computes 25!, or refuses with a clear ImportError.

Never a hang: each probe runs in a fresh process with a timeout. Which
subinterpreters this interpreter can make:

- ``test.support.interpreters`` (CPython 3.11 and 3.12: ``create()`` then
  ``.run(code)``; 3.13: ``.exec(code)``); from 3.12 an isolated interpreter
  with its own GIL, where CPython itself refuses single-phase-init modules;
- ``_testcapi.run_in_subinterp`` (CPython's test module): a legacy
  subinterpreter sharing the main GIL.

rust-cpython used to hang in both, in ``PyInit`` (``PyGILState_Ensure``).

Where neither exists the test skips and says so.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

import factlab

F25 = 15511210043330985984000000


def _runners() -> list[str]:
    """How this interpreter runs code in a subinterpreter: a statement using ``code``."""
    runners = []
    try:
        from test.support import interpreters  # type: ignore[import-not-found]

        create = interpreters.create()
        method = "exec" if hasattr(create, "exec") else "run"
        create.close()
        runners.append(f"from test.support import interpreters\ninterpreters.create().{method}(code)")
    except Exception:
        pass
    if importlib.util.find_spec("_testcapi") and hasattr(
        importlib.import_module("_testcapi"), "run_in_subinterp"
    ):
        runners.append("import _testcapi\nassert _testcapi.run_in_subinterp(code) == 0")
    return runners


RUNNERS = _runners()

# Runs inside the subinterpreter: one line, "ok" or "refused: <message>".
INSIDE = """
try:
    import factlab
    value = factlab.load({name!r}).factorial(25)
    print("ok" if value == {f25} else f"WRONG: {{value}}", flush=True)
except ImportError as exc:
    print(f"refused: {{exc}}", flush=True)
"""


@pytest.mark.skipif(
    not RUNNERS, reason=f"CPython {sys.version.split()[0]} offers no subinterpreter to this test"
)
@pytest.mark.parametrize("runner", RUNNERS, ids=lambda r: r.split("\n")[0].split()[1])
def test_backend_in_a_subinterpreter(backend_name: str, runner: str) -> None:
    factlab.load(backend_name)  # built and working in the main interpreter first
    code = INSIDE.format(name=backend_name, f25=F25)
    child = f"code = {code!r}\n{runner}\n"
    try:
        proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{backend_name}: hung in a subinterpreter (killed after 60 s)")
    assert proc.returncode == 0, f"{backend_name}: exit {proc.returncode}\n{proc.stderr[-2000:]}"
    line = proc.stdout.strip()
    assert line == "ok" or (line.startswith("refused:") and "subinterpreter" in line.lower()), (
        f"{backend_name}: {line!r}\n{textwrap.shorten(proc.stderr, 2000)}"
    )
