"""comb: ``comb(n, k)`` in two backends, exactly as ``math.comb``.

Run with ``just exercise comb`` (it builds and tests ``start/``, your code):
``pure_backend.py`` and the PyO3 module in ``pyo3_backend/``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType

import pure_backend
import pyo3_backend
import pytest

BACKENDS = [pure_backend, pyo3_backend]


class Index:
    """Not an int, but has ``__index__``: math.comb accepts it."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value

    def __repr__(self) -> str:
        return f"Index({self.value})"


class MyInt(int):
    pass


def comb_of(backend: ModuleType) -> Callable[[object, object], int]:
    function = getattr(backend, "comb", None)
    if function is None:
        pytest.fail(f"{backend.__name__} has no comb(n, k) yet ({backend.__file__}): add it")
    return function


def outcome(function: Callable[..., object], *args: object) -> tuple[str, object]:
    """What a call gives: its value, or its exception's type and (for ValueError) message."""
    try:
        return ("value", function(*args))
    except ValueError as exc:
        return ("raises", (ValueError, str(exc)))
    except Exception as exc:
        return ("raises", type(exc))


@pytest.fixture(params=BACKENDS, ids=lambda backend: backend.__name__)
def comb(request: pytest.FixtureRequest) -> Callable[[object, object], int]:
    function = getattr(request.param, "comb", None)
    if function is not None:
        return function

    def missing(n: object, k: object) -> int:
        return comb_of(request.param)(n, k)  # fails the test, with the reason

    return missing


def test_small_values(comb: Callable[[object, object], int]) -> None:
    for n in range(30):
        for k in range(n + 3):  # k > n gives 0
            assert comb(n, k) == math.comb(n, k), (n, k)


@pytest.mark.parametrize(
    ("n", "k"), [(100, 50), (1_000, 3), (1_000, 997), (5_000, 2_500), (2**40, 3), (2**63 - 1, 2), (10, 2**62)]
)
def test_large_values(comb: Callable[[object, object], int], n: int, k: int) -> None:
    assert comb(n, k) == math.comb(n, k)


@pytest.mark.parametrize(
    ("n", "k"),
    [(True, True), (True, False), (MyInt(10), 3), (10, MyInt(3)), (Index(10), Index(4)), (Index(3), 5)],
    ids=repr,
)
def test_accepts_what_has_index(comb: Callable[[object, object], int], n: object, k: object) -> None:
    assert comb(n, k) == math.comb(n, k)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n", "k"),
    [
        (1.0, 1),
        (1, 1.0),
        ("5", 2),
        (None, 1),
        (-1, 1),
        (1, -1),
        (-1, -1),
        (-1, 1.0),  # converts both first: TypeError, not ValueError
        (1.0, -1),
        (-(2**70), 1),
        (1, -(2**70)),
        (Index(-3), 1),
    ],
    ids=repr,
)
def test_errors_as_math_comb(comb: Callable[[object, object], int], n: object, k: object) -> None:
    expected = outcome(math.comb, n, k)
    assert expected[0] == "raises"
    assert outcome(comb, n, k) == expected


def test_pure_comb_has_no_size_limit() -> None:
    comb = comb_of(pure_backend)
    assert comb(2**70, 3) == math.comb(2**70, 3)
    assert comb(2**70, 2**70 - 2) == math.comb(2**70, 2)
