# The module cffi generates for the ABI out-of-line mode: its `ffi` holds the
# parsed declarations; the library is opened with ffi.dlopen(). A PEP 561
# stub-only package, checked against the module by mypy's stubtest.
from typing import Any

ffi: Any  # a cffi FFI object (cffi ships no type stubs)
