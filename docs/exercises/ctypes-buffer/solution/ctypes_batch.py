"""A small ctypes wrapper over factlab's C ABI library: many factorials in one call.

The library (``crates/clib``, declared in ``crates/clib/include/factlab.h``)
has one entry point for a whole batch of 64-bit values:

    int32_t factlab_factorials_u64(const uint64_t *ns, size_t len, uint64_t *out, size_t *big);

It writes ``out[i] = ns[i]!`` where ``ns[i] <= 20``, and 0 where ``ns[i] > 20``
(those factorials need more than 64 bits), and counts those zeros in
``*big``. Read the header's comment on it: who allocates ``ns`` and ``out``,
and may they be the same array?

The values come in an ``array('Q')``: one block of 64-bit words, already laid
out as C's ``uint64_t[len]``. The C function should read that block where it
is.
"""

from __future__ import annotations

import ctypes
from array import array
from ctypes import POINTER, byref, c_int32, c_size_t, c_uint64

from factlab.backends._clib import defines, library_path

__all__ = ["factorials", "factorials_in_place", "uint64_view"]

# ctypes cannot read a C header: the signature is restated by hand. A ctypes
# array of c_uint64 is accepted where POINTER(c_uint64) is declared: ctypes
# passes the address of its first element.
_lib = ctypes.CDLL(str(library_path()))
_lib.factlab_factorials_u64.restype = c_int32
_lib.factlab_factorials_u64.argtypes = (POINTER(c_uint64), c_size_t, POINTER(c_uint64), POINTER(c_size_t))

_OK = defines()["FACTLAB_OK"]


def uint64_view(a: array) -> ctypes.Array[c_uint64]:
    """``a``, an ``array('Q')``, as the ``uint64_t[len(a)]`` the C function is given."""
    # ctypes never checks what the bytes mean: an array('d') would pass as
    # well and be read as integers. So the wrapper checks.
    if not isinstance(a, array) or a.typecode != "Q":
        raise TypeError(f"expected an array('Q') of 64-bit unsigned integers, got {type(a).__name__}")
    # The C function is given the address of the first of len(a) uint64_t: the
    # expression below decides WHICH uint64_t[len(a)] that is.
    return (c_uint64 * len(a)).from_buffer(a)


def _call(ns: ctypes.Array[c_uint64], out: ctypes.Array[c_uint64]) -> int:
    """One crossing for the whole batch; returns ``*big``, the number of zeros written."""
    big = c_size_t()
    status = _lib.factlab_factorials_u64(ns, len(ns), out, byref(big))
    if status != _OK:
        raise RuntimeError(f"factlab_factorials_u64 failed with status {status}")
    return big.value


def factorials(ns: array) -> tuple[list[int], int]:
    """``[n! for n in ns]`` where ``n <= 20``, 0 where ``n > 20``; and how many such zeros."""
    out = (c_uint64 * len(ns))()  # zero-filled by ctypes, freed with the last reference
    big = _call(uint64_view(ns), out)
    return out[:], big  # a slice of a ctypes array: a list of Python ints


def factorials_in_place(a: array) -> int:
    """Replaces each ``n`` of ``a`` by ``n!`` (0 where ``n > 20``); returns how many zeros.

    The header allows ``ns`` and ``out`` to be the same array: each ``out[i]``
    is written after ``ns[i]`` is read. No second array is needed.
    """
    view = uint64_view(a)
    return _call(view, view)
