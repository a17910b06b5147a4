"""A ctypes wrapper over factlab's C ABI library, and other Python threads.

Correct values, correct ownership (the limbs go back to the library with
``factlab_big_free``), and now fair to other threads.

Solution: ctypes decides what happens to the GIL per library HANDLE, not per
call or per function. A ``CDLL`` releases the GIL around every foreign call;
a ``PyDLL`` keeps it (it exists for calling CPython's own C API, which needs
the GIL). The start used a PyDLL only, so while the Rust code computed a
large factorial no other Python thread could run. The fix opens the same
library twice: the PyDLL for small n, where releasing and re-taking the GIL
would cost more than the work, and a CDLL from ``FACTLAB_EXPENSIVE_N`` on.
Releasing is safe here because the Rust code touches no Python object: it
gets a ``uint64_t`` and fills a plain C struct.
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


def _open(kind: type[ctypes.CDLL]) -> ctypes.CDLL:
    lib = kind(str(library_path()))
    lib.factlab_factorial.restype = c_int32
    lib.factlab_factorial.argtypes = (c_uint64, POINTER(FactlabBig))
    lib.factlab_big_free.restype = None
    lib.factlab_big_free.argtypes = (POINTER(FactlabBig),)
    return lib


# Two handles on the same library (dlopen returns the same one): same code,
# two GIL policies.
_held = _open(ctypes.PyDLL)  # keeps the GIL: for quick calls
_released = _open(ctypes.CDLL)  # releases the GIL around each call: for long ones

_CONSTANTS = defines()
_OK = _CONSTANTS["FACTLAB_OK"]
_EXPENSIVE_N = _CONSTANTS["FACTLAB_EXPENSIVE_N"]


def factorial(n: object) -> int:
    """n!, with the same value and the same exceptions as ``math.factorial``."""
    k = check(operator.index(n))  # TypeError, ValueError, OverflowError as math.factorial
    compute = _released.factlab_factorial if k >= _EXPENSIVE_N else _held.factlab_factorial
    out = FactlabBig()
    try:
        status = compute(k, byref(out))
        if status != _OK:
            raise error(status, k)
        return int.from_bytes(string_at(out.limbs, out.len * 8), "little")
    finally:
        _held.factlab_big_free(byref(out))  # the limbs go back to the library
