"""factlab's PyO3 backend: ``factorial(n)``, exactly ``math.factorial(n)``, in Rust.

The functions are the compiled ones themselves (re-exported, not wrapped), so
a call goes straight from the interpreter into Rust.
"""

from factlab_pyo3._native import crossing, factorial, raise_panic

__all__ = ["crossing", "factorial", "raise_panic"]
