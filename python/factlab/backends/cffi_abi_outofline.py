"""CFFI, ABI mode, out-of-line: declarations parsed at install time, library opened at run time.

``factlab_cffi_abi`` is a plain Python module that cffi generated at install
time (``python/factlab-cffi/build_abi_outofline.py``) from ``factlab_cdef.h``: it holds
the parsed declarations, so importing it needs no C parser and no compiler.
At run time we ``dlopen`` the shared library shipped in the factlab package;
each call then goes through libffi, which builds the C call from the
declared signature. Nothing checks that the declarations match the library:
a wrong one is a crash, not an error (tests/test_declarations.py compares
them with the header).

The calls themselves are the same in all three cffi modes: see ``_cffi.py``.
"""

from __future__ import annotations

# ANCHOR: open
from factlab_cffi_abi import ffi  # the declarations, parsed at install time

from factlab.backends._cffi import bind, bind_data, bind_iterator
from factlab.backends._clib import library_path, reported

# dlopen happens once, at import; lib's attributes are the C functions.
with reported(library_path()):  # a broken library: "not built", naming it
    lib = ffi.dlopen(str(library_path()))
    factorial, crossing, raise_panic, strategies, factorial_progress = bind(ffi, lib)
    factorials, factorial_str = bind_data(ffi, lib, factorial)
    Factorials = bind_iterator(ffi, lib)
# ANCHOR_END: open

__all__ = [
    "Factorials",
    "crossing",
    "factorial",
    "factorial_progress",
    "factorial_str",
    "factorials",
    "ffi",
    "lib",
    "raise_panic",
    "strategies",
]
