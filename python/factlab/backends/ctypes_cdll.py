"""ctypes: the standard library's foreign-function interface, over the C ABI library.

Nothing to compile: at import, ctypes opens ``libfactlab_clib.so`` and every
call goes through libffi. The price of that convenience: ctypes cannot read a
C header. Each signature is restated by hand (``argtypes``/``restype``, in
``ctypes_header.py``), and a wrong one is no error at all: ctypes would pass
an ``int`` where a pointer was due, or cut a 64-bit result to 32 bits, silently.

Ownership (the book's "Who allocates?"): ``factorial`` lets the caller
allocate: Python owns a ``bytearray``, the library fills it, nothing is
given back. The other way, kept in ``strategies`` for the benchmark: the
Rust library allocates the limbs and only ``factlab_big_free`` may release
them; the call sits inside the ``try`` whose ``finally`` frees.
``factorials`` and ``factorial_str`` let the caller allocate too: an
``array('Q')`` for the batch, a ``bytearray`` for the digits.

``factorial_progress`` (and ``factorial`` from ``INTERRUPTIBLE_N`` on) hands C
a ``CFUNCTYPE`` hook; from the main thread, the C call runs on a helper
thread, so that Ctrl-C lands in the main thread's wait (see ``_Call``).

``Factorials`` owns native memory: the library's iterator, an opaque pointer
whose free ``weakref.finalize`` calls (see the class).
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import weakref
from array import array
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from ctypes import byref, c_size_t, c_uint8, c_uint64, c_void_p, string_at
from operator import index
from typing import SupportsIndex

from factlab.backends import _clib
from factlab.backends._clib import (
    EXPENSIVE_BATCH_LEN,
    INTERRUPTIBLE_N,
    MAX_SMALL_N,
    MAX_U64_N,
    MAX_U128_N,
    Call,
    FactorialsBase,
    Int64s,
    check,
    checked,
    constant,
    error,
)

# What ctypes must be told, since it cannot read factlab.h: in a file of its own.
from factlab.backends.ctypes_header import (
    SIGNATURES,
    FactlabBig,
    FactlabHook,
    open_library,
)

__all__ = [
    "SIGNATURES",
    "FactlabBig",
    "FactlabHook",
    "Factorials",
    "crossing",
    "factorial",
    "factorial_progress",
    "factorial_str",
    "factorials",
    "raise_panic",
    "strategies",
]


# ANCHOR: handles
# ctypes decides what happens to the GIL per library HANDLE: a CDLL releases
# it around every call, a PyDLL keeps it. So the same library is opened twice:
# quick calls keep the GIL (releasing and re-taking it would cost more than
# the work), long ones let other Python threads run meanwhile.
# (PyPy's ctypes has no PyDLL: there both handles are CDLLs.)
_held = open_library(getattr(ctypes, "PyDLL", ctypes.CDLL))
_released = open_library(ctypes.CDLL)
# ANCHOR_END: handles

# ctypes cannot read a header: the #defines come from _clib, which parses it.
_OK = constant("FACTLAB_OK")
_MAX_N = constant("FACTLAB_MAX_N")
_EXPENSIVE_N = constant("FACTLAB_EXPENSIVE_N")

_u64 = _held.factlab_factorial_u64
_u128 = _held.factlab_factorial_u128
_free = _held.factlab_big_free
_bound = _held.factlab_factorial_bound
_small = _held.factlab_factorial_small
_digits_bound = _held.factlab_factorial_digits_bound
_next_held, _next_released = _held.factlab_factorials_next, _released.factlab_factorials_next

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
    # ANCHOR: interruptible
    if INTERRUPTIBLE_N <= n <= _MAX_N:  # past the bound: refused below, without the helper's ~0.1 ms
        return _progress(n, None)  # long work: through the hook, for Ctrl-C's sake (see progress)
    # ANCHOR_END: interruptible
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


# ANCHOR: progress
# The lesson of this backend: a ctypes callback cannot carry an exception out.
# Whatever escapes it, ctypes prints ("Exception ignored on calling ctypes
# callback function") and drops, and C gets a garbage answer. A `try` inside
# catches what the user's callback raises, but not a signal handler's
# KeyboardInterrupt: in the main thread, Python runs a pending handler at the
# callback's first instruction, before any `try` (CPython 3.11+ and PyPy
# always, 3.10 unless the function opens with `try:`). Python runs signal
# handlers in the main thread only; so the C call goes to a helper thread,
# and the signal lands in the main thread's wait: plain Python, no C between.
class _Call(Call):
    __slots__ = ("stop",)

    def __init__(self, callback: Callable[[int, int], object] | None) -> None:
        super().__init__(callback)
        self.stop = False  # set by the main thread when a signal handler raised there


def _run(n: int, call: _Call) -> int:
    """The C call, in a thread where no signal handler runs; its hook calls ``call.callback``."""

    def tick(_ctx: object, done: int, total: int) -> int:
        if call.stop:
            return 1  # the main thread caught an exception in its wait
        try:  # sees every exception here: no signal handler runs in this thread
            if call.callback is not None:
                call.callback(done, total)  # two Python ints; the result is ignored
        except BaseException as exc:  # KeyboardInterrupt, SystemExit too
            call.error = exc
            return 1  # stop: C returns FACTLAB_STOPPED at once
        return 0

    hook = FactlabHook(tick)  # a C function pointer into tick, alive while `hook` is: the whole call
    out = FactlabBig()
    try:
        # A CDLL call: the GIL released for the whole call; each tick takes it back.
        status = _released.factlab_factorial_progress(n, hook, None, byref(out))
        if call.error is not None:
            raise call.error  # the very object the callback raised
        if status != _OK:
            raise error(status, n)
        return int.from_bytes(string_at(out.limbs, out.len * 8), "little")
    finally:
        _free(byref(out))  # {NULL, 0} when stopped or refused: a no-op


# One helper thread, started at the first long call from the main thread and
# kept (a ThreadPoolExecutor of one, joined at exit): a thread per call would
# cost ~0.1 ms, and each new thread can leave malloc one more arena of freed
# memory (measured: RSS after interrupted calls 2-4 times cffi's).
_helper: ThreadPoolExecutor | None = None


def _forget_helper() -> None:
    global _helper
    _helper = None  # a forked child has no helper thread: its next call starts one


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_forget_helper)


def _progress(n: int, callback: Callable[[int, int], object] | None) -> int:
    global _helper
    call = _Call(callback)
    main = threading.main_thread()
    # Elsewhere no signal handler runs (Ctrl-C cannot reach such a call), so the
    # C call runs in this thread; so it does in atexit handlers (main is over).
    if threading.current_thread() is not main or not main.is_alive():
        return _run(n, call)
    if _helper is None:
        _helper = ThreadPoolExecutor(1, "factlab ctypes")
    future = None
    try:
        future = _helper.submit(_run, n, call)
        # The wait is where a signal handler runs; what it raises comes out here.
        # So does what _run raised: the very object (the callback's exception).
        return future.result()
    except BaseException:
        call.stop = True  # the hook answers 1 at its next tick: C returns at once
        if future is not None:
            wait([future])  # a few ms; the helper frees what C allocated
        raise


def factorial_progress(n: SupportsIndex, callback: Callable[[int, int], object], /) -> int:
    """``factorial(n)``, calling ``callback(done, total)`` every tick of work and once at the end.

    Called in the main thread, ``callback`` runs in a helper thread (see ``_Call``).
    """
    return _progress(checked(n, callback), callback)
    # ANCHOR_END: progress


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


# ANCHOR: iterator
# The limbs of (10 * FACTLAB_EXPENSIVE_N)!, 10,000!: from a value this long on, the next
# step's multiplication is worth releasing the GIL for (the kernel's next_is_expensive).
# N! has int(log2(N!)) + 1 bits; lgamma gives log(N!).
_BIG_LIMBS = int(math.lgamma(10 * _EXPENSIVE_N + 1) / math.log(2)) // 64 + 1


class Factorials(FactorialsBase):
    """``start!``, ``(start+1)!``, ...: each value one multiplication inside the library."""

    __slots__ = ("__weakref__", "_big", "_it")  # __weakref__: weakref.finalize needs one
    _it: c_void_p  # the pointer, freed by the finalizer
    _big: bool  # whether the next step releases the GIL

    def __new__(cls, start: SupportsIndex = 0, /) -> Factorials:
        k = cls.checked_start(start)
        it = c_void_p()  # NULL; the library writes the pointer into it
        status = _held.factlab_factorials_new(k, byref(it))
        if status != _OK:
            raise error(status, k)  # past FACTLAB_MAX_N: factorial's OverflowError; nothing made
        self = super().__new__(cls)
        self._it = it
        self._big = k >= _EXPENSIVE_N  # the first step is a whole factorial
        # The free, called once when this object is collected. Not __del__:
        # a finalizer runs at most once, holds the pointer but not the object
        # (so an iterator in a reference cycle is still collected), and at
        # exit frees the iterators still alive while ctypes still works (a
        # __del__ at shutdown may find this module's globals gone).
        weakref.finalize(self, _held.factlab_factorials_free, it)
        return self

    def __next__(self) -> int:
        # The GIL as for factorial: kept (PyDLL) for a small step, released
        # (CDLL) for a big one. Threads sharing this iterator: the library's
        # lock orders their steps. A CDLL call waits for it without the GIL; a
        # PyDLL one with it, which cannot deadlock (the thread in a step never
        # needs the GIL before it unlocks: no Python runs inside) and lasts a
        # small step. This frame holds `self`: an iterator dropped elsewhere
        # meanwhile is not finalized under the call.
        step = _next_released if self._big else _next_held
        out = FactlabBig()
        try:
            status = step(self._it, byref(out))
            if status != _OK:
                raise self.refused(status)  # StopIteration at the end
            if out.len >= _BIG_LIMBS:
                self._big = True  # the next step multiplies this value
            return int.from_bytes(string_at(out.limbs, out.len * 8), "little")  # as _callee_allocates
        finally:
            _free(byref(out))  # {NULL, 0} on a refusal: a no-op

    @property
    def n(self) -> int:
        """The n whose factorial the next ``next()`` returns."""
        # CDLL: the lock may be held by a big step; wait for it without the GIL.
        return _released.factlab_factorials_n(self._it)

    # ANCHOR_END: iterator


def raise_panic() -> None:
    """Drive a deliberate kernel panic through the C boundary: RuntimeError."""
    out = FactlabBig()
    try:
        status = _held.factlab_debug_panic(byref(out))
    finally:
        _free(byref(out))
    raise error(status, 0)
