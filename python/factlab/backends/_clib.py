"""What every backend over the C ABI library shares: where it is, its checks, half of ``factorials``.

The C ABI library is its own package, ``factlab_clib`` (built from
``crates/clib`` by ``just setup``). It holds the two files the backends in
this package need at run time:

- ``libfactlab_clib.so`` (``.dylib`` on macOS): the library ctypes and cffi's
  ABI mode open at run time with ``dlopen``;
- ``factlab_cdef.h``: its declarations, plain enough for ``ffi.cdef()``.

A backend that imports this module while they are missing gets
:class:`ClibNotBuilt`, an ``ImportError``: the registry reports the backend as
"not built" instead of crashing. So does a backend that finds them broken
(empty, truncated, garbage, another machine's library, a header without a
needed ``#define``): it opens them inside :func:`reported`, which names the
file (and :func:`factlab.load` adds what to do, for how factlab was installed).

:func:`factorials` is the Python around one call of ``factlab_factorials_u64``
(which each binding makes its own way): the input as 64-bit integers, the
output array, and the n > 20 one by one.

:class:`Call` and :func:`checked` are what ``factorial_progress`` shares:
the state its hook works on, and its checks before any work.

:class:`FactorialsBase` is the Python half of every ``Factorials`` over the
C ABI: what needs no C call. Each binding adds the native iterator it owns.
"""

from __future__ import annotations

import functools
import re
import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from operator import index
from pathlib import Path
from typing import NoReturn, SupportsIndex, Union

from factlab._registry import BackendNotBuilt

# The checks of math.factorial, and the rules of factorials(): one copy, the pure backend's.
from factlab.backends.pure import LONG_MAX, at, callable_or_raise, check, int64_buffer

__all__ = [
    "EXPENSIVE_BATCH_LEN",
    "INTERRUPTIBLE_N",
    "LONG_MAX",
    "MAX_SMALL_N",
    "MAX_U64_N",
    "MAX_U128_N",
    "Call",
    "ClibNotBuilt",
    "FactorialsBase",
    "cdef_path",
    "cdef_source",
    "check",
    "checked",
    "constant",
    "defines",
    "error",
    "factorials",
    "library_path",
    "reported",
]


class ClibNotBuilt(BackendNotBuilt):
    """The C ABI library or its declarations are missing or broken (:func:`factlab.load` says what to do)."""


_FIX = "reinstall the C ABI library (factlab-clib)"


@contextmanager
def reported(*paths: Path) -> Iterator[None]:
    """Turn any failure to load ``paths`` into :class:`ClibNotBuilt` naming them and the fix.

    What a broken file gives depends on the loader: ``OSError`` from
    ``dlopen`` (empty, truncated, not a library, another architecture),
    ``AttributeError`` for a missing function, ``cffi.CDefError`` or
    ``ffi.error`` for declarations cffi cannot parse, ``KeyError`` for a
    missing ``#define``, and more. All of them mean one thing to a user.
    """
    try:
        for path in paths:
            _whole(path)
        yield
    except ClibNotBuilt:
        raise
    except Exception as exc:
        names = " or ".join(str(path) for path in paths)
        raise ClibNotBuilt(f"{names} is broken ({type(exc).__name__}: {exc}); {_FIX}") from exc


