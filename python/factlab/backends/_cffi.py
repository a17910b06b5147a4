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

``factorial_progress`` (and ``factorial`` from ``INTERRUPTIBLE_N`` on) hands C
a hook: a C function pointer that cffi makes run Python code. The ABI modes
make it at run time (``ffi.callback``); API mode compiles it into the
extension (``extern "Python"``, declared in build_api.py). Either way C calls
it in the calling thread, where cffi takes the GIL back for it.

``Factorials`` (:func:`bind_iterator`) is an object that owns native memory:
the library's iterator, an opaque pointer that ``ffi.gc`` frees.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from operator import index
from types import TracebackType
from typing import Any, SupportsIndex

from factlab.backends import _clib
from factlab.backends._clib import (
    MAX_SMALL_N,
    MAX_U64_N,
    MAX_U128_N,
    Call,
    FactorialsBase,
    Int64s,
    check,
    checked,
    error,
)

Factorial = Callable[[SupportsIndex], int]
Factorials = Callable[[Iterable[SupportsIndex]], "list[int]"]
Callback = Callable[[int, int], object]
Progress = Callable[[SupportsIndex, Callback], int]


def bind(
    ffi: Any, lib: Any
) -> tuple[Factorial, Callable[[int], int], Callable[[], None], dict[str, Factorial], Progress]:
    """``(factorial, crossing, raise_panic, strategies, factorial_progress)`` calling through ``lib``."""
    # ANCHOR: factorial
    # ANCHOR: call
    # Bound once: `lib.name` is an attribute lookup on every call.
    u64 = lib.factlab_factorial_u64
    u128 = lib.factlab_factorial_u128
    run, factorial_progress = bind_progress(ffi, lib)

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
        # ANCHOR_END: call

    # A big n! comes back one of three ways (below): who allocates its bytes.
    strategies = {name: with_big(big) for name, big in big_results(ffi, lib, run).items()}

    def raise_panic() -> None:
        """Make the kernel panic through the same boundary as factorial(); RuntimeError."""
        out = ffi.new("FactlabBig *")
        raise error(lib.factlab_debug_panic(out), 0)

    # The bare crossing: cffi's function object itself, which converts the
    # argument to uint64_t and the result back, nothing more.
    return strategies["by-value"], u64, raise_panic, strategies, factorial_progress


def big_results(
    ffi: Any, lib: Any, run: Callable[[int, Callback | None], int]
) -> dict[str, Callable[[int], int]]:
    """n! for a checked n past 34, three ways (the book's "Who allocates?"); ``by-value`` is factorial's."""
    bound = lib.factlab_factorial_bound
    fill = lib.factlab_factorial_fill
    small = lib.factlab_factorial_small
    ok = lib.FACTLAB_OK  # the header's #defines are attributes of lib
    interruptible_n = lib.FACTLAB_INTERRUPTIBLE_N

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
        # ANCHOR: interruptible
        if n >= interruptible_n:
            return run(n, None)  # long work: through the hook, for Ctrl-C's sake (see progress)
        # ANCHOR_END: interruptible
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

    return {"by-value": by_value, "caller-allocates": caller_allocates, "callee-allocates": callee_allocates}
    # ANCHOR_END: factorial


