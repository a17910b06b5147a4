"""cffi, ABI mode, out-of-line: parse the C declarations at build time, not at import.

setup.py names this file in ``cffi_modules``; when pip builds the project,
cffi runs it, parses ``factlab_cdef.h`` once, and writes ``factlab_cffi_abi.py``:
a plain Python module holding the parsed declarations in a compact form
(``ffi``). Nothing is compiled and no library is named here: at run time
the backend imports that ``ffi`` and ``dlopen``s the shared library itself.
Compared with the in-line mode, the import skips cffi's C parser (pycparser).

Run it by hand to see the generated module: ``python build_abi_outofline.py``.
"""

import factlab_clib  # the installed C ABI library: its headers (a build requirement)
from cffi import FFI

ffibuilder = FFI()
# The cbindgen-generated declarations: no #include, no #ifdef, as cdef()
# wants them. They must match the library's ABI exactly; nothing checks that
# in ABI mode (a wrong signature is a crash, not an error).
ffibuilder.cdef(factlab_clib.cdef_path().read_text(encoding="utf-8"))
# None instead of C source code: this is what makes it ABI mode.
ffibuilder.set_source("factlab_cffi_abi", None)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
