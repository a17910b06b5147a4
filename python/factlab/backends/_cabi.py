"""What every backend over the C ABI library shares: where it is, and the argument check.

``just setup`` builds ``crates/cabi`` and copies two files into the package,
next to this one (``factlab/_cabi/``):

- ``libfactlab_cabi.so`` (``.dylib`` on macOS): the library ctypes and cffi's
  ABI mode open at run time with ``dlopen``;
- ``factlab_cdef.h``: its declarations, plain enough for ``ffi.cdef()``.

A backend that imports this module while they are missing gets
:class:`CabiNotBuilt`, an ``ImportError``: the registry reports the backend as
"not built" instead of crashing.
"""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path

from factlab._registry import BackendNotBuilt

__all__ = [
    "LONG_MAX",
    "MAX_SMALL_N",
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

# The package's copy of the build outputs (python/factlab/_cabi/ in the repo).
_SHIPPED = Path(__file__).resolve().parent.parent / "_cabi"

# The largest C long: math.factorial refuses anything larger with OverflowError.
LONG_MAX = (1 << (8 * struct.calcsize("l") - 1)) - 1


class CabiNotBuilt(BackendNotBuilt):
    """The C ABI library or its declarations are not in the package: run ``just setup``."""


def _shipped(name: str) -> Path:
    path = _SHIPPED / name
    if not path.is_file():
        raise CabiNotBuilt(
            f"{path} is missing: it is built from crates/cabi and copied into the "
            "factlab package by `just setup`"
        )
    return path


def library_path() -> Path:
    """The C ABI library to ``dlopen``: ``libfactlab_cabi.so`` (or ``.dylib``/``.dll``)."""
    if sys.platform == "win32":
        return _shipped("factlab_cabi.dll")
    return _shipped("libfactlab_cabi.dylib" if sys.platform == "darwin" else "libfactlab_cabi.so")


def cdef_path() -> Path:
    """``factlab_cdef.h``: the library's declarations, for ``ffi.cdef()``."""
    return _shipped("factlab_cdef.h")


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
# ...and factlab_factorial_small, by value, for n <= FACTLAB_MAX_SMALL_N (170).
MAX_SMALL_N = _CONSTANTS["FACTLAB_MAX_SMALL_N"]
_TOO_LARGE = _CONSTANTS["FACTLAB_TOO_LARGE"]
_PANIC = _CONSTANTS["FACTLAB_PANIC"]
_MAX_N = _CONSTANTS["FACTLAB_MAX_N"]


# ANCHOR: check
def check(k: int) -> int:
    """The checks of ``math.factorial`` on an ``int`` that is not a small n.

    The wrappers call it after ``operator.index`` and off the hot path (n <= 20 needs
    no check: it is known good). Past ``LONG_MAX`` the value would not fit a
    ``uint64_t`` either; factlab's own bound is the library's to enforce.
    """
    if k < 0:
        raise ValueError("factorial() not defined for negative values")
    if k > LONG_MAX:
        raise OverflowError(f"factorial() argument should not exceed {LONG_MAX}")
    return k
    # ANCHOR_END: check


# ANCHOR: error
def error(status: int, n: int) -> Exception:
    """The Python exception for a status code of ``factlab_factorial``."""
    if status == _TOO_LARGE:
        # The same words as factlab_core::Error's Display.
        return OverflowError(f"factorial() argument should not exceed {_MAX_N} (factlab's bound), got {n}")
    if status == _PANIC:
        return RuntimeError(
            "the factlab kernel panicked; the panic was caught at the C ABI boundary "
            "(FACTLAB_PANIC, see the message on stderr)"
        )
    return RuntimeError(f"factlab C ABI: unexpected status {status} for n = {n}")
    # ANCHOR_END: error
