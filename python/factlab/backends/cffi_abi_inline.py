"""CFFI, ABI mode, in-line: declarations parsed and library opened at import.

Nothing to compile, like ctypes, but cffi reads the C declarations itself:
``ffi.cdef()`` parses ``factlab_cdef.h`` (the header cbindgen generates from
the Rust code, minus the preprocessor lines cffi cannot parse), so there is no
signature to restate by hand. ``ffi.dlopen()`` then opens the library, and
each call goes through libffi. "In-line" means that this parsing happens at
every import; the out-of-line variant does it once, at build time.

cffi releases the GIL around every call into C, short or long: there is no
per-call switch in ABI mode.

Ownership: a big result's limbs are allocated by the Rust library; only
``factlab_big_free`` may release them, and it is called on every path.
"""

from __future__ import annotations

from operator import index

from cffi import FFI

from factlab.backends._cabi import MAX_U64_N, MAX_U128_N, cdef_source, check, error, library_path

__all__ = ["crossing", "factorial", "ffi", "lib", "raise_panic"]

# ANCHOR: open
ffi = FFI()
ffi.cdef(cdef_source())
lib = ffi.dlopen(str(library_path()))

# Bound once: `lib.name` is an attribute lookup on every call.
_u64 = lib.factlab_factorial_u64
_u128 = lib.factlab_factorial_u128
_factorial = lib.factlab_factorial
_free = lib.factlab_big_free
_OK = lib.FACTLAB_OK  # the header's #defines are attributes of lib

# The bare crossing: cffi's function object itself.
crossing = _u64
# ANCHOR_END: open


# ANCHOR: factorial
def factorial(n: object, /) -> int:
    """n!, with the same value and the same exceptions as ``math.factorial``."""
    k = index(n)
    if 0 <= k <= MAX_U64_N:
        return _u64(k)  # the hot path: one check, one foreign call
    if 0 < k <= MAX_U128_N:  # here 21 <= k <= 34: known good too
        wide = _u128(k)  # a struct returned by value: nothing to free
        return wide.lo | wide.hi << 64
    check(k)  # negative, or past C's LONG_MAX: math.factorial's errors
    # ffi.new allocates a zeroed FactlabBig ({NULL, 0}) that Python owns and
    # frees; the limbs it will point to are Rust's, freed by factlab_big_free.
    out = ffi.new("FactlabBig *")
    try:
        status = _factorial(k, out)
        if status != _OK:
            raise error(status, k)
        # ffi.buffer views Rust's limbs without copying; int.from_bytes reads
        # them (little-endian words, little-endian bytes) before the free.
        return int.from_bytes(ffi.buffer(out.limbs, out.len * 8), "little")
    finally:
        _free(out)  # {NULL, 0} on error: a no-op
    # ANCHOR_END: factorial


def raise_panic() -> None:
    """Drive a deliberate kernel panic through the C boundary: RuntimeError."""
    out = ffi.new("FactlabBig *")
    try:
        status = lib.factlab_debug_panic(out)
    finally:
        _free(out)
    raise error(status, 0)
