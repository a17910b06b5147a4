"""factlab-cython: the Cython backend, linking the C ABI library statically.

``cythonize`` translates factlab_cython.pyx into C (under build/, out of the
source tree), then setuptools compiles that C into an extension module. The
declarations of the C library are in cfactlab.pxd, as the Cython tutorial
puts a C library's declarations.

We link ``libfactlab_cabi.a``, the static library, so the extension needs no
``libfactlab_cabi.so`` at run time: ``factlab_cabi.static_link()`` (the
installed C ABI package, a build requirement) gives the header's directory,
the archive and the system libraries it needs. Build with ``just setup``.
"""

import factlab_cabi
from Cython.Build import cythonize
from setuptools import Extension, setup

# ANCHOR: extension
extension = Extension("factlab_cython", ["factlab_cython.pyx"], **factlab_cabi.static_link())
setup(ext_modules=cythonize([extension], build_dir="build"))
# ANCHOR_END: extension
