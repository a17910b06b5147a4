"""The raw CPython C-API, written by hand in Rust over pyo3-ffi (``crates/capi``).

``factlab_capi`` is an extension module with no binding generator at all: a
``PyModuleDef`` with multi-phase init, a ``PyMethodDef`` table of ``METH_O``
functions that take and return ``PyObject*``, references counted by hand,
errors set with ``PyErr_SetString``, the GIL released with
``PyEval_SaveThread`` around large computations, and panics caught at the
boundary. Exactly what a C extension does, in Rust; what PyO3's macros write
for you. Built by maturin (``just setup``).

The functions are re-exported as they are: no Python code runs on the way in.
"""

from factlab_capi import crossing, factorial, raise_panic

__all__ = ["crossing", "factorial", "raise_panic"]
