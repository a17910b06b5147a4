"""The pure-Python reference: the seed article's loop, corrected.

The article's loop started from ``r = n``, so it returned 0 for 0! (which is
1), and it trusted its input. This one starts from 1 and validates its input
the way ``math.factorial`` does; the FFI wrappers reuse that check.
"""

# ANCHOR: all
from __future__ import annotations

import operator
import struct
from typing import SupportsIndex

# The largest C long: math.factorial refuses anything larger with OverflowError.
LONG_MAX = (1 << (8 * struct.calcsize("l") - 1)) - 1


# ANCHOR: check
def check(k: int) -> int:
    """The checks of ``math.factorial`` on an ``int``: ValueError, OverflowError."""
    if k < 0:
        raise ValueError("factorial() not defined for negative values")
    if k > LONG_MAX:
        raise OverflowError(f"factorial() argument should not exceed {LONG_MAX}")
    return k
    # ANCHOR_END: check


def factorial(n: SupportsIndex, /) -> int:
    """n!, with the same value and the same exceptions as ``math.factorial``."""
    # operator.index accepts exactly what has __index__ (int, bool, int
    # subclasses, numpy integers) and raises TypeError for float, str, ...
    k = check(operator.index(n))
    result = 1
    while k > 1:
        result *= k
        k -= 1
    return result


# ANCHOR_END: all
