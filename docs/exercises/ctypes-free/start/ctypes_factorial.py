"""A small ctypes wrapper over factlab's C ABI library: n! for any n.

The library (``crates/clib``, declared in ``crates/clib/include/factlab.h``)
computes n! in Rust and hands the result over as a ``FactlabBig``: a pointer
to little-endian 64-bit limbs and their count. Read the header's comment on
``FactlabBig``: who allocates the limbs, and who must give them back.
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

_OK = defines()["FACTLAB_OK"]


def factorial(n: object) -> int:
    """n!, with the same value and the same exceptions as ``math.factorial``."""
    k = check(operator.index(n))  # TypeError, ValueError, OverflowError as math.factorial
    out = FactlabBig()  # {NULL, 0}: ctypes zero-fills a new Structure
    status = _lib.factlab_factorial(k, byref(out))
    if status != _OK:
        raise error(status, k)
    # The limbs are little-endian 64-bit words: on a little-endian machine
    # their bytes, in order, are the number's little-endian bytes.
    # string_at copies len * 8 bytes out of the library's buffer.
    return int.from_bytes(string_at(out.limbs, out.len * 8), "little")
