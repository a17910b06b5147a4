"""CFFI, ABI mode, in-line: declarations parsed and library opened at import.

Nothing to compile, like ctypes, but cffi reads the C declarations itself:
``ffi.cdef()`` parses ``factlab_cdef.h`` (the header cbindgen generates from
the Rust code, without the preprocessor lines cffi cannot parse), so there is
no signature to restate by hand. ``ffi.dlopen()`` then opens the library, and
each call goes through libffi. "In-line" means that this parsing happens at
every import; the out-of-line variant does it once, at build time.

The calls themselves are the same in all three cffi modes: see ``_cffi.py``.
"""

from __future__ import annotations

from cffi import FFI

from factlab.backends._cffi import bind, bind_data, bind_iterator
from factlab.backends._clib import cdef_path, cdef_source, library_path, reported

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

# ANCHOR: open
ffi = FFI()
with reported(cdef_path(), library_path()):  # a broken file: "not built", naming it
    ffi.cdef(cdef_source())  # parse the declarations: at every import
    lib = ffi.dlopen(str(library_path()))  # open the shared library shipped in factlab
    factorial, crossing, raise_panic, strategies, factorial_progress = bind(ffi, lib)
    factorials, factorial_str = bind_data(ffi, lib, factorial)
    Factorials = bind_iterator(ffi, lib)
# ANCHOR_END: open
