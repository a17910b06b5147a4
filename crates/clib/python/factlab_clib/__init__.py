"""factlab's C ABI library, installed: where its files are and how to link it.

At run time, ctypes and cffi's ABI mode ``dlopen`` :func:`library_path` and
cffi reads :func:`cdef_path`. At build time, cffi's API mode and Cython pass
:func:`static_link` to their extension: the header's directory, the static
library and the system libraries it needs. Built by ``crates/clib/setup.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["cdef_path", "header_path", "include_dir", "library_path", "static_library", "static_link"]

HERE = Path(__file__).resolve().parent


def library_path() -> Path:
    """The shared library, for ``dlopen``: ``libfactlab_clib.so`` (``.dylib`` on macOS)."""
    return HERE / ("libfactlab_clib.dylib" if sys.platform == "darwin" else "libfactlab_clib.so")


def include_dir() -> Path:
    """The directory of ``factlab.h``, for a C compiler's ``-I``."""
    return HERE / "include"


def header_path() -> Path:
    """``factlab.h``: the declarations for C (include guard, ``#include <stdint.h>``)."""
    return include_dir() / "factlab.h"


def cdef_path() -> Path:
    """``factlab_cdef.h``: the same declarations, plain enough for cffi's ``ffi.cdef()``."""
    return include_dir() / "factlab_cdef.h"


def static_library() -> Path:
    """``libfactlab_clib.a``: the kernel, for linking into an extension."""
    return HERE / "libfactlab_clib.a"


def static_link() -> dict[str, list[str]]:
    """Keyword arguments of ``setuptools.Extension`` (or cffi's ``set_source``) linking the kernel in.

    The archive is given by its full path: with ``-lfactlab_clib`` the linker
    would prefer the ``.so`` next to it. A Rust static library leaves the
    system libraries it needs (libc, libm, pthread, ...) to the final link:
    rustc wrote them, as linker flags, when it built the archive
    (``--print native-static-libs=FILE``): the file ``native-static-libs`` here.
    """
    native = (HERE / "native-static-libs").read_text(encoding="utf-8").split()
    extra_link_args = [flag for flag in native if not flag.startswith("-l")]
    if sys.platform.startswith("linux"):
        # What rustc does for its own .so, by hand: hide the archive's symbols
        # (Rust's std, the kernel) so only PyInit_* is exported, which lets
        # --gc-sections drop the unused code; and leave std's debug info out.
        extra_link_args += ["-Wl,--exclude-libs,ALL", "-Wl,--gc-sections", "-Wl,--strip-debug"]
    return {
        "include_dirs": [str(include_dir())],
        "extra_objects": [str(static_library())],
        "libraries": [flag[2:] for flag in native if flag.startswith("-l")],
        "extra_link_args": extra_link_args,
        # Relink when the library changes, not only when the generated C does.
        "depends": [str(static_library()), str(header_path())],
    }
