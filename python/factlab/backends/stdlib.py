"""The standard library's ``math.factorial``: what a user would pick instead.

It is the oracle of the test suite and the yardstick of the benchmark: C, a
table for n <= 20, and a divide-and-conquer product for larger n.
"""

# ANCHOR: all
from __future__ import annotations

from collections.abc import Callable, Iterable
from math import comb, factorial
from operator import index
from typing import SupportsIndex

from factlab.backends import pure
from factlab.backends.pure import at, callable_or_raise, check, int64_buffer, to_decimal

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


# ANCHOR_END: all


# ANCHOR: progress
def factorial_progress(n: SupportsIndex, callback: Callable[[int, int], object], /) -> int:
    """``math.factorial(n)`` in the kernel's steps, calling ``callback(done, total)`` after each one.

    ``math.factorial`` is one C call that cannot report or stop, so this runs
    the plan of factlab's kernel (crates/core/src/control.rs) in standard
    library calls: n! = (k!)² · C(n, k) (times k + 1 for odd n), k = n // 2,
    from a factorial below 20,000 up. A unit is one step; a Ctrl-C is seen
    between two steps, which are seconds apart for n in the millions.
    """
    top = check(index(n))
    callable_or_raise(callback)
    tops = []
    while top >= 20_000:
        tops.append(top)
        top //= 2
    total = 1 + 3 * len(tops)
    f = factorial(top)
    callback(1, total)
    for step, m in enumerate(reversed(tops)):
        c = comb(m, m // 2)
        callback(2 + 3 * step, total)
        f *= f
        callback(3 + 3 * step, total)
        f *= c * (m // 2 + 1) if m % 2 else c
        callback(4 + 3 * step, total)
    return f
    # ANCHOR_END: progress


# ANCHOR: iterator
class Factorials(pure.Factorials):
    """The pure iterator with its first value from ``math.factorial``: then one multiplication a step."""

    first = staticmethod(factorial)
    # ANCHOR_END: iterator


__all__ = ["Factorials", "crossing", "factorial", "factorial_progress", "factorial_str", "factorials"]
