"""The ``cpython`` crate (rust-cpython), PyO3's predecessor (``crates/cpython``).

``factlab_cpython`` is written with rust-cpython's ``py_module_initializer!``
and ``py_fn!`` macros: a ``Python`` token proves the GIL is held, objects count
their own references, and ``py.allow_threads`` releases the GIL around large
computations. The crate is unmaintained (last release 0.7.2, CPython <= 3.12)
and maturin no longer builds it: setuptools-rust does (``crates/cpython/pyproject.toml``).

The functions are re-exported as they are: no Python code runs on the way in.
"""

from factlab_cpython import crossing, factorial, raise_panic

__all__ = ["crossing", "factorial", "raise_panic"]
