"""capi-leak: every reference the module takes, it gives back.

Run with ``just exercise capi-leak`` (it builds and tests ``start/``, your code).

The leak test counts references with ``sys.getrefcount``: an int returned by
``__index__`` is referenced by the test and by the object holding it, and by
nobody else once a call is over. If a call keeps a reference it never
releases, the count grows by one per call, and the int is never freed.
"""

from __future__ import annotations

import math
import sys

import capi_leak
import pytest

CALLS = 1_000


class Index:
    """Not an int, but has ``__index__``: it returns the very int it was given."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value

    def __repr__(self) -> str:
        return f"Index({self.value})"


def fresh(text: str) -> int:
    """A new int object, not one of CPython's shared small ints (-5 to 256)."""
    return int(text)


@pytest.mark.parametrize("n", [0, 1, 20, 21, 34, 35, 1_000, 5_000])
def test_values(n: int) -> None:
    assert capi_leak.factorial(n) == math.factorial(n)
    assert capi_leak.factorial(Index(n)) == math.factorial(n)


@pytest.mark.parametrize(
    ("bad", "exception"),
    [
        (5.0, TypeError),
        ("5", TypeError),
        (None, TypeError),
        (-1, ValueError),
        (Index(-1), ValueError),
        (2**63, OverflowError),
        (Index(2**63), OverflowError),
        (10**8 + 1, OverflowError),
    ],
)
def test_errors_as_math_factorial(bad: object, exception: type[Exception]) -> None:
    with pytest.raises(exception):
        capi_leak.factorial(bad)


def calls_keep(value: int, expected: type[Exception] | None) -> int:
    """How many references to ``value`` CALLS calls through ``__index__`` left behind."""
    arg = Index(value)
    before = sys.getrefcount(value)
    for _ in range(CALLS):
        if expected is None:
            capi_leak.factorial(arg)
        else:
            with pytest.raises(expected):
                capi_leak.factorial(arg)
    return sys.getrefcount(value) - before


def test_no_leak_when_the_call_succeeds() -> None:
    assert calls_keep(fresh("300"), None) == 0


@pytest.mark.parametrize(
    ("text", "exception"), [("-300", ValueError), (str(2**70), OverflowError)], ids=["negative", "too-large"]
)
def test_no_leak_when_the_call_raises(text: str, exception: type[Exception]) -> None:
    kept = calls_keep(fresh(text), exception)
    assert kept == 0, (
        f"after {CALLS} calls of factorial(x) that raised {exception.__name__}, where x.__index__() "
        f"returned the int {text}, that int has {kept} more references than before: each failed call "
        "kept one. Which reference does the module obtain and not release on that path?"
    )