# ANCHOR: progress
def bind_progress(ffi: Any, lib: Any) -> tuple[Callable[[int, Callback | None], int], Progress]:
    """``(run, factorial_progress)``; ``run(n, callback or None)``: the C call, with the hook."""
    ok = lib.FACTLAB_OK

    # C calls on_tick every 20 ms of work and once at the end, in the calling
    # thread, after cffi has taken the GIL back; ctx is the handle of a Call.
    def on_tick(ctx: Any, done: int, total: int) -> int:
        # A pending signal's handler runs here, at the first instruction (3.10: unless it opens a try).
        callback = ffi.from_handle(ctx).callback
        if callback is not None:  # None: a plain factorial, here for the signal check alone
            callback(done, total)  # two Python ints; the result is ignored
        return 0

    # No exception may unwind into C: cffi catches whatever on_tick raises and
    # hands it to on_error, even what no `try` in on_tick could catch: Ctrl-C's
    # KeyboardInterrupt, raised before on_tick's first line. Keep it, answer 1: stop.
    def on_error(_type: type[BaseException], exc: BaseException, tb: TracebackType) -> int:
        # tb.tb_frame is on_tick's own frame (cffi documents it): its ctx names the call.
        ffi.from_handle(tb.tb_frame.f_locals["ctx"]).error = exc
        return 1

    # Made once, alive as long as the module: C never holds a hook that was freed.
    # error=1 is what C gets should on_error itself fail (cffi prints that one).
    if hasattr(lib, "factlab_py_hook"):
        # API mode: a C function cffi compiled into the extension (build_api.py's
        # extern "Python"); def_extern attaches on_tick to it.
        ffi.def_extern("factlab_py_hook", error=1, onerror=on_error)(on_tick)
        hook = lib.factlab_py_hook
    else:
        # ABI modes: a C function pointer made at run time (a libffi closure).
        hook = ffi.callback("FactlabHook", on_tick, error=1, onerror=on_error)
    progress = lib.factlab_factorial_progress

    def run(n: int, callback: Callback | None) -> int:
        call = Call(callback)
        # A void * standing for `call`, valid while `ctx` is alive: the whole call.
        ctx = ffi.new_handle(call)
        out = ffi.new("FactlabBig *")
        try:
            # The GIL released, as for every cffi call; on_tick takes it back.
            status = progress(n, hook, ctx, out)
            if call.error is not None:
                raise call.error  # the very object the callback or a signal handler raised
            if status != ok:
                raise error(status, n)
            return int.from_bytes(ffi.buffer(out.limbs, out.len * 8), "little")
        finally:
            lib.factlab_big_free(out)  # {NULL, 0} when stopped or refused: a no-op

    def factorial_progress(n: SupportsIndex, callback: Callback, /) -> int:
        """``factorial(n)``, calling ``callback(done, total)`` every tick of work and once at the end."""
        return run(checked(n, callback), callback)

    return run, factorial_progress
    # ANCHOR_END: progress


# ANCHOR: iterator
def bind_iterator(ffi: Any, lib: Any) -> type[FactorialsBase]:
    """``Factorials``: each object owns one of the library's iterators, freed by ``ffi.gc``."""
    ok = lib.FACTLAB_OK
    make, step, n_of = lib.factlab_factorials_new, lib.factlab_factorials_next, lib.factlab_factorials_n
    free, big_free = lib.factlab_factorials_free, lib.factlab_big_free

    class Factorials(FactorialsBase):
        """``start!``, ``(start+1)!``, ...: each value one multiplication inside the library."""

        __slots__ = ("_it",)
        _it: Any  # a cdata `FactlabFactorials *`, owned through ffi.gc

        def __new__(cls, start: SupportsIndex = 0, /) -> Factorials:
            k = cls.checked_start(start)
            made = ffi.new("FactlabFactorials **")  # where the library writes the pointer
            status = make(k, made)
            if status != ok:
                raise error(status, k)  # past FACTLAB_MAX_N: factorial's OverflowError; nothing made
            self = super().__new__(cls)
            # ffi.gc: a new cdata for the same pointer, which calls free(pointer)
            # when it is collected: once, as the last reference goes, and this
            # object is the only one to hold it (no copy, no pickle).
            self._it = ffi.gc(made[0], free)
            return self

        def __next__(self) -> int:
            out = ffi.new("FactlabBig *")  # as factorial's callee-allocates path
            try:
                # The GIL released, as for every cffi call; the library's lock
                # then orders the steps of threads sharing this iterator: waited
                # for without the GIL, so no deadlock. This frame holds `self`:
                # an iterator dropped elsewhere meanwhile is not freed under the call.
                status = step(self._it, out)
                if status != ok:
                    raise self.refused(status)  # StopIteration at the end
                return int.from_bytes(ffi.buffer(out.limbs, out.len * 8), "little")
            finally:
                big_free(out)  # {NULL, 0} on a refusal: a no-op

        @property
        def n(self) -> int:
            """The n whose factorial the next ``next()`` returns."""
            return n_of(self._it)  # a uint64_t: a Python int

    return Factorials
    # ANCHOR_END: iterator


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
