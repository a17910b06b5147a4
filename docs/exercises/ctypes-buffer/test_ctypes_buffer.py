"""ctypes-buffer: the C function must read the caller's array where it is.

Run with ``just exercise ctypes-buffer`` (it tests ``start/``, your code).

No timing here: "in place" is checked by what it means. The C function is
given the array's own memory (its address is the array's address), so what
it writes there is in the caller's array afterwards.
"""

from __future__ import annotations

import ctypes
import math
from array import array
from ctypes import c_uint64

import ctypes_batch as wrapper
import pytest

SMALL = range(21)  # 20! is the largest factorial below 2**64
# Above 20, n! needs more than 64 bits: the library writes 0 and counts it.
BIG = [21, 25, 1_000, 2**64 - 1]


def test_values_up_to_20() -> None:
    values, big = wrapper.factorials(array("Q", SMALL))
    assert values == [math.factorial(n) for n in SMALL]
    assert big == 0


def test_above_20_zero_and_counted() -> None:
    ns = array("Q", [5, *BIG, 20, 0])
    values, big = wrapper.factorials(ns)
    assert values == [120, 0, 0, 0, 0, math.factorial(20), 1]
    assert big == len(BIG)
    assert ns == array("Q", [5, *BIG, 20, 0])  # ns is only read


def test_empty() -> None:
    assert wrapper.factorials(array("Q")) == ([], 0)


@pytest.mark.parametrize("bad", [[1, 2], array("d", [1.0]), array("q", [1]), bytes(16)])
def test_only_an_array_of_unsigned_64_bit_integers(bad: object) -> None:
    with pytest.raises(TypeError):
        wrapper.factorials(bad)  # type: ignore[arg-type]


def test_the_view_is_the_arrays_own_memory() -> None:
    a = array("Q", SMALL)
    view = wrapper.uint64_view(a)
    assert ctypes.addressof(view) == a.buffer_info()[0], (
        "uint64_view(a) is a ctypes array at another address than a's: a copy of a, built one "
        "Python int at a time. The C function would read (and write) that copy, not a."
    )


def test_in_place_writes_into_the_callers_array() -> None:
    # The header allows ns and out to be the same array. If the C function
    # gets a's own memory, a holds the factorials afterwards; if it gets a
    # copy, the results go into the copy and are thrown away with it.
    a = array("Q", [*SMALL, *BIG])
    big = wrapper.factorials_in_place(a)
    assert big == len(BIG)
    assert a == array("Q", [*(math.factorial(n) for n in SMALL), *[0] * len(BIG)]), (
        "after factorials_in_place(a), a still holds the n's: the C function wrote n! into a "
        "copy of a (made by uint64_view), and the copy is gone. Give it a's own memory: see "
        "docs/exercises/ctypes-buffer/README.md"
    )


def test_from_buffer_needs_a_writable_buffer() -> None:
    # A lesson on ctypes itself: from_buffer shares the buffer's memory, and a
    # ctypes array can be written to, so a read-only buffer (bytes) is refused.
    with pytest.raises(TypeError, match="not writable"):
        (c_uint64 * 2).from_buffer(bytes(16))
    # from_buffer_copy takes any buffer, and copies it (one memcpy).
    copy = (c_uint64 * 2).from_buffer_copy(bytes(range(16)))
    assert copy[0] == int.from_bytes(bytes(range(8)), "little")
