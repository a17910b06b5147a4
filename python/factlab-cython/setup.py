"""factlab-cython: the Cython backend, linking the C ABI library statically.

``cythonize`` translates factlab_cython.pyx into C (under build/, out of the
source tree), then setuptools compiles that C into an extension module. The
declarations of the C library are in cfactlab.pxd, as the Cython tutorial
puts a C library's declarations.

We link ``libfactlab_clib.a``, the static library, so the extension needs no
``libfactlab_clib.so`` at run time: ``factlab_clib.static_link()`` (the
installed C ABI package, a build requirement) gives the header's directory,
the archive and the system libraries it needs. Build with ``just setup``.

``FACTLAB_LIMITED_API=cp310`` builds it in Cython's Limited API mode instead:
``Py_LIMITED_API`` defined, one binary (``factlab_cython.abi3.so``, a wheel
tagged ``cp310-abi3``) for every CPython from 3.10 on. ``just matrix`` builds
it so, once, and proves it on each CPython. The Limited API has the buffer
protocol from 3.11 on only, so that build's ``factorials`` reads a buffer
through a copy instead of a typed memoryview (the ``IF`` in the .pyx).
"""

import os

import factlab_clib
from Cython.Build import cythonize
from setuptools import Extension, setup

# ANCHOR: extension
limited = os.environ.get("FACTLAB_LIMITED_API", "")  # "cp310": the oldest CPython it serves
abi3 = {}
buffers = True  # typed memoryviews need the buffer protocol: in the Limited API from 3.11 on only
if limited:
    major, minor = int(limited[2]), int(limited[3:])
    abi3 = {"py_limited_api": True, "define_macros": [("Py_LIMITED_API", f"0x{major:02X}{minor:02X}0000")]}
    buffers = (major, minor) >= (3, 11)
extension = Extension("factlab_cython", ["factlab_cython.pyx"], **abi3, **factlab_clib.static_link())
setup(
    # The .pyx reads FACTLAB_BUFFER_PROTOCOL in an `IF` (Cython's compile-time
    # condition), so the two modes generate different C: each its own directory.
    ext_modules=cythonize(
        [extension],
        build_dir=f"build/{limited}" if limited else "build",
        compile_time_env={"FACTLAB_BUFFER_PROTOCOL": buffers},
    ),
    # Its own build directory: the version-specific .so of an earlier build
    # must not end up in the abi3 wheel.
    options={"bdist_wheel": {"py_limited_api": limited}, "build": {"build_base": "build/abi3"}}
    if limited
    else {},
)
# ANCHOR_END: extension
