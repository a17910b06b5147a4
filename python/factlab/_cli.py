"""What the measuring commands (``python -m factlab bench``, ``python -m factlab ship``) share.

- One-line errors: a bad argument, a bad file or a missing library is one
  line on stderr and exit code 2 (:class:`~factlab._runs.RunError`), never a
  traceback.
- The libraries a command needs, named with the extra that installs them:
  the factlab wheel runs without them, the measuring commands do not.
- The terminal: a table keeps the columns that decide, so that it fits 100
  columns; ``summary.md`` keeps them all.
- Publishing a complete run into the book, then rendering its figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from factlab._common import repo_root, run
from factlab._render import Table, to_rich
from factlab._runs import RunError

EXTRA = "factlab[bench]"  # python/pyproject.toml's extra with every library below
TERMINAL = 100  # columns: a terminal table fits this width (and a log's lines do too)
NAME = 24  # characters: a column of names up to this wide is never wrapped in a terminal


class Parser(argparse.ArgumentParser):
    """argparse whose errors are a :class:`RunError` (one line, exit code 2) instead of usage + exit."""

    def error(self, message: str) -> NoReturn:
        raise RunError(message)


def names(kind: str, known: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse ``type`` for ``A,B``: names from ``known``, at least one, the unknown ones named."""

    def parse(text: str) -> list[str]:
        given = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [n for n in given if n not in known]
        if not given or unknown:
            what = f"unknown {kind} {', '.join(unknown)}" if unknown else f"no {kind} named"
            raise argparse.ArgumentTypeError(f"{what}; known: {', '.join(known)}")
        return given

    return parse


def require(modules: Sequence[str]) -> None:
    """Every one of ``modules`` importable, or one line naming the extra that installs them."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise RunError(f"{', '.join(missing)} {verb} not installed: pip install '{EXTRA}'")


def command(prog: str, body: Callable[[list[str] | None], int], argv: list[str] | None) -> int:
    """``body(argv)``'s exit code; a :class:`RunError` becomes ``prog: error: ...`` on stderr."""
    try:
        return body(argv)
    except RunError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.code


def console() -> Any:
    """rich's console: the terminal's width in a terminal, else (a log, a pipe) :data:`TERMINAL`."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=TERMINAL)


def show(console: Any, table: Table) -> None:
    """Print ``table`` in the terminal: its names never wrap (up to :data:`NAME`), figures may at a space."""
    rich = to_rich(table)
    for i, column in enumerate(rich.columns[: table.left]):  # rich narrows the widest columns first:
        column.no_wrap = max((len(row[i]) for row in table.rows), default=0) <= NAME  # not a row's name
    console.print(rich)


def narrow(table: Table, keep: Sequence[str]) -> Table:
    """``table`` with its first column and the columns named in ``keep`` only: the terminal's view."""
    index = [0, *(table.headers.index(h) for h in keep if h in table.headers[1:])]
    dropped = len(table.headers) - len(index)
    notes = table.notes + ([f"{dropped} more columns in summary.md."] if dropped else [])
    return Table(
        table.title,
        [table.headers[i] for i in index],
        [[row[i] for i in index] for row in table.rows],
        notes,
        left=sum(i < table.left for i in index),
    )


def publish(run_dir: Path, files: Sequence[str], into: str) -> Path:
    """Copy ``files`` of a run into ``docs/src/<into>/``, then render the book's figures from them."""
    root = repo_root()
    if root is None:
        raise RunError("not inside the factlab repository: no book to publish into")
    dest = root / "docs" / "src" / into
    dest.mkdir(parents=True, exist_ok=True)
    for name in files:
        shutil.copyfile(run_dir / name, dest / name)
    rendered = run([sys.executable, root / "docs" / "figures.py"], cwd=root)
    if not rendered.ok:
        raise RunError(f"docs/figures.py failed on the published run: {rendered.error()}", code=1)
    return dest
