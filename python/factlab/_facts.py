"""What the registry knows of a backend (:class:`BackendSpec`), and the facts it holds for the harness.

Each fact is a small frozen record the registry fills in per backend
(``python/factlab/_registry.py``) and the matrix, the bench and ship read:
where the binding's tool says it runs, how it builds for the stable ABI, its
own speed targets, and where the C ABI library is.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from factlab._common import repo_root

# An interpreter's (major, minor) version.
Version = tuple[int, int]


@dataclass(frozen=True)
class Clib:
    """The C ABI library: one project that every FFI backend reaches (``clib`` != "none")."""

    project: str = "crates/clib"
    """Its PEP 517 project (setuptools around cargo): the package ships the .so, the .a and the headers."""
    module: str = "factlab_clib"
    """The installed package that knows where the library and its headers are."""

    def library_path(self) -> Path:
        """The installed shared library (``libfactlab_clib.so``) that dlopen backends open."""
        return cast(Path, importlib.import_module(self.module).library_path())


CLIB = Clib()


@dataclass(frozen=True)
class Reach:
    """Where a binding's tool says it runs; the matrix calls a failure outside it "unsupported"."""

    newest_cpython: Version | None = None
    """The newest CPython the tool supports (None: every CPython the matrix visits)."""
    oldest_pypy: Version | None = (3, 9)
    """The oldest PyPy it supports (None: no PyPy at all)."""
    oldest_free_threaded: Version | None = (3, 13)
    """The oldest free-threaded CPython it supports (None: no free-threaded build)."""
    source: str = ""
    """Where the tool says so: its changelog or docs, in one line."""

    def covers(self, implementation: str, version: Version, free_threaded: bool = False) -> bool:
        """Whether the tool documents support for this interpreter."""
        if implementation == "pypy":
            return self.oldest_pypy is not None and version >= self.oldest_pypy
        if free_threaded and (self.oldest_free_threaded is None or version < self.oldest_free_threaded):
            return False
        return self.newest_cpython is None or version <= self.newest_cpython


EVERYWHERE = Reach(source="the standard library, or only the C ABI library: every interpreter")


@dataclass(frozen=True)
class StableAbi:
    """How a backend's project builds ONCE as a stable-ABI (abi3) wheel, or why it cannot."""

    how: str
    """What the build is, for the table: the tool and the feature or flag."""
    config_settings: tuple[str, ...] = ()
    """pip's ``-C`` options for ``pip wheel`` (maturin reads cargo's arguments from one)."""
    env: tuple[tuple[str, str], ...] = ()
    """Environment variables the build reads."""
    refused: str = ""
    """Why there is no stable-ABI build ("" when there is one)."""


@dataclass(frozen=True)
class Targets:
    """The speed targets of this backend's own (ratios within one run; the bench judges them).

    The targets shared by a whole kind (every extension at least 2x math.factorial at 25, ...)
    live in the bench; these are the ones an issue set for one backend or one way of reaching C.
    """

    over_pure: float | None = None
    """factorial(25) at least this many times faster than the pure-Python loop."""
    at_35_of_math: float | None = None
    """factorial(35) in at most this many times math.factorial's time."""
    near: tuple[str, float] | None = None
    """(another backend, r): factorial(25) in at most r times that backend's time."""
    fastest: bool = False
    """Faster than gmpy2 (GMP) at every n from 35 up, and than math.factorial at every n >= 21."""
    batch_over_loop: float | None = None
    """factorials over 10**6 values at least this many times faster than its own Python loop of
    factorial calls (None: its kind's bound, from factlab.bench.targets: 3 for an extension, 10 through
    an FFI, whose crossing is the dear part; a compiled FFI backend such as a Cython module sets 3)."""


NO_TARGETS = Targets()
"""A backend with no speed target of its own (the bounds of its kind still apply)."""


# What kind of thing a backend is: the yardsticks, a compiled CPython
# extension that holds the kernel, or a foreign-function interface that
# reaches the kernel through the C ABI library (crates/clib).
Kind = Literal["baseline", "extension", "ffi"]
# How a backend reaches the C ABI library: not at all, by opening the shared
# library at run time (dlopen), or by linking the static library in.
ClibLink = Literal["none", "dlopen", "static"]


@dataclass(frozen=True)
class BackendSpec:
    """What the registry knows about a backend before importing it."""

    name: str
    """The name users type: ``factlab.load(name)``, ``--backends name``."""
    module: str
    """The module :func:`load` imports: a wrapper in ``factlab.backends``, or the compiled module itself."""
    summary: str
    """One line for tables and ``python -m factlab list``."""
    kind: Kind
    tool: str
    """The binding tool (pyo3, cffi, ctypes, ...): backends of one tool share its checks."""
    clib: ClibLink = "none"
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
    """``factorial(n=5)`` is a TypeError, as for math.factorial (False: its tool cannot refuse keywords)."""
    reach: Reach = EVERYWHERE
    """Where its tool says it runs (the matrix)."""
    stable_abi: StableAbi | None = None
    """Its abi3 build, or why there is none (None: nothing compiled of its own to make abi3)."""
    targets: Targets = NO_TARGETS
    """Its own speed targets (the bench)."""
    state: str = ""
    """How its ``Factorials`` owns and frees its native state, and what orders two threads' steps."""
    ctrl_c: str | None = None
    """How a long call of its ``factorial`` lets Ctrl-C in (None: it cannot; the tests skip it)."""
    gil_declaration: str = "nothing to declare (no module of its own)"
    """What its module tells a free-threaded CPython (Py_mod_gil): the matrix shows it beside the GIL
    state after import, since a module that declares nothing turns the GIL back on."""

    @property
    def native(self) -> bool:
        """True when a call crosses into native code that factlab built."""
        return self.kind != "baseline"

    @property
    def chapter(self) -> str:
        """The book's chapter for this backend, relative to ``docs/src``."""
        return f"backends/{self.name}.md"


def remedy(entry: BackendSpec) -> str:
    """What brings a backend back: in a clone, build it; from wheels (no justfile, no Rust), reinstall."""
    if repo_root() is not None:
        return "Build every backend with `just setup` (see the README)."
    projects = [entry.project, CLIB.project if entry.clib != "none" else None]
    wheels = " ".join(_distribution(project) for project in projects if project) or "factlab"
    return f"Reinstall it: pip install {wheels} (from a wheelhouse: add --no-index --find-links DIR)."


def _distribution(project: str) -> str:
    """The distribution a project builds, named after its folder: ``crates/pyo3`` -> ``factlab-pyo3``."""
    folder = Path(project).name
    return folder if folder.startswith("factlab-") else f"factlab-{folder}"
