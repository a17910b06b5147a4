# factlab_capi's interface, for editors and type checkers: a PEP 561 stub-only
# package, shipped by maturin's `include` (pyproject.toml). Checked against the
# module by mypy's stubtest.
from collections.abc import Callable, Iterable
from typing import Final, NoReturn, SupportsIndex, final

MAX_N: Final[int]
EXPENSIVE_N: Final[int]

def factorial(n: SupportsIndex, /) -> int:
    """n! exactly, with the same value and exceptions as math.factorial."""

def factorials(ns: Iterable[SupportsIndex], /) -> list[int]:
    """[factorial(n) for n in ns] in one call; a buffer of 64-bit integers is read in place."""

def factorial_str(n: SupportsIndex, /) -> str:
    """str(factorial(n)), computed natively: no digit limit."""

def factorial_progress(n: SupportsIndex, callback: Callable[[int, int], object], /) -> int:
    """factorial(n), calling callback(done, total) (GIL held) every tick and once at the end."""

def crossing(n: int, /) -> int:
    """The bare crossing: n! if n <= 20, else 0."""

def raise_panic() -> None:
    """Test-only: panics inside the kernel (RuntimeError)."""

# ANCHOR: iterator
@final
class Factorials:
    """start!, (start+1)!, ...: each value one multiplication from the last, in native state."""

    def __new__(cls, start: SupportsIndex = 0, /) -> Factorials: ...
    def __iter__(self) -> Factorials: ...
    def __next__(self) -> int: ...
    @property
    def n(self) -> int:
        """The n whose factorial the next next() returns."""

    def __reduce__(self) -> NoReturn:
        """Refused: two objects must never share one native state."""

# ANCHOR_END: iterator
