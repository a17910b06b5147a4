# factlab_cython's interface, for editors and type checkers: a PEP 561
# stub-only package (the module itself is a single compiled file). Checked
# against the module by mypy's stubtest.
from typing import SupportsIndex

def factorial(n: SupportsIndex, /) -> int:
    """Exactly ``math.factorial(n)``, computed by the Rust kernel."""

def crossing(n: int, /) -> int:
    """The bare entry point: n! for n <= 20, else 0."""

def raise_panic() -> None:
    """Make the kernel panic through the same boundary as factorial(); RuntimeError."""
