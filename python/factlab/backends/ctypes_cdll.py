"""ctypes: the standard library's foreign-function interface, over the C ABI library.

Nothing to compile: at import, ctypes opens ``libfactlab_cabi.so`` and every
call goes through libffi. The price of that convenience: ctypes cannot read a
C header. Each signature is restated below by hand (``argtypes``/``restype``),
and a wrong one is no error at all: ctypes would pass an ``int`` where a
pointer was due, or cut a 64-bit result to 32 bits, silently.
``tests/test_cabi_ffi.py`` holds these declarations against ``factlab.h``.

Ownership: a big result's limbs are allocated by the Rust library; only
``factlab_big_free`` may release them, and it is called on every path.
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, Structure, byref, c_int32, c_size_t, c_uint64, string_at
from operator import index
from typing import Any, SupportsIndex

from factlab.backends._cabi import MAX_U64_N, MAX_U128_N, check, defines, error, library_path

__all__ = ["SIGNATURES", "FactlabBig", "FactlabU128", "crossing", "factorial", "raise_panic"]


# ANCHOR: structs
class FactlabU128(Structure):
    """``typedef struct FactlabU128 { uint64_t lo; uint64_t hi; } FactlabU128;``"""

    _fields_ = (("lo", c_uint64), ("hi", c_uint64))


class FactlabBig(Structure):
    """``typedef struct FactlabBig { uint64_t *limbs; size_t len; } FactlabBig;``"""

    _fields_ = (("limbs", POINTER(c_uint64)), ("len", c_size_t))
    # ANCHOR_END: structs


# ANCHOR: signatures
# Every function of factlab.h: name -> (restype, argtypes). Without a restype
# ctypes assumes a C int: 20! would come back cut to 32 bits.
SIGNATURES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "factlab_factorial_u64": (c_uint64, (c_uint64,)),
    "factlab_factorial_u128": (FactlabU128, (c_uint64,)),
    "factlab_factorial": (c_int32, (c_uint64, POINTER(FactlabBig))),
    "factlab_big_free": (None, (POINTER(FactlabBig),)),
    "factlab_debug_panic": (c_int32, (POINTER(FactlabBig),)),
}


def _open(kind: type[ctypes.CDLL]) -> ctypes.CDLL:
    lib = kind(str(library_path()))
    for name, (restype, argtypes) in SIGNATURES.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib
    # ANCHOR_END: signatures


# ANCHOR: handles
# ctypes decides what happens to the GIL per library HANDLE: a CDLL releases
# it around every call, a PyDLL keeps it. So the same library is opened twice:
# quick calls keep the GIL (releasing and re-taking it would cost more than
# the work), long ones let other Python threads run meanwhile.
# (PyPy's ctypes has no PyDLL: there both handles are CDLLs.)
_held = _open(getattr(ctypes, "PyDLL", ctypes.CDLL))
_released = _open(ctypes.CDLL)
# ANCHOR_END: handles

_CONSTANTS = defines()
_OK = _CONSTANTS["FACTLAB_OK"]
_EXPENSIVE_N = _CONSTANTS["FACTLAB_EXPENSIVE_N"]

_u64 = _held.factlab_factorial_u64
_u128 = _held.factlab_factorial_u128
_free = _held.factlab_big_free

# The bare crossing: the foreign function object itself, no Python in between.
crossing = _u64


# ANCHOR: factorial
def factorial(n: SupportsIndex, /) -> int:
    """n!, with the same value and the same exceptions as ``math.factorial``."""
    k = index(n)
    if 0 <= k <= MAX_U64_N:
        return _u64(k)  # the hot path: one check, one foreign call
    if 0 < k <= MAX_U128_N:  # here 21 <= k <= 34: known good too
        wide = _u128(k)  # a struct returned by value: nothing to free
        return wide.lo | wide.hi << 64
    check(k)  # negative, or past C's LONG_MAX: math.factorial's errors
    return _big(k)


def _big(n: int) -> int:
    entry = _released.factlab_factorial if n >= _EXPENSIVE_N else _held.factlab_factorial
    out = FactlabBig()  # {NULL, 0}: ctypes zero-fills
    try:
        status = entry(n, byref(out))
        if status != _OK:
            raise error(status, n)
        # The limbs are little-endian words; on a little-endian machine their
        # bytes are the number's little-endian bytes. string_at copies them
        # out of Rust's buffer before the buffer is freed.
        return int.from_bytes(string_at(out.limbs, out.len * 8), "little")
    finally:
        _free(byref(out))  # {NULL, 0} on error: a no-op
    # ANCHOR_END: factorial


def raise_panic() -> None:
    """Drive a deliberate kernel panic through the C boundary: RuntimeError."""
    out = FactlabBig()
    try:
        status = _held.factlab_debug_panic(byref(out))
    finally:
        _free(byref(out))
    raise error(status, 0)
