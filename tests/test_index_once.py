"""``__index__`` is called exactly once per call, in every backend, as ``math.factorial`` does.

A backend that asks its argument twice (once to convert, once more for the
sign after an overflow) lets an ``__index__`` that changes its answer, or
raises the second time, decide the outcome. Each probe's expected outcome
is ``math.factorial``'s on the same object.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType

import pytest


class Counting:
    """``__index__`` returns ``value`` and counts its calls."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.calls = 0

    def __index__(self) -> int:
        self.calls += 1
        return self.value


class Stateful:
    """``__index__`` returns ``first``, then raises or returns ``then``."""

    def __init__(self, first: int, then: int | None) -> None:
        self.first = first
        self.then = then
        self.calls = 0

    def __index__(self) -> int:
        self.calls += 1
        if self.calls == 1:
            return self.first
        if self.then is None:
            raise RuntimeError("__index__ called a second time")
        return self.then


# Values on every path: the u64 and u128 tables, the big path, negative,
# past a C long on both sides (refused at once by every backend, math included).
VALUES = [0, 5, 20, 25, 34, 35, 170, 171, 1000, -1, -(10**40), 10**40, 2**63, 2**64]


def _outcome(factorial: Callable[[object], int], arg: object) -> tuple[str, object]:
    try:
        result = factorial(arg)
    except Exception as exc:
        return type(exc).__name__, None
    return "ok", result


@pytest.mark.parametrize("value", VALUES)
def test_index_called_once(backend: ModuleType, value: int) -> None:
    arg = Counting(value)
    expected = _outcome(math.factorial, Counting(value))
    assert _outcome(backend.factorial, arg) == expected
    assert arg.calls == 1, f"__index__ called {arg.calls} times for {value}"


@pytest.mark.parametrize(
    ("first", "then"), [(10**40, None), (10**40, -1), (-(10**40), 5), (-1, None), (25, None)]
)
def test_a_second_answer_is_never_asked_for(backend: ModuleType, first: int, then: int | None) -> None:
    expected = _outcome(math.factorial, Stateful(first, then))
    arg = Stateful(first, then)
    assert _outcome(backend.factorial, arg) == expected
    assert arg.calls == 1
