# factlab_cpython's interface, for editors and type checkers: a PEP 561
# stub-only package (the module itself is a single compiled file). Checked
# against the module by mypy's stubtest.
from collections.abc import Callable, Iterable
from typing import Final, SupportsIndex, final

MAX_N: Final[int]
EXPENSIVE_N: Final[int]

def factorial(n: SupportsIndex, /) -> int:
    """Find n!, exactly as math.factorial does (the Rust kernel, through rust-cpython)."""

def factorials(ns: Iterable[SupportsIndex], /) -> list[int]:
    """[factorial(n) for n in ns] in one call; a buffer of 64-bit integers is read in place."""

def factorial_str(n: SupportsIndex, /) -> str:
    """str(factorial(n)), whatever sys.get_int_max_str_digits() says."""

def factorial_progress(n: SupportsIndex, callback: Callable[[int, int], object], /) -> int:
    """factorial(n), calling callback(done, total) every ~20 ms of work and once at the end."""

def crossing(n: int, /) -> int:
    """The bare crossing: n! if n <= 20, else 0, no checks."""

def raise_panic() -> None:
    """Test-only: panic inside the kernel; the panic becomes a RuntimeError."""

# ANCHOR: iterator
@final  # py_class! types cannot be subclassed
class Factorials:
    """start!, (start+1)!, ...: one multiplication per step, in native state the object owns."""

    def __new__(cls, start: SupportsIndex = 0, /) -> Factorials: ...
    def __iter__(self) -> Factorials: ...
    def __next__(self) -> int: ...
    @property
    def n(self) -> int:
        """The n whose factorial the next next() returns."""

# ANCHOR_END: iterator
