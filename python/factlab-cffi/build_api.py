"""cffi, API mode: a real CPython extension, compiled, linking the STATIC library.

setup.py names this file in ``cffi_modules``; when pip builds the project,
cffi writes a C file (its glue plus our ``set_source`` code) and setuptools
compiles it into ``factlab_cffi_api.<abi>.so``. The C compiler sees the real
header, so a declaration that drifted from the library is a build error
here, not a crash at run time as in ABI mode.

We link ``libfactlab_clib.a``, the static library: the Rust kernel ends up
inside the extension, which then needs no ``libfactlab_clib.so`` at run time.
``factlab_clib.static_link()`` (the installed C ABI package, a build
requirement) gives the header's directory, the archive and the system
libraries it needs, the same for Cython's build.

Run it by hand to see the generated C: ``python build_api.py``.
"""

import factlab_clib
from cffi import FFI

# ANCHOR: builder
ffibuilder = FFI()
# The ABI mode's declarations, checked here: the generated C code compares every
# `#define` value, struct layout and function type with the real header as it compiles.
ffibuilder.cdef(factlab_clib.cdef_path().read_text(encoding="utf-8"))
# A FactlabHook that cffi writes in C; it calls the Python function @ffi.def_extern attaches.
ffibuilder.cdef('extern "Python" int32_t factlab_py_hook(void *, uint64_t, uint64_t);')
ffibuilder.set_source(
    "factlab_cffi_api",
    '#include "factlab.h"',  # the extension's C source: the header; the code is in the archive
    **factlab_clib.static_link(),
)
# ANCHOR_END: builder

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
