"""The standard library's ``math.factorial``: what a user would pick instead.

It is the oracle of the test suite and the yardstick of the benchmark: C, a
table for n <= 20, and a divide-and-conquer product for larger n.
"""

# ANCHOR: all
from __future__ import annotations

from collections.abc import Iterable
from math import factorial
from typing import SupportsIndex

from factlab.backends.pure import at, int64_buffer, to_decimal

# The crossing of the standard library is the C function itself.
crossing = factorial


def factorials(ns: Iterable[SupportsIndex], /) -> list[int]:
    """``[math.factorial(n) for n in ns]``, as a user writes it; a bad element's index in the message."""
    with int64_buffer(ns) as view:  # a buffer of 64-bit integers, or TypeError
        result: list[int] = []
        append = result.append
        # Errors of the iteration itself (`factorials(5)`) are not an element's: not inside the try.
        for n in ns if view is None else view.tolist():
            try:
                append(factorial(n))
            except (TypeError, ValueError, OverflowError, MemoryError) as exc:
                raise at(len(result), exc) from None  # the first len(result) went well
        return result


def factorial_str(n: SupportsIndex, /) -> str:
    """``str(math.factorial(n))``, without touching the interpreter-wide digit limit."""
    return to_decimal(factorial(n))


__all__ = ["crossing", "factorial", "factorial_str", "factorials"]
# ANCHOR_END: all
