"""A ctypes wrapper over factlab's C ABI library, and other Python threads.

Correct values, correct ownership (the limbs go back to the library with
``factlab_big_free``): what is wrong with it shows only when the program
has other threads. See the exercise's README.
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


# A PyDLL rather than a CDLL: its calls skip a step that a CDLL's calls take
# every time, which makes the small ones cheaper.
_lib = ctypes.PyDLL(str(library_path()))
_lib.factlab_factorial.restype = c_int32
_lib.factlab_factorial.argtypes = (c_uint64, POINTER(FactlabBig))
_lib.factlab_big_free.restype = None
_lib.factlab_big_free.argtypes = (POINTER(FactlabBig),)

_CONSTANTS = defines()
_OK = _CONSTANTS["FACTLAB_OK"]


def factorial(n: object) -> int:
    """n!, with the same value and the same exceptions as ``math.factorial``."""
    k = check(operator.index(n))  # TypeError, ValueError, OverflowError as math.factorial
    out = FactlabBig()
    try:
        status = _lib.factlab_factorial(k, byref(out))
        if status != _OK:
            raise error(status, k)
        return int.from_bytes(string_at(out.limbs, out.len * 8), "little")
    finally:
        _lib.factlab_big_free(byref(out))  # the limbs go back to the library
