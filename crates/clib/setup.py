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
from setuptools.command.build_py import build_py
from setuptools.command.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
SUFFIX = ".dylib" if sys.platform == "darwin" else ".so"


def cargo(*args: str, echo: bool = False) -> str:
    """Runs cargo and returns its output; with ``echo``, each line is also printed
    as it comes (`pip install -v`, or PIP_VERBOSE=1, shows the build's progress)."""
    command = ["cargo", *args]
    print("factlab-clib: $", " ".join(command), flush=True)
    lines = []
    with subprocess.Popen(command, cwd=HERE, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as done:
        assert done.stdout is not None
        for line in done.stdout:
            lines.append(line)
            if echo:
                print(line, end="", flush=True)
    if done.returncode != 0:
        shown = "(above)" if echo else "".join(lines)
        sys.exit(f"factlab-clib: `{' '.join(command)}` failed:\n{shown}")
    return "".join(lines)


class BuildWithCargo(build_py):
    def run(self) -> None:
        super().run()
        # One `cargo rustc` builds the two libraries the package ships and makes
        # rustc print the static link flags:
        #   note: native-static-libs: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
        # No rlib (Cargo.toml lists it for the Rust tests): an rlib cannot be
        # link-time optimised, so with it cargo would neither apply the release
        # profile's LTO here nor reuse the malachite that maturin compiled for
        # the other crates (it would build a second one, with other flags).
        out = cargo("rustc", "--release", "--locked", "--lib", "--crate-type", "cdylib",
                    "--crate-type", "staticlib", "--", "--print", "native-static-libs", echo=True)
        flags = [line.split("native-static-libs:", 1)[1].strip() for line in out.splitlines()
                 if "native-static-libs:" in line]
        if not flags:
            sys.exit(f"factlab-clib: rustc printed no `native-static-libs:` note:\n{out}")
        meta = json.loads(cargo("metadata", "--format-version", "1", "--no-deps", "--locked"))
        release = Path(meta["target_directory"]) / "release"
        package = Path(self.build_lib) / "factlab_clib"
        (package / "include").mkdir(parents=True, exist_ok=True)
        for built in (f"libfactlab_clib{SUFFIX}", "libfactlab_clib.a"):
            shutil.copy2(release / built, package / built)
        for header in ("factlab.h", "factlab_cdef.h"):
            shutil.copy2(HERE / "include" / header, package / "include" / header)
        (package / "native-static-libs").write_text(flags[-1] + "\n", encoding="utf-8")


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
