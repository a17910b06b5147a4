"""cffi, API mode: a compiled extension that links the C ABI library statically.

``factlab_cffi_api`` was generated and compiled at install time
(``python/cffi/build_api.py``): cffi wrote a C file that includes
``factlab.h`` and calls the functions directly, and the C compiler checked
every declaration against the header. The Rust kernel is linked into the
extension (``libfactlab_cabi.a``): nothing is ``dlopen``-ed at run time.

cffi only converts C values: the checks of ``math.factorial`` and the
building of big results are Python code here. Two things cffi decides for us:

- every call through ``lib`` releases the GIL, however short (cffi has no
  switch for it), so a 20! pays for giving the GIL away and taking it back;
- a struct returned by value (``FactlabU128``) comes back as a new cdata
  object; reading its two fields is two attribute lookups.
"""

from __future__ import annotations

from operator import index
from typing import SupportsIndex

# ANCHOR: open
from factlab_cffi_api import ffi, lib

from factlab.backends._cabi import MAX_U64_N, MAX_U128_N, check, error

# Bound once: one attribute lookup less on the hot path.
_factorial_u64 = lib.factlab_factorial_u64
_factorial_u128 = lib.factlab_factorial_u128

# The bare crossing: cffi converts the argument to uint64_t and back, nothing more.
crossing = lib.factlab_factorial_u64
# ANCHOR_END: open


# ANCHOR: factorial
def factorial(n: SupportsIndex, /) -> int:
    """Exactly ``math.factorial(n)``, computed by the Rust kernel."""
    n = index(n)  # TypeError for float, str, None, ...: math.factorial's rule
    # Small n first (a u64 up to 20!, a u128 up to 34!) with as few comparisons
    # as possible: this is the path the benchmark times. Negative n falls
    # through to check(), like every other n that needs checking.
    if n <= MAX_U64_N:
        if n >= 0:
            return _factorial_u64(n)  # a uint64_t: cffi hands back a Python int
    elif n <= MAX_U128_N:
        r = _factorial_u128(n)
        return r.hi << 64 | r.lo
    return _big(check(n))


def _big(n: int) -> int:
    # The library fills a FactlabBig we own: ffi.new gives zeroed memory that
    # Python frees (the struct), the limbs inside are Rust's until we free them.
    big = ffi.new("FactlabBig *")
    status = lib.factlab_factorial(n, big)
    if status != lib.FACTLAB_OK:
        raise error(status, n)  # nothing was allocated
    try:
        # ffi.buffer: a view of the limbs, no copy; little-endian limbs on a
        # little-endian machine are the little-endian bytes of the number.
        return int.from_bytes(ffi.buffer(big.limbs, big.len * 8), "little")
    finally:
        lib.factlab_big_free(big)
    # ANCHOR_END: factorial


def raise_panic() -> None:
    """Make the kernel panic through the same boundary as factorial(); RuntimeError."""
    big = ffi.new("FactlabBig *")
    raise error(lib.factlab_debug_panic(big), 0)


__all__ = ["crossing", "factorial", "raise_panic"]
