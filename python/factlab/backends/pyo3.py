"""PyO3: Rust functions exposed with ``#[pyfunction]``, built by maturin.

The compiled functions are re-exported as they are: no Python wrapper stands
on the hot path. Source: ``crates/pyo3/src/lib.rs``.
"""

from factlab_pyo3 import crossing, factorial, raise_panic

__all__ = ["crossing", "factorial", "raise_panic"]
