# factlab_cython's interface, for editors and type checkers: a PEP 561
# stub-only package (the module itself is a single compiled file). Checked
# against the module by mypy's stubtest.
from collections.abc import Callable, Iterable
from typing import NoReturn, SupportsIndex, final

def factorial(n: SupportsIndex, /) -> int:
    """Exactly ``math.factorial(n)``, computed by the Rust kernel."""

def factorials(ns: Iterable[SupportsIndex], /) -> list[int]:
    """Exactly ``[math.factorial(n) for n in ns]``, in one call."""

def factorial_str(n: SupportsIndex, /) -> str:
    """Exactly ``str(math.factorial(n))``, whatever ``sys.get_int_max_str_digits()`` says."""

def factorial_progress(n: SupportsIndex, callback: Callable[[int, int], object], /) -> int:
    """``factorial(n)``, calling ``callback(done, total)`` as the work goes and once at the end."""

def crossing(n: int, /) -> int:
    """The bare entry point: n! for n <= 20, else 0."""

def raise_panic() -> None:
    """Make the kernel panic through the same boundary as factorial(); RuntimeError."""

# ANCHOR: iterator
@final
class Factorials:
    """``start!``, ``(start+1)!``, ...: each value one multiplication from the last, in the kernel."""

    def __new__(cls, start: SupportsIndex = 0, /) -> Factorials: ...
    def __iter__(self) -> Factorials: ...
    def __next__(self) -> int: ...
    @property
    def n(self) -> int:
        """The n whose factorial the next ``next()`` returns."""

    def __reduce__(self) -> NoReturn:
        """copy, deepcopy and pickle raise TypeError."""

# ANCHOR_END: iterator
