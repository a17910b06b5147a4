# The extension cffi compiles for the API mode: `ffi` for types and buffers,
# `lib` for the C functions and #defines of factlab.h. A PEP 561 stub-only
# package, checked against the module by mypy's stubtest.
from typing import Any

ffi: Any  # a cffi FFI object (cffi ships no type stubs)
lib: Any  # the C library: lib.factlab_factorial_u64(20), lib.FACTLAB_OK, ...
# ... and lib.factlab_py_hook, the extern "Python" FactlabHook whose Python side
# factlab.backends._cffi attaches with ffi.def_extern.