def _whole(path: Path) -> None:
    """OSError if ``path`` is an ELF file cut short: what ``dlopen`` cannot be trusted to see.

    glibc maps a library's segments as its headers describe them; when the file
    ends before them, touching the missing pages kills the process (SIGBUS)
    instead of failing the ``dlopen``. The ELF headers say how long the file
    must be: compare before opening.
    """
    if path.suffix != ".so":
        return
    with path.open("rb") as file:
        data = file.read(64)
        if len(data) < 64 or data[:6] != b"\x7fELF\x02\x01":  # only 64-bit little-endian ELF
            return  # dlopen reports anything else itself
        size = path.stat().st_size
        phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 0x36)
        file.seek(phoff)
        headers = file.read(phentsize * phnum)
    ends = [phoff + phentsize * phnum, shoff + shentsize * shnum]
    for i in range(len(headers) // 56 if phentsize == 56 else 0):
        _type, _flags, offset, _vaddr, _paddr, filesz = struct.unpack_from("<IIQQQQ", headers, i * 56)
        ends.append(offset + filesz)
    if max(ends) > size:
        raise OSError(f"truncated: {size} bytes, its ELF headers describe {max(ends)}")


def _installed(path: Path) -> Path:
    if not path.is_file():
        raise ClibNotBuilt(f"{path} is missing: {_FIX}")
    return path


try:
    import factlab_clib
except ImportError as exc:
    raise ClibNotBuilt(
        "the C ABI library (package factlab_clib, built from crates/clib) is not installed"
    ) from exc


def library_path() -> Path:
    """The C ABI library to ``dlopen``: ``libfactlab_clib.so`` (or ``.dylib``)."""
    return _installed(factlab_clib.library_path())


def cdef_path() -> Path:
    """``factlab_cdef.h``: the library's declarations, for ``ffi.cdef()``."""
    return _installed(factlab_clib.cdef_path())


def cdef_source() -> str:
    """The text of ``factlab_cdef.h``."""
    return cdef_path().read_text(encoding="utf-8")


def defines() -> dict[str, int]:
    """The header's ``#define NAME value`` constants (status codes, bounds).

    cffi reads them itself; ctypes cannot read a header, so it asks here, and
    the numbers keep a single source: the Rust code the header comes from.
    """
    return {
        name: int(value)
        for name, value in re.findall(r"^#define\s+(\w+)\s+(\d+)\s*$", cdef_source(), re.MULTILINE)
    }


# The wrappers build an int from the limbs' bytes in one go: that reading is
# right only where a 64-bit word's bytes are little-endian too.
if sys.byteorder != "little":
    raise ImportError("factlab's FFI wrappers assume a little-endian machine")


@functools.cache
def _constants() -> dict[str, int]:
    return defines()


def constant(name: str) -> int:
    """The header's ``#define name``: :class:`ClibNotBuilt` if it is missing."""
    try:
        return _constants()[name]
    except KeyError:
        raise ClibNotBuilt(f"{cdef_path()} is broken (no #define {name}); {_FIX}") from None


# What the C functions promise (see factlab.h): factlab_factorial_u64 answers
# for n <= FACTLAB_MAX_U64_N (20), factlab_factorial_u128 for n <= 34,
# factlab_factorial_small for n <= 170. Read from the header at first use,
# not when this module is imported: the backend that needs them is the one to
# report a broken header.
_LAZY = {
    "MAX_U64_N": "FACTLAB_MAX_U64_N",
    "MAX_U128_N": "FACTLAB_MAX_U128_N",
    "MAX_SMALL_N": "FACTLAB_MAX_SMALL_N",
    # From this n on, factorial goes through factlab_factorial_progress (Ctrl-C).
    "INTERRUPTIBLE_N": "FACTLAB_INTERRUPTIBLE_N",
}


# Declared, not assigned: module attribute lookup falls through to __getattr__.
MAX_U64_N: int
MAX_U128_N: int
MAX_SMALL_N: int
INTERRUPTIBLE_N: int


def __getattr__(name: str) -> int:
    if name in _LAZY:
        return constant(_LAZY[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ANCHOR: error
def error(status: int, n: int) -> Exception:
    """The Python exception for a status code of ``factlab_factorial``."""
    if status == constant("FACTLAB_TOO_LARGE"):
        # The same words as factlab_core::Error's Display.
        limit = constant("FACTLAB_MAX_N")
        return OverflowError(f"factorial() argument should not exceed {limit} (factlab's bound), got {n}")
    if status == constant("FACTLAB_NO_MEMORY"):
        # Refused before anything was allocated: the process goes on.
        return MemoryError(
            f"factorial({n}) would not fit in the memory this process has left (FACTLAB_NO_MEMORY)"
        )
    if status == constant("FACTLAB_PANIC"):
        return RuntimeError(
            "the factlab kernel panicked; the panic was caught at the C ABI boundary "
            "(FACTLAB_PANIC, see the message on stderr)"
        )
    return RuntimeError(f"factlab C ABI: unexpected status {status} for n = {n}")
    # ANCHOR_END: error


# ANCHOR: progress
class Call:
    """One call of ``factlab_factorial_progress`` as its hook sees it.

    No Python exception may unwind through C: the hook keeps what was raised
    in ``error`` and answers 1 (stop); once C has returned, the wrapper raises
    that same object.
    """

    __slots__ = ("callback", "error")

    def __init__(self, callback: Callable[[int, int], object] | None) -> None:
        self.callback = callback  # None: a plain factorial, which wants the signal check alone
        self.error: BaseException | None = None


def checked(n: SupportsIndex, callback: object) -> int:
    """What ``factorial_progress`` checks before any work: ``n`` as ``factorial`` does, then the callback."""
    k = check(index(n))
    if k > constant("FACTLAB_MAX_N"):  # the kernel would refuse it too, but after the callback check
        raise error(constant("FACTLAB_TOO_LARGE"), k)
    callable_or_raise(callback)
    return k
    # ANCHOR_END: progress


# ANCHOR: iterator
class FactorialsBase:
    """What every FFI backend's ``Factorials`` shares: all but the native iterator it owns.

    A subclass makes the iterator in ``__new__`` (with :meth:`checked_start`),
    hands its free to the collector (``ffi.gc``, ``weakref.finalize``), and
    gives ``n`` and ``__next__``.
    """

    __slots__ = ()

    @property
    def n(self) -> int:
        """The n whose factorial the next ``next()`` returns: the subclass asks the library."""
        raise NotImplementedError

    @staticmethod
    def checked_start(start: SupportsIndex) -> int:
        """``start`` checked as ``factorial(start)``; past FACTLAB_MAX_N the library refuses it."""
        return check(index(start))

    def refused(self, status: int) -> BaseException:
        """What ``next()`` raises for a status other than FACTLAB_OK."""
        if status == constant("FACTLAB_EXHAUSTED"):
            return StopIteration()
        # Past the bound n stays FACTLAB_MAX_N + 1: the words of factorial(FACTLAB_MAX_N + 1).
        return error(status, self.n)

    def __iter__(self) -> FactorialsBase:
        return self

    def __repr__(self) -> str:
        return f"Factorials({self.n})"

    # Two Python objects must never hold one native iterator: each would free it.
    # copy.copy, copy.deepcopy and pickle all ask __reduce__ (through object.__reduce_ex__).
    def __reduce__(self) -> NoReturn:
        raise TypeError("cannot pickle or copy 'Factorials' object: it owns a native iterator")

    # ANCHOR_END: iterator


# ANCHOR: factorials
# factlab_core::EXPENSIVE_BATCH_LEN: from this many values on, a batch is worth
# releasing the GIL for (the header has no #define for it).
EXPENSIVE_BATCH_LEN = 10_000

# 64-bit integers in one C-contiguous buffer: an int64_buffer view or an array('q').
Int64s = Union[memoryview, "array[int]"]
Factorial = Callable[[SupportsIndex], int]
# The binding's one call of factlab_factorials_u64(ns, len, out, &big): returns big.
Batch = Callable[[Int64s, "array[int]"], int]
# What factorial raises for a bad n: factorials adds the element's place.
_CHECKS = (TypeError, ValueError, OverflowError, MemoryError)


def factorials(ns: Iterable[SupportsIndex], factorial: Factorial, batch: Batch) -> list[int]:
    """``factorials`` over the C ABI: the Python around ``batch``, the same for cffi and ctypes."""
    with int64_buffer(ns) as view:  # a buffer of 64-bit integers, or TypeError
        if view is not None:
            return _through_c(view, factorial, batch)  # read in place
        ints: list[int] = []
        # iter outside the try: a non-iterable ns (`factorials(5)`) is no
        # element's fault; and PyPy's map would word that TypeError otherwise.
        elements = iter(ns)
        try:
            # One C loop over ns (iterated once): each element's __index__,
            # asked once, as factorial asks it. On an error, ints keeps the
            # elements before the bad one.
            ints.extend(map(index, elements))
        except Exception as exc:
            _from_ints(ints, factorial, batch)  # a bad element before it comes first
            if isinstance(exc, _CHECKS):
                raise at(len(ints), exc) from None
            raise
        return _from_ints(ints, factorial, batch)


def _from_ints(ints: list[int], factorial: Factorial, batch: Batch) -> list[int]:
    try:
        # A copy, 8 bytes per value and no object: one C loop, no user code
        # (the ints are ints now, __index__ was asked already).
        signed = array("q", ints)
    except OverflowError:
        # Some n is past 64 bits: factorial says which bad one comes first.
        return _one_by_one(ints, factorial)
    return _through_c(signed, factorial, batch)


def _through_c(ns: Int64s, factorial: Factorial, batch: Batch) -> list[int]:
    # The output: zeroed 64-bit words that Python owns; the library fills them.
    out = array("Q", bytes(8 * len(ns)))
    big = batch(ns, out)
    result = out.tolist()  # one int per value, made in C (0! to 20! fit in a word)
    # Where the library wrote 0: an n > 20 (or a negative n read as a huge
    # uint64_t). Those go one by one through factorial, which checks them.
    i = -1
    for _ in range(big):
        i = result.index(0, i + 1)  # the next zero: a scan in C
        try:
            result[i] = factorial(ns[i])  # ns[i]: the int, as signed as the buffer
        except _CHECKS as exc:
            raise at(i, exc) from None
    return result


def _one_by_one(ints: list[int], factorial: Factorial) -> list[int]:
    result: list[int] = []
    try:
        for n in ints:
            result.append(factorial(n))
    except _CHECKS as exc:
        raise at(len(result), exc) from None  # the first len(result) went well
    return result
    # ANCHOR_END: factorials
