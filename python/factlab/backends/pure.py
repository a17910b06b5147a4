"""The pure-Python reference: the seed article's loop, corrected.

The article's loop started from ``r = n``, so it returned 0 for 0! (which is
1), and it trusted its input. This one starts from 1 and validates its input
the way ``math.factorial`` does; the FFI wrappers reuse that check.
"""

# ANCHOR: all
from __future__ import annotations

import operator
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import NoReturn, SupportsIndex

# The largest C long: math.factorial refuses anything larger with OverflowError.
LONG_MAX = (1 << (8 * struct.calcsize("l") - 1)) - 1


# ANCHOR: check
def check(k: int) -> int:
    """The checks of ``math.factorial`` on an ``int``: ValueError, OverflowError."""
    if k < 0:
        raise ValueError("factorial() not defined for negative values")
    if k > LONG_MAX:
        raise OverflowError(f"factorial() argument should not exceed {LONG_MAX}")
    return k
    # ANCHOR_END: check


def factorial(n: SupportsIndex, /) -> int:
    """n!, with the same value and the same exceptions as ``math.factorial``."""
    # operator.index accepts exactly what has __index__ (int, bool, int
    # subclasses, numpy integers) and raises TypeError for float, str, ...
    k = check(operator.index(n))
    result = 1
    while k > 1:
        result *= k
        k -= 1
    return result


# ANCHOR_END: all


# ANCHOR: factorials
def factorials(ns: Iterable[SupportsIndex], /) -> list[int]:
    """``[factorial(n) for n in ns]``; a bad element raises what factorial would, its index in the message."""
    with int64_buffer(ns) as view:  # a buffer of 64-bit integers, or TypeError
        result: list[int] = []
        # Errors of the iteration itself (`factorials(5)`) are not an element's: not inside the try.
        for n in ns if view is None else view.tolist():
            try:
                result.append(factorial(n))
            except (TypeError, ValueError, OverflowError, MemoryError) as exc:
                raise at(len(result), exc) from None  # the first len(result) went well
        return result
        # ANCHOR_END: factorials


# ANCHOR: buffer
class int64_buffer:  # lower case: it reads as a function, `with int64_buffer(ns) as view`
    """``ns`` as a 1-D memoryview of format ``q`` or ``Q``, or None when ``ns`` has no buffer.

    What every backend's ``factorials`` accepts as a buffer: 64-bit integers
    (``array('q')``/``array('Q')``, numpy ``int64``/``uint64``, whose format is
    ``l``/``L``), one dimension. Any other buffer (floats, 32-bit integers,
    ``bytes``, 2-D) is a TypeError, not a sequence of small ints. A strided
    view is read through one copy. The view is released on exit: while it
    lives, the exporter refuses to resize (``array.append`` raises BufferError).
    """

    def __init__(self, ns: object) -> None:
        try:
            view = memoryview(ns)  # type: ignore[arg-type]
        except TypeError:
            self.view = None
            return
        code = view.format.lstrip("@=" + ("<" if sys.byteorder == "little" else ">"))
        if view.ndim != 1 or view.itemsize != 8 or code not in ("q", "l", "Q", "L"):
            shape = f"format {view.format!r}, itemsize {view.itemsize}, {view.ndim} dimension(s)"
            view.release()
            want = "factorials() reads buffers of 64-bit integers (format 'q' or 'Q', one dimension)"
            raise TypeError(f"{want}, got {shape}")
        flat = view if view.c_contiguous else memoryview(view.tobytes())
        self.view = flat.cast("B").cast("q" if code in "ql" else "Q")

    def __enter__(self) -> memoryview | None:
        return self.view

    def __exit__(self, *exc: object) -> None:
        if self.view is not None:
            self.view.release()


def at(index: int, exc: BaseException) -> BaseException:
    """The same exception type, its message prefixed with the element's place: ``ns[3]: ...``."""
    return type(exc)(f"ns[{index}]: {exc}")
    # ANCHOR_END: buffer


