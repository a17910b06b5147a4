"""Puts the code under test on ``sys.path`` for the exercise tests.

``run.py`` (``just exercise NAME``, ``just exercises-check``) sets two
variables before it starts pytest:

- ``FACTLAB_EXERCISE_DIR``: the directory whose Python files are tested,
  ``<exercise>/start`` (yours) or ``<exercise>/solution`` (the reference);
- ``FACTLAB_EXERCISE_BUILD`` (optional): where the exercise's compiled
  modules were installed, when it has a Rust crate.

Both go first on ``sys.path``, so a test's plain ``import`` finds them.
"""

from __future__ import annotations

import os
import sys

import pytest

_VARIABLES = ("FACTLAB_EXERCISE_BUILD", "FACTLAB_EXERCISE_DIR")


def pytest_configure(config: pytest.Config) -> None:
    if "FACTLAB_EXERCISE_DIR" not in os.environ:
        raise pytest.UsageError(
            "the exercise tests run through `just exercise NAME` (or `just exercises-check`), "
            "which choose the code to test and build it"
        )
    for variable in _VARIABLES:
        path = os.environ.get(variable)
        if path:
            sys.path.insert(0, path)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"{variable}: {os.environ.get(variable, '(unset)')}" for variable in _VARIABLES]
