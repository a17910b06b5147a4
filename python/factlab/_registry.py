"""The backend registry: every way of computing n! that factlab compares.

This table is the one list of backends. The tests, the benchmark, its chart
and targets, the instruction counts and the book's figures all derive their
lists from it: registering a backend here (and writing its module) is all it
takes to have it tested, benchmarked and shown.

A backend is a module with:

- ``factorial(n, /)``: exactly ``math.factorial(n)``: the same value, the same
  exception type for bad input;
- ``crossing(n, /)``: the bare scalar entry point, with no checks (native
  backends), so that the benchmark can show what the mechanism itself costs;
- ``raise_panic()`` (native backends): drives a deliberate panic inside the
  kernel through the binding's boundary, for the reliability tests.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal, Protocol, SupportsIndex, cast

# What kind of thing a backend is: the yardsticks, a compiled CPython
# extension that holds the kernel, or a foreign-function interface that
# reaches the kernel through the C ABI library (crates/cabi).
Kind = Literal["baseline", "extension", "ffi"]
# How a backend reaches the C ABI library: not at all, by opening the shared
# library at run time (dlopen), or by linking the static library in.
CabiLink = Literal["none", "dlopen", "static"]


class Backend(Protocol):
    """What :func:`load` returns: a backend module (native ones also have ``crossing``)."""

    def factorial(self, n: SupportsIndex, /) -> int:
        """Exactly ``math.factorial(n)``."""
        ...


@dataclass(frozen=True)
class BackendSpec:
    """What the registry knows about a backend before importing it."""

    name: str
    """The name users type: ``factlab.load(name)``, ``--backends name``."""
    module: str
    """The ``factlab.backends`` module that :func:`load` imports."""
    summary: str
    """One line for tables and ``python -m factlab list``."""
    kind: Kind
    tool: str
    """The binding tool (pyo3, cffi, ctypes, ...): backends of one tool share its checks."""
    cabi: CabiLink = "none"
    extension: str | None = None
    """The module that a build produced for this backend (None: nothing is built for it)."""
    project: str | None = None
    """The PEP 517 project that builds ``extension``, relative to the repository."""
    sources: tuple[str, ...] = ()
    """The binding code a person wrote for it (wrapper and build files), relative to the repository."""
    refcounts_by_hand: bool = False
    """The wrapper's author manages Python references in native code (tests check them)."""
    panic: str | None = None
    """The exception a kernel panic becomes at this binding's boundary (native backends)."""
    gil: str = "held"
    """When the binding releases the GIL around the kernel."""
    positional_only: bool = True
    """``factorial(n=5)`` is a TypeError, as for math.factorial (rust-cpython cannot refuse keywords)."""

    @property
    def native(self) -> bool:
        """True when a call crosses into native code that factlab built."""
        return self.kind != "baseline"

    @property
    def chapter(self) -> str:
        """The book's chapter for this backend, relative to ``docs/src``."""
        return f"backends/{self.name}.md"