# ANCHOR: digits
# Python's str() of an int refuses more than sys.get_int_max_str_digits()
# digits (4,300 by default since 3.11; 640 is the lowest a user may set), and
# the limit is the interpreter's, not the thread's: lifting it for one call
# would lift it for every thread. So split the number by powers of ten until
# every part is below the lowest limit, and str() the parts.
LEAF_DIGITS = 600


def factorial_str(n: SupportsIndex, /) -> str:
    """``str(factorial(n))`` whatever ``sys.get_int_max_str_digits()`` says."""
    return to_decimal(factorial(n))


def to_decimal(x: int) -> str:
    """The decimal digits of ``x >= 0``, never more than LEAF_DIGITS at a time through str()."""
    powers = [10**LEAF_DIGITS]  # powers[i] = 10 ** (LEAF_DIGITS * 2**i)
    while powers[-1] ** 2 <= x:
        powers.append(powers[-1] ** 2)
    return _decimal(x, powers, len(powers) - 1, 0)


def _decimal(x: int, powers: list[int], level: int, width: int) -> str:
    """``x < powers[level] ** 2`` in decimal, left-padded with zeros to ``width`` digits."""
    if level < 0:
        return str(x).zfill(width)
    high, low = divmod(x, powers[level])
    if not high and not width:
        return _decimal(low, powers, level - 1, 0)
    size = LEAF_DIGITS << level  # the digits of low, zeros included
    return _decimal(high, powers, level - 1, max(width - size, 0)) + _decimal(low, powers, level - 1, size)
    # ANCHOR_END: digits


# ANCHOR: progress
# How often a long call reports (seconds): the kernel's tick (factlab_core::control::TICK).
TICK = 0.02


def callable_or_raise(callback: object) -> None:
    """The TypeError every backend's ``factorial_progress`` raises, before any work, for a non-callable."""
    if not callable(callback):
        raise TypeError(f"callback must be callable, not {type(callback).__name__}")


def factorial_progress(n: SupportsIndex, callback: Callable[[int, int], object], /) -> int:
    """``factorial(n)``, calling ``callback(done, total)`` every TICK of work and once at the end.

    The work units are the factors multiplied (``total`` is n). Python code
    needs nothing to be interrupted: the interpreter runs a pending Ctrl-C's
    handler between two instructions of this loop.
    """
    k = check(operator.index(n))
    callable_or_raise(callback)
    result, last = 1, time.monotonic()
    for i in range(2, k + 1):
        result *= i
        if not i % 256 and time.monotonic() - last >= TICK:
            callback(i, k)
            last = time.monotonic()
    callback(k, k)
    return result
    # ANCHOR_END: progress


# ANCHOR: iterator
class Factorials:
    """``start!``, ``(start+1)!``, ...: each value one multiplication from the last.

    The state is a generator's frame (the last value and n); a lock keeps two
    threads out of it at once (a generator refuses a second caller with
    "ValueError: generator already executing").
    """

    first = staticmethod(factorial)  # how the first value is made (math's subclass: math.factorial)

    def __init__(self, start: SupportsIndex = 0, /) -> None:
        # [n], shared with the generator: it holds this list, never self (that would be a
        # reference cycle, freed by the cycle collector only, not when the object is dropped).
        self._n = [check(operator.index(start))]
        self._steps = _steps(self.first, self._n)
        self._lock = threading.Lock()

    def __iter__(self) -> Factorials:
        return self

    def __next__(self) -> int:
        with self._lock:
            return next(self._steps)

    @property
    def n(self) -> int:
        """The n whose factorial the next ``next()`` returns."""
        return self._n[0]

    def __repr__(self) -> str:
        return f"Factorials({self.n})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("cannot pickle or copy 'Factorials' object: its state is a running computation")


def _steps(first: Callable[[int], int], n: list[int]) -> Iterator[int]:
    """``n[0]!`` (made by ``first``), then each next one by one multiplication; ``n[0]`` kept current."""
    value = first(n[0])
    while True:
        n[0] += 1  # before the yield: `n` is the next one as soon as a value is out
        yield value
        value *= n[0]
    # ANCHOR_END: iterator
