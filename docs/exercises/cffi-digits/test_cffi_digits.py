"""cffi-digits: the wrapper must return the digits the library wrote, and nothing else.

Run with ``just exercise cffi-digits`` (it tests ``start/``, your code).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator

import cffi_digits as wrapper
import pytest

# The smallest limit Python accepts (sys.int_info.str_digits_check_threshold):
# with it, str(math.factorial(1000)) (2568 digits) raises ValueError. The
# wrapper never makes an int, so no limit applies to it.
LIMIT = 640


def reference(n: int) -> str:
    """``str(math.factorial(n))`` with Python's digit limit lifted for the time of the call."""
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # 0: no limit
    try:
        return str(math.factorial(n))
    finally:
        sys.set_int_max_str_digits(before)


def not_the_digits(n: int, result: str, expected: str) -> str:
    """What to say when ``result`` has not as many characters as ``n!`` has digits."""
    extra = result[len(expected) :] if result.startswith(expected) else ""
    seen = "all '\\x00' (NUL)" if extra == "\0" * len(extra) else f"{extra[:20]!r}..."
    digits = f"{len(expected)} digit" + "s" * (len(expected) != 1)
    return (
        f"factorial_str({n}) has {len(result)} characters, {n}! has {digits}"
        + (f": the {len(extra)} characters after the digits are {seen}" if extra else "")
        + ". The buffer holds factlab_factorial_digits_bound(n) bytes, more than the digits; the "
        "library writes the digits at its start and says how many in the out-parameter `len` "
        "(see factlab_factorial_digits in crates/clib/include/factlab.h)"
    )


@pytest.fixture
def low_digit_limit() -> Iterator[None]:
    """Python's limit on int -> str conversions at its lowest during the test, restored after."""
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(LIMIT)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(before)


@pytest.mark.usefixtures("low_digit_limit")
@pytest.mark.parametrize("n", [0, 1, 20, 25, 100, 1_000, 5_000])
def test_values(n: int) -> None:
    expected = reference(n)
    result = wrapper.factorial_str(n)
    assert isinstance(result, str), f"factorial_str({n}) returned a {type(result).__name__}, not a str"
    assert len(result) == len(expected), not_the_digits(n, result, expected)
    assert result == expected, f"factorial_str({n}) has the right length but other digits"


@pytest.mark.usefixtures("low_digit_limit")
@pytest.mark.parametrize(
    ("bad", "exception"),
    [
        (5.0, TypeError),
        ("5", TypeError),
        (-1, ValueError),
        (2**63, OverflowError),  # above C's long: refused before the call, as math.factorial does
        (10**8 + 1, OverflowError),  # above factlab's bound: the library's FACTLAB_TOO_LARGE
    ],
)
def test_errors_as_math_factorial(bad: object, exception: type[Exception]) -> None:
    with pytest.raises(exception):
        wrapper.factorial_str(bad)
