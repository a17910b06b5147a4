"""What the three cffi backends share: the wrapper around ``ffi`` and ``lib``.

cffi's three modes differ in how ``ffi`` and ``lib`` come to be: declarations
parsed at every import and the library ``dlopen``-ed (ABI in-line),
declarations parsed once at build time and the library ``dlopen``-ed (ABI
out-of-line), or a C extension compiled at build time with the library linked
in (API). Once they exist, the calls are written the same way in all three,
so the wrapper is written once, here, and each backend module shows only how
it gets its ``ffi`` and ``lib``.

cffi only converts C values: the checks of ``math.factorial`` and the building
of big results are Python code. cffi releases the GIL around every call into
C, however short: there is no switch for it.

Ownership: a big result's limbs are allocated by the Rust library; only
``factlab_big_free`` may release them, and it is called on every path.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import index
from typing import Any, SupportsIndex

from factlab.backends._cabi import MAX_U64_N, MAX_U128_N, check, error

Factorial = Callable[[SupportsIndex], int]


def bind(ffi: Any, lib: Any) -> tuple[Factorial, Callable[[int], int], Callable[[], None]]:
    """``(factorial, crossing, raise_panic)`` calling through ``lib``."""
    # ANCHOR: factorial
    # Bound once: `lib.name` is an attribute lookup on every call.
    u64 = lib.factlab_factorial_u64
    u128 = lib.factlab_factorial_u128
    ok = lib.FACTLAB_OK  # the header's #defines are attributes of lib

    def factorial(n: SupportsIndex, /) -> int:
        """Exactly ``math.factorial(n)``, computed by the Rust kernel."""
        n = index(n)  # TypeError for float, str, None, ...: math.factorial's rule
        # Small n first (a u64 up to 20!, a u128 up to 34!) with as few
        # comparisons as possible: this is the path the benchmark times.
        # Negative n falls through to check(), like every other n to check.
        if n <= MAX_U64_N:
            if n >= 0:
                return u64(n)  # a uint64_t: cffi hands back a Python int
        elif n <= MAX_U128_N:
            # A struct returned by value: a new cdata object, two fields to read.
            r = u128(n)
            return r.hi << 64 | r.lo
        return big(check(n))

    def big(n: int) -> int:
        # ffi.new allocates a zeroed FactlabBig ({NULL, 0}) that Python owns
        # and frees; the limbs it will point to are Rust's until we free them.
        out = ffi.new("FactlabBig *")
        status = lib.factlab_factorial(n, out)
        if status != ok:
            raise error(status, n)  # nothing was allocated
        try:
            # ffi.buffer: a view of the limbs, no copy; little-endian limbs on
            # a little-endian machine are the little-endian bytes of the number.
            return int.from_bytes(ffi.buffer(out.limbs, out.len * 8), "little")
        finally:
            lib.factlab_big_free(out)
        # ANCHOR_END: factorial

    def raise_panic() -> None:
        """Make the kernel panic through the same boundary as factorial(); RuntimeError."""
        out = ffi.new("FactlabBig *")
        raise error(lib.factlab_debug_panic(out), 0)

    # The bare crossing: cffi's function object itself, which converts the
    # argument to uint64_t and the result back, nothing more.
    return factorial, u64, raise_panic
