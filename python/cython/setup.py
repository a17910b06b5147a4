"""factlab-cython: the Cython backend, linking the C ABI library statically.

``cythonize`` translates factlab_cython.pyx into C (under build/, out of the
source tree), then setuptools compiles that C into an extension module.

We link ``libfactlab_cabi.a``, the static library, so the extension needs no
``libfactlab_cabi.so`` at run time. The archive is given by its full path:
with ``-lfactlab_cabi`` the linker would prefer the ``.so`` next to it. A Rust
static library leaves the system libraries it needs to the final link; cargo
names them (``rustc --print native-static-libs``) and ``just setup`` saved
them next to the archive. Build with ``just setup``.
"""

import os
import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

# This file is python/cython/setup.py: the repository is two levels up.
ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "crates" / "cabi" / "include"
# Like cargo: target/ unless CARGO_TARGET_DIR says otherwise (relative to the repository).
RELEASE = ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release"
STATIC_LIB = RELEASE / "libfactlab_cabi.a"
NATIVE_LIBS = RELEASE / "libfactlab_cabi.native-static-libs"

for needed in (STATIC_LIB, NATIVE_LIBS):
    if not needed.is_file():
        raise SystemExit(
            f"factlab-cython: {needed} is missing; build the C ABI library first: run `just setup`"
        )

# e.g. "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc": -lNAME goes to `libraries`,
# anything else (macOS: "-framework X") is passed to the linker as is.
native = NATIVE_LIBS.read_text(encoding="utf-8").split()
extra_link_args = [flag for flag in native if not flag.startswith("-l")]
if sys.platform.startswith("linux"):
    # What rustc does for its own .so, by hand: hide the archive's symbols
    # (Rust's std, the kernel) so only PyInit_* is exported, which lets
    # --gc-sections drop the unused code; and leave std's debug info out.
    extra_link_args += ["-Wl,--exclude-libs,ALL", "-Wl,--gc-sections", "-Wl,--strip-debug"]

# ANCHOR: extension
extension = Extension(
    "factlab_cython",
    ["factlab_cython.pyx"],
    include_dirs=[str(INCLUDE)],
    extra_objects=[str(STATIC_LIB)],
    libraries=[flag[2:] for flag in native if flag.startswith("-l")],
    extra_link_args=extra_link_args,
    # Rebuild when the library changes, not only when the .pyx does: setuptools
    # would otherwise keep the extension in build/, with the old kernel inside.
    depends=[str(STATIC_LIB), str(NATIVE_LIBS), str(INCLUDE / "factlab.h")],
)

setup(ext_modules=cythonize([extension], build_dir="build"))
# ANCHOR_END: extension
