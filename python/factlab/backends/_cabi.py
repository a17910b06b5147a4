"""What every backend over the C ABI library shares: where it is, and the argument check.

The C ABI library is its own package, ``factlab_cabi`` (built from
``crates/cabi`` by ``just setup``). It holds the two files the backends in
this package need at run time:

- ``libfactlab_cabi.so`` (``.dylib`` on macOS): the library ctypes and cffi's
  ABI mode open at run time with ``dlopen``;
- ``factlab_cdef.h``: its declarations, plain enough for ``ffi.cdef()``.

A backend that imports this module while they are missing gets
:class:`CabiNotBuilt`, an ``ImportError``: the registry reports the backend as
"not built" instead of crashing.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from factlab._registry import BackendNotBuilt

# The checks of math.factorial: one copy, the pure backend's.
from factlab.backends.pure import LONG_MAX, check

__all__ = [
    "LONG_MAX",
    "MAX_U64_N",
    "MAX_U128_N",
    "CabiNotBuilt",
    "cdef_path",
    "cdef_source",
    "check",
    "defines",
    "error",
    "library_path",
]


class CabiNotBuilt(BackendNotBuilt):
    """The C ABI library or its declarations are not installed: run ``just setup``."""


def _installed(path: Path) -> Path:
    if not path.is_file():
        raise CabiNotBuilt(f"{path} is missing: reinstall the C ABI library with `just setup`")
    return path


try:
    import factlab_cabi
except ImportError as exc:
    raise CabiNotBuilt(
        "the C ABI library (package factlab_cabi, built from crates/cabi) is not installed: run `just setup`"
    ) from exc


def library_path() -> Path:
    """The C ABI library to ``dlopen``: ``libfactlab_cabi.so`` (or ``.dylib``)."""
    return _installed(factlab_cabi.library_path())


def cdef_path() -> Path:
    """``factlab_cdef.h``: the library's declarations, for ``ffi.cdef()``."""
    return _installed(factlab_cabi.cdef_path())


def cdef_source() -> str:
    """The text of ``factlab_cdef.h``."""
    return cdef_path().read_text(encoding="utf-8")


def defines() -> dict[str, int]:
    """The header's ``#define NAME value`` constants (status codes, bounds).

    cffi reads them itself; ctypes cannot read a header, so it asks here, and
    the numbers keep a single source: the Rust code the header comes from.
    """
    return {
        name: int(value)
        for name, value in re.findall(r"^#define\s+(\w+)\s+(\d+)\s*$", cdef_source(), re.MULTILINE)
    }


# The wrappers build an int from the limbs' bytes in one go: that reading is
# right only where a 64-bit word's bytes are little-endian too.
if sys.byteorder != "little":
    raise ImportError("factlab's FFI wrappers assume a little-endian machine")

# Read once, at import: a backend over the library cannot work without them.
_CONSTANTS = defines()
# What the C functions promise (see factlab.h): factlab_factorial_u64 answers
# for n <= FACTLAB_MAX_U64_N (20), factlab_factorial_u128 for n <= 34.
MAX_U64_N = _CONSTANTS["FACTLAB_MAX_U64_N"]
MAX_U128_N = _CONSTANTS["FACTLAB_MAX_U128_N"]
_TOO_LARGE = _CONSTANTS["FACTLAB_TOO_LARGE"]
_PANIC = _CONSTANTS["FACTLAB_PANIC"]
_NO_MEMORY = _CONSTANTS["FACTLAB_NO_MEMORY"]
_MAX_N = _CONSTANTS["FACTLAB_MAX_N"]


# ANCHOR: error
def error(status: int, n: int) -> Exception:
    """The Python exception for a status code of ``factlab_factorial``."""
    if status == _TOO_LARGE:
        # The same words as factlab_core::Error's Display.
        return OverflowError(f"factorial() argument should not exceed {_MAX_N} (factlab's bound), got {n}")
    if status == _NO_MEMORY:
        # Refused before anything was allocated: the process goes on.
        return MemoryError(
            f"factorial({n}) would not fit in the memory this process has left (FACTLAB_NO_MEMORY)"
        )
    if status == _PANIC:
        return RuntimeError(
            "the factlab kernel panicked; the panic was caught at the C ABI boundary "
            "(FACTLAB_PANIC, see the message on stderr)"
        )
    return RuntimeError(f"factlab C ABI: unexpected status {status} for n = {n}")
    # ANCHOR_END: error
