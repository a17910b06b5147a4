"""A small ctypes wrapper over factlab's C ABI library: n! for any n.

The library (``crates/clib``, declared in ``crates/clib/include/factlab.h``)
computes n! in Rust and hands the result over as a ``FactlabBig``: a pointer
to little-endian 64-bit limbs and their count. Read the header's comment on
``FactlabBig``: who allocates the limbs, and who must give them back.

Solution: the limbs belong to the caller from the moment
``factlab_factorial`` returns ``FACTLAB_OK``, and only the library may free
them (it allocated them with Rust's allocator: C's ``free()`` would be
undefined behaviour). So the wrapper declares ``factlab_big_free`` and calls
it in a ``finally``: on success after the bytes are copied out, and also if
anything between the call and the copy raises.
"""

from __future__ import annotations

import ctypes
import operator
from ctypes import POINTER, Structure, byref, c_int32, c_size_t, c_uint64, string_at

from factlab.backends._clib import check, defines, error, library_path

__all__ = ["FactlabBig", "factorial"]


class FactlabBig(Structure):
    """``typedef struct FactlabBig { uint64_t *limbs; size_t len; } FactlabBig;``"""

    _fields_ = (("limbs", POINTER(c_uint64)), ("len", c_size_t))


# ctypes cannot read a C header: each signature is restated by hand.
_lib = ctypes.CDLL(str(library_path()))
_lib.factlab_factorial.restype = c_int32
_lib.factlab_factorial.argtypes = (c_uint64, POINTER(FactlabBig))
# The missing declaration: without argtypes ctypes would still pass the
# pointer, but a wrong argument would go through unchecked. restype None: void.
_lib.factlab_big_free.restype = None
_lib.factlab_big_free.argtypes = (POINTER(FactlabBig),)

_OK = defines()["FACTLAB_OK"]


def factorial(n: object) -> int:
    """n!, with the same value and the same exceptions as ``math.factorial``."""
    k = check(operator.index(n))  # TypeError, ValueError, OverflowError as math.factorial
    out = FactlabBig()  # {NULL, 0}: ctypes zero-fills a new Structure
    try:
        status = _lib.factlab_factorial(k, byref(out))
        if status != _OK:
            raise error(status, k)
        # The limbs are little-endian 64-bit words: on a little-endian machine
        # their bytes, in order, are the number's little-endian bytes.
        # string_at COPIES len * 8 bytes out of the library's buffer, so the
        # Python int owns its own memory and the buffer may go.
        return int.from_bytes(string_at(out.limbs, out.len * 8), "little")
    finally:
        # Give the limbs back to the library that allocated them, on every
        # path. On an error status *out is {NULL, 0} and this is a no-op; it
        # also resets out to {NULL, 0}, so a second free could not hurt.
        _lib.factlab_big_free(byref(out))
