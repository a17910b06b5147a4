"""ctypes: the standard library's foreign-function interface, over the C ABI library.

Nothing to compile: at import, ctypes opens ``libfactlab_clib.so`` and every
call goes through libffi. The price of that convenience: ctypes cannot read a
C header. Each signature is restated below by hand (``argtypes``/``restype``),
and a wrong one is no error at all: ctypes would pass an ``int`` where a
pointer was due, or cut a 64-bit result to 32 bits, silently.
``tests/test_declarations.py`` holds these declarations against ``factlab.h``.

Ownership (the book's "Who allocates?"): ``factorial`` lets the caller
allocate: Python owns a ``bytearray``, the library fills it, nothing is
given back. The other way, kept in ``strategies`` for the benchmark: the
Rust library allocates the limbs and only ``factlab_big_free`` may release
them; the call sits inside the ``try`` whose ``finally`` frees.
``factorials`` and ``factorial_str`` let the caller allocate too: an
``array('Q')`` for the batch, a ``bytearray`` for the digits.
"""

from __future__ import annotations

import ctypes
from array import array
from collections.abc import Callable, Iterable
from ctypes import POINTER, Structure, byref, c_int32, c_size_t, c_uint8, c_uint64, string_at
from operator import index
from typing import Any, SupportsIndex

from factlab.backends import _clib
from factlab.backends._clib import (
    EXPENSIVE_BATCH_LEN,
    MAX_SMALL_N,
    MAX_U64_N,
    MAX_U128_N,
    Int64s,
    check,
    constant,
    error,
    library_path,
    reported,
)

__all__ = [
    "SIGNATURES",
    "FactlabBig",
    "FactlabSmall",
    "FactlabU128",
    "crossing",
    "factorial",
    "factorial_str",
    "factorials",
    "raise_panic",
    "strategies",
]


# ANCHOR: structs
class FactlabU128(Structure):
    """``typedef struct FactlabU128 { uint64_t lo; uint64_t hi; } FactlabU128;``"""

    _fields_ = (("lo", c_uint64), ("hi", c_uint64))


class FactlabBig(Structure):
    """``typedef struct FactlabBig { uint64_t *limbs; size_t len; } FactlabBig;``"""

    _fields_ = (("limbs", POINTER(c_uint64)), ("len", c_size_t))


class FactlabSmall(Structure):
    """``typedef struct FactlabSmall { uint64_t limbs[16]; } FactlabSmall;``"""

    _fields_ = (("limbs", c_uint64 * 16),)
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
    "factlab_factorial_bound": (c_size_t, (c_uint64,)),
    "factlab_factorial_fill": (c_int32, (c_uint64, POINTER(c_uint8), c_size_t)),
    "factlab_factorial_small": (FactlabSmall, (c_uint64,)),
    "factlab_factorials_u64": (c_int32, (POINTER(c_uint64), c_size_t, POINTER(c_uint64), POINTER(c_size_t))),
    "factlab_factorial_digits_bound": (c_size_t, (c_uint64,)),
    "factlab_factorial_digits": (c_int32, (c_uint64, POINTER(c_uint8), c_size_t, POINTER(c_size_t))),
}


def _open(kind: type[ctypes.CDLL]) -> ctypes.CDLL:
    path = library_path()
    # A broken file (OSError from dlopen, AttributeError for a missing
    # function) becomes the registry's "not built", naming the file.
    with reported(path):
        lib = kind(str(path))
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

# ctypes cannot read a header: the #defines come from _clib, which parses it.
_OK = constant("FACTLAB_OK")
_EXPENSIVE_N = constant("FACTLAB_EXPENSIVE_N")

_u64 = _held.factlab_factorial_u64
_u128 = _held.factlab_factorial_u128
_free = _held.factlab_big_free
_bound = _held.factlab_factorial_bound
_small = _held.factlab_factorial_small
_digits_bound = _held.factlab_factorial_digits_bound

# The bare crossing: the foreign function object itself, no Python in between.
crossing = _u64


# ANCHOR: factorial
def _with_big(big: Callable[[int], int]) -> Callable[[SupportsIndex], int]:
    def factorial(n: SupportsIndex, /) -> int:
        """n!, with the same value and the same exceptions as ``math.factorial``."""
        k = index(n)
        if 0 <= k <= MAX_U64_N:
            return _u64(k)  # the hot path: one check, one foreign call
        if 0 < k <= MAX_U128_N:  # here 21 <= k <= 34: known good too
            wide = _u128(k)  # a struct returned by value: nothing to free
            return wide.lo | wide.hi << 64
        check(k)  # negative, or past C's LONG_MAX: math.factorial's errors
        return big(k)

    return factorial


