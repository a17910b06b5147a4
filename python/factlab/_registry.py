"""The backend registry: every way of computing n! that factlab compares.

This table is the one list of backends. The tests, the benchmark, its chart and targets, the
instruction counts and the book's figures all derive their lists from it: registering a backend here
(and writing its module) is all it takes to have it tested, benchmarked and shown.

A backend is a module with:

- ``factorial(n, /)``: exactly ``math.factorial(n)``: the same value, the same exception type for
  bad input;
- ``crossing(n, /)``: the bare scalar entry point, with no checks (native backends), so that the
  benchmark can show what the mechanism itself costs;
- ``raise_panic()`` (native backends): drives a deliberate panic inside the kernel through the
  binding's boundary, for the reliability tests;
- ``factorials(ns, /)``: exactly ``[math.factorial(n) for n in ns]``, in one call. A buffer of
  64-bit integers (format ``q``/``l`` or ``Q``/``L``, one dimension: ``array('q')``, numpy
  ``int64``) is read in place (a strided one through one copy); any other buffer is a TypeError;
  anything else is iterated once. A bad element raises what ``factorial`` would, its message
  prefixed with ``ns[i]: ``. The GIL is released for the native work when
  ``factlab_core::batch_is_expensive`` says it pays;
- ``factorial_str(n, /)``: exactly ``str(math.factorial(n))``, whatever
  ``sys.get_int_max_str_digits()`` says; bad ``n`` raises what ``factorial`` would;
- ``factorial_progress(n, callback, /)``: exactly ``math.factorial(n)``, calling ``callback(done,
  total)`` (work units, ints: ``done`` only grows, the last call has ``done == total``) every ~20 ms
  of work and once at the end, in the calling thread (ctypes: a helper thread), with the GIL held;
  its return value is ignored. ``n`` is checked as ``factorial`` checks it (the callback is then
  never called), then a non-callable ``callback`` is a TypeError before any work. If the callback,
  or a signal handler (Ctrl-C), raises, the work stops within a tick and that same exception object
  comes out;
- ``Factorials(start=0, /)``: an iterator over ``start!``, ``(start+1)!``, ..., each value one
  multiplication from the last inside the state the object owns; ``start`` checked as
  ``factorial(start)``; past the kernel's bound ``next()`` raises ``factorial``'s OverflowError,
  then StopIteration; ``it.n`` (read-only) is the next n, ``repr(it) == f"Factorials({it.n})"``,
  ``iter(it) is it``; big steps release the GIL; threads sharing one iterator get every value
  exactly once (its steps are serialized); the state is freed with the object; ``copy``,
  ``deepcopy`` and ``pickle`` raise TypeError.

A long native ``factorial`` (n >= ``factlab_core::control::INTERRUPTIBLE_N``) lets Python run its
signal handlers every ~20 ms (the entry's ``ctrl_c``): a Ctrl-C raises KeyboardInterrupt at once; a
handler that does not raise lets the call finish.

``factlab.backends.pure`` holds the reference of them all, and the shared Python pieces of the rules
above (``int64_buffer``, ``at``, ``callable_or_raise``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, SupportsIndex, cast

from factlab._facts import BackendSpec, Kind, Reach, StableAbi, Targets, remedy

# The two yardsticks every table measures the others against, by role.
PURE = "python"
"""The pure-Python loop: the seed article's baseline."""
STDLIB = "math"
"""``math.factorial``: what a user would pick instead of any binding."""


class Backend(Protocol):
    """What :func:`load` returns: a backend module (native ones also have ``crossing``)."""

    def factorial(self, n: SupportsIndex, /) -> int:
        """Exactly ``math.factorial(n)``."""
        ...

    def factorials(self, ns: Iterable[SupportsIndex], /) -> list[int]:
        """Exactly ``[math.factorial(n) for n in ns]``, in one call."""
        ...

    def factorial_str(self, n: SupportsIndex, /) -> str:
        """Exactly ``str(math.factorial(n))``, with no digit limit."""
        ...

    def factorial_progress(self, n: SupportsIndex, callback: Callable[[int, int], object], /) -> int:
        """Exactly ``math.factorial(n)``, calling ``callback(done, total)`` as the work goes."""
        ...

    @property
    def Factorials(self) -> Callable[..., Iterator[int]]:
        """The iterator class: ``Factorials(start=0, /)``."""
        ...


