"""Where the matrix works (``target/matrix``, the committed results) and its progress line."""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path

from factlab._common import repo_root, require_repo


@cache
def root() -> Path:
    """The clone the matrix builds from (it needs the sources: a wheel install has none)."""
    return require_repo("python -m factlab matrix")


def out() -> Path:
    """``target/matrix``: the venvs, wheels, logs and results of the runs."""
    return root() / "target" / "matrix"


def logs(where: str) -> Path:
    """The folder of one interpreter's (or one phase's) logs: every command's whole output."""
    return out() / "logs" / where


def committed() -> Path:
    """The results the book shows (``just docs-matrix`` copies a run there)."""
    return (repo_root() or Path.cwd()) / "docs" / "src" / "matrix" / "results.json"


class Progress:
    """One line per step, with the time since the start: the matrix takes minutes."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def __call__(self, where: str, what: str) -> None:
        minutes, seconds = divmod(int(self.elapsed()), 60)
        print(f"matrix {minutes:2d}:{seconds:02d}  {where:<14} {what}", flush=True)
