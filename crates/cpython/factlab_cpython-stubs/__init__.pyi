# factlab_cpython's interface, for editors and type checkers: a PEP 561
# stub-only package (the module itself is a single compiled file). Checked
# against the module by mypy's stubtest.
from typing import Final, SupportsIndex

MAX_N: Final[int]
EXPENSIVE_N: Final[int]

def factorial(n: SupportsIndex, /) -> int:
    """Find n!, exactly as math.factorial does (the Rust kernel, through rust-cpython)."""

def crossing(n: int, /) -> int:
    """The bare crossing: n! if n <= 20, else 0, no checks."""

def raise_panic() -> None:
    """Test-only: panic inside the kernel; the panic becomes a RuntimeError."""
