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

Ownership (the book's "Who allocates?"): a big result comes back one of two
ways, both kept as ``strategies`` for the benchmark. The caller allocates
(``factorial`` uses it: fastest, see the chapter): Python owns a ``bytearray``
from start to end, the library only fills it, nothing is ever given back.
The callee allocates: the Rust library makes the limbs, and only
``factlab_big_free`` may release them; the call that allocates sits inside the
``try`` whose ``finally`` frees, so no exception (a signal handler's
``KeyboardInterrupt`` arrives as the call returns) can skip the free.

``factorials`` and ``factorial_str`` (:func:`bind_data`) let the caller
allocate too: an ``array('Q')`` for the batch, a ``bytearray`` for the digits.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from operator import index
from typing import Any, SupportsIndex

from factlab.backends import _clib
from factlab.backends._clib import MAX_SMALL_N, MAX_U64_N, MAX_U128_N, Int64s, check, error

Factorial = Callable[[SupportsIndex], int]
Factorials = Callable[[Iterable[SupportsIndex]], "list[int]"]


def bind(
    ffi: Any, lib: Any
) -> tuple[Factorial, Callable[[int], int], Callable[[], None], dict[str, Factorial]]:
    """``(factorial, crossing, raise_panic, strategies)`` calling through ``lib``."""
    # ANCHOR: factorial
    # Bound once: `lib.name` is an attribute lookup on every call.
    u64 = lib.factlab_factorial_u64
    u128 = lib.factlab_factorial_u128
    bound = lib.factlab_factorial_bound
    fill = lib.factlab_factorial_fill
    small = lib.factlab_factorial_small
    ok = lib.FACTLAB_OK  # the header's #defines are attributes of lib

    def with_big(big: Callable[[int], int]) -> Factorial:
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

        return factorial

    def caller_allocates(n: int) -> int:
        # Python owns the buffer: the library writes n!'s bytes into it, then
        # zeros; whatever happens next, the bytearray is freed like any object.
        buf = bytearray(bound(n))
        # from_buffer: a `char[]` cdata over the bytearray's memory, no copy.
        status = fill(n, ffi.from_buffer(buf), len(buf))
        if status != ok:
            raise error(status, n)  # nothing was written
        return int.from_bytes(buf, "little")  # high zero bytes change nothing

    def by_value(n: int) -> int:
        # Up to 170!: 128 bytes returned by value, held by a new cdata struct
        # (`r` keeps it alive while ffi.buffer views its limbs): nobody allocates.
        if n <= MAX_SMALL_N:
            r = small(n)
            value = int.from_bytes(ffi.buffer(r.limbs), "little")
            if value:
                return value
            # 0 is no factorial: a caught panic; the general path reports it.
        return caller_allocates(n)

    def callee_allocates(n: int) -> int:
        # ffi.new allocates a zeroed FactlabBig ({NULL, 0}) that Python owns
        # and frees; the limbs it will point to are Rust's until we free them.
        out = ffi.new("FactlabBig *")
        try:
            # Inside the try: the moment the library has allocated, only the
            # finally stands between here and the caller.
            status = lib.factlab_factorial(n, out)
            if status != ok:
                raise error(status, n)  # nothing was allocated: the free is a no-op
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

    strategies = {
        "by-value": with_big(by_value),
        "caller-allocates": with_big(caller_allocates),
        "callee-allocates": with_big(callee_allocates),
    }
    # The bare crossing: cffi's function object itself, which converts the
    # argument to uint64_t and the result back, nothing more.
    return strategies["by-value"], u64, raise_panic, strategies


def bind_data(ffi: Any, lib: Any, factorial: Factorial) -> tuple[Factorials, Callable[[SupportsIndex], str]]:
    """``(factorials, factorial_str)`` calling through ``lib``; big n go through ``factorial``."""
    # ANCHOR: factorials
    many = lib.factlab_factorials_u64
    ok = lib.FACTLAB_OK

    def batch(ns: Int64s, out: array[int]) -> int:
        big = ffi.new("size_t *")  # a size_t that Python owns, for the count
        # from_buffer: uint64_t[] cdata over the memory of ns and of out, no
        # copy (a signed ns is read as unsigned: a negative n becomes a huge
        # one, which the library answers with 0). `with` gives each buffer
        # back as the call returns, not whenever the cdata is collected.
        with ffi.from_buffer("uint64_t[]", ns) as src, ffi.from_buffer("uint64_t[]", out) as dst:
            status = many(src, len(ns), dst, big)  # one call, the GIL released
        if status != ok:
            raise error(status, 0)  # FACTLAB_PANIC: nothing else can fail
        return int(big[0])

    def factorials(ns: Iterable[SupportsIndex], /) -> list[int]:
        """Exactly ``[math.factorial(n) for n in ns]``, the n <= 20 in one C call."""
        return _clib.factorials(ns, factorial, batch)
        # ANCHOR_END: factorials

    # ANCHOR: factorial-str
    digits_bound = lib.factlab_factorial_digits_bound
    digits = lib.factlab_factorial_digits

    def factorial_str(n: SupportsIndex, /) -> str:
        """Exactly ``str(math.factorial(n))``, the digits written by the Rust kernel."""
        k = check(index(n))  # factorial's checks, in factorial's order
        # Python owns the buffer; the library writes the ASCII digits into it
        # (a bound of 0 means k is refused: the call says why, in its status).
        buf = bytearray(digits_bound(k) or 1)
        length = ffi.new("size_t *")
        status = digits(k, ffi.from_buffer(buf), len(buf), length)  # the GIL released
        if status != ok:
            raise error(status, k)  # too large, no memory: factorial's exceptions
        # Copies: the kernel's String into buf (inside the library), then buf's
        # first `length` bytes into the new str (memoryview: no slice copy).
        return str(memoryview(buf)[: length[0]], "ascii")
        # ANCHOR_END: factorial-str

    return factorials, factorial_str