# The order of every table: baselines first, then the compiled extensions,
# then the foreign-function interfaces over the C ABI library.
BUILTIN: tuple[BackendSpec, ...] = (
    BackendSpec(
        "python",
        "factlab.backends.pure",
        "the pure-Python loop (reference)",
        kind="baseline",
        tool="python",
        sources=("python/factlab/backends/pure.py",),
    ),
    BackendSpec(
        "math",
        "factlab.backends.stdlib",
        "the standard library's math.factorial",
        kind="baseline",
        tool="stdlib",
        sources=("python/factlab/backends/stdlib.py",),
    ),
    BackendSpec(
        "pyo3",
        "factlab.backends.pyo3",
        "a PyO3 module built with maturin",
        kind="extension",
        tool="pyo3",
        extension="factlab_pyo3._native",
        project="crates/pyo3",
        sources=("crates/pyo3/src/lib.rs", "crates/pyo3/Cargo.toml", "crates/pyo3/pyproject.toml"),
        panic="PanicException",
        gil="n >= 1000 (py.detach)",
    ),
    BackendSpec(
        "capi",
        "factlab.backends.capi",
        "the raw CPython C-API, in Rust over pyo3-ffi",
        kind="extension",
        tool="pyo3-ffi",
        extension="factlab_capi",
        project="crates/capi",
        sources=("crates/capi/src/lib.rs", "crates/capi/Cargo.toml", "crates/capi/pyproject.toml"),
        refcounts_by_hand=True,
        panic="RuntimeError",
        gil="n >= 1000 (PyEval_SaveThread)",
    ),
    BackendSpec(
        "rust-cpython",
        "factlab.backends.rust_cpython",
        "the cpython crate, PyO3's predecessor",
        kind="extension",
        tool="rust-cpython",
        extension="factlab_cpython",
        project="crates/cpython",
        sources=("crates/cpython/src/lib.rs", "crates/cpython/Cargo.toml", "crates/cpython/pyproject.toml"),
        refcounts_by_hand=True,
        panic="RuntimeError",
        gil="n >= 1000 (py.allow_threads)",
        positional_only=False,
    ),
    BackendSpec(
        "cffi-abi-inline",
        "factlab.backends.cffi_abi_inline",
        "CFFI ABI mode, in-line: cdef + dlopen at import",
        kind="ffi",
        tool="cffi",
        cabi="dlopen",
        sources=("python/factlab/backends/cffi_abi_inline.py", "python/factlab/backends/_cffi.py"),
        panic="RuntimeError",
        gil="every call (cffi)",
    ),
    BackendSpec(
        "cffi-abi-outofline",
        "factlab.backends.cffi_abi_outofline",
        "CFFI ABI mode, out-of-line: pre-built ffi, dlopen at run time",
        kind="ffi",
        tool="cffi",
        cabi="dlopen",
        extension="factlab_cffi_abi",
        project="python/factlab-cffi",
        sources=(
            "python/factlab/backends/cffi_abi_outofline.py",
            "python/factlab/backends/_cffi.py",
            "python/factlab-cffi/build_abi_outofline.py",
            "python/factlab-cffi/setup.py",
        ),
        panic="RuntimeError",
        gil="every call (cffi)",
    ),
    BackendSpec(
        "cffi-api",
        "factlab.backends.cffi_api",
        "CFFI API mode: a compiled extension linking the static library",
        kind="ffi",
        tool="cffi",
        cabi="static",
        extension="factlab_cffi_api",
        project="python/factlab-cffi",
        sources=(
            "python/factlab/backends/cffi_api.py",
            "python/factlab/backends/_cffi.py",
            "python/factlab-cffi/build_api.py",
            "python/factlab-cffi/setup.py",
        ),
        panic="RuntimeError",
        gil="every call (cffi)",
    ),
    BackendSpec(
        "ctypes",
        "factlab.backends.ctypes_cdll",
        "the standard library's ctypes over the C ABI library",
        kind="ffi",
        tool="ctypes",
        cabi="dlopen",
        sources=("python/factlab/backends/ctypes_cdll.py",),
        panic="RuntimeError",
        gil="n >= 1000 (CDLL; PyDLL below)",
    ),
    BackendSpec(
        "cython",
        "factlab.backends.cython",
        "a Cython module calling the C ABI library",
        kind="ffi",
        tool="cython",
        cabi="static",
        extension="factlab_cython",
        project="python/factlab-cython",
        sources=(
            "python/factlab-cython/factlab_cython.pyx",
            "python/factlab-cython/cfactlab.pxd",
            "python/factlab-cython/setup.py",
        ),
        refcounts_by_hand=True,
        panic="RuntimeError",
        gil="n >= 1000 (with nogil)",
    ),
)

# factlab's own backends, then any that register() added (a test's throwaway
# backend, an experiment): every consumer iterates over specs().
_REGISTERED: dict[str, BackendSpec] = {entry.name: entry for entry in BUILTIN}


class BackendNotBuilt(ImportError):
    """A registered backend whose native part is not built or not installed."""


def register(entry: BackendSpec) -> None:
    """Add a backend to the registry: the tests and the bench pick it up from here."""
    if entry.name in _REGISTERED:
        raise ValueError(f"a backend named {entry.name!r} is already registered")
    _REGISTERED[entry.name] = entry


def specs() -> tuple[BackendSpec, ...]:
    """Every registered backend, in the order of the table."""
    return tuple(_REGISTERED.values())


def backend_names(kind: Kind | None = None) -> list[str]:
    """The registered backend names, in the order of the table (of one ``kind`` if given)."""
    return [entry.name for entry in specs() if kind is None or entry.kind == kind]


def native_names() -> list[str]:
    """The backends whose calls cross into native code that factlab built."""
    return [entry.name for entry in specs() if entry.native]


def build_projects() -> list[str]:
    """The PEP 517 projects that build the backends, in the table's order, each once.

    ``just setup`` installs them after the C ABI library (``crates/cabi``),
    which the FFI projects compile and link against.
    """
    return list(dict.fromkeys(entry.project for entry in specs() if entry.project))


def spec(name: str) -> BackendSpec:
    """The registry entry for ``name``; KeyError names the known backends."""
    try:
        return _REGISTERED[name]
    except KeyError:
        known = ", ".join(backend_names())
        raise KeyError(f"no backend named {name!r}; known backends: {known}") from None


def load(name: str) -> Backend:
    """Import backend ``name`` and return its module (it has ``factorial``).

    Raises :class:`BackendNotBuilt` with the backend's name and how to build it
    when its native part is missing.
    """
    entry = spec(name)
    try:
        return cast(Backend, importlib.import_module(entry.module))
    except ImportError as exc:
        raise BackendNotBuilt(
            f"backend {name!r} is not built or not installed ({exc}). "
            "Build every backend with `just setup` (see the README)."
        ) from exc
