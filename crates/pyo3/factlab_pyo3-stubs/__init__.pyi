# factlab_pyo3's interface, for editors and type checkers (PyO3 does not
# generate stubs yet): a PEP 561 stub-only package, shipped by maturin's
# `include` (pyproject.toml). Checked against the module by mypy's stubtest.
from collections.abc import Callable, Iterable
from typing import NoReturn, SupportsIndex, final

__all__ = [
    "Factorials",
    "crossing",
    "factorial",
    "factorial_progress",
    "factorial_str",
    "factorials",
    "raise_panic",
]

def factorial(n: SupportsIndex, /) -> int:
    """Find n!, exactly as math.factorial does."""

def factorial_progress(n: SupportsIndex, callback: Callable[[int, int], object], /) -> int:
    """Find n!, calling callback(done, total) every 20 ms of work and once at the end."""

def factorials(ns: Iterable[SupportsIndex], /) -> list[int]:
    """`[factorial(n) for n in ns]`, in one call."""

def factorial_str(n: SupportsIndex, /) -> str:
    """`str(factorial(n))`, whatever `sys.get_int_max_str_digits()` says."""

def crossing(n: int, /) -> int:
    """The bare crossing: n! if n <= 20, else 0."""

def raise_panic() -> None:
    """Test-only: panics inside the kernel (PanicException)."""

# ANCHOR: iterator
@final
class Factorials:
    """`start!`, `(start+1)!`, ...: each value one multiplication from the last."""

    def __new__(cls, start: SupportsIndex = 0, /) -> Factorials: ...
    def __iter__(self) -> Factorials: ...
    def __next__(self) -> int: ...
    @property
    def n(self) -> int:
        """The n whose factorial the next `next()` returns."""

    def __reduce__(self) -> NoReturn:
        """copy, deepcopy and pickle raise TypeError."""

# ANCHOR_END: iterator
