"""The contract, for every backend in the registry: exactly ``math.factorial``.

The same value for every n, and the same exception type for every bad input.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal
from fractions import Fraction
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import factlab
from odd_inputs import LONG_MAX, MAX_N, BadIndex, Index, MyInt, OnlyInt, outcome


def test_registry_order_matches_the_table() -> None:
    assert factlab.backend_names() == [
        "python",
        "math",
        "pyo3",
        "capi",
        "rust-cpython",
        "cffi-abi-inline",
        "cffi-abi-outofline",
        "cffi-api",
        "ctypes",
        "cython",
    ]


def test_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known backends: python, math"):
        factlab.load("fortran")


def test_seed_article_value(backend: ModuleType) -> None:
    # The article's loop returned garbage here: 25! overflows a C long.
    assert backend.factorial(25) == 15511210043330985984000000
    # ... and 0 for 0!, which is 1.
    assert backend.factorial(0) == 1


def test_exact_values_0_to_1000(backend: ModuleType) -> None:
    for n in range(1001):
        got = backend.factorial(n)
        assert type(got) is int, f"{n}! returned {type(got).__name__}"
        assert got == math.factorial(n), f"{n}! differs"


@given(n=st.integers(min_value=0, max_value=5000))
# The fixture only hands over a module: sharing it between examples is safe.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_property_against_math(backend: ModuleType, n: int) -> None:
    assert backend.factorial(n) == math.factorial(n)


@pytest.mark.parametrize(
    "arg",
    [
        True,
        False,
        MyInt(7),
        Index(12),
        Index(30),
        Index(-3),
        -1,
        -(10**30),
        -(2**63),
        -(2**63) - 1,
        LONG_MAX + 1,
        10**30,
        1.0,
        2.5,
        -0.0,
        float("nan"),
        float("inf"),
        1e100,
        Decimal(5),
        Fraction(5, 1),
        "5",
        b"5",
        None,
        [5],
        (5,),
        5j,
        OnlyInt(),
        BadIndex(),
    ],
    ids=repr,
)
def test_same_outcome_as_math(backend: ModuleType, arg: object) -> None:
    assert outcome(backend.factorial, arg) == outcome(math.factorial, arg)


def test_c_long_edge_is_overflow(backend: ModuleType) -> None:
    with pytest.raises(OverflowError):
        backend.factorial(LONG_MAX + 1)
    with pytest.raises(ValueError, match="negative"):
        backend.factorial(-LONG_MAX - 2)


@pytest.mark.parametrize("n", [10**4, 3 * 10**4])
def test_big_spot_checks(backend: ModuleType, n: int) -> None:
    assert backend.factorial(n) == math.factorial(n)


def test_big_1e5_native(native: ModuleType) -> None:
    assert native.factorial(10**5) == math.factorial(10**5)


def test_bound_refused_at_once(native: ModuleType) -> None:
    start = time.perf_counter()
    with pytest.raises(OverflowError, match="factlab's bound"):
        native.factorial(MAX_N + 1)
    with pytest.raises(OverflowError):
        native.factorial(LONG_MAX)
    assert time.perf_counter() - start < 1.0, "the bound must be checked before any work"


def test_crossing_is_the_bare_u64_entry(native: ModuleType) -> None:
    assert native.crossing(20) == math.factorial(20)
    assert native.crossing(5) == 120
    assert native.crossing(21) == 0  # does not fit in 64 bits: the entry says 0


def test_panic_becomes_an_exception(native: ModuleType) -> None:
    # The interpreter survives; the panic comes out as an exception.
    with pytest.raises(BaseException, match=r"(?i)panic") as info:
        native.raise_panic()
    assert not isinstance(info.value, (KeyboardInterrupt, SystemExit))
    assert native.factorial(5) == 120  # and the backend still works


def test_n_is_positional_only(backend_name: str, backend: ModuleType) -> None:
    # math.factorial(n=5) is a TypeError: n is positional-only.
    if backend_name == "rust-cpython":
        pytest.skip("rust-cpython's py_fn! always accepts keywords (see crates/cpython/README.md)")
    with pytest.raises(TypeError):
        backend.factorial(n=5)