# Where each tool says it runs (the matrix's "unsupported" versus "failed").
PYO3_REACH = Reach(
    oldest_pypy=(3, 11),
    oldest_free_threaded=(3, 14),
    source="PyO3 0.27 dropped PyPy 3.9 and 3.10, 0.29 free-threaded 3.13 (CHANGELOG); factlab pins 0.30",
)
CFFI_REACH = Reach(
    oldest_free_threaded=(3, 14),
    source="cffi 2.0 supports free-threaded CPython from 3.14 on (whatsnew); PyPy has cffi built in",
)
# How a cffi hook lets Ctrl-C in: the pending handler runs as the hook enters Python, and raises
# before any `try:` in it; cffi's onerror receives what it raised.
CFFI_HOOK = "every 20 ms; the handler runs as it enters Python, onerror keeps the exception"
# Who frees a cffi backend's Factorials, and what orders two threads' steps.
CFFI_STATE = "a FactlabFactorials * owned by ffi.gc(ptr, lib.factlab_factorials_free); the library's lock"
# The abi3 build of the cffi project (the API mode's extension; the ABI modes compile nothing).
CFFI_ABI3 = StableAbi(
    "setuptools + cffi (its default Py_LIMITED_API), wheel tagged cp310-abi3",
    config_settings=("--build-option=--py-limited-api=cp310",),
)

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
        ctrl_c="nothing to do: the interpreter runs the handler between two steps of the loop",
        state="a generator's frame, freed with the object; a threading.Lock around next()",
    ),
    BackendSpec(
        "math",
        "factlab.backends.stdlib",
        "the standard library's math.factorial",
        kind="baseline",
        tool="stdlib",
        sources=("python/factlab/backends/stdlib.py",),
        state="python's iterator, its first value from math.factorial",
    ),
    BackendSpec(
        "pyo3",
        "factlab_pyo3",
        "a PyO3 module built with maturin",
        kind="extension",
        tool="pyo3",
        extension="factlab_pyo3",
        project="crates/pyo3",
        sources=(
            "crates/pyo3/src/lib.rs",
            "crates/pyo3/src/control.rs",
            "crates/pyo3/src/iterator.rs",
            "crates/pyo3/Cargo.toml",
            "crates/pyo3/pyproject.toml",
        ),
        panic="PanicException",
        gil="n >= 1000 (py.detach)",
        reach=PYO3_REACH,
        stable_abi=StableAbi("maturin, PyO3 feature abi3-py310", ("maturin.build-args=--features abi3",)),
        targets=Targets(over_pure=14.0, near=("capi", 1.2)),
        gil_declaration="#[pymodule(gil_used = false)] (Py_mod_gil = Py_MOD_GIL_NOT_USED)",
        ctrl_c="py.detach around the kernel; every 20 ms the hook attaches, py.check_signals()",
        state="in the pyclass, dropped by its tp_dealloc; a Mutex (frozen): try_lock, or detach, then lock",
    ),
    BackendSpec(
        "capi",
        "factlab_capi",
        "the raw CPython C-API, in Rust over pyo3-ffi",
        kind="extension",
        tool="pyo3-ffi",
        extension="factlab_capi",
        project="crates/capi",
        sources=(
            "crates/capi/src/lib.rs",
            "crates/capi/src/data.rs",
            "crates/capi/src/control.rs",
            "crates/capi/src/iterator.rs",
            "crates/capi/Cargo.toml",
            "crates/capi/pyproject.toml",
        ),
        refcounts_by_hand=True,
        panic="RuntimeError",
        gil="n >= 1000 (PyEval_SaveThread)",
        reach=Reach(
            oldest_pypy=(3, 11),
            oldest_free_threaded=(3, 14),
            source="pyo3-ffi follows PyO3's interpreter support (CHANGELOG 0.27.0, 0.29.0)",
        ),
        stable_abi=StableAbi(
            "maturin, pyo3-ffi feature abi3-py310 (Py_LIMITED_API)", ("maturin.build-args=--features abi3",)
        ),
        targets=Targets(over_pure=18.0, fastest=True),
        gil_declaration="the Py_mod_gil slot = Py_MOD_GIL_NOT_USED",
        ctrl_c="PyErr_CheckSignals() in the hook, GIL taken again every 20 ms (PyEval_RestoreThread)",
        state="a heap type in module state, tp_dealloc drops its Mutex; try_lock, or release the GIL, lock",
    ),
    BackendSpec(
        "rust-cpython",
        "factlab_cpython",
        "the cpython crate, PyO3's predecessor",
        kind="extension",
        tool="rust-cpython",
        extension="factlab_cpython",
        project="crates/cpython",
        sources=(
            "crates/cpython/src/lib.rs",
            "crates/cpython/src/control.rs",
            "crates/cpython/src/iterator.rs",
            "crates/cpython/Cargo.toml",
            "crates/cpython/pyproject.toml",
        ),
        refcounts_by_hand=True,
        panic="RuntimeError",
        gil="n >= 1000 (py.allow_threads)",
        positional_only=False,
        reach=Reach(
            newest_cpython=(3, 12),
            oldest_pypy=None,
            oldest_free_threaded=None,
            source="rust-cpython 0.7.2, its last release: CPython up to 3.12, no PyPy, no free-threading",
        ),
        stable_abi=StableAbi(
            "",
            refused="rust-cpython has no stable-ABI build: its python3-sys `pep-384` feature is disabled "
            "(the crate does not build with it), and the crate is unmaintained",
        ),
        targets=Targets(over_pure=14.0),
        gil_declaration="nothing: single-phase init, no Py_mod_gil slot",
        ctrl_c="every 20 ms the hook takes the GIL (Python::acquire_gil), PyErr_CheckSignals() (python3-sys)",
        state="a Mutex<Factorials> field, freed by py_class!'s tp_dealloc; try_lock, or allow_threads, lock",
    ),
    BackendSpec(
        "cffi-abi-inline",
        "factlab.backends.cffi_abi_inline",
        "CFFI ABI mode, in-line: cdef + dlopen at import",
        kind="ffi",
        tool="cffi",
        clib="dlopen",
        sources=("python/factlab/backends/cffi_abi_inline.py", "python/factlab/backends/_cffi.py"),
        panic="RuntimeError",
        gil="every call (cffi)",
        reach=CFFI_REACH,
        targets=Targets(at_35_of_math=4.0),
        ctrl_c=f"an ffi.callback hook {CFFI_HOOK}",
        state=CFFI_STATE,
    ),
    BackendSpec(
        "cffi-abi-outofline",
        "factlab.backends.cffi_abi_outofline",
        "CFFI ABI mode, out-of-line: pre-built ffi, dlopen at run time",
        kind="ffi",
        tool="cffi",
        clib="dlopen",
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
        reach=CFFI_REACH,
        targets=Targets(at_35_of_math=4.0),
        gil_declaration="nothing of its own: a Python module over the _cffi_backend of cffi",
        ctrl_c=f"an ffi.callback hook {CFFI_HOOK}",
        state=CFFI_STATE,
    ),
    BackendSpec(
        "cffi-api",
        "factlab.backends.cffi_api",
        "CFFI API mode: a compiled extension linking the static library",
        kind="ffi",
        tool="cffi",
        clib="static",
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
        reach=CFFI_REACH,
        stable_abi=CFFI_ABI3,
        targets=Targets(at_35_of_math=3.0),
        gil_declaration="what cffi generates (cffi 2.0+ declares it on 3.14t and newer only)",
        ctrl_c=f'an extern "Python" hook {CFFI_HOOK}',
        state=CFFI_STATE,
    ),
    BackendSpec(
        "ctypes",
        "factlab.backends.ctypes_cdll",
        "the standard library's ctypes over the C ABI library",
        kind="ffi",
        tool="ctypes",
        clib="dlopen",
        sources=("python/factlab/backends/ctypes_cdll.py", "python/factlab/backends/ctypes_header.py"),
        panic="RuntimeError",
        gil="n >= 1000 (CDLL; PyDLL below)",
        targets=Targets(at_35_of_math=5.0),
        ctrl_c="the C call on a kept helper thread; the main thread's wait runs the handler, the hook stops",
        state="a c_void_p freed by weakref.finalize(self, factlab_factorials_free, ptr); the library's lock",
    ),
    BackendSpec(
        "cython",
        "factlab_cython",
        "a Cython module calling the C ABI library",
        kind="ffi",
        tool="cython",
        clib="static",
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
        reach=Reach(source="Cython 3.1+: free-threaded builds (experimental), PyPy by cpyext (user guide)"),
        stable_abi=StableAbi(
            "setuptools + Cython, Limited API mode (Py_LIMITED_API=0x030A0000)",
            env=(("FACTLAB_LIMITED_API", "cp310"),),
        ),
        # Its batch loop is compiled C, as an extension's is: judged like one.
        targets=Targets(batch_over_loop=3.0),
        gil_declaration="the directive freethreading_compatible=True (Py_mod_gil = Py_MOD_GIL_NOT_USED)",
        ctrl_c="PyErr_CheckSignals() in a `with gil` C hook every 20 ms",
        state="a cdef class holding a FactlabFactorials *, freed once by __dealloc__; the library's lock",
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

    ``just setup`` installs them after the C ABI library (``crates/clib``),
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

    Raises :class:`BackendNotBuilt` with the backend's name and what to do
    when its native part is missing: what fits how factlab was installed.
    """
    entry = spec(name)
    try:
        return cast(Backend, importlib.import_module(entry.module))
    except ImportError as exc:
        raise BackendNotBuilt(
            f"backend {name!r} is not built or not installed ({exc}). {remedy(entry)}"
        ) from exc
