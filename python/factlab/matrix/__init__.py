"""``python -m factlab matrix``: where each backend runs.

For every interpreter found (each CPython >= 3.10 that pyenv or ``PATH`` offers, PyPy where
installed, the free-threaded CPython that ``just python-ft`` built, and any ``--python PATH``), the
matrix:

1. makes a virtualenv at ``target/matrix/venvs/<id>/`` with the pinned tools of
   ``requirements-matrix.txt`` (:mod:`.venvs`; a tool pip refuses there costs only the backends that
   need it, :mod:`.tools`);
2. builds there, with pip, every backend's PEP 517 project (a failure is a cell with the build's own
   error, and the matrix goes on);
3. imports each backend alone, in a child of its own (:mod:`.loading`, running :mod:`.probe`: a crash
   costs one cell; on a free-threaded CPython it records the GIL after the import,
   :mod:`.freethreaded`), runs the contract tests against it (:mod:`.contract`), times
   ``factorial(25)`` and ``crossing(25)`` with pyperf (:mod:`.timer`, the bench's timing method) and,
   in a full run, counts the instructions of ``factorial(25)`` with callgrind (:mod:`.timing`);

then, on the CPython versions found, builds the stable-ABI wheels once and proves them everywhere
(:mod:`.stable_abi`), imports each backend in subinterpreters (:mod:`.subinterpreters`), and on each
free-threaded CPython and the GIL build beside it measures 1 thread against 2 (:mod:`.scaling`). It
writes ``target/matrix/results.json``, ``summary.md`` and ``figures.md`` (:mod:`.render`,
:mod:`.threads_render`); ``--check-committed`` compares the run with the book's results and
``--merge-committed`` puts its interpreters into them (:mod:`.results`). :mod:`.discovery` finds the
interpreters, :mod:`.cli` is the command line.

Every backend fact comes from the registry (:func:`factlab.specs`): no module here names a backend.
:mod:`.probe` and :mod:`.timer` run INSIDE the matrix's virtualenvs, PyPy 3.9 included, and so does
this file when they are imported: these three keep to Python 3.9's syntax; the rest runs on the host
(3.10+).
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """The command line (imported here, on call: the host's modules are 3.10+ only)."""
    import importlib.util
    import sys

    if importlib.util.find_spec("packaging") is None:  # the one library the host side needs
        print(
            "matrix: needs the packaging library (requirements.txt pins it): run it with the venv of "
            "`just setup` (.venv/bin/python -m factlab matrix), or pip install packaging",
            file=sys.stderr,
        )
        return 2
    from factlab.matrix.cli import main as run

    return run(argv)
