"""The standard library's ``math.factorial``: what a user would pick instead.

It is the oracle of the test suite and the yardstick of the benchmark: C, a
table for n <= 20, and a divide-and-conquer product for larger n.
"""

from math import factorial

# The crossing of the standard library is the C function itself.
crossing = factorial

__all__ = ["crossing", "factorial"]
