"""Builds the package ``factlab_clib``: cargo builds the library, setuptools ships it.

The one step setuptools cannot do by itself is run cargo. ``build_py`` does it
here, then copies into the package what cargo made and what cbindgen
generated (committed in include/):

- ``libfactlab_clib.so`` (.dylib on macOS): for ``dlopen`` (ctypes, cffi ABI);
- ``libfactlab_clib.a`` and ``native-static-libs``: for a static link (cffi API,
  Cython); rustc names the system libraries a static Rust library needs;
- ``include/factlab.h``, ``include/factlab_cdef.h``: the declarations.

The library does not depend on the Python version, so the wheel is tagged
``py3-none-<platform>``: one wheel for every interpreter, PyPy included.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SUFFIX = ".dylib" if sys.platform == "darwin" else ".so"


class BuildWithCargo(build_py):
    def run(self) -> None:
        super().run()
        # A PEP 517 build runs before factlab is installed, so factlab's helper for commands
        # (factlab._common.run) is out of reach: cargo's output streams as it comes (pip shows
        # it with -v, and on failure), and check=True stops the build at cargo's first error.
        metadata = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
            cwd=HERE, check=True, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        release = Path(json.loads(metadata.stdout)["target_directory"]) / "release"
        # One `cargo rustc` builds the two libraries the package ships, and rustc writes the
        # system libraries a static link of them needs (`-lgcc_s -lutil -lrt -lpthread -lm -ldl
        # -lc` on Linux) to `flags`, beside them. No rlib (Cargo.toml lists it for the Rust
        # tests): an rlib cannot be link-time optimised, so with it cargo would neither apply
        # the release profile's LTO here nor reuse the malachite that maturin compiled for the
        # other crates (it would build a second one, with other flags).
        flags = release / "libfactlab_clib.native-static-libs"
        subprocess.run(
            ["cargo", "rustc", "--release", "--locked", "--lib", "--crate-type", "cdylib",
             "--crate-type", "staticlib", "--", "--print", f"native-static-libs={flags}"],
            cwd=HERE, check=True,
        )  # fmt: skip
        package = Path(self.build_lib) / "factlab_clib"
        (package / "include").mkdir(parents=True, exist_ok=True)
        for built in (f"libfactlab_clib{SUFFIX}", "libfactlab_clib.a"):
            shutil.copy2(release / built, package / built)
        for header in ("factlab.h", "factlab_cdef.h"):
            shutil.copy2(HERE / "include" / header, package / "include" / header)
        shutil.copy2(flags, package / "native-static-libs")


class BinaryDistribution(Distribution):
    """Native code inside, though no setuptools extension: the package goes to platlib
    (where auditwheel looks for the libraries it checks), and the wheel gets a platform tag."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    """A wheel for one platform, any Python: the library has no Python in it."""

    def get_tag(self) -> tuple[str, str, str]:
        return "py3", "none", super().get_tag()[2]


setup(distclass=BinaryDistribution, cmdclass={"build_py": BuildWithCargo, "bdist_wheel": PlatformWheel})
