"""A small cffi wrapper (ABI mode, in-line) over factlab's C ABI library: n! in decimal.

The library (``crates/clib``, declared in ``crates/clib/include/factlab.h``)
writes the decimal digits of n! into a buffer that the CALLER allocates:

- ``factlab_factorial_digits_bound(n)`` says how many bytes are always enough;
- ``factlab_factorial_digits(n, buf, cap, &len)`` writes the ASCII digits
  into ``buf[0 .. len)`` (no NUL at the end) and says in ``len`` how many.

Read the header's comment on ``factlab_factorial_digits``: who allocates the
buffer, and who says how much of it holds digits.
"""

from __future__ import annotations

import operator

from cffi import FFI

from factlab.backends._clib import cdef_source, check, error, library_path

__all__ = ["factorial_str", "ffi", "lib"]

# cffi reads the C declarations itself (factlab_cdef.h: the header without the
# preprocessor lines cffi cannot parse), then dlopen()s the library: no
# signature is restated by hand, and the #defines become attributes of lib.
ffi = FFI()
ffi.cdef(cdef_source())
lib = ffi.dlopen(str(library_path()))


def factorial_str(n: object) -> str:
    """``str(math.factorial(n))``, whatever ``sys.get_int_max_str_digits()`` says."""
    k = check(operator.index(n))  # TypeError, ValueError, OverflowError as math.factorial
    cap = lib.factlab_factorial_digits_bound(k)  # 0 when k is above factlab's bound
    buf = bytearray(cap)  # Python allocates, owns and frees the buffer: the library only writes
    length = ffi.new("size_t *")  # the out-parameter: a size_t that Python owns, zeroed
    # from_buffer: a C pointer to the bytearray's memory, no copy. cffi releases
    # the GIL during the call, as it does for every call.
    status = lib.factlab_factorial_digits(k, ffi.from_buffer(buf), cap, length)
    if status != lib.FACTLAB_OK:
        raise error(status, k)  # FACTLAB_TOO_LARGE: OverflowError, as math.factorial
    # The digits, as a str: decoding copies the ASCII bytes into the str's own memory.
    return str(memoryview(buf)[: length[0]], "ascii")  # only the length[0] bytes it wrote
