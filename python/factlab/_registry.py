"""The backend registry: every way of computing n! that factlab compares.

A backend is a module with:

- ``factorial(n)``: exactly ``math.factorial(n)``: the same value, the same
  exception type for bad input;
- ``crossing(n)`` (native backends): the bare scalar entry point, with no
  checks, so that the benchmark can show what the mechanism itself costs;
- ``raise_panic()`` (Rust backends): drives a deliberate panic inside the
  kernel through the binding's boundary, for the reliability tests.

Registering a backend here is all it takes to have it tested and benchmarked.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class BackendSpec:
    """What the registry knows about a backend before importing it."""

    name: str
    module: str
    summary: str
    native: bool = True


# The order of the table in DEVELOPERS.md: baselines first, then the compiled
# extensions, then the foreign-function interfaces over the C ABI library.
BACKENDS: tuple[BackendSpec, ...] = (
    BackendSpec("python", "factlab.backends.pure", "the pure-Python loop (reference)", native=False),
    BackendSpec("math", "factlab.backends.stdlib", "the standard library's math.factorial", native=False),
    BackendSpec("pyo3", "factlab.backends.pyo3", "a PyO3 module built with maturin"),
    BackendSpec("capi", "factlab.backends.capi", "the raw CPython C-API, in Rust over pyo3-ffi"),
    BackendSpec("rust-cpython", "factlab.backends.rust_cpython", "the cpython crate, PyO3's predecessor"),
    BackendSpec(
        "cffi-abi-inline",
        "factlab.backends.cffi_abi_inline",
        "CFFI ABI mode, in-line: cdef + dlopen at import",
    ),
    BackendSpec(
        "cffi-abi-outofline",
        "factlab.backends.cffi_abi_outofline",
        "CFFI ABI mode, out-of-line: pre-built ffi, dlopen at run time",
    ),
    BackendSpec(
        "cffi-api",
        "factlab.backends.cffi_api",
        "CFFI API mode: a compiled extension linking the static library",
    ),
    BackendSpec(
        "ctypes", "factlab.backends.ctypes_cdll", "the standard library's ctypes over the C ABI library"
    ),
    BackendSpec("cython", "factlab.backends.cython", "a Cython module calling the C ABI library"),
)

_BY_NAME = {spec.name: spec for spec in BACKENDS}


class BackendNotBuilt(ImportError):
    """A registered backend whose native part is not built or not installed."""


def backend_names() -> list[str]:
    """The registered backend names, in the order of the table."""
    return [spec.name for spec in BACKENDS]


def spec(name: str) -> BackendSpec:
    """The registry entry for ``name``; KeyError names the known backends."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(backend_names())
        raise KeyError(f"no backend named {name!r}; known backends: {known}") from None


def load(name: str) -> ModuleType:
    """Import backend ``name`` and return its module (it has ``factorial``).

    Raises :class:`BackendNotBuilt` with the backend's name and how to build it
    when its native part is missing.
    """
    entry = spec(name)
    try:
        return importlib.import_module(entry.module)
    except ImportError as exc:
        raise BackendNotBuilt(
            f"backend {name!r} is not built or not installed ({exc}). "
            "Build every backend with `just setup` (see the README)."
        ) from exc