def _caller_allocates(n: int) -> int:
    handle = _released if n >= _EXPENSIVE_N else _held
    # Python owns the buffer; the library writes n!'s bytes, then zeros.
    # (A bound of 0 means n is refused; from_buffer still wants one byte.)
    buf = bytearray(_bound(n) or 1)
    # from_buffer: a c_uint8 living at the start of the bytearray's memory (no
    # copy); where the argtype is POINTER(c_uint8), ctypes passes its address.
    status = handle.factlab_factorial_fill(n, c_uint8.from_buffer(buf), len(buf))
    if status != _OK:
        raise error(status, n)  # nothing was written
    return int.from_bytes(buf, "little")  # high zero bytes change nothing


def _by_value(n: int) -> int:
    if n <= MAX_SMALL_N:
        # Up to 170!: a 128-byte struct returned by value (ctypes copies it
        # into a new FactlabSmall); its bytes are the number's. Nobody allocates.
        value = int.from_bytes(_small(n), "little")
        if value:
            return value
        # 0 is no factorial: a caught panic; the general path reports it.
    return _caller_allocates(n)


def _callee_allocates(n: int) -> int:
    handle = _released if n >= _EXPENSIVE_N else _held
    out = FactlabBig()  # {NULL, 0}: ctypes zero-fills
    try:
        status = handle.factlab_factorial(n, byref(out))  # inside the try: see _cffi.py
        if status != _OK:
            raise error(status, n)
        # The limbs are little-endian words; on a little-endian machine their
        # bytes are the number's little-endian bytes. string_at copies them
        # out of Rust's buffer before the buffer is freed.
        return int.from_bytes(string_at(out.limbs, out.len * 8), "little")
    finally:
        _free(byref(out))  # {NULL, 0} on error: a no-op
    # ANCHOR_END: factorial


strategies = {
    "by-value": _with_big(_by_value),
    "caller-allocates": _with_big(_caller_allocates),
    "callee-allocates": _with_big(_callee_allocates),
}
factorial = strategies["by-value"]


# ANCHOR: factorials
def _batch(ns: Int64s, out: array[int]) -> int:
    size = len(ns)  # values, not bytes
    if not size:
        return 0  # from_buffer wants 8 bytes at least
    # ctypes' from_buffer wants a writable buffer, though the library only
    # reads ns: a read-only one (a strided view's copy, a read-only numpy
    # array) is copied once more, into a bytearray.
    src = bytearray(ns) if isinstance(ns, memoryview) and ns.readonly else ns
    # from_buffer: a c_uint64 living at the start of each buffer (no copy);
    # where the argtype is POINTER(c_uint64), ctypes passes its address. A
    # signed ns is read as unsigned: a negative n becomes a huge one (0 out).
    big = c_size_t()
    # The GIL as for factorial: kept for a short batch (a table lookup per
    # value), released for a long one; the n > 20 choose their own.
    handle = _released if size >= EXPENSIVE_BATCH_LEN else _held
    status = handle.factlab_factorials_u64(
        c_uint64.from_buffer(src), size, c_uint64.from_buffer(out), byref(big)
    )
    if status != _OK:
        raise error(status, 0)  # FACTLAB_PANIC: nothing else can fail
    return big.value


def factorials(ns: Iterable[SupportsIndex], /) -> list[int]:
    """Exactly ``[math.factorial(n) for n in ns]``, the n <= 20 in one C call."""
    return _clib.factorials(ns, factorial, _batch)
    # ANCHOR_END: factorials


# ANCHOR: factorial-str
def factorial_str(n: SupportsIndex, /) -> str:
    """Exactly ``str(math.factorial(n))``, the digits written by the Rust kernel."""
    k = check(index(n))  # factorial's checks, in factorial's order
    handle = _released if k >= _EXPENSIVE_N else _held
    # Python owns the buffer; the library writes the ASCII digits into it
    # (a bound of 0 means k is refused: the call says why, in its status).
    buf = bytearray(_digits_bound(k) or 1)
    length = c_size_t()
    status = handle.factlab_factorial_digits(k, c_uint8.from_buffer(buf), len(buf), byref(length))
    if status != _OK:
        raise error(status, k)  # too large, no memory: factorial's exceptions
    # Copies: the kernel's String into buf (inside the library), then buf's
    # first `length` bytes into the new str (memoryview: no slice copy).
    return str(memoryview(buf)[: length.value], "ascii")
    # ANCHOR_END: factorial-str


def raise_panic() -> None:
    """Drive a deliberate kernel panic through the C boundary: RuntimeError."""
    out = FactlabBig()
    try:
        status = _held.factlab_debug_panic(byref(out))
    finally:
        _free(byref(out))
    raise error(status, 0)
