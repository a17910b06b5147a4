"""The pure-Python backend of the ``comb`` exercise: the reference solution.

``factorial(n)`` is factlab's pure-Python reference: it checks its argument
exactly as ``math.factorial`` does; ``comb(n, k)`` behaves exactly as
``math.comb``.
"""

from __future__ import annotations

import operator
import struct

__all__ = ["comb", "factorial"]

# The largest C long: math.factorial refuses anything larger with OverflowError.
LONG_MAX = (1 << (8 * struct.calcsize("l") - 1)) - 1


def factorial(n: object) -> int:
    """n!, with the same value and the same exceptions as ``math.factorial``."""
    # operator.index accepts exactly what has __index__ (int, bool, int
    # subclasses, numpy integers) and raises TypeError for float, str, ...
    k = operator.index(n)
    if k < 0:
        raise ValueError("factorial() not defined for negative values")
    if k > LONG_MAX:
        raise OverflowError(f"factorial() argument should not exceed {LONG_MAX}")
    result = 1
    while k > 1:
        result *= k
        k -= 1
    return result


def comb(n: object, k: object) -> int:
    """The number of ways to choose k items from n, exactly as ``math.comb``."""
    # Both conversions come first, as in math.comb: comb(-1, 1.0) is a
    # TypeError (k is no integer), not a ValueError (n is negative).
    n, k = operator.index(n), operator.index(k)
    if n < 0:
        raise ValueError("n must be a non-negative integer")
    if k < 0:
        raise ValueError("k must be a non-negative integer")
    if k > n:
        return 0
    k = min(k, n - k)  # comb(n, k) == comb(n, n - k): the shorter loop
    result = 1
    for i in range(1, k + 1):
        # After this step result == comb(n - k + i, i): a whole number, so
        # the floor division is exact.
        result = result * (n - k + i) // i
    return result
