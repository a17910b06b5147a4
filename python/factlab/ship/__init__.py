"""``python -m factlab ship`` (issue 15): what each binding costs to build, ship and import.

Measured outside any timing loop, one process per measurement, for every
registered backend that loads (a field that does not apply to one is None):

- **build** (:mod:`factlab.ship.build`), in a copy of the sources (git's files)
  with target directories of its own, so that the working tree and its
  ``target/`` are never touched. The shared dependencies are built once and
  reported on rows of their own: the kernel with malachite (every native
  backend), then the C ABI library (the backends over it). Cold: each
  backend's own PEP 517 project, built from a copy of that shared state (none
  profits from another's crates). Incremental: a one-line change to the
  kernel's source (in the copy), then the backend's chain again. Every build is
  ``pip wheel --no-deps --no-build-isolation``, so the wheel comes out of it.
  Quick mode (CI) skips the cold builds: it seeds one target directory from
  the working tree's and times the incremental builds only.
- **what ships, what it needs, imports, lines** (:mod:`factlab.ship.facts`).

A run goes to ``target/ship/runs/<time>-<mode>/`` like the bench's
(:mod:`factlab.ship.cli`); the rows come from :mod:`factlab.ship.rows`, the
table from :mod:`factlab.ship.report`, the chart from :mod:`factlab.ship.chart`.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """``python -m factlab ship``; imported when called, so that ``factlab.ship.report`` (which the book's
    figures use) needs the standard library only, not the libraries a run needs."""
    from factlab.ship.cli import main

    return main(argv)
