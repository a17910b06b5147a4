"""cffi, API mode: a real CPython extension, compiled, linking the STATIC library.

setup.py names this file in ``cffi_modules``; when pip builds the project,
cffi writes a C file (its glue plus our ``set_source`` code) and setuptools
compiles it into ``factlab_cffi_api.<abi>.so``. The C compiler sees the real
header, so a declaration that drifted from the library is a build error
here, not a crash at run time as in ABI mode.

We link ``libfactlab_cabi.a``, the static library: the Rust kernel ends up
inside the extension, which then needs no ``libfactlab_cabi.so`` at run time.
The archive is given by its full path: with ``-lfactlab_cabi`` the linker
would prefer the ``.so`` lying next to it. A Rust static library leaves the
system libraries it needs (libc, libm, pthread, ...) to the final link; cargo
tells which (``rustc --print native-static-libs``) and ``just setup`` saved
them next to the archive.
"""

import os
import sys
from pathlib import Path

from cffi import FFI

# This file is python/cffi/build_api.py: the repository is two levels up.
ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "crates" / "cabi" / "include"
# Like cargo: target/ unless CARGO_TARGET_DIR says otherwise (relative to the repository).
RELEASE = ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release"
STATIC_LIB = RELEASE / "libfactlab_cabi.a"
NATIVE_LIBS = RELEASE / "libfactlab_cabi.native-static-libs"

for needed in (STATIC_LIB, NATIVE_LIBS):
    if not needed.is_file():
        raise SystemExit(
            f"factlab-cffi: {needed} is missing; build the C ABI library first: run `just setup`"
        )

# e.g. "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc": -lNAME goes to `libraries`,
# anything else (macOS: "-framework X") is passed to the linker as is.
native = NATIVE_LIBS.read_text(encoding="utf-8").split()
libraries = [flag[2:] for flag in native if flag.startswith("-l")]
extra_link_args = [flag for flag in native if not flag.startswith("-l")]
if sys.platform.startswith("linux"):
    # What rustc does for its own .so, by hand: hide the archive's symbols
    # (Rust's std, the kernel) so only PyInit_* is exported, which lets
    # --gc-sections drop the unused code; and leave std's debug info out.
    # 10 MB -> 2.4 MB, the size of libfactlab_cabi.so.
    extra_link_args += ["-Wl,--exclude-libs,ALL", "-Wl,--gc-sections", "-Wl,--strip-debug"]

# ANCHOR: builder
ffibuilder = FFI()
# The same declarations as the ABI mode. In API mode cffi also checks them:
# the generated C code compares every `#define` value, struct layout and
# function type with the real header when it is compiled.
ffibuilder.cdef((INCLUDE / "factlab_cdef.h").read_text(encoding="utf-8"))
ffibuilder.set_source(
    "factlab_cffi_api",
    # The C source of the extension: just the header; the code is in the archive.
    '#include "factlab.h"',
    include_dirs=[str(INCLUDE)],
    extra_objects=[str(STATIC_LIB)],
    libraries=libraries,
    extra_link_args=extra_link_args,
    # Rebuild when the library changes, not only when the generated C does:
    # setuptools would otherwise keep the extension in build/, with the old kernel inside.
    depends=[str(STATIC_LIB), str(NATIVE_LIBS), str(INCLUDE / "factlab.h")],
)
# ANCHOR_END: builder

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
